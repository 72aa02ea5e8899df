"""Small array helpers shared by hot paths."""

from __future__ import annotations

import numpy as np


def push_down(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A float copy of ``values`` with ``mask``-ed entries pushed below every other entry.

    Masked entries become ``value - finfo.max`` (≈ ``-finfo.max``), so they lose every
    comparison with unmasked finite values. An in-place multiply-subtract is ~3× faster
    than ``np.where`` or boolean-index assignment on a random mask.
    """
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    out = mask.view(np.uint8).astype(values.dtype)
    out *= np.finfo(values.dtype).max
    np.subtract(values, out, out=out)
    return out


def tie_groups(sorted_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each entry of rows sorted in descending order: the first and the last position
    of its group of equal values (``start``, ``end``; both int, the rows' shape)."""
    n, m = sorted_rows.shape
    pos = np.broadcast_to(np.arange(m), (n, m))
    new = np.ones((n, m), bool)
    new[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    is_end = np.ones((n, m), bool)
    is_end[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(is_end, pos, m - 1)[:, ::-1], axis=1)[:, ::-1]
    return start, end
