"""Finished units of work on disk: atomic, verified, resumable.

A :class:`UnitStore` is a directory with one file per finished unit, ``<key><suffix>``.
Every file records the key it belongs to and a *stamp*: the hash of what produced it (a
study unit's payload, an experiment's spec). So:

* **atomic**: a file is written as ``.<name>.tmp`` in the same directory and renamed
  over its final name (:func:`atomic_write`; one run writes a directory at a time, see
  :class:`~recdyn.engine.lock.DirectoryLock`); a unit is finished if and only if its file
  exists and verifies. A run that is killed (Ctrl-C, ``kill -9``, a lost machine) loses
  only the units in flight, and a re-run skips the rest. (Against crashes of the process,
  not power loss: no fsync; a file cut short fails verification and its unit runs again.)
* **verified**: :meth:`UnitStore.problem` reads the key and stamp back and compares them
  with the file's name and the stamps the caller accepts; a truncated, foreign or stale
  file (made with other parameters) is not a result, and its unit runs again.
* **resumable**: :meth:`UnitStore.finished` tells a driver which units it can skip.

The format of the base class is a JSON record ``{"key", "hash", "payload", "result"}``,
whose stamp is the hash of its ``payload`` (:func:`payload_hash`): :meth:`~UnitStore.save`
and :meth:`~UnitStore.load` store and return a study unit's result. Subclasses keep other
formats with the same guarantees: an experiment's task files (Parquet, stamped with the
spec hash in their metadata) and tuning results (JSON), see :mod:`recdyn.experiments`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, renamed
    over ``path`` (:func:`os.replace`): readers see the old file or the whole new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")  # one writer: the run holding the directory
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def canonical(payload: Any) -> str:
    """``payload`` as canonical JSON (sorted keys, no spaces; tuples as lists)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def payload_hash(payload: Any) -> str:
    """The first 16 hex digits of the sha256 of :func:`canonical` ``payload``."""
    return hashlib.sha256(canonical(payload).encode()).hexdigest()[:16]


class UnitStore:
    """Finished units of work in ``directory``, one file per key (see the module docstring).

    Subclasses with another format set :attr:`suffix` and :attr:`kind` and override
    :meth:`stamp` (what a file records: its key and stamp) and the methods that write and
    read their results.
    """

    suffix = ".json"
    #: what a file is, and what its stamp hashes, in messages
    kind = "unit file"
    stamped_by = "payload"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{self.suffix}"

    def keys(self) -> list[str]:
        """Keys of the files present, sorted (temporary files are not results)."""
        if not self.directory.is_dir():
            return []
        n = len(self.suffix)
        return sorted(
            p.name[:-n]
            for p in self.directory.glob(f"*{self.suffix}")
            if not p.name.startswith(".")
        )

    def write(self, key: str, data: bytes | str) -> None:
        """Store the file of ``key`` atomically (creating the directory)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path(key), data)

    # ------------------------------------------------------------------ verification
    def stamp(self, path: Path) -> tuple[str | None, str | None]:
        """``(key, stamp)`` recorded in the file ``path``; raises ``OSError`` or
        ``ValueError`` if it cannot be read."""
        record = self.read_json(path)
        return record.get("key", path.stem), self._record_stamp(record)

    def problem(self, key: str, accepted: str | Collection[str] | None = None) -> str | None:
        """``None`` if the file of ``key`` is a complete result with a stamp in
        ``accepted`` (any stamp if ``None``), else what is wrong with it (``"missing"``
        if there is none)."""
        path = self.path(key)
        if not path.exists():
            return "missing"
        try:
            recorded, stamp = self.stamp(path)
        except (OSError, ValueError) as err:
            return f"unreadable or truncated {self.kind} ({err})"
        if recorded != key:
            return f"not a recdyn {self.kind} (key {recorded or 'missing'!r} in it)"
        if accepted is not None and stamp not in _as_set(accepted):
            return f"made by another {self.stamped_by} (hash {(stamp or 'missing')[:12]})"
        return None

    def finished(
        self, keys: Iterable[str], accepted: str | Collection[str] | None = None
    ) -> set[str]:
        """The ``keys`` whose files verify."""
        return {key for key in keys if self.problem(key, accepted) is None}

    # ------------------------------------------------------------------ JSON records
    def save(self, key: str, payload: Any, result: Any) -> None:
        """Store ``result``, the outcome of the unit ``key`` run with ``payload`` (both
        JSON values)."""
        record = {"key": key, "hash": payload_hash(payload), "payload": payload, "result": result}
        self.write(key, json.dumps(record))

    def load(self, key: str, payload: Any) -> Any | None:
        """The stored result of ``key`` if it was made with ``payload`` (the hash of the
        stored payload matches, and the file is whole), else ``None``."""
        try:
            record = self.read_json(self.path(key))
            stamp = self._record_stamp(record)
        except (OSError, ValueError):
            return None
        if record.get("key", key) != key or stamp != payload_hash(payload):
            return None
        return record.get("result")

    @staticmethod
    def read_json(path: Path) -> dict[str, Any]:
        """The JSON object in ``path``; ``OSError``/``ValueError`` if there is none."""
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        return record

    @staticmethod
    def _record_stamp(record: dict[str, Any]) -> str:
        """The hash of the record's payload; a record whose ``hash`` field disagrees with
        its payload (edited by hand) is refused."""
        if "payload" not in record:
            raise ValueError("no payload")
        stamp = payload_hash(record["payload"])
        if record.get("hash", stamp) != stamp:
            raise ValueError("its hash does not match its payload")
        return stamp


def _as_set(accepted: str | Collection[str]) -> Collection[str]:
    return {accepted} if isinstance(accepted, str) else accepted


__all__ = ["UnitStore", "atomic_write", "canonical", "payload_hash"]
