r"""The position-bias world (issue 21 item 4): users examine a slate position by position
and click what they examine by relevance — the position-based click model behind
Zhao et al.'s shallow position tower (RecSys 2019)."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn._validation import check_ids
from recdyn.constraints import Interval
from recdyn.environments.base import THESIS_SMALL_SIZE, Environment
from recdyn.environments.latent import draw_latent_factors
from recdyn.interactions import (
    ITEM_DTYPE,
    POSITION_DTYPE,
    RATING_DTYPE,
    STEP_DTYPE,
    USER_DTYPE,
    Interactions,
)

__all__ = ["PositionBiasEnvironment", "examination"]

#: The ratings a click reports lie in [1, 5]; a shown item that is not clicked reports 0.
CLICK_RATINGS = (1.0, 5.0)


def examination(k: int, eta: float) -> np.ndarray:
    r"""Examination probabilities :math:`\theta_p = p^{-\eta}` of the positions
    :math:`p = 1 \dots k` (float64 ``[k]``; :math:`\eta = 0`: every position examined)."""
    return np.arange(1, k + 1, dtype=np.float64) ** -float(eta)


class PositionBiasEnvironment(Environment):
    r"""Latent-factor relevance and a position-based click model on slates of ``k`` items.

    Generative model (the position-based model of Craswell et al. 2008 and Joachims et
    al. 2017; the click model of ``../shared/research/wave2_scoping.md`` §E and of Zhao et
    al. 2019, "Recommending What Video to Watch Next", RecSys, whose shallow tower it
    motivates)
    -------------------------------------------------------------------------------------
    * latent rating (as ``latent-static``, thesis §2.3):
      :math:`r(u,i) = \mu_0 + c_u + b_i + p_u^\top q_i` with :math:`c_u, b_i \sim \mathcal
      N(0, s^2)`, :math:`s` = ``bias_std`` = 0.5, and :math:`p_u, q_i` entrywise normal of
      variance :math:`\sqrt{0.5/d}`, so :math:`\mathrm{Var}(p_u^\top q_i) = 0.5`;
      :math:`\mu_0` = ``offset`` = 3;
    * relevance: :math:`\rho(u,i) = \sigma\big((\bar r(u,i) - \tau)/s_\rho\big)` with
      :math:`\bar r = \mathrm{clip}_{[1,5]}(r)`, :math:`\tau` = ``relevance_center`` = 4,
      :math:`s_\rho` = ``relevance_scale`` = 0.5 (so a 3 is relevant with probability
      0.12, a 5 with 0.88);
    * examination: the user examines position :math:`p` (1-based) of the slate with
      probability :math:`\theta_p = p^{-\eta}`, :math:`\eta` = ``eta`` ≥ 0 (default 1;
      :math:`\eta = 0`: every position is examined);
    * click: an examined item is clicked with probability :math:`\rho(u,i)`, independently
      across positions, so :math:`P(\text{click at } p) = \theta_p\,\rho(u,i)`;
    * rating: a clicked item is rated :math:`\mathrm{clip}_{[1,5]}(r(u,i) + \epsilon)`,
      :math:`\epsilon \sim \mathcal N(0, \sigma^2)`, :math:`\sigma` = ``noise`` = 0.5.

    **What a step logs.** Every shown item (every non-empty slot) gives one row, with its
    1-based slot in the ``position`` column of the returned
    :class:`~recdyn.interactions.Interactions`. The ``rating`` column carries both tasks
    of a two-task ranker: ``0`` for a shown item that was not clicked (unexamined or
    examined and not relevant — the log cannot tell), else the click's rating in [1, 5].
    So ``rating > 0`` is the click label and the ratings of clicked rows are the rating
    label; ``rating_range`` is (0, 5). The initial ratings (``reset``) and
    :meth:`observe` are outcomes of examined items (as if at position 1: a click with
    probability :math:`\rho`, rated if clicked) and carry no position.

    **The truth.** ``true_ratings`` is the expected logged value of an item the user
    examines, :math:`\rho(u,i)\,\bar r(u,i)` (position 1, before the rating noise): the
    relevance without position. It increases with :math:`r`, so it ranks items as
    :math:`\rho` and :math:`r` do (the Oracle and regret see no position effect).
    :meth:`relevance` gives :math:`\rho`.

    **Repeat consumption.** Items can be shown and clicked again (a feed): every user
    stays online and :func:`recdyn.simulate` excludes nothing by default, so an item ranked
    high keeps being shown — the loop in which a ranker without a position tower learns
    its own past rankings. Every shown pair is marked rated. No dynamics: preferences are
    fixed. ``scores`` passed to :meth:`step` are ignored.

    Parameters
    ----------
    eta : :math:`\eta` ≥ 0, the examination decay (default 1).
    latent_dim : d (default 10). noise : σ ≥ 0 of a click's rating (default 0.5).
    offset : :math:`\mu_0` (default 3). bias_std : s ≥ 0 (default 0.5).
    relevance_center : τ (default 4). relevance_scale : :math:`s_\rho` > 0 (default 0.5).
    Other parameters: see :class:`~recdyn.environments.base.Environment`; the sizes default
    to :data:`~recdyn.environments.base.THESIS_SMALL_SIZE`.
    """

    default_overrides: ClassVar[Mapping[str, Any]] = THESIS_SMALL_SIZE
    rating_range = (0.0, CLICK_RATINGS[1])
    repeat_consumption: ClassVar[bool] = True

    def __init__(
        self,
        *,
        eta: Annotated[float, Interval(Real, 0, None)] = 1.0,
        latent_dim: Annotated[int, Interval(Integral, 1, None)] = 10,
        noise: Annotated[float, Interval(Real, 0, None)] = 0.5,
        offset: Annotated[float, Interval(Real)] = 3.0,
        bias_std: Annotated[float, Interval(Real, 0, None)] = 0.5,
        relevance_center: Annotated[float, Interval(Real)] = 4.0,
        relevance_scale: Annotated[float, Interval(Real, 0, None, closed="neither")] = 0.5,
        **inherited: Any,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    # ------------------------------------------------------------------ public extras
    def relevance(self, users: Any = None, items: Any = None) -> np.ndarray:
        r"""Relevance :math:`\rho(u,i)` ``[len(users), len(items)]`` (float64): the click
        probability of an examined item. ``None`` means all users / all items."""
        self._require_reset()
        users = (
            np.arange(self.n_users) if users is None else check_ids("users", users, self.n_users)
        )
        items = (
            np.arange(self.n_items) if items is None else check_ids("items", items, self.n_items)
        )
        return self._rho(self._latent_matrix(users, items))

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        self._user_bias, self._user_factors, self._item_bias, self._item_factors = (
            draw_latent_factors(rng, self.n_users, self.n_items, self.latent_dim, self.bias_std)
        )

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self._user_factors,
            "item_factors": self._item_factors,
            "user_bias": self._user_bias,
            "item_bias": self._item_bias,
        }

    def _latent_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return (
            self.offset
            + self._user_bias[users]
            + self._item_bias[items]
            + np.einsum("nd,nd->n", self._user_factors[users], self._item_factors[items])
        )

    def _latent_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        r = self._user_factors[users] @ self._item_factors[items].T
        r += self._user_bias[users, None]
        r += self._item_bias[items] + self.offset
        return r

    def _rho(self, latent: np.ndarray) -> np.ndarray:
        z = (np.clip(latent, *CLICK_RATINGS) - self.relevance_center) / self.relevance_scale
        return 1.0 / (1.0 + np.exp(-z))

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        r = self._latent_pairs(users, items)
        return self._rho(r) * np.clip(r, *CLICK_RATINGS)

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        r = self._latent_matrix(users, items)
        return self._rho(r) * np.clip(r, *CLICK_RATINGS)

    def _observe(
        self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Outcome of examined items: 0 (no click) or the click's rating in [1, 5]."""
        return self._outcome(users, items, np.ones(len(users)), rng)

    def _observe_matrix(self, rng: np.random.Generator) -> np.ndarray:
        users = np.repeat(np.arange(self.n_users), self.n_items)
        items = np.tile(np.arange(self.n_items), self.n_users)
        return self._observe(users, items, rng).reshape(self.n_users, self.n_items)

    def _outcome(
        self,
        users: np.ndarray,
        items: np.ndarray,
        examined: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Logged value of each shown pair examined with probability ``examined``; draws
        three numbers per pair whatever happens (examination, relevance, rating noise)."""
        n = len(users)
        look, relevant, eps = rng.random(n), rng.random(n), rng.standard_normal(n)
        r = self._latent_pairs(users, items)
        click = (look < examined) & (relevant < self._rho(r))
        rating = np.clip(r + self.noise * eps, *CLICK_RATINGS)
        return np.where(click, rating, 0.0)

    # ------------------------------------------------------------------ the step
    def step(self, slates: Any, scores: Any = None) -> Interactions:
        """Show each online user a slate; every shown item gives a row with its 1-based
        position, ``rating`` 0 (not clicked) or the click's rating (see the class
        docstring). ``scores`` are checked and ignored."""
        self._require_online()
        users = self._online
        slates = self._check_slates(slates, len(users))
        self._check_scores(scores, slates)
        row, slot = np.nonzero(slates >= 0)  # row-major: user by user, best slot first
        u, i = users[row], slates[row, slot]
        theta = examination(slates.shape[1], self.eta)
        ratings = self._outcome(u, i, theta[slot], self._rng)
        self._t += 1
        self._mark_rated(u, i)
        self._take_arrivals()  # none in this world (no random draw)
        self._online = self._select_online()
        return Interactions(
            u.astype(USER_DTYPE),
            i.astype(ITEM_DTYPE),
            ratings.astype(RATING_DTYPE),
            np.full(len(u), self._t, STEP_DTYPE),
            position=(slot + 1).astype(POSITION_DTYPE),
        )
