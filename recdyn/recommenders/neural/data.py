"""Data for the neural recommenders' training loops: a validation split, mini-batches,
dense rows of a sparse matrix and sparse CSR tensors."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from recdyn.interactions import Interactions
from recdyn.recommenders.neural.runtime import require_torch

__all__ = ["DenseRows", "batches", "csr_tensor", "holdout"]


def holdout(
    data: Interactions, fraction: float, rng: np.random.Generator
) -> tuple[Interactions, Interactions]:
    """Split ``data`` into (train, validation) with a uniform random ``fraction`` of the
    rows in validation (at least one row each when ``len(data) >= 2``)."""
    n = len(data)
    n_val = min(max(round(fraction * n), 1), n - 1) if n >= 2 else 0
    mask = np.zeros(n, bool)
    mask[rng.choice(n, size=n_val, replace=False)] = True
    return data.select(~mask), data.select(mask)


class DenseRows:
    """Mini-batches of dense float32 rows of a sparse matrix, with their observed-mask.

    ``source(rows)`` returns ``(values, mask)``, two ``[len(rows), n_cols]`` tensors on
    ``device``; ``mask`` is 1 where the matrix stores an entry (so a stored rating of 0 is
    still observed), or ``None`` when ``with_mask`` is false. A matrix of at most
    ``max_dense`` entries is densified once on the device; a larger one is densified batch
    by batch from the CSR.
    """

    def __init__(
        self, matrix: sp.csr_array, device: Any, max_dense: int = 2**25, with_mask: bool = True
    ) -> None:
        torch = require_torch()
        self.matrix = sp.csr_array(matrix, dtype=np.float32)
        self.structure = None
        if with_mask:
            self.structure = self.matrix.copy()
            self.structure.data = np.ones_like(self.structure.data)
        self.device = device
        self.shape = self.matrix.shape
        self._dense = None
        if self.shape[0] * self.shape[1] <= max_dense:
            self._dense = tuple(
                None if m is None else torch.from_numpy(m.toarray()).to(device)
                for m in (self.matrix, self.structure)
            )

    def __call__(self, rows: np.ndarray) -> tuple[Any, Any]:
        torch = require_torch()
        if self._dense is not None:
            idx = torch.as_tensor(np.asarray(rows, np.int64), device=self.device)
            return tuple(None if m is None else m[idx] for m in self._dense)
        return tuple(
            None if m is None else torch.from_numpy(m[rows].toarray()).to(self.device)
            for m in (self.matrix, self.structure)
        )


def csr_tensor(crow: Any, col: Any, values: Any, shape: tuple[int, int]) -> Any:
    """``torch.sparse_csr_tensor`` without invariant checks and without torch's "sparse
    CSR support is in beta state" warning (CSR-dense products are about twice as fast as
    COO ones on CPU, forward and backward)."""
    torch = require_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


def batches(order: Any, size: int) -> Iterator[Any]:
    """Consecutive slices of ``order`` of length ``size`` (the last may be shorter)."""
    for start in range(0, len(order), size):
        yield order[start : start + size]
