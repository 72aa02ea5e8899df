"""One run writes a directory at a time: an exclusive ``flock`` on ``<dir>/.lock``.

The lock is taken *before* anything else in the directory is looked at. So of two runs
started at the same moment on one directory, the loser always fails here, with
:class:`DirectoryBusyError`, whatever the winner has written so far (and never with an
error about what it half saw, such as a directory "not empty and not a recdyn
directory" because the winner had created its sub-directories but not yet its
manifest). The lock is released when the run ends or its process dies; on systems
without ``fcntl`` (e.g. Windows) there is no lock.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from recdyn.errors import InvalidParameterError, RecdynError

LOCK = ".lock"


class DirectoryBusyError(RecdynError):
    """Another run is writing the output directory."""


class DirectoryLock:
    """An exclusive, non-blocking ``flock`` on ``root/.lock`` (creating ``root``); the
    file says who holds it. Raises :class:`DirectoryBusyError` if another open file
    (another run, in this process or another) holds it, and
    :class:`~recdyn.errors.InvalidParameterError` if ``root`` cannot be a directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._file: IO[str] | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameterError(
                f"{self.root} is a file or lies under one, not a directory; choose another --out"
            ) from None
        path = self.root / LOCK
        self._created = not path.exists()
        file = open(path, "a+", encoding="utf-8")  # held open: the lock
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.seek(0)
            holder = file.read().strip() or "another process"
            file.close()
            raise DirectoryBusyError(
                f"{self.root} is being written by another run ({holder}); wait for it to "
                "end, or choose another --out"
            ) from None
        file.seek(0)
        file.truncate()
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        file.write(f"recdyn pid {os.getpid()} on {socket.gethostname()} since {stamp}")
        file.flush()
        self._file = file

    def release(self, discard: bool = False) -> None:
        """Let another run in. ``discard``: also remove the lock file if this lock made it
        (a directory refused for what it holds is left as it was found)."""
        if self._file is None or self._file.closed:
            return
        if discard and self._created:
            (self.root / LOCK).unlink(missing_ok=True)
        self._file.close()  # closing the file releases the flock

    def __enter__(self) -> DirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


__all__ = ["LOCK", "DirectoryBusyError", "DirectoryLock"]
