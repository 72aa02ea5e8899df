"""What a registered dataset is: :class:`DatasetSource` — its files and its reader.

``recdyn.datasets.datasets`` registers one source per name (``"ml-100k"`` →
``"recdyn.datasets.sources:ML_100K"``); calling a source finds (or downloads and
verifies) its files with :func:`recdyn.datasets.fetch.locate` and parses them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recdyn.datasets.dataset import Dataset
from recdyn.datasets.fetch import locate


@dataclass(frozen=True)
class DatasetSource:
    """A dataset: its registered ``name``, the ``required`` and ``optional`` files of its
    folder and the function that ``read``-s that folder into a :class:`Dataset`."""

    name: str
    read: Callable[[Path], Dataset]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def __call__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        download: bool = True,
        verify: bool = True,
    ) -> Dataset:
        """Load the dataset (see :func:`recdyn.datasets.load` for the parameters)."""
        folder = locate(
            self.name,
            self.required,
            self.optional,
            data_dir=data_dir,
            download=download,
            verify=verify,
        )
        return self.read(folder)
