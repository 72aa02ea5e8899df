"""Last.fm 2K reader (HetRec 2011): user–artist play counts, implicit feedback.

I. Cantador, P. Brusilovsky and T. Kuflik, "2nd Workshop on Information Heterogeneity and
Fusion in Recommender Systems (HetRec 2011)", RecSys 2011. Files are tab-separated UTF-8
with a header: ``user_artists.dat`` (userID, artistID, weight) and ``artists.dat`` (id,
name, url, pictureURL). :func:`lastfm_artist_tags` reads the tag assignments,
``user_taggedartists.dat`` (userID, artistID, tagID, day, month, year; 186,479 rows) and
``tags.dat`` (tagID, tagValue; 11,946 tags, **latin-1** with CRLF line ends, unlike the
UTF-8 ``artists.dat``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from recdyn.datasets.checksums import verify_files
from recdyn.datasets.dataset import Dataset, build_dataset, read_table
from recdyn.datasets.errors import DatasetError
from recdyn.errors import InvalidParameterError

LASTFM_FILES = ("user_artists.dat", "artists.dat")
#: The files :func:`lastfm_artist_tags` reads besides the dataset's own.
LASTFM_TAG_FILES = ("tags.dat", "user_taggedartists.dat")


def read_lastfm_2k(folder: Path) -> Dataset:
    """Last.fm 2K: 92,834 (user, artist) pairs of 1,892 users and 17,632 artists.

    The feedback is **implicit**: ``interactions.rating`` is ``weight``, the number of
    times the user played the artist (1 to 352,698; float32 holds these counts exactly),
    and ``Dataset.implicit`` is ``True``; ``rating_scale`` is the observed (min, max).
    Most models want a transform first (e.g. ``log1p`` or binarisation). There are no
    timestamps for plays: ``timestamps`` is ``None`` and ``step`` is 0.

    ``users``: no side information (``raw_id`` only). ``items``: ``name``, ``url``
    (the artist's Last.fm page).
    """
    plays = read_table(
        folder / "user_artists.dat",
        "lastfm-2k",
        sep="\t",
        header=0,
        names=["user", "item", "weight"],
        dtype=np.int64,
    )
    artists = read_table(
        folder / "artists.dat",
        "lastfm-2k",
        sep="\t",
        header=0,
        names=["raw", "name", "url", "picture_url"],
        usecols=["raw", "name", "url"],
        dtype={"raw": np.int64, "name": str, "url": str},
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        encoding="utf-8",
    ).set_index("raw")
    weight = plays["weight"].to_numpy()
    scale = (float(weight.min()), float(weight.max())) if len(weight) else (0.0, 0.0)
    return build_dataset(
        "lastfm-2k",
        plays["user"].to_numpy(),
        plays["item"].to_numpy(),
        weight,
        None,
        None,
        artists,
        rating_scale=scale,
        implicit=True,
        path=folder,
    )


def lastfm_artist_tags(
    source: Dataset | str | os.PathLike[str], *, verify: bool = True
) -> pd.DataFrame:
    """Which tags Last.fm users applied to which artists, by the dataset's item index.

    Parameters
    ----------
    source : a Last.fm 2K :class:`Dataset` (its ``path`` is read) or the dataset's folder
        (then :func:`read_lastfm_2k` maps the ids).
    verify : check ``tags.dat`` and ``user_taggedartists.dat`` against their SHA-256 as
        :func:`recdyn.datasets.load` does (the folder's ``SHA256SUMS``; a file with no
        known digest is read with a :class:`~recdyn.datasets.DatasetWarning`).

    Returns
    -------
    pandas.DataFrame
        One row per (artist, tag) pair, sorted by ``item`` then ``tag``: ``item`` (the
        dataset's item index, int64), ``tag`` (``tagID``, int64), ``value`` (the tag's
        text) and ``users`` (how many users applied that tag to that artist, int64).
        Assignments to artists with no play count in ``user_artists.dat`` have no item
        index and are dropped (1,538 of 186,479 rows, 390 artists, in the 2011 files).

    Raises
    ------
    DatasetError
        A file is missing or cannot be parsed, or ``user_taggedartists.dat`` names a tag
        id that ``tags.dat`` does not define. ``ChecksumError`` on a wrong digest.
    InvalidParameterError
        ``source`` is a dataset other than ``lastfm-2k`` or has no ``path``.

    ``tags.dat`` is decoded line by line as UTF-8 where a line is valid UTF-8 and as
    latin-1 otherwise (the 2011 file is latin-1: ``"die Ärzte"`` is byte ``0xC4``), so a
    re-encoded copy reads the same.
    """
    if isinstance(source, Dataset):
        if source.name != "lastfm-2k" or source.path is None:
            raise InvalidParameterError(
                f"source must be the lastfm-2k dataset with a path or its folder, got "
                f"{source!r} (path {source.path})"
            )
        dataset, folder = source, Path(source.path)
    else:
        folder = Path(source)
        dataset = None
    for fname in LASTFM_TAG_FILES:
        if not (folder / fname).is_file():
            raise DatasetError(
                f"lastfm-2k: file not found: {folder / fname} (the HetRec 2011 archive "
                "hetrec2011-lastfm-2k.zip holds it)"
            )
    if verify:
        verify_files("lastfm-2k", folder, list(LASTFM_TAG_FILES))
    if dataset is None:
        dataset = read_lastfm_2k(folder)
    tags = read_tags(folder / "tags.dat")
    applied = read_table(
        folder / "user_taggedartists.dat",
        "lastfm-2k",
        sep="\t",
        header=0,
        usecols=[0, 1, 2],
        names=["user", "artist", "tag"],
        dtype=np.int64,
    )
    unknown = ~applied["tag"].isin(tags.index)
    if unknown.any():
        raise DatasetError(
            f"lastfm-2k: {folder / 'user_taggedartists.dat'} holds tag id "
            f"{int(applied['tag'][unknown].iloc[0])}, which {folder / 'tags.dat'} does not "
            f"define ({int(unknown.sum())} such rows); the files do not belong together."
        )
    ids = dataset.item_ids
    pos = np.minimum(np.searchsorted(ids, applied["artist"].to_numpy()), len(ids) - 1)
    known = ids[pos] == applied["artist"].to_numpy()
    pairs = pd.DataFrame({"item": pos[known], "tag": applied["tag"].to_numpy()[known]})
    out = pairs.groupby(["item", "tag"], sort=True).size().rename("users").reset_index()
    out.insert(2, "value", tags.reindex(out["tag"]).to_numpy())
    return out.astype({"item": np.int64, "tag": np.int64, "users": np.int64})


def read_tags(path: Path) -> pd.Series:
    """``tags.dat`` as a Series ``tagID → tagValue`` (module doc: UTF-8 or latin-1 lines)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"lastfm-2k: {path} could not be read: {exc}") from exc
    text = "\n".join(_decode(line) for line in raw.splitlines())
    table = read_table(
        path,
        "lastfm-2k",
        data=text.encode("utf-8"),
        sep="\t",
        header=0,
        names=["tag", "value"],
        dtype={"tag": np.int64, "value": str},
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
        encoding="utf-8",
    )
    if table["tag"].duplicated().any():
        dup = int(table["tag"][table["tag"].duplicated()].iloc[0])
        raise DatasetError(f"lastfm-2k: {path} defines tag id {dup} twice")
    return table.set_index("tag")["value"]


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")
