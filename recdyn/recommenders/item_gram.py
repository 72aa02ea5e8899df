r"""Linear item-item models on the item Gram matrix: :class:`ItemGram`, the incrementally
maintained :math:`X` and :math:`G = X^\top X`, and :class:`ItemGramModel`, the base of EASE
and SLIM."""

from __future__ import annotations

from numbers import Real
from typing import Annotated

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Boolean, Interval
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender


class ItemGram:
    r"""The user × item matrix :math:`X` of a model's inputs and its Gram :math:`G = X^\top X`.

    Entry :math:`x_{ui}` is the last rating of ``(u, i)`` — or 1 when ``binarize`` — and 0
    when unrated or rated below ``implicit_threshold``. ``update`` folds new interactions in
    without recomputing :math:`G`: with :math:`D` the sparse change of :math:`X` (one entry
    per new or re-rated pair),

    .. math:: G' = (X + D)^\top (X + D) = G + D^\top X + X^\top D + D^\top D,

    which costs :math:`O(\text{nnz}(D) \cdot \bar n_u)` (new ratings × ratings per user)
    rather than :math:`O(\text{nnz}(X) \cdot \bar n_u)` for a fresh product. ``G`` is kept
    in float64 so that rounding does not accumulate over thousands of updates.

    Parameters
    ----------
    binarize : map every kept rating to 1 (implicit feedback).
    implicit_threshold : drop ratings below this value (``None``: keep all).
    """

    def __init__(
        self,
        data: Interactions,
        n_users: int,
        n_items: int,
        *,
        binarize: bool,
        implicit_threshold: float | None,
    ) -> None:
        self.binarize = binarize
        self.implicit_threshold = implicit_threshold
        self.n_items = n_items
        self.X = data.to_csr(n_users, n_items, values=self._values(data.rating))
        self.X = sp.csr_array(self.X, dtype=np.float64)
        self.X.eliminate_zeros()
        self.G = np.ascontiguousarray((self.X.T @ self.X).toarray())  # row k is contiguous

    def _values(self, rating: np.ndarray) -> np.ndarray:
        values = np.ones(len(rating)) if self.binarize else rating.astype(np.float64)
        if self.implicit_threshold is not None:
            values = np.where(rating >= self.implicit_threshold, values, 0.0)
        return values

    def update(self, new: Interactions) -> np.ndarray:
        """Fold ``new`` into ``X`` and ``G``; return the items whose column of ``X`` changed."""
        key = new.user.astype(np.int64) * self.n_items + new.item
        # the last rating of a pair within ``new`` wins, as in Interactions.to_csr
        rev_key, first_in_rev = np.unique(key[::-1], return_index=True)
        keep = len(key) - 1 - first_in_rev
        value = self._values(new.rating[keep])
        delta = value - self._lookup(rev_key)
        changed = delta != 0
        if not changed.any():
            return np.empty(0, np.int64)
        rows = new.user[keep][changed]
        cols = new.item[keep][changed]
        d = sp.csr_array((delta[changed], (rows, cols)), shape=self.X.shape)
        cross = (d.T @ self.X).tocoo()
        # two separate assignments: each has distinct (row, col) pairs, so fancy += is exact
        self.G[cross.row, cross.col] += cross.data
        self.G[cross.col, cross.row] += cross.data
        dd = (d.T @ d).tocoo()
        self.G[dd.row, dd.col] += dd.data
        self.X = self.X + d
        self.X.eliminate_zeros()
        return np.unique(cols).astype(np.int64)

    def _lookup(self, sorted_keys: np.ndarray) -> np.ndarray:
        """Current values of ``X`` at flat keys ``user * n_items + item`` (0 where absent)."""
        x = self.X
        if x.nnz == 0:
            return np.zeros(len(sorted_keys))
        x.sort_indices()
        row = np.repeat(np.arange(x.shape[0], dtype=np.int64), np.diff(x.indptr))
        flat = row * self.n_items + x.indices  # ascending, since CSR rows and indices are sorted
        pos = np.minimum(np.searchsorted(flat, sorted_keys), len(flat) - 1)
        return np.where(flat[pos] == sorted_keys, x.data[pos], 0.0)

    def rows(self, users: np.ndarray) -> sp.csr_array:
        """Rows of ``X`` for ``users`` as float32 (the input of a linear item-item model)."""
        return sp.csr_array(self.X[users], dtype=np.float32)


class ItemGramModel(Recommender):
    r"""Base of the linear item-item models :math:`\hat x_u = x_u B` fitted on the item
    Gram matrix :math:`G = X^\top X` (:class:`ItemGram`): EASE and SLIM.

    ``fit`` builds :math:`X` and :math:`G` from the data, calls :meth:`_start` (state of a
    fresh fit) and :meth:`_solve` (the weights from ``self._gram.G``); ``partial_fit``
    folds the new ratings into :math:`G` and solves again when a column of :math:`X`
    changed. Scores are not ratings: ``predicts_ratings`` is ``False``.

    Hyperparameters shared by the subclasses: ``binarize`` (use 1 for every kept rating)
    and ``implicit_threshold`` (drop ratings below it; ``None`` keeps all).
    """

    predicts_ratings = False

    def __init__(
        self,
        *,
        binarize: Annotated[bool, Boolean()] = False,
        implicit_threshold: Annotated[float | None, None, Interval(Real)] = None,
    ) -> None:
        pass  # subclasses take these as **inherited; the base stores them

    def _fit(self, data: Interactions) -> None:
        self._gram = ItemGram(
            data,
            self.n_users_,
            self.n_items_,
            binarize=self.binarize,
            implicit_threshold=self.implicit_threshold,
        )
        self._start()
        self._solve()

    def _partial_fit(self, new: Interactions) -> None:
        if len(self._gram.update(new)):
            self._solve()

    def _start(self) -> None:
        """State a fresh fit needs before the first :meth:`_solve` (default: none)."""

    def _solve(self) -> None:
        """Fit the weights to the current ``self._gram``."""
        raise NotImplementedError
