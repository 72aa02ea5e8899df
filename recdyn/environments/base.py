"""The :class:`Environment` core: a simulated population of users who rate what they are shown.

Modelled on ``gymnasium.Env``: a small public surface (``reset``, ``online_users``, ``step``,
``true_ratings``) implemented once here, with subclasses filling in a handful of hooks:

``_init_state(rng)``            draw the latent state (preferences, topics, factors …)
``_true_pairs(users, items)``   noise-free rating of each (user, item) pair
``_observe(users, items, rng)`` the rating a user reports (noise, clipping, rounding)
``_choose(users, slates, scores, rng)``  which slate item each user consumes (default: first)
``_update(users, items, slates)``        dynamics after the step (drift, boredom memory …)

Worlds whose items belong to creators who move (issue 18, seed 004) also fill in
``_item_creators()``, ``_item_features()`` and ``_changed_items()`` (and ``_arrive()``
where items arrive) and may set
``repeat_consumption = True`` (an item can be consumed again: users never run out) and
their own ``rating_range``. A slate entry ``-1`` shows nothing in that slot. Worlds whose
creators respond to the exposure they get (issue 19) set ``observes_exposure = True`` and
fill in ``observe_exposure(users, probabilities)``. Worlds whose items have categories
(issue 21) fill in ``_item_categories()`` and ``_category_names()`` (:mod:`.categories`).

Per-step cost is proportional to the online users and their slates; nothing loops over
users × items in Python.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from numbers import Integral
from types import MappingProxyType
from typing import Annotated, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recdyn._validation import check_ids
from recdyn.constraints import Boolean, Interval, Options
from recdyn.environments import sampling
from recdyn.environments.categories import ItemCategories
from recdyn.environments.creators import CreatorsAndFeatures
from recdyn.environments.initial import InitialRatings
from recdyn.environments.rated import RatedPairs
from recdyn.environments.slates import check_slates
from recdyn.environments.truth import GroundTruth
from recdyn.errors import (
    InvalidParameterError,
    InvalidSlateError,
    NoEligibleUsersError,
    NotResetError,
)
from recdyn.interactions import ITEM_DTYPE, RATING_DTYPE, STEP_DTYPE, USER_DTYPE, Interactions
from recdyn.params import Parametrized
from recdyn.seeding import SeedLike, environment_streams

#: The thesis's *_SMALL worlds (ch. 2): 100 users × 170 items, 20 online per step, 1,000
#: initial ratings — the defaults of the slate-choice environments.
THESIS_SMALL_SIZE = MappingProxyType(
    dict(n_users=100, n_items=170, users_per_step=20, n_initial_ratings=1000)
)


class Environment(
    InitialRatings, GroundTruth, CreatorsAndFeatures, ItemCategories, Parametrized, ABC
):
    """A population of ``n_users`` users and ``n_items`` items with latent preferences.

    Parameters shared by every environment
    --------------------------------------
    n_users, n_items : population sizes.
    users_per_step : users sampled (without replacement) to be online at each step, among
        those who have not yet rated every item; at most ``n_users`` (a larger value is
        lowered to ``n_users``, and the lowered value is what ``get_params`` records).
    n_initial_ratings : distinct (user, item) pairs rated in the initial data set.
    user_distribution : ``"uniform"``, ``"powerlaw"`` or ``"lognormal"`` activity of users
        (see :func:`recdyn.environments.sampling.activity_weights`).
    initial_sampling : ``"uniform"``, ``"ml100k-init"`` or ``"ml100k-init-flip"``
        (thesis §2.5; see :func:`recdyn.environments.sampling.initial_pairs`).

    Where RecLab's code (which produced the thesis's figures) differs from the thesis's text,
    recdyn follows the text and offers RecLab's reading as an option:

    initial_dynamics : the thesis describes the initial data as a sample of the initial
        preferences, so by default no dynamics run while they are generated. RecLab's
        ``reset`` rated every initial pair through the same function as an online rating,
        so preferences drifted (and satiated) during initialisation — topics with more
        items collected more initial ratings and rose. ``True`` does that
        (:meth:`_rate_in_sequence`).
    biased_sampling : how ``ml100k-init`` / ``ml100k-init-flip`` weigh pairs:
        ``"thesis"`` (the text's formula, see
        :func:`~recdyn.environments.sampling.initial_pairs`) or ``"reclab"`` (RecLab's
        code: the rating term normalised per user, FLIP as one minus the density, and the
        chosen pairs rated afresh by the environment rather than keeping the noisy ratings
        they were chosen by).
    reclab_compat : ``True`` turns on every RecLab reading above (and the environment's
        own, e.g. the topics drift rule); the values used are what ``get_params`` records.
    """

    #: The range of reported ratings (inclusive); a world may set its own (a class or
    #: instance attribute, or a property: ``dual-influence-v1`` has (-1, 1)).
    rating_range: tuple[float, float] = (1.0, 5.0)
    #: Items can be consumed again: every user stays eligible forever (no "has rated every
    #: item" rule) and :func:`recdyn.simulate` does not exclude rated items by default.
    repeat_consumption: ClassVar[bool] = False

    _t = -1  # steps since reset; -1: not reset

    def __init__(
        self,
        *,
        n_users: Annotated[int, Interval(Integral, 1, None)] = 1000,
        n_items: Annotated[int, Interval(Integral, 1, None)] = 1700,
        users_per_step: Annotated[int, Interval(Integral, 1, None)] = 200,
        n_initial_ratings: Annotated[int, Interval(Integral, 0, None)] = 100_000,
        user_distribution: Annotated[str, Options(sampling.USER_DISTRIBUTIONS)] = "uniform",
        initial_sampling: Annotated[str, Options(sampling.INITIAL_SAMPLINGS)] = "uniform",
        initial_dynamics: Annotated[bool, Boolean()] = False,
        biased_sampling: Annotated[str, Options(sampling.BIASED_SAMPLING_RULES)] = "thesis",
        reclab_compat: Annotated[bool, Boolean()] = False,
    ) -> None:
        pass  # subclasses take these as **inherited; the base stores them

    def _check_params(self) -> None:
        cells = self.n_users * self._n_items_initial
        if self.n_initial_ratings > cells:
            raise InvalidParameterError(
                f"n_initial_ratings must be in [0, n_users * n_items = {cells}], "
                f"got {self.n_initial_ratings!r}"
            )
        # a small population with a preset's users_per_step: everyone is online; the
        # value recorded (get_params, spec, results) is the one used
        self.users_per_step = min(self.users_per_step, self.n_users)
        if self.reclab_compat:  # every option that reads RecLab's code (recorded as used)
            self.initial_dynamics, self.biased_sampling = True, "reclab"

    # ------------------------------------------------------------------ public API
    @property
    def n_items(self) -> int:
        """Current number of items (a property: items may arrive over time)."""
        return self._n_items

    @n_items.setter
    def n_items(self, value: int) -> None:
        # the constructor parameter: the number of items at reset
        self._n_items = self._n_items_initial = value

    @property
    def step_index(self) -> int:
        """Number of steps taken since ``reset`` (0 right after it)."""
        self._require_reset()
        return self._t

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (``n_items``: the number of items at reset)."""
        return {**super().get_params(), "n_items": self._n_items_initial}

    def reset(self, seed: SeedLike | tuple[SeedLike, SeedLike] = None) -> Interactions:
        """Draw a fresh initial state and return the initial ratings (``step == 0``).

        ``seed`` is an ``int``, a ``SeedSequence``, ``None`` (fresh entropy) or a pair
        ``(init_seed, dynamics_seed)``; initialisation and dynamics use independent streams.
        """
        self._n_items = self._n_items_initial
        self._require_reset_memory()
        init_rng, self._rng = environment_streams(seed)
        self._rated = RatedPairs(self.n_users, self._n_items)
        self._added = None  # items that arrived at the last step (added_items())
        self._log_activity = np.log(
            sampling.activity_weights(self.user_distribution, self.n_users, init_rng)
        )
        self._init_state(init_rng)
        self._t = 0
        data = self._initial_data(init_rng)
        self._mark_rated(data.user, data.item)
        self._online = self._select_online()
        return data

    def online_users(self) -> np.ndarray:
        """Ids (int64, sorted) of the users who need a recommendation at this step."""
        self._require_online()
        return self._online.copy()

    # -- arrival probabilities (issue 17): one method and its cache, kept together
    def online_probabilities(self) -> np.ndarray:
        """Probability (float64, aligned with :meth:`online_users`) with which each online
        user was drawn to be online at this step: the arrival factor of the joint
        propensity that :func:`recdyn.simulate` logs.

        The users of a step are ``users_per_step`` drawn without replacement, with
        probability proportional to their activity, among the users who have not rated
        every item (:meth:`_select_online`). Uniform activity gives exactly
        ``users_per_step / eligible users``; weighted activity (``powerlaw``,
        ``lognormal``) gives the first-order inclusion probabilities of successive
        sampling, exact while ``eligible × users_per_step ≤ 20,000`` and otherwise Rosén's
        approximation (within 0.32 % relative where it is used): see
        :func:`recdyn.environments.sampling.arrival_probabilities`. No random number is
        drawn (the dynamics are untouched); the values are cached until the eligible set
        changes. An environment that overrides ``_select_online`` overrides this too.
        """
        self._require_online()
        eligible = self._eligible()
        cached = getattr(self, "_arrival_cache", None)
        if (
            cached is None
            or cached[0] is not self._log_activity  # drawn anew (only) by reset
            or not np.array_equal(cached[1], eligible)
        ):
            logw = np.where(eligible, self._log_activity, -np.inf)
            probs = sampling.arrival_probabilities(logw, self.users_per_step)
            self._arrival_cache = (self._log_activity, eligible, probs)
            cached = self._arrival_cache
        return cached[2][self._online]

    def step(self, slates: Any, scores: Any = None) -> Interactions:
        """Show each online user a slate and return the ratings they give.

        Parameters
        ----------
        slates : int array ``[n_online, k]`` (or ``[n_online]`` for ``k = 1``); row ``j`` is
            the slate of ``online_users()[j]``, best first. Ids must be in
            ``[0, n_items)`` and distinct within a row, or ``-1``: nothing shown in that
            slot (a user whose consumed slot is empty consumes nothing and gives no row).
        scores : optional float array of the same shape: the recommender's score of each
            shown item. Environments whose users weigh the recommender's opinion
            (``latent-score``) use it; others ignore it.

        Returns
        -------
        Interactions of this step (``step == step_index`` after the call). Users who
        consume nothing (all shown items already rated, in slate-choice environments) give
        no row.
        """
        self._require_online()
        users = self._online
        slates = self._check_slates(slates, len(users))
        scores = self._check_scores(scores, slates)
        items = self._choose(users, slates, scores, self._rng)
        consumed = items >= 0
        u, i = users[consumed], items[consumed]
        ratings = self._observe(u, i, self._rng)
        self._t += 1
        self._mark_rated(u, i)
        self._update(users, items, slates)
        self._take_arrivals()  # items that arrive (default: none, no random draw)
        self._online = self._select_online()
        return Interactions(
            u.astype(USER_DTYPE),
            i.astype(ITEM_DTYPE),
            ratings.astype(RATING_DTYPE),
            np.full(len(u), self._t, STEP_DTYPE),
        )

    def observe(self, users: Any, items: Any, rng: np.random.Generator) -> np.ndarray:
        """The ratings users would report for the pairs ``(users[j], items[j])`` in the
        current state — the environment's observation model (noise, clipping, rounding)
        with randomness from ``rng`` — without changing the state or its streams (e.g. a
        held-out sample of pairs)."""
        self._require_reset()
        users = check_ids("users", users, self.n_users)
        items = check_ids("items", items, self._n_items)
        if users.shape != items.shape or users.ndim != 1:
            raise InvalidParameterError("users and items must be 1-D id arrays of equal length")
        return self._observe(users, items, rng)

    def rated_mask(self, users: Any) -> np.ndarray:
        """Boolean ``[len(users), n_items]``: which items each user has already rated."""
        self._require_reset()
        users = check_ids("users", users, self.n_users)
        return self._rated.mask(users)

    def rated_items(self, users: Any) -> sp.csr_array:
        """:meth:`rated_mask` as a sparse boolean CSR array (what the loop excludes: it
        never builds the dense ``[online users × items]`` booleans)."""
        self._require_reset()
        users = check_ids("users", users, self.n_users)
        return self._rated.rows(users)

    @property
    def state(self) -> MappingProxyType:
        """Read-only views of the latent state (for metrics such as polarization)."""
        self._require_reset()
        out = {}
        for k, v in self._state().items():
            view = v.view()
            view.flags.writeable = False
            out[k] = view
        return MappingProxyType(out)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{self.spec.name}({params})"

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _init_state(self, rng: np.random.Generator) -> None:
        """Draw the latent state."""

    @abstractmethod
    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Noise-free ratings of the pairs ``(users[j], items[j])``, float64."""

    @abstractmethod
    def _state(self) -> dict[str, np.ndarray]:
        """The latent state as named arrays."""

    def _observe(
        self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Reported ratings; default ``clip(true + σ ε)`` with ``σ = self.noise``."""
        lo, hi = self.rating_range
        noise = getattr(self, "noise", 0.0)
        r = self._true_pairs(users, items)
        if noise:
            r = r + noise * rng.standard_normal(r.shape)
        return np.clip(r, lo, hi)

    def _observe_matrix(self, rng: np.random.Generator) -> np.ndarray:
        """Reported ratings of every pair (used by biased initial sampling)."""
        lo, hi = self.rating_range
        noise = getattr(self, "noise", 0.0)
        r = self._true_matrix(np.arange(self.n_users), np.arange(self._n_items))
        if noise:
            r = r + noise * rng.standard_normal(r.shape)
        return np.clip(r, lo, hi)

    def _choose(
        self,
        users: np.ndarray,
        slates: np.ndarray,
        scores: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Item each user consumes, ``-1`` for none. Default: the first slate item (top-1)."""
        return slates[:, 0].copy()

    def _update(self, users: np.ndarray, items: np.ndarray, slates: np.ndarray) -> None:
        """Dynamics after a step; ``items[j] == -1`` if user ``users[j]`` consumed nothing.
        Default: :meth:`_consume` of the consumed pairs."""
        consumed = items >= 0
        if consumed.any():
            self._consume(users[consumed], items[consumed], self._rng)

    def _consume(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> None:
        """What consuming ``items[j]`` does to user ``users[j]`` (distinct users): drift,
        satiation …; with ``initial_dynamics`` it also runs while the initial data are
        generated, one rating at a time. Default: nothing."""

    # ------------------------------------------------------------------ machinery
    def _mark_rated(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Record rated pairs; returns which were new (a world that counts rated items
        by kind extends it)."""
        return self._rated.mark(users, items)

    def _unavailable(self, users: np.ndarray, slates: np.ndarray) -> np.ndarray:
        """Boolean ``[len(users), k]``: slate entries a user cannot consume — already
        rated, or an empty slot (``-1``, nothing shown) — for worlds whose users choose
        from a slate."""
        return self._rated.contains(users[:, None], slates) | (slates < 0)

    def _eligible(self) -> np.ndarray:
        """Users who may be online: all with repeat consumption, else those who have not
        rated every item."""
        if self.repeat_consumption:
            return np.ones(self.n_users, bool)
        return self._rated.counts < self._n_items

    def _select_online(self) -> np.ndarray:
        logw = np.where(self._eligible(), self._log_activity, -np.inf)
        chosen = sampling.weighted_sample_without_replacement(logw, self.users_per_step, self._rng)
        return np.sort(chosen)

    def _check_slates(self, slates: Any, n_online: int) -> np.ndarray:
        return check_slates(slates, n_online, self._n_items, self._online)

    @staticmethod
    def _check_scores(scores: Any, slates: np.ndarray) -> np.ndarray | None:
        """``scores`` as float64 of the slates' shape (``None`` stays ``None``)."""
        if scores is None:
            return None
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != slates.shape or not np.isfinite(scores).all():
            raise InvalidSlateError(
                f"scores must be a finite float array of the slates' shape {slates.shape}, "
                f"got shape {scores.shape}"
            )
        return scores

    def _require_reset(self) -> None:
        if self._t < 0:
            raise NotResetError(f"{self.spec.name}: call reset() before using the environment")

    def _require_online(self) -> None:
        self._require_reset()
        if len(self._online) == 0:
            raise NoEligibleUsersError(
                f"{self.spec.name}: after {self._t} steps every user has rated every item "
                f"({self.n_users} × {self._n_items}); no user is left to recommend to. "
                "Reset the environment or use fewer steps."
            )
