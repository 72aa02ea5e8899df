"""Real datasets: MovieLens 100K / 1M / latest-small and Last.fm 2K (HetRec 2011).

>>> from recdyn import datasets
>>> ml = datasets.load("ml-100k")                       # doctest: +SKIP
>>> ml.interactions.to_csr(ml.n_users, ml.n_items)      # doctest: +SKIP
>>> folds = datasets.ml100k_folds()                     # doctest: +SKIP

Files are read from ``<data_dir or $RECDYN_DATA_DIR>/<folder>/`` (never downloaded
there) or, when neither is set, from the cache ``platformdirs.user_cache_dir("recdyn")``,
downloading the official archive when files are missing (see
:mod:`recdyn.datasets.fetch`). Archives and files are checked against SHA-256 digests;
exactly which digests are enforced is listed in :mod:`recdyn.datasets.checksums`. Nothing
is ever unpickled: the loaders parse the original text files.
"""

from __future__ import annotations

import os

from recdyn.datasets.categories import item_categories
from recdyn.datasets.checksums import ARCHIVES, FILE_SHA256, Archive
from recdyn.datasets.dataset import Dataset
from recdyn.datasets.errors import ChecksumError, DatasetError, DatasetWarning
from recdyn.datasets.fetch import ENV_VAR, default_cache_dir
from recdyn.datasets.movielens import ml100k_folds
from recdyn.registry import Registry

datasets: Registry[Dataset] = Registry("dataset")
for _name, _source in {
    "ml-100k": "ML_100K",
    "ml-1m": "ML_1M",
    "ml-latest-small": "ML_LATEST_SMALL",
    "lastfm-2k": "LASTFM_2K",
}.items():
    datasets.register(_name, f"recdyn.datasets.sources:{_source}")

NAMES: tuple[str, ...] = tuple(datasets.names())
"""The names :func:`load` accepts."""


def load(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    verify: bool = True,
) -> Dataset:
    """Load a real dataset with contiguous ids, timestamps and side information.

    Parameters
    ----------
    name : one of ``"ml-100k"``, ``"ml-1m"``, ``"ml-latest-small"``, ``"lastfm-2k"``.
    data_dir : directory holding the dataset folder (``ml-100k/``, ``ml-1m/``,
        ``ml-latest-small/``, ``hetrec2011-lastfm-2k/``). Defaults to the
        ``RECDYN_DATA_DIR`` environment variable, else the download cache.
    download : download the official archive into the cache when files are missing
        there (never into ``data_dir`` / ``RECDYN_DATA_DIR``).
    verify : check each file read against its known SHA-256 (mismatch →
        :class:`ChecksumError`); files with no known digest (all of ML-1M unless
        downloaded by recdyn, other editions of ml-latest-small) are read with one
        :class:`DatasetWarning`. ``False`` skips file checks, e.g. for a modified or
        synthetic copy; a downloaded archive is always checked.

    Returns
    -------
    Dataset
        See :class:`Dataset`. For ``"lastfm-2k"`` the ratings are play counts and
        ``implicit`` is ``True``.

    Raises
    ------
    DatasetError
        A file is missing (the message names it, the dataset, and how to get it) or
        cannot be parsed or downloaded.
    ChecksumError
        A file or archive has the wrong SHA-256 (names the file, expected and actual).
    UnknownNameError
        ``name`` is not a known dataset.
    """
    return datasets.make(name, data_dir=data_dir, download=download, verify=verify)


__all__ = [
    "ARCHIVES",
    "ENV_VAR",
    "FILE_SHA256",
    "NAMES",
    "Archive",
    "ChecksumError",
    "Dataset",
    "DatasetError",
    "DatasetWarning",
    "datasets",
    "default_cache_dir",
    "item_categories",
    "load",
    "ml100k_folds",
]
