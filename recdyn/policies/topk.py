"""Top-k selection with exact, reproducible tie-breaking — at any size.

:func:`top_k` is what the greedy policies rank with. It accepts the items to exclude as a
dense boolean ``[n_users, n_items]`` array or as a sparse one (``scipy.sparse`` CSR: the
rated items of the online users, :meth:`~recdyn.environments.base.Environment.rated_items`),
and works on blocks of at most :data:`BLOCK_CELLS` score cells, so that no
``[n_users × n_items]`` copy is made at once. When every row holds the same scores (a
broadcast view with row stride 0, e.g. TopPop's), it walks the one sorted row instead and
touches only each user's excluded items.

Every path returns exactly what the one-block dense computation returns, with the same
draws from ``rng``: a row's slate is unique unless it has a tie that matters, and tied rows
are broken in row order by :func:`_break_ties`, whose draws (``rng.random((n_tied,
n_items))``) concatenate across blocks into the same stream.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit

from recdyn._arrays import push_down

__all__ = ["BLOCK_CELLS", "as_exclusion", "top_k"]

#: Score cells ranked at once (2^24: 64 MB of float32, the dense path's copies included);
#: the worlds of the thesis's studies (≤ 200 × 1,700 cells a step) fit in one block.
BLOCK_CELLS = 2**24
#: From this many cells on, ``k = 1`` takes one compiled pass over the scores.
STREAM_CELLS = 2**20


def top_k(scores: np.ndarray, k: int, exclude: Any, rng: np.random.Generator) -> np.ndarray:
    """Indices of the ``k`` best items per row, best first, ties broken uniformly at random.

    Excluded items rank below every allowed item (a user with fewer than ``k`` allowed
    items gets excluded ones, in random order, in the last slots); NaN scores rank last.
    ``exclude`` is ``None``, a boolean array of the scores' shape, or a ``scipy.sparse``
    matrix of that shape whose stored entries are the excluded cells. ``argmax`` /
    ``argpartition`` do the work in O(n_items) per row; only rows with a tie that matters
    (more items share the k-th score than fit, or equal scores inside the slate) take a
    second O(n_items) pass with random keys, so tie-breaking is exact and reproducible
    under ``rng``.
    """
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    n, m = scores.shape
    sparse = exclude is not None and sp.issparse(exclude)
    if sparse:
        exclude = as_exclusion(exclude)
    if n > 1 and scores.strides[0] == 0 and (exclude is None or sparse):
        shared = _top_k_shared(scores[0], n, k, exclude, rng)
        if shared is not None:
            return shared
    rows_per_block = max(1, BLOCK_CELLS // max(m, 1))
    if k == 1 and n * m >= STREAM_CELLS:  # one compiled pass, no copies
        return _top_1_streamed(scores, exclude, rng)
    if n <= rows_per_block and not sparse:
        return _top_k_dense(scores, k, exclude, rng)
    parts = []
    for lo in range(0, n, rows_per_block):
        hi = min(n, lo + rows_per_block)
        block = None if exclude is None else _dense_rows(exclude, slice(lo, hi))
        parts.append(_top_k_dense(scores[lo:hi], k, block, rng))
    return np.concatenate(parts) if parts else np.empty((0, k), np.int64)


def as_exclusion(exclude: Any) -> sp.csr_array:
    """``exclude`` (a ``scipy.sparse`` matrix or array) as a canonical boolean CSR array
    whose stored entries are exactly the excluded cells (a copy where it had to change)."""
    out = sp.csr_array(exclude, dtype=bool)
    if not out.has_canonical_format or not out.data.all():
        out = out.copy()
        out.sum_duplicates()
        out.eliminate_zeros()
    return out


def _dense_rows(exclude: Any, rows: Any) -> np.ndarray:
    """Rows ``rows`` (a slice or ids) of ``exclude`` as dense booleans."""
    if sp.issparse(exclude):
        return exclude[rows].toarray().astype(bool, copy=False)
    return exclude[rows]


def _top_k_shared(
    row: np.ndarray, n: int, k: int, exclude: sp.csr_array | None, rng: np.random.Generator
) -> np.ndarray | None:
    """:func:`top_k` of ``n`` rows that all equal ``row``, excluding the stored cells of
    ``exclude``; ``None`` where the fast path does not apply (non-finite or extreme
    scores, which the dense path orders with its own rules).

    Item ``order`` sorts ``row`` descending; ``p_0 < p_1 < …`` are the positions in
    ``order`` of a user's excluded items. The free positions below ``p_j`` number
    ``c_j = p_j − j`` (non-decreasing), so the user's ``t``-th allowed position is
    ``t + #{j : c_j ≤ t}`` — one ``searchsorted`` for every user at once. A row may be tied
    (as :func:`_top_k_dense` defines it) only if its ``k``-th score has another allowed item
    or its slate repeats a score; those rows, and users with fewer than ``k`` allowed
    items, are recomputed densely (in row order, so ``rng`` draws as it would)."""
    m = len(row)
    limit = np.finfo(row.dtype).max / 4
    if not (np.isfinite(row).all() and np.abs(row).max(initial=0.0) < limit):
        return None
    order = np.argsort(-row, kind="stable")
    position = np.empty(m, np.int64)
    position[order] = np.arange(m)
    indptr = np.zeros(n + 1, np.int64) if exclude is None else exclude.indptr.astype(np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    excluded_pos = np.empty(0, np.int64)
    if exclude is not None:
        keyed = owner * m + position[exclude.indices]
        keyed.sort()  # positions ascending within each user (users stay grouped)
        excluded_pos = keyed - owner * m
    rank = np.arange(len(excluded_pos)) - indptr[owner]
    below = owner * (m + 1) + (excluded_pos - rank)  # c_j, keyed by user; sorted
    slots = np.arange(k)
    wanted = np.arange(n, dtype=np.int64)[:, None] * (m + 1) + slots
    free = slots + (np.searchsorted(below, wanted, side="right") - indptr[:-1, None])
    short = free[:, -1] >= m
    part = order[np.minimum(free, m - 1)]
    # allowed items scoring at least the k-th: up to the end of its group of equal scores
    ranked = row[order]
    group_end = np.searchsorted(-ranked, -ranked[np.minimum(free[:, -1], m - 1)], side="right")
    excluded_by_user = owner * m + excluded_pos
    n_excluded_before = (
        np.searchsorted(excluded_by_user, np.arange(n) * m + group_end, side="left") - indptr[:-1]
    )
    suspect = short | (group_end - n_excluded_before > k)
    if k > 1:
        suspect |= (np.diff(row[part], axis=1) == 0).any(axis=1)
    redo = np.flatnonzero(suspect)
    if len(redo):
        chunk = max(1, BLOCK_CELLS // m)
        for lo in range(0, len(redo), chunk):
            rows = redo[lo : lo + chunk]
            dense = np.broadcast_to(row, (len(rows), m))
            block = None if exclude is None else _dense_rows(exclude, rows)
            part[rows] = _top_k_dense(dense, k, block, rng)
    return part


def _top_1_streamed(scores: np.ndarray, exclude: Any, rng: np.random.Generator) -> np.ndarray:
    """:func:`_top_k_dense` for ``k = 1`` in one compiled read of the scores: each row's
    first maximum of the ranking values (NaN and ``-inf`` lifted to ``finfo.min / 2``,
    excluded cells pushed down by ``finfo.max``, in the scores' dtype) and whether the row
    is tied; tied rows are then broken exactly as the dense path breaks them."""
    info = np.finfo(scores.dtype)
    lifted, drop = scores.dtype.type(info.min / 2), scores.dtype.type(info.max)
    n, m = scores.shape
    if exclude is None:
        indptr, indices = np.zeros(n + 1, np.int64), np.zeros(0, np.int64)
    else:
        csr = exclude if sp.issparse(exclude) else sp.csr_array(exclude)
        indptr, indices = csr.indptr.astype(np.int64), csr.indices.astype(np.int64)
    best, tied = _first_maximum(scores, indptr, indices, lifted, drop)
    part = best[:, None]
    redo = np.flatnonzero(tied)
    chunk = max(1, BLOCK_CELLS // max(m, 1))
    for lo in range(0, len(redo), chunk):
        rows = redo[lo : lo + chunk]
        s = scores[rows]
        if not np.isfinite(s.min()):
            s = np.where(np.isnan(s) | np.isneginf(s), lifted, s)
        if exclude is not None:
            s = push_down(s, _dense_rows(exclude, rows))
        part[rows] = _break_ties(s, best[rows], 1, rng)
    return part


@njit(cache=True)
def _first_maximum(scores, indptr, indices, lifted, drop):  # pragma: no cover - compiled
    n, m = scores.shape
    best = np.zeros(n, np.int64)
    tied = np.zeros(n, np.bool_)
    for r in range(n):
        at, end = indptr[r], indptr[r + 1]
        top = scores[r, 0]
        count = 0
        top_excluded = False
        for j in range(m):
            v = scores[r, j]
            if np.isnan(v) or v == -np.inf:
                v = lifted
            excluded = at < end and indices[at] == j
            if excluded:
                v = v - drop
                at += 1
            if j == 0 or v > top:
                top, best[r], count = v, j, 1
                top_excluded = excluded
            elif v == top:
                count += 1
        tied[r] = count > 1 or top_excluded or not np.isfinite(top)
    return best, tied


def _top_k_dense(
    scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """:func:`top_k` of one block of rows with a dense ``exclude``."""
    s = scores
    if not np.isfinite(s.min()):  # NaN or -inf: below every finite score, above excluded ones
        s = np.where(np.isnan(s) | np.isneginf(s), np.finfo(s.dtype).min / 2, s)
    if exclude is not None:
        s = push_down(s, exclude)
    n, m = s.shape
    rows = np.arange(n)
    if k == 1:
        part = np.argmax(s, axis=1)[:, None]
        best = s[rows, part[:, 0]]
        s = s.copy() if s is scores or s.strides[0] == 0 else s
        s[rows, part[:, 0]] = -np.inf
        tied = s.max(axis=1) == best
        s[rows, part[:, 0]] = best
    else:
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < m else np.tile(np.arange(m), (n, 1))
        top = np.take_along_axis(s, part, axis=1)
        part = np.take_along_axis(part, np.argsort(-top, axis=1, kind="stable"), axis=1)
        top = np.take_along_axis(s, part, axis=1)
        tied = ((s >= top[:, -1:]).sum(axis=1) > k) | (np.diff(top, axis=1) == 0).any(axis=1)
    if exclude is not None:
        tied |= exclude[rows, part[:, -1]]
    tied = np.flatnonzero(tied | ~np.isfinite(s[rows, part[:, -1]]))
    if len(tied):
        part[tied] = _break_ties(s[tied], part[tied, -1], k, rng)
    return part


def _break_ties(s: np.ndarray, kth_index: np.ndarray, k: int, rng: np.random.Generator):
    """Top-k of rows with ties: every item above the k-th score, then a uniformly random
    subset of the items tied with it; within the slate, by score then at random."""
    rows = np.arange(len(s))
    kth = s[rows, kth_index][:, None]
    noise = rng.random(s.shape)
    key = np.where(s > kth, 2.0, np.where(s == kth, noise, -1.0))
    if k == 1:
        chosen = np.argmax(key, axis=1)[:, None]
    else:
        chosen = np.argpartition(-key, k - 1, axis=1)[:, :k]
    order = np.lexsort(
        (-np.take_along_axis(noise, chosen, axis=1), -np.take_along_axis(s, chosen, axis=1)),
        axis=1,
    )
    return np.take_along_axis(chosen, order, axis=1)
