r"""Held-out pairs evaluated inside the loop (thesis ch. 3, L1959–1985).

"To evaluate the algorithm in an unbiased manner, we create a test set by randomly sampling
user-item pairs. User-item pairs in the test set can not be recommended during the run"
(L1960–1962); RMSE and nDCG are reported on it (L1964–1968), a test set "of size 100,000"
(L1971, L1984). :class:`HeldOut` declares such a set for :func:`recdyn.simulate`:

* **The pairs** are drawn once per run, uniformly without replacement among the pairs that
  are *not* in the initial data (those train the model at ``fit``), from the named stream
  ``heldout`` of the run's seed. ``simulate`` never shows them (they join the policy's
  ``exclude`` mask) and never trains on them (the shadow arm skips them too).
* **The size**: ``n_pairs``, or by default :data:`DEFAULT_PAIRS` (100,000, L1971) where
  the world is large enough, else :data:`DEFAULT_FRACTION` (10 %) of its free pairs:
  :math:`n = \min(100\,000, \lfloor 0.1\,(UI - n_0) \rfloor)`. The thesis's worlds
  (1000 × 1700, 943 × 1682) hold 100,000 at 5.9 % and 6.3 %; a 100 × 170 world gets 1,600.
* **The ground truth** (unstated in the thesis): ``truth="true"`` (default) scores the
  predictions against the world's *current noise-free* ratings
  (:meth:`~recdyn.environments.Environment.true_ratings`) at each evaluation, so that
  (i) in a drifting world the test set tracks the current preferences instead of going
  stale, and (ii) the observation noise — the same floor σ² under every training arm — does
  not add variance to the feedback effect M(R_t) − M(R̂_t) (Definition 1, L1903–1918).
  This is also the truth that ``regret`` and the Oracle use. ``truth="observed"`` draws
  fresh reported ratings (:meth:`~recdyn.environments.Environment.observe`: noise,
  clipping, rounding) from the stream ``heldout/observe/<step>``, for RMSE on the
  observation scale.
* **When**: every ``every`` steps, after that step's retraining (the model the next step
  recommends with); the values are the columns ``heldout_<metric>`` of the trajectory's
  metrics table (NaN at the other steps).
* **Metrics** are offline metrics of kind ``rating`` or ``ranking``
  (:func:`recdyn.metrics.make_offline_metric`), computed by
  :func:`recdyn.evaluation.evaluate`: ``rmse`` over all pairs and ``ndcg@20`` — each
  user's held-out items ranked by predicted rating, averaged over users (L1982) — by
  default. Top-N metrics (which rank the whole catalogue) do not fit a fixed pair set.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Annotated, Any

import numpy as np

from recdyn import seeding
from recdyn.constraints import Constraint, Interval, Options
from recdyn.environments.base import Environment
from recdyn.errors import InvalidParameterError
from recdyn.evaluation import evaluate
from recdyn.interactions import Interactions
from recdyn.metrics.offline_registry import make_offline_metric
from recdyn.params import Parametrized
from recdyn.recommenders.base import Recommender

__all__ = ["DEFAULT_FRACTION", "DEFAULT_PAIRS", "HeldOut", "HeldOutPairs"]

#: The thesis's test-set size (L1971, L1984).
DEFAULT_PAIRS = 100_000
#: The share of a small world's free pairs held out by default.
DEFAULT_FRACTION = 0.1
#: Score cells per batch when reading the truth of many pairs.
_BATCH_CELLS = 1 << 22


class PairMetricNames(Constraint):
    """A non-empty list of offline-metric names of kind ``rating`` or ``ranking``
    (``"rmse"``, ``"mae"``, ``"ndcg@20"`` …), kept as a tuple without duplicates."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return False
        names = list(value)
        return bool(names) and all(isinstance(n, str) and self._fits(n) for n in names)

    @staticmethod
    def _fits(name: str) -> bool:
        try:
            return make_offline_metric(name).kind in ("rating", "ranking")
        except InvalidParameterError:
            return False

    def convert(self, value: Any) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    def describe(self) -> str:
        return "a non-empty list of rating or ranking metric names (rmse, mae, ndcg@K, ndcg_exp@K)"


class HeldOut(Parametrized):
    """Held-out (user, item) pairs, never recommended nor trained on, evaluated every
    ``every`` steps (see the module docstring for each choice and its source).

    Parameters
    ----------
    n_pairs : how many pairs; ``None``: ``min(100_000, 10 % of the pairs not in the
        initial data)``. More than the world's free pairs is an error.
    every : evaluate every ``every`` steps (the thesis's M).
    metrics : offline metrics of kind rating or ranking.
    truth : ``"true"`` (current noise-free ratings) or ``"observed"`` (fresh reported
        ratings from the world's observation model).

    Example::

        traj = recdyn.simulate("latent-static-v1", "mf-als", steps=200,
                               heldout=HeldOut(n_pairs=5_000, every=20))
        traj.metrics[["step", "heldout_rmse", "heldout_ndcg@20"]].dropna()
    """

    def __init__(
        self,
        *,
        n_pairs: Annotated[int | None, Interval(Integral, 1, None), None] = None,
        every: Annotated[int, Interval(Integral, 1, None)] = 10,
        metrics: Annotated[tuple[str, ...], PairMetricNames()] = ("rmse", "ndcg@20"),
        truth: Annotated[str, Options(("true", "observed"))] = "true",
    ) -> None:
        pass  # checked and stored by the base

    @property
    def columns(self) -> list[str]:
        """The metrics table's columns: ``heldout_<metric>``."""
        return [f"heldout_{m}" for m in self.metrics]

    def size(self, n_users: int, n_items: int, n_initial: int) -> int:
        """The number of pairs held out of a world with ``n_initial`` initial ratings;
        :class:`InvalidParameterError` naming ``n_pairs`` if the world has too few."""
        free = n_users * n_items - n_initial
        if self.n_pairs is None:
            n = min(DEFAULT_PAIRS, int(DEFAULT_FRACTION * free))
            return max(n, min(free, 1))
        if self.n_pairs > free:
            raise InvalidParameterError(
                f"heldout n_pairs must be at most the world's pairs that are not in the "
                f"initial data ({n_users} users × {n_items} items − {n_initial} initial "
                f"ratings = {free}), got {self.n_pairs}"
            )
        return self.n_pairs

    def draw(self, env: Environment, initial: Interactions, seed: Any) -> HeldOutPairs:
        """The pairs of one run: uniform without replacement among the pairs of the reset
        world ``env`` that are not in ``initial``, from the stream ``heldout`` of ``seed``."""
        n_users, n_items = env.n_users, env.n_items
        taken = np.unique(initial.user.astype(np.int64) * n_items + initial.item)
        n = self.size(n_users, n_items, len(taken))
        if n == 0:
            raise InvalidParameterError(
                f"heldout: every pair of the {n_users} × {n_items} world is in the initial "
                "data; there is no pair to hold out"
            )
        rng = seeding.generator(seed, "heldout")
        ranks = np.sort(rng.choice(n_users * n_items - len(taken), size=n, replace=False))
        # the r-th free pair skips every taken pair at or before it: with the taken flat
        # indices sorted, taken[j] - j counts the free pairs before taken[j]
        flat = ranks + np.searchsorted(taken - np.arange(len(taken)), ranks, side="right")
        users, items = np.divmod(flat, n_items)
        return HeldOutPairs(self, users, items, n_users, n_items)


@dataclass(eq=False)
class HeldOutPairs:
    """The held-out pairs of one run (sorted by user, then item) and their evaluation."""

    config: HeldOut
    users: np.ndarray
    items: np.ndarray
    n_users: int
    n_items: int

    def __post_init__(self) -> None:
        self._mask = np.zeros((self.n_users, self.n_items), bool)
        self._mask[self.users, self.items] = True

    def __len__(self) -> int:
        return len(self.users)

    def mask(self, users: np.ndarray, n_items: int) -> np.ndarray:
        """Bool ``[len(users), n_items]``: which items of each user are held out (items
        that arrived after the draw never are)."""
        rows = self._mask[users]
        if n_items > self.n_items:
            rows = np.pad(rows, ((0, 0), (0, n_items - self.n_items)))
        return rows

    def due(self, step: int) -> bool:
        """Whether the pairs are evaluated at ``step``."""
        return step % self.config.every == 0

    def evaluate(
        self, recommender: Recommender, env: Environment, step: int, seed: Any
    ) -> dict[str, float]:
        """``{heldout_<metric>: value}`` of ``recommender`` against the ground truth now."""
        if self.config.truth == "true":
            truth = _true_pairs(env, self.users, self.items)
        else:
            rng = seeding.generator(seed, "heldout", "observe", str(step))
            truth = env.observe(self.users, self.items, rng)
        test = Interactions(self.users, self.items, truth)
        values = evaluate(recommender, Interactions.empty(), test, self.config.metrics)
        return dict(zip(self.config.columns, values.values()))


def _true_pairs(env: Environment, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Noise-free ratings of the pairs ``(users[j], items[j])`` (``users`` sorted), read
    row-wise through the public :meth:`Environment.true_ratings` in batches of users."""
    uniq, start = np.unique(users, return_index=True)
    end = np.r_[start[1:], len(users)]
    out = np.empty(len(users), np.float64)
    batch = max(1, _BATCH_CELLS // env.n_items)
    for lo in range(0, len(uniq), batch):
        hi = min(lo + batch, len(uniq))
        rows = env.true_ratings(uniq[lo:hi])
        a, b = start[lo], end[hi - 1]
        out[a:b] = rows[np.repeat(np.arange(hi - lo), end[lo:hi] - start[lo:hi]), items[a:b]]
    return out
