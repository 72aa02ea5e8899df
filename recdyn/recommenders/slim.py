"""SLIM (Ning & Karypis 2011): sparse item-item weights from per-item elastic nets."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np
from numba import njit, prange

from recdyn.constraints import Boolean, Interval
from recdyn.recommenders.item_gram import ItemGramModel


class SLIM(ItemGramModel):
    r"""Sparse LInear Method (Ning & Karypis, ICDM 2011): :math:`\hat x_u = x_u W`.

    Each column of :math:`W` is an elastic net that predicts an item's column of the
    user × item matrix :math:`X` from the other items' columns:

    .. math::
        w_j = \arg\min_{w \ge 0,\ w_j = 0}\ \tfrac12 \lVert x_j - X w \rVert^2
              + \ell_1 \lVert w \rVert_1 + \tfrac12 \ell_2 \lVert w \rVert^2 .

    Hyperparameters follow scikit-learn's ``ElasticNet``, which RecLab called per item
    (``alpha=1.0, l1_ratio=0.1, positive=True, max_iter=100, tol=1e-4, fit_intercept=False``
    on raw ratings). scikit-learn minimises :math:`\frac{1}{2n}\lVert y - Xw\rVert^2 +
    \alpha\rho\lVert w\rVert_1 + \frac12\alpha(1-\rho)\lVert w\rVert^2` with :math:`n` rows
    (users), so here

    .. math:: \ell_1 = n_\text{users}\,\alpha\,\rho, \qquad
              \ell_2 = n_\text{users}\,\alpha\,(1-\rho), \qquad \rho = \texttt{l1\_ratio},

    and the solutions coincide (``l1_`` and ``l2_`` hold the values used).

    The solver is covariance ("Gram") coordinate descent, as scikit-learn's
    ``precompute=True`` path: with :math:`G = X^\top X`, coordinate :math:`k` of column
    :math:`j` is updated as :math:`w_k \leftarrow S_+(G_{kj} - (Gw)_k + G_{kk}w_k,\ \ell_1)
    / (G_{kk} + \ell_2)` with :math:`S_+(z, t) = \max(z - t, 0)` (soft threshold
    :math:`\operatorname{sign}(z)\max(|z| - t, 0)` when ``positive=False``), keeping
    :math:`Gw` up to date. Most weights of a column stay at zero, so the sweeps follow
    glmnet's active-set strategy (Friedman, Hastie & Tibshirani 2010): cyclic sweeps over
    the non-zero weights alone until their largest change is below ``tol`` times the
    largest weight, then one pass over the zero weights that lets in those violating the
    optimality condition; the column is done when a pass lets nothing (or only changes
    below ``tol``) in and the duality gap, computed as scikit-learn does, is below
    ``tol``·:math:`\lVert x_j\rVert^2`. ``max_iter`` bounds the passes over all
    weights (``n_iter_`` holds them per column) and the active sweeps between two passes.
    The optimum is scikit-learn's; the path to it is cheaper. Columns are solved in
    parallel (numba ``prange``); the result does not depend on the number of threads.

    ``partial_fit`` updates :math:`G` with the new ratings only (see
    :class:`~recdyn.recommenders.item_gram.ItemGram`) and warm-starts every column from the
    current :math:`W`. Scores are not ratings: ``predicts_ratings`` is ``False``.

    Parameters
    ----------
    alpha : overall regularisation α > 0, default 1.0.
    l1_ratio : ρ in [0, 1], the L1 share of the penalty, default 0.1.
    max_iter : maximum passes over all weights of a column (≥ 1), default 100.
    tol : convergence tolerance (> 0), default 1e-4.
    positive : constrain weights to be non-negative (default True, as SLIM).
    binarize : use 1 for every rating instead of its value (default False, as RecLab).
    implicit_threshold : ignore ratings below this value; ``None`` keeps all.
    """

    def __init__(
        self,
        *,
        alpha: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0,
        l1_ratio: Annotated[float, Interval(Real, 0, 1)] = 0.1,
        max_iter: Annotated[int, Interval(Integral, 1, None)] = 100,
        tol: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1e-4,
        positive: Annotated[bool, Boolean()] = True,
        **inherited: Any,  # binarize, implicit_threshold: ItemGramModel's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _start(self) -> None:
        self.l1_ = self.n_users_ * self.alpha * self.l1_ratio
        self.l2_ = self.n_users_ * self.alpha * (1.0 - self.l1_ratio)
        # row j of _wt is column j of W, so that parallel columns write contiguous memory
        self._wt = np.zeros((self.n_items_, self.n_items_))

    def _solve(self) -> None:
        self.n_iter_ = _slim_coordinate_descent(
            self._gram.G, self._wt, self.l1_, self.l2_, self.positive, self.max_iter, self.tol
        )
        self.W_ = np.ascontiguousarray(self._wt.T, dtype=np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._gram.rows(users) @ self.W_


@njit(parallel=True, cache=True)
def _slim_coordinate_descent(
    gram: np.ndarray,
    wt: np.ndarray,
    l1: float,
    l2: float,
    positive: bool,
    max_iter: int,
    tol: float,
) -> np.ndarray:
    """Solve every column in place (warm start from ``wt``); return the sweeps per column."""
    n = gram.shape[0]
    n_iter = np.zeros(n, np.int64)
    diag = np.diag(gram).copy()
    for j in prange(n):
        n_iter[j] = _solve_column(gram, diag, wt[j], j, l1, l2, positive, max_iter, tol)
    return n_iter


@njit(cache=True)
def _solve_column(
    gram: np.ndarray,
    diag: np.ndarray,
    w: np.ndarray,
    j: int,
    l1: float,
    l2: float,
    positive: bool,
    max_iter: int,
    tol: float,
) -> int:
    """Coordinate descent for column ``j``; returns the number of passes over all weights."""
    n = gram.shape[0]
    w[j] = 0.0
    y_norm2 = gram[j, j]
    if y_norm2 == 0.0:  # nobody rated item j: the zero column is optimal
        w[:] = 0.0
        return 0
    target = gram[j]  # G[:, j] = X_{-j}ᵀ x_j (G is symmetric; a row is contiguous)
    gw = np.zeros(n)  # G w (w_j = 0, so row j of G never contributes)
    for k in range(n):
        if w[k] != 0.0:
            _axpy(w[k], gram[k], gw)
    gap_tol = tol * y_norm2
    sweep = 0
    while sweep < max_iter:
        # converge the non-zero weights first, then let zero weights enter where the
        # optimality (KKT) condition fails: most of a column stays at 0 and is never updated
        _active_sweeps(gram, diag, w, gw, j, l1, l2, positive, max_iter, tol)
        sweep += 1
        w_max = 0.0
        d_max = 0.0
        for k in range(n):
            old = w[k]
            if old != 0.0:
                w_max = max(w_max, abs(old))
                continue
            hkk = diag[k]
            if k == j or hkk == 0.0:
                continue
            new = _coordinate(target[k] - gw[k], hkk, l1, l2, positive)
            if new != 0.0:
                _axpy(new, gram[k], gw)
                w[k] = new
                d_max = max(d_max, abs(new))
                w_max = max(w_max, abs(new))
        if w_max == 0.0 or d_max <= tol * w_max or sweep == max_iter:
            if _duality_gap(gram, w, gw, j, l1, l2, positive) < gap_tol:
                break
    return sweep


@njit(cache=True)
def _active_sweeps(
    gram: np.ndarray,
    diag: np.ndarray,
    w: np.ndarray,
    gw: np.ndarray,
    j: int,
    l1: float,
    l2: float,
    positive: bool,
    max_iter: int,
    tol: float,
) -> None:
    """Sweep only the non-zero weights until they settle (glmnet's active-set strategy).

    ``G w`` is tracked on the active set alone (O(|A|²) per sweep instead of O(n |A|)); the
    full vector is brought up to date at the end, ready for the next pass over all weights.
    """
    active = np.flatnonzero(w)
    m = len(active)
    if m == 0:
        return
    start = w[active].copy()
    ga = gw[active].copy()
    for _ in range(max_iter):
        w_max = 0.0
        d_max = 0.0
        for a in range(m):
            k = active[a]
            hkk = diag[k]
            old = w[k]
            new = _coordinate(gram[j, k] - ga[a] + hkk * old, hkk, l1, l2, positive)
            if new != old:
                delta = new - old
                row = gram[k]
                for b in range(m):
                    ga[b] += delta * row[active[b]]
                w[k] = new
                d_max = max(d_max, abs(delta))
            w_max = max(w_max, abs(new))
        if w_max == 0.0 or d_max < tol * w_max:
            break
    for a in range(m):
        k = active[a]
        if w[k] != start[a]:
            _axpy(w[k] - start[a], gram[k], gw)


@njit(cache=True)
def _coordinate(z: float, hkk: float, l1: float, l2: float, positive: bool) -> float:
    """Minimiser of ½ hkk w² − z w + l1 |w| + ½ l2 w² (over w ≥ 0 when ``positive``)."""
    if hkk + l2 <= 0.0:  # an item nobody rated, without ridge penalty
        return 0.0
    if positive:
        return max(z - l1, 0.0) / (hkk + l2)
    return np.sign(z) * max(abs(z) - l1, 0.0) / (hkk + l2)


@njit(cache=True)
def _axpy(a: float, x: np.ndarray, y: np.ndarray) -> None:
    for i in range(len(y)):
        y[i] += a * x[i]


@njit(cache=True)
def _duality_gap(
    gram: np.ndarray,
    w: np.ndarray,
    gw: np.ndarray,
    j: int,
    l1: float,
    l2: float,
    positive: bool,
) -> float:
    """Elastic-net duality gap of column ``j`` from Gram quantities only (as scikit-learn)."""
    n = gram.shape[0]
    dual_norm = 0.0
    q_dot_w = 0.0
    w_gw = 0.0
    w_norm2 = 0.0
    w_l1 = 0.0
    for k in range(n):
        if k == j:
            continue
        xta = gram[j, k] - gw[k] - l2 * w[k]
        dual_norm = max(dual_norm, xta if positive else abs(xta))
        q_dot_w += gram[j, k] * w[k]
        w_gw += w[k] * gw[k]
        w_norm2 += w[k] * w[k]
        w_l1 += abs(w[k])
    y_norm2 = gram[j, j]
    r_norm2 = y_norm2 + w_gw - 2.0 * q_dot_w  # ‖x_j − X w‖²
    if dual_norm > l1:
        const = l1 / dual_norm
        gap = 0.5 * r_norm2 * (1.0 + const * const)
    else:
        const = 1.0
        gap = r_norm2
    return (
        gap + l1 * w_l1 - const * (y_norm2 - q_dot_w) + 0.5 * l2 * (1.0 + const * const) * w_norm2
    )
