"""The files of an experiment's results: task files (Parquet) and tuning results (JSON).

A task file holds one finished task's per-step table: the columns
``task_id, environment, recommender, params, policy, trial`` (:data:`TASK_COLUMNS`;
``params`` is the canonical JSON of the configured hyperparameters), then ``step``, one
column per online metric, ``n_ratings``, ``seconds`` and, when tuning ran,
``offline_<metric>`` (the chosen configuration's mean k-fold CV metric, constant within a
task). Its Parquet key-value metadata holds ``recdyn.task_id``, ``recdyn.spec_hash`` and
``recdyn.format``, which :class:`TaskFiles` checks against the file name and the specs
the manifest accepts, and ``recdyn.resolved``: every constructor parameter of the
environment, recommender and policy the task ran with (JSON), which a resume checks
against what this recdyn would build (:mod:`recdyn.experiments.resolved`). Interaction
logs have the same metadata.

Workers encode their task's files (:func:`encode`), so the driver only writes bytes; both
kinds of file are :class:`~recdyn.engine.unit_store.UnitStore`\\ s: written atomically,
verified when read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recdyn.engine.unit_store import UnitStore

FORMAT = "recdyn-experiment/1"
#: columns identifying a task, first in every result table (in this order).
TASK_COLUMNS = ("task_id", "environment", "recommender", "params", "policy", "trial")
#: columns every per-step table has besides the online metrics.
STEP_COLUMNS = ("step", "n_ratings", "seconds")
_KEY_TASK, _KEY_HASH, _KEY_FORMAT = b"recdyn.task_id", b"recdyn.spec_hash", b"recdyn.format"
_KEY_RESOLVED = b"recdyn.resolved"


class CorruptResultWarning(UserWarning):
    """A file in ``tasks/`` is truncated, unreadable or not from this experiment."""


@dataclass
class TaskOutput:
    """A finished task: its per-step table and, if asked, its interaction log.

    :func:`~recdyn.experiments.runner.run_task` returns DataFrames; inside workers the
    tables are plain dicts of columns on their way to Parquet (:func:`encode`).
    """

    task_id: str
    table: pd.DataFrame | dict[str, Any]
    interactions: pd.DataFrame | dict[str, Any] | None
    seconds: float
    worker: str
    tuned_params: dict[str, Any] | None = None
    resolved: dict[str, Any] | None = None


@dataclass
class EncodedTask:
    """A finished task as the bytes of its Parquet files, made by the worker so that the
    driver only writes files (it would otherwise be the bottleneck of tiny tasks)."""

    task_id: str
    table: bytes
    interactions: bytes | None
    seconds: float
    worker: str
    tuned_params: dict[str, Any] | None = None


def parquet_bytes(
    df: pd.DataFrame | dict[str, Any],
    task_id: str,
    spec_hash: str,
    resolved: dict[str, Any] | None = None,
) -> bytes:
    """The Parquet file of a table (a DataFrame or a dict of columns) with the task id,
    spec hash and (if given) the resolved parameters in its metadata."""
    table = pa.table({c: df[c].to_numpy() for c in df.columns} if hasattr(df, "columns") else df)
    meta = {_KEY_TASK: task_id.encode(), _KEY_HASH: spec_hash.encode()}
    meta[_KEY_FORMAT] = FORMAT.encode()
    if resolved is not None:
        meta[_KEY_RESOLVED] = json.dumps(resolved, sort_keys=True).encode()
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink)
    return sink.getvalue().to_pybytes()


def encode(out: TaskOutput, spec_hash: str) -> EncodedTask:
    """``out`` as the bytes of its task file (and interaction log) under ``spec_hash``."""
    logs = out.interactions
    return EncodedTask(
        out.task_id,
        parquet_bytes(out.table, out.task_id, spec_hash, out.resolved),
        None if logs is None else parquet_bytes(logs, out.task_id, spec_hash),
        out.seconds,
        out.worker,
        out.tuned_params,
    )


def read_resolved(path: Path) -> dict[str, Any] | None:
    """The resolved parameters recorded in a task file (``None`` for files written before
    recdyn recorded them, or unreadable ones)."""
    try:
        raw = (pq.read_metadata(path).metadata or {}).get(_KEY_RESOLVED)
        return None if raw is None else json.loads(raw)
    except (OSError, ValueError, pa.ArrowException):
        return None


class TaskFiles(UnitStore):
    """``tasks/`` or ``interactions/``: one Parquet file per task id, stamped with the
    spec hash it was written under."""

    suffix = ".parquet"
    kind = "task file"
    stamped_by = "spec"

    def stamp(self, path: Path) -> tuple[str | None, str | None]:
        try:
            meta = pq.read_metadata(path).metadata or {}
        except pa.ArrowException as err:
            raise ValueError(f"Parquet: {err}") from None
        return meta.get(_KEY_TASK, b"").decode() or None, meta.get(_KEY_HASH, b"").decode()

    def read(self, key: str) -> pd.DataFrame:
        return pd.read_parquet(self.path(key))


class TuningFiles(UnitStore):
    """``tuning/``: one JSON file per tuning job, the job's result with the hash of the
    spec that ran it (``spec_hash``). A tuning job's id hashes everything that determines
    its result, so a result is valid for any spec with the same job."""

    kind = "tuning result"

    def stamp(self, path: Path) -> tuple[str | None, str | None]:
        record = self.read_json(path)
        return record.get("tune_id"), record.get("spec_hash")

    def save_result(self, result: dict[str, Any], spec_hash: str) -> None:
        record = {**result, "spec_hash": spec_hash}
        self.write(result["tune_id"], json.dumps(record, indent=1))

    def result(self, tune_id: str) -> dict[str, Any] | None:
        """The stored result of ``tune_id``, or ``None`` (missing, unreadable, foreign)."""
        try:
            record = self.read_json(self.path(tune_id))
        except (OSError, ValueError):
            return None
        return record if record.get("tune_id", tune_id) == tune_id else None


__all__ = [
    "FORMAT",
    "STEP_COLUMNS",
    "TASK_COLUMNS",
    "CorruptResultWarning",
    "EncodedTask",
    "TaskFiles",
    "TaskOutput",
    "TuningFiles",
    "encode",
    "parquet_bytes",
    "read_resolved",
]
