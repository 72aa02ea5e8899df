"""What a slate may hold: :func:`check_slates`, the check behind ``Environment.step``."""

from __future__ import annotations

from typing import Any

import numpy as np

from recdyn.errors import InvalidSlateError

__all__ = ["EMPTY_SLOT", "check_slates"]

#: A slate entry that shows nothing in its slot (``recdyn.policies.base.NO_ITEM``): a
#: policy that truncates by a threshold shows a user nothing when no item passes.
EMPTY_SLOT = -1


def check_slates(slates: Any, n_online: int, n_items: int, online: np.ndarray) -> np.ndarray:
    """``slates`` as an int64 array ``[n_online, k]`` (a 1-D array is one slot per user).

    Every entry is an item id in ``[0, n_items)`` or :data:`EMPTY_SLOT` (``-1``, nothing
    shown); the items of a row are distinct (empty slots may repeat). ``online`` names the
    users of the rows in errors. Raises :class:`~recdyn.errors.InvalidSlateError` naming
    the shape, the id or the row at fault.
    """
    arr = np.asarray(slates)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_online or arr.shape[1] < 1:
        raise InvalidSlateError(
            f"slates must have shape (n_online={n_online}, k) with k >= 1, one row per "
            f"online user; got shape {np.asarray(slates).shape}"
        )
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise InvalidSlateError(f"slates must hold integer item ids, got dtype {arr.dtype}")
    if arr.size and (arr.min() < EMPTY_SLOT or arr.max() >= n_items):
        bad = arr[(arr < EMPTY_SLOT) | (arr >= n_items)][0]
        raise InvalidSlateError(
            f"slates hold item id {int(bad)}, outside the valid range [0, {n_items}) "
            f"(or {EMPTY_SLOT}: nothing shown in that slot)"
        )
    if arr.shape[1] > 1:
        s = np.sort(arr, axis=1)
        dup = ((s[:, 1:] == s[:, :-1]) & (s[:, 1:] != EMPTY_SLOT)).any(axis=1)
        if dup.any():
            row = int(np.flatnonzero(dup)[0])
            raise InvalidSlateError(
                f"slate {row} (user {int(online[row])}) shows an item twice: "
                f"{arr[row].tolist()}; items within a slate must be distinct"
            )
    return arr.astype(np.int64)
