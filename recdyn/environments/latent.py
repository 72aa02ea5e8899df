"""Latent-factor environments (thesis §2.3; RecLab ``latent_factors.py``): latent-static,
latent-dynamic."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval
from recdyn.environments.base import Environment
from recdyn.environments.memory import SlateMemory

__all__ = ["LatentEnvironment", "draw_latent_factors"]


def draw_latent_factors(
    rng: np.random.Generator, n_users: int, n_items: int, latent_dim: int, bias_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""User biases, user factors, item biases, item factors, drawn in that order:
    :math:`c_u, b_i \sim \mathcal N(0, s^2)` and factor entries of variance
    :math:`\sqrt{0.5/d}`, so :math:`\mathrm{Var}(p_u^\top q_i) = 0.5` (thesis §2.3)."""
    factor_std = (0.5 / latent_dim) ** 0.25
    user_bias = rng.normal(0.0, bias_std, size=n_users)
    user_factors = rng.normal(0.0, factor_std, size=(n_users, latent_dim))
    item_bias = rng.normal(0.0, bias_std, size=n_items)
    item_factors = rng.normal(0.0, factor_std, size=(n_items, latent_dim))
    return user_bias, user_factors, item_bias, item_factors


#: ``_true_pairs`` of at least ``n_users * n_items / _DENSE_FRACTION`` pairs goes through one
#: matrix product instead of per-pair gathers.
_DENSE_FRACTION = 16


class LatentEnvironment(Environment):
    r"""Users and items have ``d``-dimensional latent factors and scalar biases.

    Generative model (Krauth 2022, thesis §2.3; RecLab ``LatentFactorBehavior``)
    ----------------------------------------------------------------------------
    * biases: :math:`c_u, b_i \sim \mathcal N(0, s^2)` with ``s`` = ``bias_std`` = 0.5
      (the thesis's variance 0.25);
    * factors: :math:`p_u, q_i \sim \mathcal N(0, \sqrt{0.5/d}\,I_d)` entrywise, i.e. with
      standard deviation :math:`(0.5/d)^{1/4}`, so :math:`\mathrm{Var}(p_u^\top q_i) = 0.5`;
    * rating when ``u`` is shown ``i`` (top-1: the user consumes the first slate item)

      .. math::
         r_t(u,i) = \mathrm{clip}_{[1,5]}\Big(\mu_0 + c_u + b_i + p_{u,t}^\top q_i
             - \frac{\lambda}{m}\sum_{j \in H_t(u)} \max\big(0, \cos(q_i, q_j) - \tau\big)
             + \epsilon\Big), \quad \epsilon \sim \mathcal N(0, \sigma^2)

      where :math:`\mu_0` = ``offset`` = 3 and :math:`H_t(u)` holds every item of the last
      ``m`` slates shown to ``u`` (boredom: memory ``m``, cosine threshold ``τ``, penalty
      ``λ``; the penalty is divided by ``m`` as RecLab does, so with ``λ = 2, m = 5`` each
      remembered item costs up to 0.4). An item shown twice counts twice.
    * affinity drift after ``u`` consumes ``i`` (``a`` = ``affinity_change``):
      :math:`p_u \leftarrow (1-a)\,p_u + a\,q_i`.

    The noise-free rating (``true_ratings``) is the expression inside the clip without
    :math:`\epsilon`, boredom included. With the defaults the noise-free ratings have mean ≈ 3
    and standard deviation ≈ 1.0 (RecLab, seed 0: 2.97 and 1.00); clipped to [1, 5] their
    standard deviation is ≈ 0.96 and ≈ 15 % of pairs are ≥ 4.

    ``true_ratings`` of many users is computed without an ``[n, L, m]`` or ``[n, m, L, d]``
    array: the cosines are taken once between the distinct remembered items and the items,
    then summed per user with a sparse count matrix.

    Differences from RecLab, following the thesis: the boredom memory stores item ids (RecLab
    stored whole slates and ``latent-dynamic-v1`` crashed with a shape error on its second
    step); ratings are clipped to [1, 5] (older RecLab clipped to [0, 5]); no dynamics run
    while the initial data are generated. The thesis presents no results on latent-dynamic;
    its parameters are RecLab's registry values.

    Parameters
    ----------
    n_users, n_items : default 943 and 1682 (the size of ML-100K).
    latent_dim : d, default 100.
    noise : σ, standard deviation of the rating noise, default 0.5.
    offset : μ0, the global bias, default 3.0.
    bias_std : standard deviation of the user and item biases, default 0.5.
    affinity_change : a in [0, 1], default 0 (0.2 in ``latent-dynamic-v1``).
    memory_length : m, default 0 (no boredom; 5 in ``latent-dynamic-v1``).
    boredom_threshold : τ in [-1, 1], a cosine similarity, default 0.
    boredom_penalty : λ ≥ 0, default 0 (2 in ``latent-dynamic-v1``); no effect when ``m = 0``.
    users_per_step : default 188 (RecLab's ``rating_frequency = 0.2`` of 943 users).
    n_initial_ratings : default 100,000.
    user_distribution, initial_sampling : see :class:`~recdyn.environments.base.Environment`.
    """

    default_overrides: ClassVar[dict[str, Any]] = dict(
        n_users=943,
        n_items=1682,
        users_per_step=188,  # ML-100K's size
    )

    def __init__(
        self,
        *,
        latent_dim: Annotated[int, Interval(Integral, 1, None)] = 100,
        noise: Annotated[float, Interval(Real, 0, None)] = 0.5,
        offset: Annotated[float, Interval(Real)] = 3.0,
        bias_std: Annotated[float, Interval(Real, 0, None)] = 0.5,
        affinity_change: Annotated[float, Interval(Real, 0, 1)] = 0.0,
        memory_length: Annotated[int, Interval(Integral, 0, None)] = 0,
        boredom_threshold: Annotated[float, Interval(Real, -1, 1)] = 0.0,
        boredom_penalty: Annotated[float, Interval(Real, 0, None)] = 0.0,
        **inherited: Any,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        self._user_bias, self._user_factors, self._item_bias, self._item_factors = (
            draw_latent_factors(rng, self.n_users, self.n_items, self.latent_dim, self.bias_std)
        )
        norms = np.linalg.norm(self._item_factors, axis=1, keepdims=True)
        self._item_unit = self._item_factors / np.maximum(norms, np.finfo(float).tiny)
        self._memory = SlateMemory(self.n_users, self.memory_length) if self.memory_length else None
        self._has_history = False

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self._user_factors,
            "item_factors": self._item_factors,
            "user_bias": self._user_bias,
            "item_bias": self._item_bias,
        }

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if len(users) * _DENSE_FRACTION >= self.n_users * self.n_items:
            # Many pairs (the initial data): one matrix product over the users involved is
            # cheaper than gathering a factor row for every pair.
            uniq, row = np.unique(users, return_inverse=True)
            return self._true_matrix(uniq, np.arange(self.n_items))[row, items]
        r = (
            self.offset
            + self._user_bias[users]
            + self._item_bias[items]
            + np.einsum("nd,nd->n", self._user_factors[users], self._item_factors[items])
        )
        if self._boredom_active():
            r -= self._boredom_pairs(users, items)
        return r

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        r = self._user_factors[users] @ self._item_factors[items].T
        r += self._user_bias[users, None]
        r += self._item_bias[items] + self.offset
        if self._boredom_active():
            r -= self._boredom_matrix(users, items)
        return r

    def _update(self, users: np.ndarray, items: np.ndarray, slates: np.ndarray) -> None:
        if self._memory is not None:
            self._memory.push(users, slates)
            self._has_history = True
        super()._update(users, items, slates)

    def _consume(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> None:
        if self.affinity_change and len(users):
            a = self.affinity_change
            self._user_factors[users] = (1.0 - a) * self._user_factors[
                users
            ] + a * self._item_factors[items]

    # ------------------------------------------------------------------ boredom
    def _boredom_active(self) -> bool:
        return self._memory is not None and self.boredom_penalty > 0 and self._has_history

    def _history(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remembered item ids ``[n, L]`` (``-1`` = empty slot) and their validity."""
        hist = self._memory.items(users) if len(users) else np.empty((0, 0), np.int64)
        return hist, hist >= 0

    def _boredom_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Penalty of each pair: ``[N, L, d]`` gathered factors, for the few pairs of a step."""
        hist, valid = self._history(users)
        cos = np.einsum(
            "nd,nld->nl", self._item_unit[items], self._item_unit[np.where(valid, hist, 0)]
        )
        excess = np.maximum(cos - self.boredom_threshold, 0.0) * valid
        return excess.sum(axis=1) * (self.boredom_penalty / self.memory_length)

    def _boredom_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Penalty ``[n, m]`` as ``C @ S``: ``S[h, i] = max(0, cos(q_h, q_i) - τ)`` over the
        distinct remembered items ``h`` and ``C[u, h]`` how often ``u`` remembers ``h`` (sparse,
        at most ``L`` entries a row), so no ``[n, L, m]`` or ``[n, m, L, d]`` array is built."""
        hist, valid = self._history(users)
        rows = np.broadcast_to(np.arange(len(users))[:, None], hist.shape)[valid]
        remembered, col = np.unique(hist[valid], return_inverse=True)
        if len(remembered) == 0:
            return np.zeros((len(users), len(items)))
        excess = self._item_unit[remembered] @ self._item_unit[items].T
        excess -= self.boredom_threshold
        np.maximum(excess, 0.0, out=excess)
        counts = sp.csr_matrix(
            (np.ones(len(rows)), (rows, col)), shape=(len(users), len(remembered))
        )
        return np.asarray(counts @ excess) * (self.boredom_penalty / self.memory_length)
