"""The beta-rank environment (Chaney, Stewart & Engelhardt 2018; thesis §2.3; RecLab
``beta_rank.py``): Dirichlet topic mixtures, Beta-distributed utilities, and users who pick
from a slate weighing the utility they know by the slate position."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval
from recdyn.environments.base import THESIS_SMALL_SIZE, Environment
from recdyn.environments.categories import topic_names

#: Smallest Dirichlet component kept (sparse Dirichlet draws can underflow to exactly 0).
_FLOOR = 1e-12
#: Means are clamped into ``(_EPS, 1 - _EPS)`` before a Beta is parameterised by them.
_EPS = 1e-6


def beta_prime(
    mean: np.ndarray | float, sd: float, rng: np.random.Generator, size: int | None = None
) -> np.ndarray:
    r"""Draw from the Beta distribution with mean ``mean`` and standard deviation ``sd``.

    :math:`\alpha = \big((1-\mu)/sd^2 - 1/\mu\big)\,\mu^2`, :math:`\beta = \alpha(1/\mu - 1)`,
    with :math:`\mu` clamped into :math:`(10^{-6}, 1-10^{-6})` and the variance capped at
    :math:`0.999\,\mu(1-\mu)` (a Beta cannot be wider), so both parameters are positive.
    ``sd = 0`` returns the clamped mean itself. Vectorised over ``mean``.
    """
    mu = np.clip(np.asarray(mean, dtype=np.float64), _EPS, 1.0 - _EPS)
    if size is not None:
        mu = np.broadcast_to(mu, (size,))
    if sd == 0:
        return mu.copy()
    var = np.minimum(sd * sd, 0.999 * mu * (1.0 - mu))
    alpha = ((1.0 - mu) / var - 1.0 / mu) * mu * mu
    return rng.beta(alpha, alpha * (1.0 / mu - 1.0))


class BetaRankEnvironment(Environment):
    r"""Users and items are mixtures of ``K`` topics; utilities are Beta around their overlap.

    Generative model (Chaney, Stewart & Engelhardt 2018, "How algorithmic confounding in
    recommendation systems increases homogeneity and decreases utility", RecSys; thesis §2.3;
    RecLab ``BetaRank`` at HEAD)
    -------------------------------------------------------------------------------------
    * user topics: :math:`\mu_\theta \sim \mathrm{Dir}(\mathbf 1_K)`,
      :math:`\theta_u \sim \mathrm{Dir}(100\,\mu_\theta)` (RecLab used 10 before June 2022);
    * item topics: :math:`\mu_\beta \sim \mathrm{Dir}(100\cdot\mathbf 1_K)`,
      :math:`\beta_i \sim \mathrm{Dir}(0.1\,\mu_\beta)`; components are floored at
      :math:`10^{-12}` and renormalised (such sparse Dirichlet draws can underflow to 0);
    * utility of a shown item: :math:`v(u,i) \sim \mathrm{Beta}'(\theta_u^\top\beta_i, s)`,
      where :math:`\mathrm{Beta}'(\mu, s)` is the Beta with mean :math:`\mu` and standard
      deviation :math:`s` (see :func:`beta_prime`), ``s`` = ``utility_sd`` = :math:`10^{-5}`
      (RecLab's value: utilities are almost deterministic);
    * known fraction of the utility: :math:`\kappa_u \sim \mathrm{Beta}'(\text{known\_mean}, s)`,
      drawn once per user at reset, following Chaney et al. as RecLab's 2020 ``Engelhardt``
      code did (RecLab HEAD drew a fresh :math:`\kappa` per slate position at every step). A
      per-user :math:`\kappa_u` scales all of a user's options alike, so it does not change
      which item is chosen; it is exposed in ``state["known_weight"]``;
    * choice from a slate :math:`(i_1, \dots, i_n)`, best first: the user draws
      :math:`v_j = v(u, i_j)` and consumes the not-yet-rated item maximising
      :math:`j^{-\delta}\,\kappa_u\,v_j` (``δ`` = ``position_decay`` = 0.8, ``j`` the 1-based
      position; first position on ties). This is how the recommender's *ranking* enters; the
      ``scores`` passed to :meth:`step` are ignored. Only the chosen item is rated; a user whose
      slate holds only rated items rates nothing;
    * rating: :math:`\mathrm{clip}_{[1,5]}\big(\mathrm{round}(c\,v_j + 1)\big)` with
      ``c`` = ``rating_scale`` = 20 (RecLab HEAD's map; the 2020 ``Engelhardt`` code behind
      the thesis's Ch.2 used :math:`5\,\theta_u^\top\beta_i` with no Beta noise). The same
      :math:`v_j` drives the choice and the rating. Initial ratings use the same map.
    * ``true_ratings``: :math:`c\,\theta_u^\top\beta_i + 1`, noise-free, before rounding and
      clipping.

    The thesis writes :math:`r(u,i) \sim \mathrm{Beta}(p_u^\top q_i, \sigma^2)` "parameterised
    by its mean and variance"; RecLab's code passes a standard deviation, which recdyn
    follows (``utility_sd``). With the defaults :math:`\theta_u^\top\beta_i` averages ≈ 0.05:
    about a third of the noise-free ratings round to 1, ≈ 45 % to 2 and only 2–4 % to 5.

    Parameters
    ----------
    n_users, n_items : default 100 and 170, the thesis's Ch.2 experiment (RecLab
        ``ENGELHARDT_SMALL``: 1000 → 2000 ratings, 20 users per step). The thesis text says
        "170 users and 100 items", apparently swapped. RecLab HEAD's ``beta-rank-v1`` is the
        Ch.3 configuration (1000 × 1700 users × items, one user per step, no initial
        ratings); all sizes can be overridden.
    n_topics : K, default 19.
    utility_sd : s ∈ [0, 0.5), standard deviation of the utility and known-weight Betas,
        default 1e-5 (RecLab); 0 makes both deterministic.
    known_mean : mean of the known fraction κ, in (0, 1), default 0.98.
    position_decay : δ ≥ 0, default 0.8.
    rating_scale : c > 0, default 20.
    Other parameters: see :class:`~recdyn.environments.base.Environment`; the sizes default
    to :data:`~recdyn.environments.base.THESIS_SMALL_SIZE`.
    """

    default_overrides: ClassVar[Mapping[str, Any]] = THESIS_SMALL_SIZE

    def __init__(
        self,
        *,
        n_topics: Annotated[int, Interval(Integral, 1, None)] = 19,
        utility_sd: Annotated[float, Interval(Real, 0, 0.5, closed="left")] = 1e-5,
        known_mean: Annotated[float, Interval(Real, 0, 1, closed="neither")] = 0.98,
        position_decay: Annotated[float, Interval(Real, 0, None)] = 0.8,
        rating_scale: Annotated[float, Interval(Real, 0, None, closed="neither")] = 20.0,
        **inherited: Any,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        k = self.n_topics
        self._user_topics = _floored(rng.dirichlet(100.0 * rng.dirichlet(np.ones(k)), self.n_users))
        self._item_topics = _floored(
            rng.dirichlet(0.1 * rng.dirichlet(100.0 * np.ones(k)), self.n_items)
        )
        self._known_weight = beta_prime(self.known_mean, self.utility_sd, rng, size=self.n_users)
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _item_categories(self) -> np.ndarray:
        """Each item's Dirichlet topic mixture (the world's ``item_topics``)."""
        return self._item_topics

    def _category_names(self) -> tuple[str, ...]:
        return topic_names(self.n_topics)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_topics": self._user_topics,
            "item_topics": self._item_topics,
            "known_weight": self._known_weight,
        }

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.rating_scale * self._mean_utility(users, items) + 1.0

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.rating_scale * (self._user_topics[users] @ self._item_topics[items].T) + 1.0

    def _observe(
        self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """``clip(round(c·v + 1))``; ``v`` is the utility drawn in ``_choose`` for these
        pairs, or a fresh ``Beta'(θ_u·β_i, s)`` draw (initial ratings)."""
        pending, self._pending = self._pending, None
        if (
            pending is not None
            and np.array_equal(pending[0], users)
            and np.array_equal(pending[1], items)
        ):
            utility = pending[2]
        else:
            utility = beta_prime(self._mean_utility(users, items), self.utility_sd, rng)
        return self._rating(utility)

    def _observe_matrix(self, rng: np.random.Generator) -> np.ndarray:
        mean = self._user_topics @ self._item_topics.T
        return self._rating(beta_prime(mean, self.utility_sd, rng))

    def _choose(
        self,
        users: np.ndarray,
        slates: np.ndarray,
        scores: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Unrated slate item maximising ``j^-δ · κ_u · v_j`` (``scores`` are ignored)."""
        mean = np.einsum("nk,njk->nj", self._user_topics[users], self._item_topics[slates])
        utility = beta_prime(mean, self.utility_sd, rng)
        weight = np.arange(1, slates.shape[1] + 1, dtype=np.float64) ** -self.position_decay
        known = weight * self._known_weight[users, None] * utility
        known[self._unavailable(users, slates)] = -np.inf
        rows = np.arange(len(users))
        best = np.argmax(known, axis=1)
        ok = np.isfinite(known[rows, best])
        chosen = np.where(ok, slates[rows, best], -1)
        self._pending = (users[ok], chosen[ok], utility[rows, best][ok])
        return chosen

    # ------------------------------------------------------------------ helpers
    def _mean_utility(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.einsum("nk,nk->n", self._user_topics[users], self._item_topics[items])

    def _rating(self, utility: np.ndarray) -> np.ndarray:
        lo, hi = self.rating_range
        return np.clip(np.round(self.rating_scale * utility + 1.0), lo, hi)


def _floored(p: np.ndarray) -> np.ndarray:
    """Rows of ``p`` with every component at least ``_FLOOR``, renormalised to sum to 1."""
    p = np.maximum(np.nan_to_num(p, nan=0.0), _FLOOR)
    return p / p.sum(axis=1, keepdims=True)
