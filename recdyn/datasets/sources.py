"""The registered datasets' sources (entry points of ``recdyn.datasets.datasets``)."""

from __future__ import annotations

from recdyn.datasets.lastfm import LASTFM_FILES, read_lastfm_2k
from recdyn.datasets.movielens import (
    LATEST_SMALL_FILES,
    LATEST_SMALL_OPTIONAL,
    ML1M_FILES,
    ML100K_FILES,
    read_ml1m,
    read_ml100k,
    read_ml_latest_small,
)
from recdyn.datasets.source import DatasetSource

ML_100K = DatasetSource("ml-100k", read_ml100k, ML100K_FILES)
ML_1M = DatasetSource("ml-1m", read_ml1m, ML1M_FILES)
ML_LATEST_SMALL = DatasetSource(
    "ml-latest-small", read_ml_latest_small, LATEST_SMALL_FILES, LATEST_SMALL_OPTIONAL
)
LASTFM_2K = DatasetSource("lastfm-2k", read_lastfm_2k, LASTFM_FILES)
