"""The latent-score environment (Schmit & Riquelme 2018, §5.2.3; thesis §2.3; RecLab
``schmit.py``): users choose from a slate using the recommender's score and a private
component of their value that the recommender never sees."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval
from recdyn.environments.base import THESIS_SMALL_SIZE, Environment

#: The global offset of the value, 3 (the middle of the 1–5 scale), as in RecLab.
OFFSET = 3.0


class LatentScoreEnvironment(Environment):
    r"""Item value = biases + a public low-rank part + a private low-rank part.

    Generative model (Schmit & Riquelme 2018, "Human interaction with recommendation
    systems", AISTATS, §5.2.3; thesis §2.3; RecLab ``Schmit``)
    ---------------------------------------------------------------------------------
    * biases: :math:`b_i \sim \mathcal N(0,1)/1.5`, :math:`b_u \sim \mathcal N(0,1)/3`;
    * factors of rank ``r``: :math:`U_u, V_i, X_u, Y_i` entrywise
      :math:`\mathcal N(0,1)/\sqrt{r}`;
    * value: :math:`v(u,i) = 3 + b_i + b_u + U_u^\top V_i + X_u^\top Y_i`. The term
      :math:`X_u^\top Y_i` is *idiosyncratic*: the user knows it, the recommender never sees
      it (no user or item features are exposed). ``true_ratings`` returns :math:`v`;
    * reported rating: :math:`\mathrm{clip}_{[1,5]}(v(u,i) + \epsilon)`,
      :math:`\epsilon \sim \mathcal N(0, \sigma^2)` with ``sigma`` a *standard deviation*
      (RecLab's docstring called it a variance but its code used it as a standard deviation;
      recdyn does the same as the code).
    * slate choice (Schmit & Riquelme; never implemented in RecLab, which rated the whole
      slate and failed for slates longer than one): user ``u`` shown slate
      :math:`(i_1, \dots, i_k)` with recommender scores :math:`(s_1, \dots, s_k)` (the
      ``scores`` argument of :meth:`step`) consumes and rates

      .. math:: \arg\max_{j:\ (u, i_j)\ \text{not yet rated}} \; s_j + X_u^\top Y_{i_j},

      first position on ties. If ``scores`` is ``None`` the user chooses on the private
      component :math:`X_u^\top Y_{i_j}` alone. If every slate item is already rated the
      user rates nothing (no row in the step's interactions). The initial ratings are
      uniform (or biased, see ``initial_sampling``) pairs, not slate choices.

    Parameters
    ----------
    n_users, n_items : default 100 and 170, the thesis's Ch.2 experiment (RecLab
        ``SCHMIT_SMALL``: 1000 → 2000 ratings, 20 users per step). The thesis text says
        "170 users and 100 items", which appears to swap the two numbers; RecLab's registry
        entry ``latent-score-v1`` used 1000 users × 1700 items and 100,000 initial ratings.
        Both sizes can be overridden.
    rank : r, default 10.
    sigma : σ, standard deviation of the rating noise, default 0.2.
    Other parameters: see :class:`~recdyn.environments.base.Environment`; the sizes default
    to :data:`~recdyn.environments.base.THESIS_SMALL_SIZE`.
    """

    default_overrides: ClassVar[Mapping[str, Any]] = THESIS_SMALL_SIZE

    def __init__(
        self,
        *,
        rank: Annotated[int, Interval(Integral, 1, None)] = 10,
        sigma: Annotated[float, Interval(Real, 0, None)] = 0.2,
        **inherited: Any,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    @property
    def noise(self) -> float:
        """Standard deviation of the rating noise (``sigma``; read by the base observation)."""
        return self.sigma

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        scale = 1.0 / np.sqrt(self.rank)
        self._item_bias = rng.standard_normal(self.n_items) / 1.5
        self._user_bias = rng.standard_normal(self.n_users) / 3.0
        self._user_factors = rng.standard_normal((self.n_users, self.rank)) * scale
        self._item_factors = rng.standard_normal((self.n_items, self.rank)) * scale
        self._user_private = rng.standard_normal((self.n_users, self.rank)) * scale
        self._item_private = rng.standard_normal((self.n_items, self.rank)) * scale

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_bias": self._user_bias,
            "item_bias": self._item_bias,
            "user_factors": self._user_factors,
            "item_factors": self._item_factors,
            "user_private": self._user_private,
            "item_private": self._item_private,
        }

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        public = np.einsum("nr,nr->n", self._user_factors[users], self._item_factors[items])
        return (
            OFFSET
            + self._item_bias[items]
            + self._user_bias[users]
            + public
            + self._private(users, items)
        )

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        r = self._user_factors[users] @ self._item_factors[items].T
        r += self._user_private[users] @ self._item_private[items].T
        r += self._user_bias[users, None]
        r += self._item_bias[items] + OFFSET
        return r

    def _choose(
        self,
        users: np.ndarray,
        slates: np.ndarray,
        scores: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Unrated slate item maximising ``scores + X_u·Y_i`` (private part alone if no scores)."""
        utility = np.einsum("nr,nkr->nk", self._user_private[users], self._item_private[slates])
        if scores is not None:
            utility += scores
        utility[self._unavailable(users, slates)] = -np.inf
        rows = np.arange(len(users))
        best = np.argmax(utility, axis=1)
        return np.where(np.isfinite(utility[rows, best]), slates[rows, best], -1)

    # ------------------------------------------------------------------ helpers
    def _private(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The idiosyncratic component :math:`X_u^\\top Y_i` of each pair."""
        return np.einsum("nr,nr->n", self._user_private[users], self._item_private[items])
