"""The ratings ``mf-als`` sweeps over, kept up to date as the log grows.

:class:`RatingRows` holds the last rating of each ``(user, item)`` pair of a log in two
CSR layouts, user-major and item-major, in exactly the order of a full rebuild: the kept
ratings in log order (:func:`_last_of_each_pair`), grouped by row with a stable counting
sort (:func:`_group`), so each row lists its entries by ascending log position. A
``partial_fit`` then updates both layouts **in place** (:meth:`RatingRows.update`)
instead of rebuilding them from the whole log: a new rating of a pair already kept drops
the old entry (the last rating wins), and every new entry goes to the end of its row
(its log position is above all others). The in-place move is one backwards pass over each
layout (rows only ever grow: each dropped entry is replaced in the same row), with spare
capacity at the end of the buffers (grown by half when full), so no per-step allocation
of ``O(ratings)``.

Per-entry payload: the column id (int32) and rating (float32) always; the weight
(float32) when the weighting is per rating (``"local"``: a rating's weight depends on
that rating alone, so it is computed once, for the new ratings); the log position (int64)
when the weighting depends on the whole log (``"global"``: all weights are recomputed at
every fit and gathered through the positions). Unweighted (``"ones"``), every weight is
1 and the weight arrays are views of one buffer of ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from recdyn.interactions import RATING_DTYPE, Interactions

#: weight handling: every weight 1, a weight per rating, or weights of the whole log
MODES = ("ones", "local", "global")
_WEIGHT = np.float32
_EMPTY_W = np.empty(0, _WEIGHT)
_EMPTY_POS = np.empty(0, np.int64)


def ones(buffer: np.ndarray | None, n: int) -> np.ndarray:
    """A buffer of at least ``n`` float32 ones: ``buffer`` itself when long enough."""
    if buffer is not None and len(buffer) >= n:
        return buffer
    cap = max(n, 1024, 0 if buffer is None else len(buffer) * 3 // 2)
    return np.ones(cap, _WEIGHT)


class Growing:
    """An append-only float32 array with spare capacity (the log's weights)."""

    def __init__(self, values: np.ndarray) -> None:
        self._buf = np.array(values, _WEIGHT)
        self._n = len(values)

    def append(self, values: np.ndarray) -> None:
        n = self._n + len(values)
        if n > len(self._buf):
            grown = np.empty(max(n, len(self._buf) * 3 // 2, 1024), _WEIGHT)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : n] = values
        self._n = n

    def view(self) -> np.ndarray:
        """The values so far, read-only (later appends do not change them)."""
        out = self._buf[: self._n]
        out.flags.writeable = False
        return out


class _Layout:
    """One CSR layout: ``indptr`` and the payload buffers (capacity ≥ ``nnz``)."""

    __slots__ = ("col", "indptr", "pos", "rating", "weight")

    def __init__(self, indptr, col, rating, weight, pos) -> None:
        self.indptr, self.col, self.rating, self.weight, self.pos = (
            indptr,
            col,
            rating,
            weight,
            pos,
        )

    def reserve(self, nnz: int, need: int) -> None:
        """Make the payload buffers hold at least ``need`` entries (``nnz`` in use)."""
        if need <= len(self.col):
            return
        cap = max(need, len(self.col) * 3 // 2, 1024)

        def grow(buf):
            if len(buf) == 0:  # an unused payload stays empty
                return buf
            out = np.empty(cap, buf.dtype)
            out[:nnz] = buf[:nnz]
            return out

        self.col, self.rating = grow(self.col), grow(self.rating)
        self.weight, self.pos = grow(self.weight), grow(self.pos)


class RatingRows:
    """User-major and item-major rows of the last rating of each pair (module docstring).

    ``n_logged`` is the length of the log the rows describe; ``mode`` one of
    :data:`MODES`.
    """

    def __init__(self, n_users: int, n_items: int, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.n_users, self.n_items, self.mode = n_users, n_items, mode
        self.nnz = 0
        self.n_logged = 0
        self.rating_min = self.rating_max = None
        #: the model's ``weighting`` the rows were built for (set by the model)
        self.weighting: object = None
        self._ones: np.ndarray | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        data: Interactions,
        n_users: int,
        n_items: int,
        mode: str,
        weights: np.ndarray | None = None,
        spare: int = 0,
    ) -> RatingRows:
        """Rows of all of ``data`` (a whole log); ``weights``: one per rating of ``data``
        in the ``"local"`` mode (ignored otherwise). ``spare``: extra capacity."""
        self = cls(n_users, n_items, mode)
        keep = _last_of_each_pair(data.user, data.item, n_users, n_items)
        users, items, ratings = data.user[keep], data.item[keep], data.rating[keep]
        nnz = len(keep)
        cap = nnz + max(spare, 0)
        layouts = []
        for rows, cols, n_rows in ((users, items, n_users), (items, users, n_items)):
            indptr, order = _group(rows, n_rows)
            lay = _Layout(
                indptr,
                np.empty(cap, cols.dtype),
                np.empty(cap, RATING_DTYPE),
                np.empty(cap, _WEIGHT) if mode == "local" else _EMPTY_W,
                np.empty(cap, np.int64) if mode == "global" else _EMPTY_POS,
            )
            lay.col[:nnz] = cols[order]
            lay.rating[:nnz] = ratings[order]
            if mode == "local":
                lay.weight[:nnz] = np.asarray(weights, _WEIGHT)[keep][order]
            if mode == "global":
                lay.pos[:nnz] = keep[order]
            layouts.append(lay)
        self._by_user, self._by_item = layouts
        self.nnz = nnz
        self.n_logged = len(data)
        if len(data):
            self.rating_min = float(data.rating.min())
            self.rating_max = float(data.rating.max())
        return self

    # ------------------------------------------------------------------ updating
    def update(self, new: Interactions, weights: np.ndarray | None = None) -> None:
        """Add ``new``, the ratings appended to the log after the ``n_logged`` it held
        (``weights``: one per rating of ``new`` in the ``"local"`` mode)."""
        m = len(new)
        if m == 0:
            return
        keep = _last_of_each_pair(new.user, new.item, self.n_users, self.n_items)
        users, items, ratings = new.user[keep], new.item[keep], new.rating[keep]
        w = np.asarray(weights, _WEIGHT)[keep] if self.mode == "local" else _EMPTY_W
        pos = keep + self.n_logged if self.mode == "global" else _EMPTY_POS
        bu, bi = self._by_user, self._by_item
        drop_u, drop_i = _replaced(bu.indptr, bu.col, bi.indptr, bi.col, users, items)
        drop_u, drop_i = np.sort(drop_u[drop_u >= 0]), np.sort(drop_i[drop_i >= 0])
        nnz = self.nnz + len(keep) - len(drop_u)
        for lay, rows, cols, drop in ((bu, users, items, drop_u), (bi, items, users, drop_i)):
            lay.reserve(self.nnz, nnz)
            lay.indptr = _splice(
                lay.indptr, lay.col, lay.rating, lay.weight, lay.pos,
                rows, cols, ratings, w, pos, drop,
            )  # fmt: skip
        self.nnz = nnz
        self.n_logged += m
        lo, hi = float(new.rating.min()), float(new.rating.max())
        self.rating_min = lo if self.rating_min is None else min(self.rating_min, lo)
        self.rating_max = hi if self.rating_max is None else max(self.rating_max, hi)

    # ------------------------------------------------------------------ reading
    def csr(self, log_weights: np.ndarray | None = None):
        """``(by_user, by_item)``, each ``(indptr, index, rating, weight)`` as the full
        rebuild gives them (contiguous views; valid until the next :meth:`update`).
        ``log_weights``: the weight of every rating of the log (``"global"`` mode)."""
        n = self.nnz
        if self.mode == "ones":
            self._ones = ones(self._ones, n)
        out = []
        for lay in (self._by_user, self._by_item):
            if self.mode == "ones":
                w = self._ones[:n]
            elif self.mode == "local":
                w = lay.weight[:n]
            else:
                w = np.asarray(log_weights)[lay.pos[:n]]
            out.append((lay.indptr, lay.col[:n], lay.rating[:n], w))
        return tuple(out)

    def ones_view(self, n: int) -> np.ndarray:
        """``n`` float32 ones, read-only (a view of the buffer the ``"ones"`` mode uses)."""
        self._ones = ones(self._ones, n)
        out = self._ones[:n]
        out.flags.writeable = False
        return out

    @property
    def rating_range(self) -> tuple[float, float] | None:
        """Lowest and highest rating of the whole log (replaced ones included)."""
        return None if self.rating_min is None else (self.rating_min, self.rating_max)


# ----------------------------------------------------------------------------- kernels
@njit(cache=True)
def _group(rows, n):
    """Counting sort: ``indptr`` and the stable order of ``rows`` grouped by row."""
    indptr = np.zeros(n + 1, np.int64)
    for r in rows:
        indptr[r + 1] += 1
    for r in range(n):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    order = np.empty(len(rows), np.int64)
    for j in range(len(rows)):
        order[fill[rows[j]]] = j
        fill[rows[j]] += 1
    return indptr, order


@njit(cache=True)
def _last_of_each_pair(users, items, n_users, n_items):
    """Indices of the last occurrence of each ``(user, item)`` pair, in log order."""
    indptr, order = _group(users, n_users)
    last = np.full(n_items, -1, np.int64)
    keep = np.zeros(len(users), np.bool_)
    for u in range(n_users):
        for j in order[indptr[u] : indptr[u + 1]]:
            last[items[j]] = j  # log order within the row: the last write wins
        for j in order[indptr[u] : indptr[u + 1]]:
            keep[last[items[j]]] = True
    return np.flatnonzero(keep)


@njit(cache=True)
def _replaced(u_ptr, u_col, i_ptr, i_col, users, items):
    """For each new pair ``(users[k], items[k])`` already kept: its entry in the
    user-major and in the item-major layout (``-1`` where the pair is new)."""
    m = len(users)
    in_u = np.full(m, -1, np.int64)
    in_i = np.full(m, -1, np.int64)
    for k in range(m):
        u, i = users[k], items[k]
        for j in range(u_ptr[u], u_ptr[u + 1]):
            if u_col[j] == i:
                in_u[k] = j
                for j2 in range(i_ptr[i], i_ptr[i + 1]):
                    if i_col[j2] == u:
                        in_i[k] = j2
                        break
                break
    return in_u, in_i


@njit(cache=True)
def _splice(indptr, col, rating, weight, pos, rows, add_col, add_r, add_w, add_pos, drop):
    """In place: drop the entries ``drop`` (sorted indices) and append the new entries
    (``rows[k]``: row of entry ``k``; in order) at the end of their rows; returns the new
    ``indptr``. Payloads of length 0 are not used. Each row must lose no more entries
    than it gains (a dropped entry is replaced in its row), so every row moves towards
    the end: one backwards pass over the rows, and the buffers must hold the new total.
    """
    n = len(indptr) - 1
    has_w, has_pos = len(weight) > 0, len(pos) > 0
    grow = np.zeros(n + 1, np.int64)
    for k in range(len(rows)):
        grow[rows[k] + 1] += 1
    for j in drop:
        grow[np.searchsorted(indptr, j, side="right")] -= 1
    new_ptr = indptr.copy()
    acc = 0
    for r in range(n):
        acc += grow[r + 1]
        new_ptr[r + 1] += acc
    add_ptr, add_order = _group(rows, n)
    d = len(drop) - 1  # the next dropped entry, scanning backwards
    for r in range(n - 1, -1, -1):
        s, e, ns = indptr[r], indptr[r + 1], new_ptr[r]
        t = ns + (e - s)  # where this row's new entries start (less the dropped ones)
        if d >= 0 and drop[d] >= s:  # compact through a copy of the row
            keep = np.ones(e - s, np.bool_)
            while d >= 0 and drop[d] >= s:
                keep[drop[d] - s] = False
                d -= 1
            idx = np.flatnonzero(keep) + s
            c, rt = col[idx], rating[idx]
            wt = weight[idx] if has_w else weight
            pt = pos[idx] if has_pos else pos
            for a in range(len(idx)):
                col[ns + a] = c[a]
                rating[ns + a] = rt[a]
                if has_w:
                    weight[ns + a] = wt[a]
                if has_pos:
                    pos[ns + a] = pt[a]
            t = ns + len(idx)
        elif ns != s:  # shift the row towards the end: copy from its last entry
            for j in range(e - 1, s - 1, -1):
                col[j + ns - s] = col[j]
                rating[j + ns - s] = rating[j]
                if has_w:
                    weight[j + ns - s] = weight[j]
                if has_pos:
                    pos[j + ns - s] = pos[j]
        for a in range(add_ptr[r], add_ptr[r + 1]):
            k = add_order[a]
            col[t] = add_col[k]
            rating[t] = add_r[k]
            if has_w:
                weight[t] = add_w[k]
            if has_pos:
                pos[t] = add_pos[k]
            t += 1
    return new_ptr
