"""Baseline predictor :math:`\\hat r_{ui} = \\mu + b_u + b_i` (Koren 2010), fitted by ALS."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated

import numpy as np
from numba import njit

from recdyn.constraints import Interval
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender


def als_biases(
    user: np.ndarray,
    item: np.ndarray,
    rating: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    reg_u: float,
    reg_i: float,
    n_epochs: int,
    mu: float | None = None,
    init: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""User and item biases by regularised alternating least squares.

    Koren (2010), "Factor in the neighbors", TKDD 4(1) §2.1, as implemented by
    scikit-surprise's ``baseline_als``: starting from :math:`b = 0` (or ``init``), each
    epoch sets, items first,

    .. math::
        b_i \leftarrow \frac{\sum_{u \in R(i)} (r_{ui} - \mu - b_u)}{\lambda_i + |R(i)|},
        \qquad
        b_u \leftarrow \frac{\sum_{i \in R(u)} (r_{ui} - \mu - b_i)}{\lambda_u + |R(u)|},

    each half-step an exact ridge solve given the other biases. An epoch is two passes
    over the ratings (numba; 3× faster than the equivalent ``np.bincount`` passes, which
    matters because the KNN models refit their baseline at every ``partial_fit``). A user
    or item without ratings keeps bias 0.

    Parameters
    ----------
    user, item, rating : one entry per (distinct) rated pair.
    reg_u, reg_i : :math:`\lambda_u, \lambda_i \ge 0`.
    n_epochs : number of (item, user) sweeps.
    mu : global mean (default: mean of ``rating``).
    init : ``(b_u, b_i)`` to warm-start from.

    Returns
    -------
    (b_u, b_i) : float64 arrays of length ``n_users`` and ``n_items``.
    """
    user = np.asarray(user, dtype=np.int64)
    item = np.asarray(item, dtype=np.int64)
    rating = np.asarray(rating, dtype=np.float64)
    if mu is None:
        mu = float(rating.mean()) if len(rating) else 0.0
    den_u = np.bincount(user, minlength=n_users) + float(reg_u)
    den_i = np.bincount(item, minlength=n_items) + float(reg_i)
    # a zero denominator only occurs with no ratings and no regularisation: bias 0
    den_u[den_u == 0] = np.inf
    den_i[den_i == 0] = np.inf
    if init is None:
        bu, bi = np.zeros(n_users), np.zeros(n_items)
    else:
        bu, bi = (np.array(b, dtype=np.float64) for b in init)
    _als_epochs(user, item, rating, float(mu), den_u, den_i, bu, bi, n_epochs)
    return bu, bi


@njit(cache=True)
def _als_epochs(user, item, rating, mu, den_u, den_i, bu, bi, n_epochs):  # pragma: no cover
    for _ in range(n_epochs):
        acc = np.zeros(len(bi))
        for p in range(len(rating)):
            acc[item[p]] += rating[p] - mu - bu[user[p]]
        for j in range(len(bi)):
            bi[j] = acc[j] / den_i[j]
        acc = np.zeros(len(bu))
        for p in range(len(rating)):
            acc[user[p]] += rating[p] - mu - bi[item[p]]
        for j in range(len(bu)):
            bu[j] = acc[j] / den_u[j]


def distinct_ratings(data: Interactions, n_users: int, n_items: int) -> tuple[np.ndarray, ...]:
    """``(user, item, rating)`` with one entry per pair, the last rating of a re-rated pair."""
    mat = data.to_csr(n_users, n_items).tocoo()
    return mat.row.astype(np.int64), mat.col.astype(np.int64), mat.data.astype(np.float64)


class BaselinePredictor(Recommender):
    r"""Baseline estimates :math:`\hat r_{ui} = \mu + b_u + b_i` (Koren 2010, §2.1).

    :math:`\mu` is the global mean rating; the biases minimise

    .. math:: \sum_{(u,i)} (r_{ui} - \mu - b_u - b_i)^2 + \lambda_u \sum_u b_u^2
              + \lambda_i \sum_i b_i^2

    by ``n_epochs`` sweeps of alternating least squares from zero (:func:`als_biases`),
    which is scikit-surprise's ``BaselineOnly`` with its ALS defaults. A user or item never
    seen has bias 0; predictions are clipped to the range of the training ratings.

    ``partial_fit`` warm-starts: it recomputes :math:`\mu` on all data and runs
    ``partial_epochs`` sweeps from the current biases, O(epochs · ratings) with no refit
    from zero. The sweeps move towards the same ridge solution, so the result is close to,
    but not bit-identical with, ``fit`` on everything.

    Defaults: ``reg_u=5, reg_i=2``, chosen by 5-fold CV inside ML-100K ``u1.base`` (training
    data only; ``recdyn tune baseline``). On the official folds u1–u5 they give a mean test
    RMSE of 0.941; Surprise's ALS defaults (15, 10) give 0.9457 here, equal to Surprise's
    ``BaselineOnly`` to four decimals.

    Parameters
    ----------
    reg_u : :math:`\lambda_u \ge 0`, default 5. reg_i : :math:`\lambda_i \ge 0`, default 2.
    n_epochs : ALS sweeps in ``fit`` (≥ 1), default 10.
    partial_epochs : ALS sweeps in ``partial_fit`` (≥ 1), default 3.
    """

    def __init__(
        self,
        *,
        reg_u: Annotated[float, Interval(Real, 0, None)] = 5.0,
        reg_i: Annotated[float, Interval(Real, 0, None)] = 2.0,
        n_epochs: Annotated[int, Interval(Integral, 1, None)] = 10,
        partial_epochs: Annotated[int, Interval(Integral, 1, None)] = 3,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _fit(self, data: Interactions) -> None:
        self._solve(data, self.n_epochs, init=None)

    def _partial_fit(self, new: Interactions) -> None:
        self._solve(self._log.to_interactions(), self.partial_epochs, init=(self.bu_, self.bi_))

    def _solve(self, data: Interactions, n_epochs: int, init) -> None:
        user, item, rating = distinct_ratings(data, self.n_users_, self.n_items_)
        self.mu_ = float(rating.mean()) if len(rating) else 0.0
        self.bu_, self.bi_ = als_biases(
            user,
            item,
            rating,
            self.n_users_,
            self.n_items_,
            reg_u=self.reg_u,
            reg_i=self.reg_i,
            n_epochs=n_epochs,
            mu=self.mu_,
            init=init,
        )
        lo, hi = (rating.min(), rating.max()) if len(rating) else (-np.inf, np.inf)
        self.rating_range_ = (float(lo), float(hi))

    def _score(self, users: np.ndarray) -> np.ndarray:
        est = (self.mu_ + self.bu_[users])[:, None] + self.bi_[None, :]
        return np.clip(est, *self.rating_range_)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.clip(self.mu_ + self.bu_[users] + self.bi_[items], *self.rating_range_)
