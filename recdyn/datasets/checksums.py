"""SHA-256 tables for the dataset archives and for the files the loaders read.

What is enforced
----------------
**Archives** — checked by :func:`pooch.retrieve` when an archive is downloaded (in a
temporary file, before it is moved into the cache) and whenever a cached archive is used
again (a cached archive with another digest is downloaded anew). All four official
archives have a known SHA-256 and byte size in :data:`ARCHIVES`; a downloaded archive with
another digest raises :class:`~recdyn.datasets.ChecksumError` and nothing is kept. The
MovieLens values and sizes are those TensorFlow Datasets publishes
(``tensorflow_datasets/url_checksums/movielens.txt``), recorded identically by several
other projects (some next to a check against the MD5 GroupLens publishes beside each
archive); the Last.fm value is the one the OmniRec library (ISG-Siegen) and other projects
pin (no size was published with it, so ``size`` is ``None``). recdyn could not download
the archives itself when these tables were written.
An entry whose ``sha256`` is ``None`` (e.g. a mirror configured by the user) is
downloaded with a :class:`~recdyn.datasets.DatasetWarning` that prints the computed
digest, so it can be pinned.

**Files** — with ``verify=True`` (the default of every loader) each file the loader reads
is hashed and compared with, in this order:

1. recdyn's own table :data:`FILE_SHA256` for the dataset's *edition*:

   - ``ml-100k`` (the 1998 release, unchanged since): ``u.data``, ``u.item``,
     ``u.user``, ``u.genre`` and the fold files ``u1..u5.base/test``;
   - ``lastfm-2k`` (HetRec 2011): ``user_artists.dat``, ``artists.dat``;
   - ``ml-latest-small``: only the **2016-10-17 edition** (100,004 ratings, 671 users,
     9,125 movies — the copy in the project's shared data): ``ratings.csv``,
     ``movies.csv``, ``README.txt``. The edition is read from the sentence "This dataset
     was generated on <date>" in ``README.txt``, so a copy of another edition (the archive
     GroupLens serves today is the 2018-09-26 edition: 100,836 ratings, 610 users) is
     never compared with the 2016 digests and cannot fail against them;
   - ``ml-1m``: no per-file digests are known (its archive digest is).

2. a ``SHA256SUMS`` file in the dataset folder (``sha256sum`` format), for files the
   table above does not cover. recdyn writes one (:func:`write_sums`) after extracting an
   archive whose own SHA-256 was verified, so a later load of a downloaded ``ml-1m`` or
   2018 ``ml-latest-small`` detects corruption on disk.

A digest from either source that does not match raises
:class:`~recdyn.datasets.ChecksumError` naming the file, the expected and the actual
SHA-256. A file with no digest from either source is read with one
:class:`~recdyn.datasets.DatasetWarning` listing its computed digest. ``verify=False``
skips all file checks (for deliberately modified copies); archives are always checked.
Digests are computed by :func:`pooch.file_hash`.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pooch

from recdyn.datasets.errors import ChecksumError, DatasetWarning

SUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True)
class Archive:
    """Where a dataset's official archive lives and what it must hash to.

    Attributes
    ----------
    url : download address, any protocol pooch downloads (https, http, ftp); tests
        replace the entry and pooch's HTTP downloader.
    sha256 : expected SHA-256 of the archive, or ``None`` when unknown (warn, don't fail).
    size : published size in bytes, or ``None``; only used in messages.
    folder : name of the dataset folder under a data directory or the cache.
    """

    url: str
    sha256: str | None
    size: int | None
    folder: str

    @property
    def filename(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1] or f"{self.folder}.zip"


_GROUPLENS = "https://files.grouplens.org/datasets"

ARCHIVES: dict[str, Archive] = {
    "ml-100k": Archive(
        f"{_GROUPLENS}/movielens/ml-100k.zip",
        "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        4_924_029,
        "ml-100k",
    ),
    "ml-1m": Archive(
        f"{_GROUPLENS}/movielens/ml-1m.zip",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        5_917_549,
        "ml-1m",
    ),
    # The archive served today is the 2018-09-26 edition (not the 2016 one in shared data).
    "ml-latest-small": Archive(
        f"{_GROUPLENS}/movielens/ml-latest-small.zip",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        978_202,
        "ml-latest-small",
    ),
    "lastfm-2k": Archive(
        f"{_GROUPLENS}/hetrec2011/hetrec2011-lastfm-2k.zip",
        "6738f48195667ff03caaab4d32ca9a3133d8cc026b7c3cdaf6ce1010e913c59c",
        None,
        "hetrec2011-lastfm-2k",
    ),
}
"""Official archive of each dataset. Tests replace entries (``monkeypatch.setitem``)."""

FILE_SHA256: dict[str, dict[str, dict[str, str]]] = {
    "ml-100k": {
        "1998": {
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
            "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
            "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
            "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
            "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
            "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
            "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
            "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
            "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
            "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
            "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
            "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
        }
    },
    "ml-1m": {},
    "ml-latest-small": {
        "2016-10-17": {
            "README.txt": "59be481ddf3fab0f9f7cf2f73e0db4d0920a413a313c911b62bd01ee8816ea2f",
            "movies.csv": "43d1736d3c688eb5b7856473c36d86a1c345676cab256c91720c1f6984d263b5",
            "ratings.csv": "b4239649fbf90ebf405c56c3ae1d929d9e7c86fc1a3a80cbef1c884df593ef73",
        }
    },
    "lastfm-2k": {
        "2011": {
            "artists.dat": "c173881362c6b28551368fecb3c0be5a6a30a6cd859e1f5775413dfe46d48648",
            "user_artists.dat": "001400dc3c7d2667fca6e4ea6dc6acc31a9dd28ad5cd0f74cea988c019934d3b",
        }
    },
}
"""Per-file SHA-256 by dataset and edition (values from ``/work/shared/data/*/SHA256SUMS``)."""

_GENERATED_ON = re.compile(r"generated on ([A-Z][a-z]+ \d{1,2}, \d{4})")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file (:func:`pooch.file_hash`, which reads it in chunks)."""
    return pooch.file_hash(str(path), alg="sha256")


def write_sums(folder: Path) -> None:
    """Write ``folder/SHA256SUMS`` (``sha256sum`` format) listing every file in ``folder``.

    Called on a freshly extracted archive whose own SHA-256 was verified, so the digests
    are those of the official files; :func:`expected_digests` reads them back.
    """
    lines = [
        f"{sha256_file(p)}  {p.name}\n"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != SUMS_FILE
    ]
    (folder / SUMS_FILE).write_text("".join(lines), encoding="utf-8")


def edition(name: str, folder: Path) -> str | None:
    """The edition of ``name`` stored in ``folder``, or ``None`` when it is not known.

    MovieLens "latest" datasets change over time; their ``README.txt`` says when the copy
    was generated, which is the edition (an ISO date). The other datasets have one edition.
    """
    tables = FILE_SHA256.get(name, {})
    if name != "ml-latest-small":
        return next(iter(tables), None)
    try:
        text = (folder / "README.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _GENERATED_ON.search(text)
    if match is None:
        return None
    try:
        return _dt.datetime.strptime(match.group(1), "%B %d, %Y").date().isoformat()
    except ValueError:
        return None


def expected_digests(name: str, folder: Path) -> dict[str, tuple[str, str]]:
    """``file -> (sha256, where the value comes from)`` for ``name`` in ``folder``."""
    out: dict[str, tuple[str, str]] = {}
    sums = folder / SUMS_FILE
    if sums.is_file():
        for line in sums.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.strip().split(maxsplit=1)
            if len(parts) == 2 and re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
                out[parts[1].lstrip("*").removeprefix("./")] = (parts[0].lower(), str(sums))
    ed = edition(name, folder)
    for fname, digest in FILE_SHA256.get(name, {}).get(ed, {}).items():
        out[fname] = (digest, f"recdyn's table for {name} edition {ed}")
    return out


def verify_files(name: str, folder: Path, files: list[str]) -> None:
    """Check ``folder/f`` for each ``f`` in ``files`` against the known digests.

    Raises
    ------
    ChecksumError
        When a file's SHA-256 differs from a known value.

    Warns
    -----
    DatasetWarning
        Once, listing the files with no known digest and their computed SHA-256.
    """
    known = expected_digests(name, folder)
    unknown: list[str] = []
    for fname in files:
        path = folder / fname
        actual = sha256_file(path)
        if fname not in known:
            unknown.append(f"{fname}  {actual}")
            continue
        expected, source = known[fname]
        if actual != expected:
            raise ChecksumError(
                f"{name}: {path} is corrupt or is not the file recdyn expects: expected "
                f"SHA-256 {expected} ({source}), actual {actual}. Restore the file from the "
                f"official archive {ARCHIVES[name].url} (in the cache: delete the folder "
                f"{folder} to download it again), or pass verify=False to read it anyway."
            )
    if unknown:
        ed = edition(name, folder)
        why = (
            f"recdyn has no per-file digests for {name}"
            if not FILE_SHA256.get(name)
            else f"recdyn has no per-file digests for {name} edition {ed or '(not found)'}"
        )
        warnings.warn(
            f"{name}: no known SHA-256 for {len(unknown)} file(s) in {folder} ({why}, and "
            f"no {SUMS_FILE} there lists them); read unverified. Computed digests:\n  "
            + "\n  ".join(unknown)
            + "\nPass verify=False to silence this warning.",
            DatasetWarning,
            stacklevel=4,
        )
