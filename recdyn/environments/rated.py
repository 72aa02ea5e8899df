"""Which items each user has rated: one bit per (user, item) pair and a count per user —
what an environment keeps to exclude rated items and to know who has rated everything."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

__all__ = ["RatedPairs"]


class RatedPairs:
    """The rated (user, item) pairs of ``n_users`` users over ``n_items`` items, packed 8
    items to a byte (``n_users × n_items / 8`` bytes), with each user's count of distinct
    rated items."""

    def __init__(self, n_users: int, n_items: int) -> None:
        self.n_items = n_items
        self.bits = np.zeros((n_users, _width(n_items)), np.uint8)
        self.counts = np.zeros(n_users, np.int64)

    def mark(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Record the pairs ``(users[j], items[j])``; a pair already recorded (earlier, or
        earlier in this call) counts once. Returns which pairs were new (boolean)."""
        users = np.ascontiguousarray(users, dtype=np.int64)
        items = np.ascontiguousarray(items, dtype=np.int64)
        return _mark(self.bits, self.counts, users, items)

    def contains(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Boolean per pair (broadcast like ``users`` and ``items``): rated?"""
        byte, bit = np.divmod(items, 8)
        return ((self.bits[users, byte] >> bit.astype(np.uint8)) & 1).astype(bool)

    def mask(self, users: np.ndarray) -> np.ndarray:
        """Boolean ``[len(users), n_items]``: the items each of ``users`` has rated."""
        bits = np.unpackbits(self.bits[users], axis=1, count=self.n_items, bitorder="little")
        return bits.astype(bool)

    def rows(self, users: np.ndarray) -> sp.csr_array:
        """Boolean CSR ``[len(users), n_items]`` of the items each of ``users`` has rated
        (column ids ascending within a row): :meth:`mask` without the dense
        ``[users × items]`` array. One compiled pass over the users' packed rows, 64 items
        to a word; only the words holding a rated item are unpacked."""
        users = np.ascontiguousarray(users, dtype=np.int64)
        indptr = np.zeros(len(users) + 1, np.int64)
        np.cumsum(self.counts[users], out=indptr[1:])
        columns = _rated_columns(self.bits.view(np.uint64), users, indptr)
        data = np.ones(len(columns), bool)
        return sp.csr_array((data, columns, indptr), shape=(len(users), self.n_items))

    def grow(self, n_items: int) -> None:
        """Widen to ``n_items`` items (items that arrived: nobody has rated them yet).
        Spare bits and bytes are zero, so growing marks no pair; when the bytes run out
        their number is at least doubled, so items arriving one per step cost amortised
        ``O(n_users)`` each rather than a copy of the whole table."""
        if n_items < self.n_items:
            raise ValueError(f"RatedPairs cannot shrink from {self.n_items} to {n_items} items")
        width = _width(n_items)
        if width > self.bits.shape[1]:
            grown = np.zeros(
                (len(self.bits), _width(max(n_items, 16 * self.bits.shape[1]))), np.uint8
            )
            grown[:, : self.bits.shape[1]] = self.bits
            self.bits = grown
        self.n_items = n_items


def _width(n_items: int) -> int:
    """Bytes per user: whole 64-bit words (spare bits stay zero)."""
    return 8 * ((n_items + 63) // 64)


@njit(cache=True)
def _mark(bits, counts, users, items):  # pragma: no cover - compiled
    new = np.zeros(len(users), np.bool_)
    for j in range(len(users)):
        byte, bit = items[j] >> 3, items[j] & 7
        mask = np.uint8(1 << bit)
        if not bits[users[j], byte] & mask:
            bits[users[j], byte] |= mask
            counts[users[j]] += 1
            new[j] = True
    return new


@njit(cache=True)
def _rated_columns(words, users, indptr):  # pragma: no cover - compiled
    columns = np.empty(indptr[-1], np.int32)
    for j in range(len(users)):
        at = indptr[j]
        row = words[users[j]]
        for w in range(row.shape[0]):
            word = row[w]
            bit = 0
            while word:
                if word & np.uint64(1):
                    columns[at] = w * 64 + bit
                    at += 1
                word >>= np.uint64(1)
                bit += 1
    return columns
