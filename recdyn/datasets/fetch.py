"""Find a dataset's folder: a local data directory, or the cache (downloading if allowed).

Where files are read from, in order:

1. ``data_dir`` if given, else the ``RECDYN_DATA_DIR`` environment variable if set and
   non-empty: files are read from ``<dir>/<folder>/`` (``ml-100k``, ``ml-1m``,
   ``ml-latest-small``, ``hetrec2011-lastfm-2k``) and nothing is ever downloaded there.
2. Otherwise the cache ``platformdirs.user_cache_dir("recdyn")/datasets``: when a file
   is missing and ``download=True``, :func:`pooch.retrieve` downloads the official archive
   to ``<cache>/<archive>.zip`` (streamed to a temporary file, checked against its known
   SHA-256, then moved into place; a cached archive with the right digest is reused), and
   the archive is unzipped (:class:`pooch.Unzip`) into a temporary folder that is renamed
   to ``<cache>/<folder>`` — so an interrupted or corrupt download or extraction leaves no
   partial file that a later call could mistake for data.

Every file a loader reads is then checked against its own SHA-256
(:func:`recdyn.datasets.checksums.verify_files`), wherever it came from.

(``pooch.retrieve``, not a ``pooch.create`` registry: ``RECDYN_DATA_DIR`` means "read here,
never download here", whereas pooch's ``env`` option redirects the downloads.)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
import warnings
import zipfile
from pathlib import Path

import platformdirs
import pooch

from recdyn.datasets.checksums import ARCHIVES, sha256_file, verify_files, write_sums
from recdyn.datasets.errors import ChecksumError, DatasetError, DatasetWarning
from recdyn.errors import InvalidParameterError

ENV_VAR = "RECDYN_DATA_DIR"


def default_cache_dir() -> Path:
    """Where downloaded datasets are kept: ``user_cache_dir("recdyn")/datasets``."""
    return Path(platformdirs.user_cache_dir("recdyn")) / "datasets"


def locate(
    name: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    verify: bool = True,
) -> Path:
    """The folder holding ``name``'s ``required`` files, downloaded and verified as needed.

    Raises
    ------
    DatasetError
        A required file is missing (naming the path, the dataset and how to get it), or the
        download failed.
    ChecksumError
        A file or the archive does not have its known SHA-256 (see
        :mod:`recdyn.datasets.checksums`).
    """
    if not isinstance(download, bool) or not isinstance(verify, bool):
        raise InvalidParameterError(
            f"download and verify must be True or False, got download={download!r}, "
            f"verify={verify!r}"
        )
    archive = ARCHIVES[name]
    root, origin = _root(data_dir)
    folder = root / archive.folder
    missing = [f for f in required if not (folder / f).is_file()]
    if missing and origin is None and download:
        fetch_archive(name, root)
        missing = [f for f in required if not (folder / f).is_file()]
        if missing:
            raise DatasetError(
                f"{name}: the archive {archive.url} was extracted to {folder} but has no "
                f"{missing[0]!r} (file {folder / missing[0]} is missing). Set {ENV_VAR} to "
                f"a directory holding a complete '{archive.folder}/' folder."
            )
    if missing:
        raise DatasetError(_missing_message(name, folder / missing[0], root, origin))
    if verify:
        present = [f for f in optional if (folder / f).is_file()]
        verify_files(name, folder, [*required, *present])
    return folder


def _root(data_dir: str | os.PathLike[str] | None) -> tuple[Path, str | None]:
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise InvalidParameterError(
                f"data_dir must be a path (str or os.PathLike) or None, got {data_dir!r}"
            )
        return Path(data_dir).expanduser(), "data_dir"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser(), ENV_VAR
    return default_cache_dir(), None


def _missing_message(name: str, path: Path, root: Path, origin: str | None) -> str:
    archive = ARCHIVES[name]
    size = f", {archive.size / 1e6:.1f} MB" if archive.size else ""
    head = f"{name}: file not found: {path}. "
    if origin is None:
        return (
            head + f"It is not in the cache {root} and download=False. Pass download=True "
            f"to download {archive.url}{size} there, or set {ENV_VAR} to a directory "
            f"holding the '{archive.folder}/' folder of that archive."
        )
    where = f"data_dir={str(root)!r}" if origin == "data_dir" else f"{ENV_VAR}={root}"
    how = (
        f"call without data_dir and with {ENV_VAR} unset"
        if origin == "data_dir"
        else f"unset {ENV_VAR}"
    )
    return (
        head + f"{where} must contain a '{archive.folder}/' folder with the files of "
        f"{archive.url}; nothing is downloaded into it. Put the files there, or {how} "
        f"(with download=True) to download the archive into the cache {default_cache_dir()}."
    )


def fetch_archive(name: str, root: Path) -> Path:
    """Download (unless a verified copy is cached) and extract ``name``'s archive into
    ``root``; returns ``root/<folder>``.

    Raises
    ------
    ChecksumError
        The downloaded archive does not have its known SHA-256 (nothing is kept).
    DatasetError
        The download failed, or the archive is not a valid zip file (it is deleted).
    """
    archive = ARCHIVES[name]
    verified = archive.sha256 is not None
    root.mkdir(parents=True, exist_ok=True)
    try:
        zip_path = pooch.retrieve(
            archive.url,
            known_hash=f"sha256:{archive.sha256}" if verified else None,
            fname=archive.filename,
            path=root,
        )
    except (ValueError, OSError) as exc:  # requests' errors are OSErrors
        if verified:  # pooch downloads only over a missing or mismatching archive
            (root / archive.filename).unlink(missing_ok=True)
        raise _download_error(name, exc) from exc
    if not verified:
        warnings.warn(
            f"{name}: no known SHA-256 for the archive {archive.url}; it was not verified. "
            f"Its SHA-256 is {sha256_file(Path(zip_path))}.",
            DatasetWarning,
            stacklevel=4,
        )
    target = root / archive.folder
    _extract(name, Path(zip_path), target, write_sums_file=verified)
    return target


def _download_error(name: str, exc: Exception) -> DatasetError:
    """recdyn's error for what :func:`pooch.retrieve` raised: a digest mismatch (pooch's
    ``ValueError`` "... expected sha256:X but got Y ...") or a failed download."""
    archive = ARCHIVES[name]
    remedy = f"set {ENV_VAR} to a directory holding the '{archive.folder}/' folder"
    got = re.search(r"but got ([0-9a-fA-F]{64})", str(exc))
    if isinstance(exc, ValueError) and got:
        return ChecksumError(
            f"{name}: the archive downloaded from {archive.url} is corrupt or not the "
            f"expected release: expected SHA-256 {archive.sha256}, actual {got.group(1)} "
            f"(published size {archive.size or 'unknown'} bytes). Nothing was kept; try "
            f"again, or {remedy}."
        )
    return DatasetError(
        f"{name}: could not download {archive.url}: {exc}. Check the network, or {remedy}."
    )


def _extract(name: str, zip_path: Path, target: Path, *, write_sums_file: bool) -> None:
    """Unzip ``zip_path`` with :class:`pooch.Unzip` into a new temporary folder next to
    ``target``, write its ``SHA256SUMS`` if the archive was verified, then rename it to
    ``target`` (replacing an older extraction).

    Called only when files are missing, so it always extracts (``action="download"``
    tells the processor not to look for an earlier extraction)."""
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        try:
            # zipfile drops absolute paths and '..' parts, so members stay inside tmp
            pooch.Unzip(extract_dir=str(tmp))(str(zip_path), "download", None)
        except zipfile.BadZipFile as exc:
            zip_path.unlink(missing_ok=True)
            raise DatasetError(
                f"{name}: {zip_path} is not a valid zip archive ({exc}); it was deleted, "
                "call again to download it anew."
            ) from exc
        src = _content_dir(tmp, target.name)
        if write_sums_file:
            write_sums(src)
        if target.exists():
            stale = target.with_name(f".{target.name}.stale-{uuid.uuid4().hex}")
            os.replace(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(src, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _content_dir(tmp: Path, folder: str) -> Path:
    """The extracted folder: ``tmp/folder``, a single top-level folder, or ``tmp`` itself
    (the Last.fm archive has its files at the top level)."""
    if (tmp / folder).is_dir():
        return tmp / folder
    entries = [p for p in tmp.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return tmp
