r"""Creators who move: users and creators on the unit sphere influence each other (seed 004,
Lin et al. 2024, "User-Creator Feature Polarization in Recommender Systems with Dual
Influence", arXiv 2407.14094): ``dual-influence-v1``."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np
from scipy.cluster.vq import kmeans2

from recdyn.constraints import Interval, Options
from recdyn.datasets import DatasetError
from recdyn.environments.base import Environment
from recdyn.environments.fitting import fit_factors
from recdyn.errors import InvalidParameterError

#: The datasets whose matrix-factorisation embeddings can start the world (``init``).
DATASET_INITS = ("ml-100k", "ml-latest-small")
INITS = ("uniform", *DATASET_INITS)
AGGREGATIONS = ("mean", "sum")
#: n, the number of creators when neither ``n_creators`` nor ``n_items`` is given (004 L37).
DEFAULT_CREATORS = 50
#: How far from 1 the norm of a given initial vector may be.
UNIT_TOLERANCE = 1e-6


class DualInfluenceEnvironment(Environment):
    r"""``m`` users and ``n`` creators on the unit sphere :math:`S^{d-1}`; each item is one
    creator's content, and both sides move with every recommendation.

    Model (seed 004 L37, L50; ``shared/research/seeds_methods_digest.md`` §1.1–1.2)
    -------------------------------------------------------------------------------
    * user ``j`` has a preference :math:`u_j \in S^{d-1}`, creator ``i`` a style
      :math:`v_i \in S^{d-1}`; item ``i`` *is* creator ``i`` (``n_items = n_creators``,
      ``item_creators = [0, 1, …, n-1]``, ``item_features()`` = the :math:`v_i`);
    * relevance = rating of ``u_j`` shown ``i``: :math:`r = \mathrm{clip}_{[-1,1]}(\langle
      v_i, u_j\rangle + \epsilon)`, :math:`\epsilon \sim \mathcal N(0, \sigma^2)`, σ =
      ``noise`` (default 0: the rating is the relevance); ``rating_range`` is (-1, 1);
    * each step every online user (default: all ``m``) consumes the first item of its slate
      (``-1``: nothing shown, nothing consumed), then, with the vectors *before* the step
      (synchronous updates) and :math:`P(x) = x / \lVert x\rVert`:

      .. math::
         u_j &\leftarrow P\big(u_j + \eta_u\, f(\langle v_i, u_j\rangle)\, v_i\big),
              \quad f(x) = x \\
         v_i &\leftarrow P\Big(v_i + \eta_c \operatorname*{agg}_{j \in J_i}
              \mathrm{sign}(\langle v_i, u_j\rangle)\, u_j\Big)
              \quad\text{for every creator with an audience } J_i \neq \emptyset

      where :math:`J_i` holds the users who consumed ``i`` at this step and ``agg`` is the
      mean over the audience (``creator_aggregation="mean"``, default: creators move
      "toward the average preferences of their audience", 004 L37, L50) or the sum
      (``"sum"``; the digest's numerical check, §1.6, ends in the same states either way).
      :math:`f(x) = x` is Dean & Morgenstern's preference dynamics and :math:`g =
      \mathrm{sign}` the paper's theory's choice (digest §1.2); η = 0.1 is our choice (the
      seed gives no value). A user moves towards content it likes and away from content
      it dislikes; a creator towards the users who like it and away from those who don't.
    * ``frozen_user_dims = f``: the first ``f`` coordinates of every user never move
      (fixed attributes, digest §1.2 "fixed dimensions"); the update is applied to the
      other coordinates only, which are then rescaled so that :math:`\lVert u\rVert = 1`
      again (a user whose free part would vanish keeps its old one).

    New creators (``creator_arrival = p``, our extension, not in the seed: for studying
    creators who enter a system that is already polarizing): at the end of every step,
    after both updates, with probability ``p`` one new creator arrives with a style
    uniform on the sphere, as a new item (id ``n_items`` before the step; see
    ``added_items()``). The coin and the new vector are drawn from the dynamics stream,
    and only when ``p > 0``: the default ``p = 0`` draws nothing, so every run is the
    seed's model with exactly the numbers it had before arrivals existed. ``n_creators``
    is then the current number (the parameter recorded by ``get_params`` stays the
    number at reset).

    Items can be consumed again (``repeat_consumption = True``): every user stays online
    forever and :func:`recdyn.simulate` does not exclude rated items. No initial ratings
    by default (``n_initial_ratings = 0``); with some, they are ratings of the initial
    state (no dynamics run while they are drawn). ``changed_items()`` lists the creators
    that had an audience at the last step (their features moved).

    Initial state (``init``)
    ------------------------
    ``"uniform"`` (default, 004 L37 synthetic): every vector uniform on the sphere
    (normalised Gaussians). ``"ml-100k"`` / ``"ml-latest-small"``: the embeddings of a
    matrix factorisation fitted to the dataset (recdyn's ``mf-als`` with ``n_factors =
    dim``, seed 0, cached on disk by :func:`~recdyn.environments.fitting.fit_factors`):
    users are a random sample (from the run's seed) of ``n_users`` of the dataset's
    users, their factor vectors normalised; creators are the normalised centroids of a
    k-means (``scipy.cluster.vq.kmeans2``, 10 iterations from ``n_creators`` distinct
    items drawn by the run's seed) of the normalised item vectors into ``n_creators``
    clusters — the seed's real-data runs (MovieLens 20M, 16-d two-tower embeddings,
    digest §1.5) at a size available here. The dataset is
    loaded at ``reset`` from ``RECDYN_DATA_DIR`` (or recdyn's cache); without it ``reset``
    raises :class:`~recdyn.datasets.DatasetError`. ``initial_users`` / ``initial_creators``
    (arrays ``[n_users, dim]`` / ``[n_creators, dim]`` of unit vectors) replace the drawn
    vectors of their side.

    Parameters
    ----------
    n_users : m, default 100. n_creators : n, default 50 (004 L37). ``n_items`` is the
        same number: give either (``n_items`` alone sets n) or both equal;
        ``get_params`` records ``n_creators`` and ``n_items = None``.
    dim : d ≥ 2, default 10 (004 L37).
    eta_users, eta_creators : η_u, η_c > 0, default 0.1.
    creator_aggregation : ``"mean"`` (default) or ``"sum"``.
    frozen_user_dims : f in [0, dim), default 0.
    init : ``"uniform"`` (default), ``"ml-100k"`` or ``"ml-latest-small"``.
    noise : σ ≥ 0, default 0.
    creator_arrival : p in [0, 1], default 0 (no arrivals): the probability that a new
        creator arrives at each step.
    initial_users, initial_creators : optional arrays of unit vectors (norm within
        :data:`UNIT_TOLERANCE` of 1).
    users_per_step : ``None`` (default) = every user is online every step.
    Other parameters: see :class:`~recdyn.environments.base.Environment`.
    """

    rating_range = (-1.0, 1.0)
    repeat_consumption: ClassVar[bool] = True
    default_overrides: ClassVar[dict[str, Any]] = dict(n_users=100, n_initial_ratings=0)

    def __init__(
        self,
        *,
        n_creators: Annotated[int | None, Interval(Integral, 1, None), None] = None,
        dim: Annotated[int, Interval(Integral, 2, None)] = 10,
        eta_users: Annotated[float, Interval(Real, 0, None, closed="right")] = 0.1,
        eta_creators: Annotated[float, Interval(Real, 0, None, closed="right")] = 0.1,
        creator_aggregation: Annotated[str, Options(AGGREGATIONS)] = "mean",
        frozen_user_dims: Annotated[int, Interval(Integral, 0, None)] = 0,
        init: Annotated[str, Options(INITS)] = "uniform",
        noise: Annotated[float, Interval(Real, 0, None)] = 0.0,
        creator_arrival: Annotated[float, Interval(Real, 0, 1)] = 0.0,
        initial_users: Any = None,
        initial_creators: Any = None,
        n_items: Annotated[int | None, Interval(Integral, 1, None), None] = None,
        users_per_step: Annotated[int | None, Interval(Integral, 1, None), None] = None,
        **inherited: Any,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    def _check_params(self) -> None:  # runs at construction, before any reset
        n_items = self._n_items_initial
        if self.n_creators is None:
            self.n_creators = DEFAULT_CREATORS if n_items is None else n_items
        elif n_items not in (None, self.n_creators):
            raise InvalidParameterError(
                f"n_items must be None or n_creators={self.n_creators} (each item is one "
                f"creator's content), got {n_items!r}"
            )
        self.n_items = self.n_creators
        self._everyone_online = self.users_per_step is None
        if self._everyone_online:
            self.users_per_step = self.n_users
        if self.frozen_user_dims >= self.dim:
            raise InvalidParameterError(
                f"frozen_user_dims must be in [0, dim={self.dim}) (some dimension must move), "
                f"got {self.frozen_user_dims!r}"
            )
        self.initial_users = _unit_rows("initial_users", self.initial_users, self.n_users, self.dim)
        self.initial_creators = _unit_rows(
            "initial_creators", self.initial_creators, self.n_creators, self.dim
        )
        super()._check_params()

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters; ``n_items`` is ``None`` (it follows ``n_creators``) and
        ``users_per_step`` ``None`` while every user is online."""
        params = super().get_params()
        params["n_items"] = None
        params["n_creators"] = self._n_creators  # the number at reset
        if self._everyone_online:
            params["users_per_step"] = None
        return params

    @property
    def n_creators(self) -> int:  # type: ignore[override]
        """n, the number of creators (one item each): the parameter until the first
        ``reset``, then the current number (``n_items``; it grows when creators arrive,
        and ``reset`` sets it back to the parameter)."""
        return self._n_items if self._t >= 0 else self._n_creators

    @n_creators.setter
    def n_creators(self, value: int) -> None:
        self._n_creators = value

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        if self.init == "uniform":
            users = _uniform_sphere(self.n_users, self.dim, rng)
            creators = _uniform_sphere(self.n_creators, self.dim, rng)
        else:
            users, creators = self._dataset_vectors(rng)
        if self.initial_users is not None:
            users = self.initial_users
        if self.initial_creators is not None:
            creators = self.initial_creators
        self._users = np.array(users, dtype=np.float64)
        self._creators = np.array(creators, dtype=np.float64)
        self._creator_ids = np.arange(self.n_creators, dtype=np.int64)
        self._moved = np.empty(0, np.int64)

    def _state(self) -> dict[str, np.ndarray]:
        return {"users": self._users, "creators": self._creators}

    def _item_creators(self) -> np.ndarray:
        return self._creator_ids

    def _item_features(self) -> np.ndarray:
        return self._creators

    def _changed_items(self) -> np.ndarray:
        return self._moved

    def _arrive(self) -> int:
        """A new creator with probability ``creator_arrival`` (see the class)."""
        if self.creator_arrival == 0 or self._rng.random() >= self.creator_arrival:
            return 0
        new = _uniform_sphere(1, self.dim, self._rng)
        self._creators = np.concatenate([self._creators, new])
        self._creator_ids = np.arange(len(self._creators), dtype=np.int64)
        return 1

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.einsum("nd,nd->n", self._users[users], self._creators[items])

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._users[users] @ self._creators[items].T

    def _update(self, users: np.ndarray, items: np.ndarray, slates: np.ndarray) -> None:
        """Both updates at once, from the vectors before the step (see the class)."""
        consumed = items >= 0
        u, i = users[consumed], items[consumed]
        if len(u) == 0:
            self._moved = np.empty(0, np.int64)
            return
        old_u, old_v = self._users[u], self._creators[i]
        relevance = np.einsum("nd,nd->n", old_u, old_v)
        # creators: sum (or mean) of sign(<v_i, u_j>) u_j over each creator's audience
        n, d = self.n_creators, self.dim
        pull = np.sign(relevance)[:, None] * old_u
        flat = (i[:, None] * d + np.arange(d)).ravel()
        total = np.bincount(flat, weights=pull.ravel(), minlength=n * d).reshape(n, d)
        audience = np.bincount(i, minlength=n)
        moved = np.flatnonzero(audience)
        step = total[moved]
        if self.creator_aggregation == "mean":
            step /= audience[moved, None]
        self._creators[moved] = _normalised(self._creators[moved] + self.eta_creators * step)
        # users: towards (or away from) the creator consumed, f(x) = x
        self._users[u] = self._moved_users(old_u, old_v, relevance)
        self._moved = moved

    # ------------------------------------------------------------------ helpers
    def _moved_users(self, old_u: np.ndarray, old_v: np.ndarray, relevance: np.ndarray):
        new = old_u + self.eta_users * relevance[:, None] * old_v
        f = self.frozen_user_dims
        if f == 0:
            return _normalised(new)
        # the first f coordinates stay; the free part is rescaled to keep ||u|| = 1
        free = new[:, f:]
        norm = np.linalg.norm(free, axis=1, keepdims=True)
        target = np.linalg.norm(old_u[:, f:], axis=1, keepdims=True)
        ok = norm[:, 0] > 0
        out = old_u.copy()
        out[ok, f:] = free[ok] * (target[ok] / norm[ok])
        return out

    def _dataset_vectors(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Users and creators from the dataset's MF embeddings (see the class)."""
        try:
            fitted = fit_factors(self.init, self.dim, fitter="mf-als", seed=0)
        except DatasetError as err:
            raise DatasetError(
                f"{self.spec.name} with init={self.init!r} starts from the embeddings of the "
                f"dataset {self.init!r}, which could not be loaded (set RECDYN_DATA_DIR to a "
                f"folder holding it, or allow downloads): {err}"
            ) from err
        for name, wanted, available in (
            ("n_users", self.n_users, fitted.n_users),
            ("n_creators", self.n_creators, fitted.n_items),
        ):
            if wanted > available:
                raise InvalidParameterError(
                    f"{name} must be at most the {available} of dataset {self.init!r} with "
                    f"init={self.init!r}, got {wanted}"
                )
        pick = np.sort(rng.choice(fitted.n_users, size=self.n_users, replace=False))
        users = _normalised(np.array(fitted.user_factors[pick]))
        items = _normalised(np.array(fitted.item_factors))
        with warnings.catch_warnings():  # an empty cluster keeps its previous centroid
            warnings.filterwarnings("ignore", "One of the clusters is empty")
            start = items[np.sort(rng.choice(len(items), size=self.n_creators, replace=False))]
            centroids, _ = kmeans2(items, start, minit="matrix")
        return users, _normalised(centroids)


def _uniform_sphere(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform on :math:`S^{d-1}`: normalised standard Gaussians."""
    return _normalised(rng.standard_normal((n, d)))


def _normalised(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` divided by their norms (a zero row stays zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _unit_rows(name: str, value: Any, rows: int, dim: int) -> np.ndarray | None:
    """``value`` as a read-only float64 ``[rows, dim]`` array of unit vectors, or ``None``."""
    if value is None:
        return None
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidParameterError(
            f"{name} must be a float array [{rows}, {dim}]: {err}"
        ) from None
    if arr.shape != (rows, dim) or not np.isfinite(arr).all():
        raise InvalidParameterError(
            f"{name} must be a finite float array of shape ({rows}, {dim}) (one unit vector "
            f"per row), got shape {arr.shape}"
        )
    norms = np.linalg.norm(arr, axis=1)
    bad = np.abs(norms - 1.0) > UNIT_TOLERANCE
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"{name} must hold vectors on the unit sphere (norm within {UNIT_TOLERANCE:g} of "
            f"1); row {row} has norm {norms[row]:.6g}"
        )
    arr.flags.writeable = False
    return arr
