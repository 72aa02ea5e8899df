"""Checks of output paths, made before a long computation rather than after it."""

from __future__ import annotations

import os
from pathlib import Path

from recdyn.errors import InvalidParameterError


def check_output_dir(directory: str | Path, what: str) -> Path:
    """``directory`` as a ``Path`` if ``what`` (e.g. ``"the trajectory"``) can be written
    there: an existing directory, or a new one whose nearest existing ancestor is a
    writable directory.

    Raises :class:`InvalidParameterError` naming the path for ``""``, an existing file and
    a path under a file. Creates nothing.
    """
    if not str(directory).strip():
        raise InvalidParameterError(f"the directory for {what} must be a path, got ''")
    out = Path(directory)
    for path in (out, *out.parents):
        if not path.exists():
            continue
        if not path.is_dir():
            where = "is a file" if path == out else f"is under {str(path)!r}, which is a file"
            raise InvalidParameterError(
                f"cannot write {what} to {str(out)!r}: it {where}; "
                "name a directory (new or existing)"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise InvalidParameterError(
                f"cannot write {what} to {str(out)!r}: {str(path)!r} is not writable"
            )
        break
    return out
