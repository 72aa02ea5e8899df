"""Per-row random streams for batched bandit runs, drawn a block of rounds at a time.

A batch row is one (configuration, seed). Everything random in a row comes from
:func:`recdyn.seeding.generator` streams of that row's seed, by name::

    seed ── "bandits" ─┬─ "world" ─┬─ "init"       θ⋆ (linear world)
                       │           ├─ "contexts"   contexts / sampled data points
                       │           └─ "noise"      reward noise
                       └─ "system" ─┬─ "pools"      random pool allocation
                                    ├─ "features"   random feature subsets
                                    └─ "choices"    tie-breaks and softmax draws

so a row's numbers depend only on its seed — not on the batch size, on the other rows or on
the system (common random numbers: every system sees the same world for a seed). Rows of
different configurations with the same seed share their world's draws.

:class:`RowDraws` draws each stream a block of rounds at a time (one generator call per
seed per block, not per round); the block length depends only on the per-round shape, and
consecutive draws of a generator concatenate, so the numbers do not depend on it either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recdyn.seeding import generator

__all__ = ["BLOCK_VALUES", "RowDraws", "row_generators"]

#: Values drawn per seed and block (the block length is this over the per-round size).
BLOCK_VALUES = 1 << 14


def row_generators(seeds: Sequence[int], *names: str) -> list[np.random.Generator]:
    """One generator of the stream ``("bandits", *names)`` per seed."""
    return [generator(int(s), "bandits", *names) for s in seeds]


class RowDraws:
    """Draws of shape ``shape`` per round and row: ``kind`` ``"normal"``, ``"uniform"`` or
    ``"integers"`` (in ``[0, high)``), from one generator per distinct seed; ``rows`` maps
    each batch row to its seed's generator (``None``: one row per generator)."""

    def __init__(
        self,
        generators: Sequence[np.random.Generator],
        shape: tuple[int, ...],
        kind: str,
        *,
        rows: np.ndarray | None = None,
        high: int | None = None,
        block: int | None = None,
    ) -> None:
        self.generators = list(generators)
        self.shape = tuple(int(n) for n in shape)
        self.kind, self.high = kind, high
        self.rows = rows
        size = max(1, int(np.prod(self.shape)))
        self.block = block or max(1, min(256, BLOCK_VALUES // size))
        self._buffer: np.ndarray | None = None
        self._pos = 0

    def _draw(self, g: np.random.Generator) -> np.ndarray:
        shape = (self.block, *self.shape)
        if self.kind == "normal":
            return g.standard_normal(shape)
        if self.kind == "uniform":
            return g.random(shape)
        return g.integers(0, self.high, size=shape)

    def next(self) -> np.ndarray:
        """The next round's draws, ``[B, *shape]``."""
        if self._buffer is None or self._pos == self.block:
            self._buffer = np.stack([self._draw(g) for g in self.generators])
            self._pos = 0
        pos, self._pos = self._pos, self._pos + 1
        if self.rows is None:  # contiguous: batched matmul on a strided view skips BLAS
            return np.ascontiguousarray(self._buffer[:, pos])
        return self._buffer[self.rows, pos]
