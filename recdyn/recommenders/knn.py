"""Neighbourhood collaborative filtering: UserKNN and ItemKNN (Surprise's KNN family)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Boolean, Interval, Options
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders._knn_kernels import (
    _axpy_predict,
    _pair_sums,
    _similarity_all,
    _similarity_touched,
    _update_stats,
)
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.bias import als_biases

SIMILARITIES = ("cosine", "msd", "pearson", "pearson_baseline")
CENTERINGS = ("none", "mean", "baseline")
#: co-rating statistics each similarity reads (see :class:`KNNModel`)
_STATS = {"cosine": "FPQ", "msd": "FPQ", "pearson": "FPQL", "pearson_baseline": "F"}


class KNNModel(Recommender):
    r"""k-nearest-neighbour collaborative filtering, user- or item-based (Surprise's KNN*).

    Write :math:`x` for the entity whose neighbours are used (the item when item-based, the
    user when user-based) and :math:`y` for the other one. The prediction for
    :math:`(x, y)` is

    .. math::
        \hat r_{xy} = c_{xy} + \frac{\sum_{x' \in N^k_y(x)} s_{xx'}\,(r_{x'y} - c_{x'y})}
                                    {\sum_{x' \in N^k_y(x)} s_{xx'}}

    where :math:`N^k_y(x)` is the set of the ``k`` most similar to :math:`x` **among those
    rated by / who rated** :math:`y` (Surprise's semantics) with positive similarity;
    precisely, every :math:`x'` rated with :math:`y` whose similarity is positive and at
    least the k-th largest such similarity, so exact ties at the k-th value are all kept.
    The centring :math:`c` is ``"none"`` (:math:`c = 0`, Surprise's ``KNNBasic``),
    ``"mean"`` (:math:`c_{xy} = \bar r_x`, ``KNNWithMeans``) or ``"baseline"``
    (:math:`c_{xy} = \mu + b_u + b_i` from :func:`~recdyn.recommenders.bias.als_biases`,
    ``KNNBaseline``; Koren 2010 eq. 3). With fewer than ``min_k`` neighbours the
    prediction is :math:`c_{xy}` (the global mean :math:`\mu` for ``"none"`` or an entity
    without ratings). An :math:`x` that :math:`y` rated is its own neighbour
    (:math:`s_{xx} = 1`), as in Surprise. Predictions are clipped to the training range.

    Similarities (Surprise's definitions; sums run over the :math:`n_{xx'}` co-rated
    :math:`y`; a pair with :math:`n_{xx'} <` ``min_support`` or a zero denominator gets 0):

    * ``cosine``: :math:`\sum r_{xy} r_{x'y} / \sqrt{\sum r_{xy}^2 \sum r_{x'y}^2}`;
    * ``msd``: :math:`1 / (1 + \frac{1}{n_{xx'}}\sum (r_{xy} - r_{x'y})^2)`;
    * ``pearson``: the correlation of the co-rated ratings, each centred on its mean over
      the co-rated :math:`y`;
    * ``pearson_baseline``: ``cosine`` of the baseline residuals
      :math:`r_{xy} - \mu - b_x - b_y` (Koren 2010 eq. 6).

    and each is multiplied by :math:`(n_{xx'} - 1) / (n_{xx'} - 1 + \lambda)` with
    :math:`\lambda` = ``shrinkage`` (default: 100 for ``pearson_baseline``, 0 otherwise).

    **Computation.** All similarities come from dense :math:`n_x \times n_x` co-rating
    statistics, matrix products (BLAS; float32 where that is exact) of the rating matrix
    :math:`M` (rows :math:`y`) and its pattern :math:`B`: counts :math:`F = B^\top B`,
    :math:`P = M^\top M`, :math:`Q = (M \circ M)^\top B` and :math:`L = M^\top B` (for
    pearson). Memory is a few float64 :math:`n_x \times n_x` arrays plus the float32
    similarity matrix ``sim_`` (clipped at 0): ~0.1 GB for 1,700 items, ~3 GB for 9,700,
    so keep :math:`n_x` in the low thousands. Scoring a batch of :math:`y`: when
    :math:`y` has at most ``k`` ratings all of them are neighbours and one fused pass over
    their rows of ``sim_`` gives every target's sums (numba, threads over :math:`y`);
    otherwise each :math:`(x, y)` finds its k-th largest similarity by a vectorised
    bisection on the float bits, in tiles of 64 targets.

    **partial_fit** is incremental for ``cosine``, ``msd`` and ``pearson``: with :math:`D`
    the change of :math:`M` (new or re-rated pairs), :math:`P' = P + D^\top M' +
    (D^\top M)^\top` and likewise for :math:`F, Q, L`, which costs O(new ratings × ratings
    per :math:`y`); similarities are recomputed only where a statistic changed. The
    baseline (when used) is refitted from zero on all ratings (O(epochs · ratings)); for
    ``pearson_baseline`` the residuals move with it, so its residual products are
    recomputed in full (only :math:`F` is incremental). Either way ``partial_fit(new)``
    equals ``fit`` on all the data, up to floating-point rounding.

    The orientation is ``user_based``: neighbours are users (True) or items (False). It is
    a class attribute of :class:`UserKNN` and :class:`ItemKNN` and a hyperparameter of
    :class:`KNNRecommender`.

    Parameters
    ----------
    k : maximum number of neighbours (≥ 1), default 40. min_k : fewest neighbours to use
        the neighbourhood term (1 ≤ min_k ≤ k), default 1.
    similarity : one of ``SIMILARITIES``, default ``"msd"`` (Surprise's default, and
        incremental). ``"pearson_baseline"`` is the most accurate on ML-100K (item-based
        RMSE 0.920 vs 0.933) but its ``partial_fit`` recomputes residual products in full.
    centering : ``"none"``, ``"mean"`` or ``"baseline"`` (default).
    shrinkage : :math:`\lambda \ge 0` or ``None`` (100 for pearson_baseline, else 0).
    min_support : fewest co-ratings for a non-zero similarity (≥ 1), default 1.
    baseline_reg_u, baseline_reg_i, baseline_epochs : the baseline's ALS (defaults 15, 10,
        10 as Surprise), used by ``centering="baseline"`` and ``pearson_baseline``.
    """

    #: partial_fit(new) equals fit on all the data (read by ``check_recommender``)
    partial_fit_is_exact = True

    #: neighbours are users (True) or items (False); see the class docstring
    user_based: ClassVar[bool]

    def __init__(
        self,
        *,
        k: Annotated[int, Interval(Integral, 1, None)] = 40,
        min_k: Annotated[int, Interval(Integral, 1, None)] = 1,  # and at most k: _check_params
        similarity: Annotated[str, Options(SIMILARITIES)] = "msd",
        centering: Annotated[str, Options(CENTERINGS)] = "baseline",
        shrinkage: Annotated[float | None, None, Interval(Real, 0, None)] = None,
        min_support: Annotated[int, Interval(Integral, 1, None)] = 1,
        baseline_reg_u: Annotated[float, Interval(Real, 0, None)] = 15.0,
        baseline_reg_i: Annotated[float, Interval(Real, 0, None)] = 10.0,
        baseline_epochs: Annotated[int, Interval(Integral, 1, None)] = 10,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _check_params(self) -> None:
        if self.min_k > self.k:
            raise InvalidParameterError(
                f"min_k must be in [1, {self.k}] (at most k), got {self.min_k!r}"
            )

    # ------------------------------------------------------------------ fitting
    def _fit(self, data: Interactions) -> None:
        y, x = (data.item, data.user) if self.user_based else (data.user, data.item)
        n_y, n_x = (
            (self.n_items_, self.n_users_) if self.user_based else (self.n_users_, self.n_items_)
        )
        self._m = _RatingMatrix(y, x, data.rating, n_y, n_x)
        self._refresh_offsets()
        m = self._m.csr()
        pattern = _pattern(m).toarray()
        self._stats = {"F": _gram(pattern, pattern)}
        if "P" in _STATS[self.similarity]:
            dense = m.toarray()
            self._stats["P"] = _gram(dense, dense)
            self._stats["Q"] = _gram(dense * dense, pattern)
            if "L" in _STATS[self.similarity]:
                self._stats["L"] = _gram(dense, pattern)
        self._full_similarity(pattern)

    def _partial_fit(self, new: Interactions) -> None:
        y, x = (new.item, new.user) if self.user_based else (new.user, new.item)
        change = self._m.update(y, x, new.rating)
        if change is None:
            return
        self._refresh_offsets()
        rows, cols, new_val, old_val, added = change
        group = np.searchsorted(rows, np.arange(self._m.n_rows + 1))
        m, st, empty = self._m, self._stats, np.empty((0, 0))
        _update_stats(
            m.indptr, m.col, m.val, rows, cols, new_val, old_val, added, group,
            st["F"], st.get("P", empty), st.get("Q", empty), st.get("L", empty),
        )  # fmt: skip
        if self.similarity == "pearson_baseline":
            self._full_similarity()
        else:
            kind, stats, *rest = self._sim_args()
            _similarity_touched(kind, *stats, *rest, m.indptr, m.col, rows, cols, self.sim_)

    def _refresh_offsets(self) -> None:
        """Global mean, rating range and the centring offsets ``c = off_y[y] + off_x[x]``."""
        m = self._m
        vals = m.val
        self.mu_ = float(vals.mean()) if len(vals) else 0.0
        self.rating_range_ = (
            (float(vals.min()), float(vals.max())) if len(vals) else (-np.inf, np.inf)
        )
        rows = m.rows()
        n_y, n_x = m.n_rows, m.n_cols
        self._off_y, self._off_x = np.zeros(n_y), np.zeros(n_x)
        if self.centering == "mean":
            count = np.bincount(m.col, minlength=n_x)
            total = np.bincount(m.col, weights=vals, minlength=n_x)
            self._off_x = np.divide(total, count, out=np.full(n_x, self.mu_), where=count > 0)
        if self.centering == "baseline" or self.similarity == "pearson_baseline":
            user, item = (m.col, rows) if self.user_based else (rows, m.col)
            bu, bi = als_biases(
                user,
                item,
                vals,
                self.n_users_,
                self.n_items_,
                reg_u=self.baseline_reg_u,
                reg_i=self.baseline_reg_i,
                n_epochs=self.baseline_epochs,
                mu=self.mu_,
            )
            self.bu_, self.bi_ = bu, bi
            b_y, b_x = (bi, bu) if self.user_based else (bu, bi)
            self._b_y, self._b_x = b_y, b_x
            if self.centering == "baseline":
                self._off_y, self._off_x = self.mu_ + b_y, b_x

    # ------------------------------------------------------------------ similarities
    def _full_similarity(self, pattern: np.ndarray | None = None) -> None:
        if self.similarity == "pearson_baseline":
            m = self._m.csr()
            resid = m.copy()
            resid.data = m.data - self.mu_ - self._b_y[self._m.rows()] - self._b_x[m.indices]
            e = resid.toarray()
            pattern = _pattern(m).toarray() if pattern is None else pattern
            # recomputed in full at every update, so float32 rounding cannot accumulate
            self._stats["P"] = _gram(e, e, exact=False)
            self._stats["Q"] = _gram(e * e, pattern, exact=False)
        n = self._m.n_cols
        self.sim_ = np.empty((n, n), np.float32)
        kind, st, *rest = self._sim_args()
        transposed = (np.ascontiguousarray(a.T) for a in (st[2], st[3]))
        _similarity_all(kind, *st, *transposed, *rest, self.sim_)

    def _sim_args(self) -> tuple:
        st = self._stats
        empty = np.empty((0, 0))
        shrink = 100.0 if self.similarity == "pearson_baseline" else 0.0
        shrink = shrink if self.shrinkage is None else self.shrinkage
        stats = (st["F"], st.get("P", empty), st.get("Q", empty), st.get("L", empty))
        return SIMILARITIES.index(self.similarity), stats, float(self.min_support), shrink

    # ------------------------------------------------------------------ prediction
    def _score(self, users: np.ndarray) -> np.ndarray:
        if self.user_based:
            return np.ascontiguousarray(self._grid(users, np.arange(self.n_items_)).T)
        return self._grid(np.arange(self.n_items_), users)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        x, y = (users, items) if self.user_based else (items, users)
        order = np.argsort(y, kind="stable")
        ys, start = np.unique(y[order], return_index=True)
        ptr = np.append(start, len(y)).astype(np.int64)
        m = self._m
        num, den, cnt = _pair_sums(
            self.sim_, m.indptr, m.col, m.val, self._off_y, self._off_x,
            x[order], ys, ptr, self.k,
        )  # fmt: skip
        est = np.empty(len(y))
        est[order] = self._combine(num, den, cnt, self._off_y[y[order]] + self._off_x[x[order]])
        return est

    def _grid(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Predictions for every pair of ``xs`` × ``ys``, shape ``[len(ys), len(xs)]``."""
        m = self._m
        fast = np.diff(m.indptr)[ys] <= self.k
        est = np.empty((len(ys), len(xs)), np.float32)
        if fast.any():
            every = len(xs) == m.n_cols and np.array_equal(xs, np.arange(m.n_cols))
            table = self.sim_ if every else np.ascontiguousarray(self.sim_[:, xs])
            idx = np.flatnonzero(fast)
            est[idx] = _axpy_predict(
                table, m.indptr, m.col, m.val, self._off_y, self._off_x, ys[idx],
                self._off_x[xs], self.min_k, self.centering == "none", self.mu_,
                *self.rating_range_,
            )  # fmt: skip
        if not fast.all():
            idx = np.flatnonzero(~fast)
            ptr = np.arange(len(idx) + 1, dtype=np.int64) * len(xs)
            num, den, cnt = _pair_sums(
                self.sim_, m.indptr, m.col, m.val, self._off_y, self._off_x,
                np.tile(xs, len(idx)), ys[idx], ptr, self.k,
            )  # fmt: skip
            base = self._off_y[ys[idx]][:, None] + self._off_x[xs][None, :]
            shape = (len(idx), len(xs))
            est[idx] = self._combine(
                num.reshape(shape), den.reshape(shape), cnt.reshape(shape), base
            )
        return est

    def _combine(self, num, den, cnt, base) -> np.ndarray:
        ok = (den > 0) & (cnt >= self.min_k)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = np.where(ok, base + num / den, self.mu_ if self.centering == "none" else base)
        return np.clip(est, *self.rating_range_)


class KNNRecommender(KNNModel):
    """:class:`KNNModel` with the orientation as a hyperparameter.

    Parameters
    ----------
    user_based : neighbours are users (True) or items (False, default).
    Others as :class:`KNNModel`.
    """

    def __init__(self, *, user_based: Annotated[bool, Boolean()] = False, **inherited: Any) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)


class UserKNN(KNNModel):
    """User-based :class:`KNNRecommender` (neighbours are users who rated the item)."""

    user_based = True


class ItemKNN(KNNModel):
    """Item-based :class:`KNNRecommender` (neighbours are items the user rated)."""

    user_based = False


# ---------------------------------------------------------------------- storage
class _RatingMatrix:
    """The last rating of each (row, col) pair as CSR arrays with sorted keys, updatable."""

    def __init__(self, rows, cols, vals, n_rows: int, n_cols: int) -> None:
        self.n_rows, self.n_cols = n_rows, n_cols
        self.key, self.val = _last_per_key(rows, cols, vals, n_cols)
        self._derive()

    def _derive(self) -> None:
        self.col = (self.key % self.n_cols).astype(np.int32)
        starts = np.arange(self.n_rows + 1, dtype=np.int64) * self.n_cols
        self.indptr = np.searchsorted(self.key, starts).astype(np.int64)

    def rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def csr(self) -> sp.csr_array:
        return sp.csr_array((self.val, self.col, self.indptr), shape=(self.n_rows, self.n_cols))

    def update(self, rows, cols, vals):
        """Store new ratings; return ``(rows, cols, new, old, added)`` of the changed pairs,
        sorted by (row, col); ``old`` is 0 where ``added``."""
        key, val = _last_per_key(rows, cols, vals, self.n_cols)
        pos = np.searchsorted(self.key, key)
        safe = np.minimum(pos, max(len(self.key) - 1, 0))
        present = (pos < len(self.key)) & (self.key[safe] == key if len(self.key) else False)
        old = np.where(present, self.val[safe] if len(self.key) else 0.0, 0.0)
        changed = ~present | (old != val)
        if not changed.any():
            return None
        self.val[pos[present]] = val[present]
        ins = ~present
        self.key = np.insert(self.key, pos[ins], key[ins])
        self.val = np.insert(self.val, pos[ins], val[ins])
        self._derive()
        key, val, old, added = key[changed], val[changed], old[changed], ins[changed]
        return key // self.n_cols, key % self.n_cols, val, old, added


def _last_per_key(rows, cols, vals, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    key = np.asarray(rows, np.int64) * n_cols + np.asarray(cols, np.int64)
    uniq, first_in_rev = np.unique(key[::-1], return_index=True)
    return uniq, np.asarray(vals, np.float64)[len(key) - 1 - first_in_rev]


def _pattern(m: sp.csr_array) -> sp.csr_array:
    return sp.csr_array((np.ones(m.nnz), m.indices, m.indptr), shape=m.shape)


def _gram(a: np.ndarray, b: np.ndarray, exact: bool = True) -> np.ndarray:
    """``a.T @ b`` as float64, computed in float32 (twice as fast) when that is exact —
    integer entries whose products and sums stay below 2**24 — or ``exact`` is False."""
    bound = np.abs(a).max(initial=0) * np.abs(b).max(initial=0) * len(a)
    if not exact or (
        bound < 2**24 and np.array_equal(a, np.round(a)) and np.array_equal(b, np.round(b))
    ):
        a32 = a.astype(np.float32)
        return (a32.T @ (a32 if b is a else b.astype(np.float32))).astype(np.float64)
    return a.T @ b


# ---------------------------------------------------------------------- kernels
# numba: these loops select per-pair neighbours or fuse passes that numpy would spread over
# several full-size temporaries.
