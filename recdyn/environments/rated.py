"""Which items each user has rated: one bit per (user, item) pair and a count per user —
what an environment keeps to exclude rated items and to know who has rated everything."""

from __future__ import annotations

import numpy as np

__all__ = ["RatedPairs"]


class RatedPairs:
    """The rated (user, item) pairs of ``n_users`` users over ``n_items`` items, packed 8
    items to a byte (``n_users × n_items / 8`` bytes), with each user's count of distinct
    rated items."""

    def __init__(self, n_users: int, n_items: int) -> None:
        self.n_items = n_items
        self.bits = np.zeros((n_users, (n_items + 7) // 8), np.uint8)
        self.counts = np.zeros(n_users, np.int64)

    def mark(self, users: np.ndarray, items: np.ndarray) -> None:
        """Record the pairs ``(users[j], items[j])`` (a pair seen again counts once)."""
        if len(users) == 0:
            return
        byte, bit = np.divmod(items, 8)
        masks = (1 << bit).astype(np.uint8)
        new = (self.bits[users, byte] & masks) == 0
        np.bitwise_or.at(self.bits, (users, byte), masks)
        np.add.at(self.counts, users[new], 1)

    def contains(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Boolean per pair (broadcast like ``users`` and ``items``): rated?"""
        byte, bit = np.divmod(items, 8)
        return ((self.bits[users, byte] >> bit.astype(np.uint8)) & 1).astype(bool)

    def mask(self, users: np.ndarray) -> np.ndarray:
        """Boolean ``[len(users), n_items]``: the items each of ``users`` has rated."""
        bits = np.unpackbits(self.bits[users], axis=1, count=self.n_items, bitorder="little")
        return bits.astype(bool)

    def grow(self, n_items: int) -> None:
        """Widen to ``n_items`` items (items that arrived: nobody has rated them yet).
        Spare bits and bytes are zero, so growing marks no pair; when the bytes run out
        their number is at least doubled, so items arriving one per step cost amortised
        ``O(n_users)`` each rather than a copy of the whole table."""
        if n_items < self.n_items:
            raise ValueError(f"RatedPairs cannot shrink from {self.n_items} to {n_items} items")
        width = (n_items + 7) // 8
        if width > self.bits.shape[1]:
            grown = np.zeros((len(self.bits), max(width, 2 * self.bits.shape[1])), np.uint8)
            grown[:, : self.bits.shape[1]] = self.bits
            self.bits = grown
        self.n_items = n_items
