"""Biased matrix factorisation trained by stochastic gradient descent ("Funk SVD")."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np
from numba import njit

from recdyn.constraints import Interval
from recdyn.interactions import Interactions
from recdyn.recommenders.factors import BiasedFactorModel


class SGDMatrixFactorization(BiasedFactorModel):
    r"""Biased matrix factorisation fitted by SGD (Funk 2006; Koren, Bell & Volinsky 2009).

    .. math::

        \hat r_{ui} = \mu + b_u + b_i + p_u^\top q_i, \qquad
        \min \sum_{(u,i)} (r_{ui} - \hat r_{ui})^2
            + \lambda_b (b_u^2 + b_i^2) + \lambda (\lVert p_u\rVert^2 + \lVert q_i\rVert^2)

    with :math:`\mu` the mean training rating. Each epoch visits the ratings in a fresh
    random order and, with :math:`e = r_{ui} - \hat r_{ui}`, applies

    .. math::

        b_u \mathrel{+}= \gamma_b (e - \lambda_b b_u), \quad
        b_i \mathrel{+}= \gamma_b (e - \lambda_b b_i), \quad
        p_u \mathrel{+}= \gamma (e\, q_i - \lambda p_u), \quad
        q_i \mathrel{+}= \gamma (e\, p_u - \lambda q_i),

    the update of Koren et al. (2009, eq. 5) and of Surprise's ``SVD`` (Hug 2020). Factors
    start at :math:`\mathcal N(0, \sigma_0^2)` and biases at 0. A user or item with no
    rating yet has zero factors and bias (it is scored from the parts that are known), and
    gets fresh :math:`\mathcal N(0, \sigma_0^2)` factors once it is rated. Every row of the
    log is one training example (a pair rated twice counts twice).

    **Defaults.** Surprise's are ``n_factors=100, n_epochs=20, lr=0.005, reg=0.02,
    init_std=0.1`` (mean RMSE 0.938 on the official MovieLens-100K folds u1..u5; the RecLab
    thesis used 20 factors). recdyn's were chosen by grid search on a random 80/20 split of
    ``u1.base`` only (n_factors ∈ {50, 100, 200}, n_epochs ∈ {30, 40, 60}, lr ∈ [0.005,
    0.015], reg ∈ [0.04, 0.2]; the best settings tied at 0.913, the fastest was kept):
    ``n_factors=100, n_epochs=30, lr=0.015, reg=0.12``, mean RMSE 0.915 on u1..u5, about
    half Surprise's CPU time per fold.

    ``partial_fit(new)`` warm-starts: it keeps the factors and runs ``partial_epochs``
    more epochs. Each of these epochs visits every new rating and a uniform random fraction
    ``partial_replay`` of the older ones (1 = all data, the default; 0 = only the new
    ratings, fastest but prone to forgetting). The global mean is recomputed.

    Parameters
    ----------
    n_factors : latent dimension :math:`f` ≥ 1 (default 100).
    n_epochs : epochs of ``fit`` (default 30).
    lr, reg : learning rate :math:`\gamma` > 0 (default 0.015) and L2 penalty
        :math:`\lambda` ≥ 0 (default 0.12) of the factors.
    lr_bias, reg_bias : the same for the biases; ``None`` uses ``lr`` / ``reg``.
    init_std : :math:`\sigma_0` > 0 of the initial factors (default 0.1).
    partial_epochs : epochs per ``partial_fit`` (default 5, ≥ 0): enough for a step's new
        ratings to register, at ~30 ms per step on 100k ratings.
    partial_replay : fraction in [0, 1] of older ratings revisited by each of them
        (default 1).
    clip : clip ``predict`` to the range of the training ratings, as Surprise does
        (``score`` is never clipped, so rankings keep their order).
    seed : int or None; the initial factors and the visiting order derive from it.

    Attributes
    ----------
    user_factors_, item_factors_ : float32 ``[n_users, f]``, ``[n_items, f]``, read-only
        views (the embeddings, :class:`~recdyn.recommenders.factors.FactorEmbeddings`).
    user_bias_, item_bias_ : float32 ``[n_users]``, ``[n_items]``. global_mean_ : float.
    """

    def __init__(
        self,
        *,
        n_factors: Annotated[int, Interval(Integral, 1, None)] = 100,
        n_epochs: Annotated[int, Interval(Integral, 0, None)] = 30,
        lr: Annotated[float, Interval(Real, 0, None, closed="neither")] = 0.015,
        reg: Annotated[float, Interval(Real, 0, None)] = 0.12,
        lr_bias: Annotated[float | None, None, Interval(Real, 0, None)] = None,
        reg_bias: Annotated[float | None, None, Interval(Real, 0, None)] = None,
        partial_epochs: Annotated[int, Interval(Integral, 0, None)] = 5,
        partial_replay: Annotated[float, Interval(Real, 0, 1)] = 1.0,
        **inherited: Any,  # init_std, clip, seed: BiasedFactorModel's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    # ------------------------------------------------------------------ fitting
    def _fit(self, data: Interactions) -> None:
        self._rng = np.random.default_rng(self.seed)
        f = self.n_factors
        self.user_factors_ = np.zeros((self.n_users_, f), np.float32)
        self.item_factors_ = np.zeros((self.n_items_, f), np.float32)
        self.user_bias_ = np.zeros(self.n_users_, np.float32)
        self.item_bias_ = np.zeros(self.n_items_, np.float32)
        self._user_seen = np.zeros(self.n_users_, bool)
        self._item_seen = np.zeros(self.n_items_, bool)
        self._rating_range = None
        self._absorb(data)
        self._run(data, len(data), self.n_epochs, replay=1.0)

    def _partial_fit(self, new: Interactions) -> None:
        self._absorb(new)
        data = self._log.to_interactions()
        self._run(data, len(data) - len(new), self.partial_epochs, self.partial_replay)

    def _absorb(self, new: Interactions) -> None:
        """Give users and items rated for the first time fresh random factors."""
        for seen, factors, ids in (
            (self._user_seen, self._user_factors, new.user),
            (self._item_seen, self._item_factors, new.item),
        ):
            fresh = np.unique(ids)
            fresh = fresh[~seen[fresh]]
            factors[fresh] = self._rng.normal(0.0, self.init_std, (len(fresh), self.n_factors))
            seen[fresh] = True
        if len(new):
            lo, hi = self._rating_range or (np.inf, -np.inf)
            self._rating_range = (
                min(lo, float(new.rating.min())),
                max(hi, float(new.rating.max())),
            )

    def _run(self, data: Interactions, n_old: int, epochs: int, replay: float) -> None:
        """``epochs`` SGD epochs over ratings ``n_old:`` and a ``replay`` share of ``:n_old``."""
        self.global_mean_ = float(data.rating.mean()) if len(data) else 0.0
        lr = np.float32(self.lr)
        lr_b = np.float32(self.lr if self.lr_bias is None else self.lr_bias)
        reg = np.float32(self.reg)
        reg_b = np.float32(self.reg if self.reg_bias is None else self.reg_bias)
        n = len(data)
        for _ in range(epochs):
            if replay >= 1.0 or n_old == 0:
                order = self._rng.permutation(n)
            else:
                old = np.flatnonzero(self._rng.random(n_old) < replay)
                order = self._rng.permutation(np.concatenate([old, np.arange(n_old, n)]))
            _sgd_epoch(
                data.user,
                data.item,
                data.rating,
                order,
                np.float32(self.global_mean_),
                self.user_bias_,
                self.item_bias_,
                self._user_factors,
                self._item_factors,
                lr,
                lr_b,
                reg,
                reg_b,
            )


@njit(cache=True, fastmath=True)
def _sgd_epoch(users, items, ratings, order, mu, bu, bi, p, q, lr, lr_b, reg, reg_b):
    k = p.shape[1]
    for idx in order:
        u = users[idx]
        i = items[idx]
        pred = mu + bu[u] + bi[i]
        for f in range(k):
            pred += p[u, f] * q[i, f]
        e = ratings[idx] - pred
        bu[u] += lr_b * (e - reg_b * bu[u])
        bi[i] += lr_b * (e - reg_b * bi[i])
        for f in range(k):
            puf = p[u, f]
            qif = q[i, f]
            p[u, f] = puf + lr * (e * qif - reg * puf)
            q[i, f] = qif + lr * (e * puf - reg * qif)
