"""Reading an experiment directory: :func:`load_results` and :func:`load_interactions`."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa

from recdyn.errors import InvalidParameterError
from recdyn.experiments.manifest import accepted_hashes, read_manifest
from recdyn.experiments.result_files import TASK_COLUMNS, CorruptResultWarning, TaskFiles


def load_results(directory: str | Path) -> pd.DataFrame:
    """All finished tasks of an experiment directory as one tidy DataFrame.

    One row per (task, step), in plan order, with the columns of a task file
    (:mod:`recdyn.experiments.result_files`). Files in ``tasks/`` that are truncated,
    unreadable or not from this experiment are skipped with a
    :class:`CorruptResultWarning` naming the file; temporary files (``.*.tmp``) are
    ignored.
    """
    root = Path(directory)
    manifest = read_manifest(root)
    hashes, tasks = accepted_hashes(manifest), manifest.get("tasks", {})
    files = TaskFiles(root / "tasks")
    frames: list[tuple[int, pd.DataFrame]] = []
    for key in files.keys():
        problem = files.problem(key, hashes)
        if problem is None and key not in tasks:
            problem = "not a task of this experiment's plan"
        if problem is None:
            try:
                frames.append((tasks[key]["index"], files.read(key)))
                continue
            except (OSError, pa.ArrowException) as err:
                problem = f"unreadable Parquet data ({err})"
        warnings.warn(f"{files.path(key)}: {problem}; not loaded", CorruptResultWarning, 2)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in (*TASK_COLUMNS, "step")})
    frames.sort(key=lambda f: f[0])
    return pd.concat([f for _, f in frames], ignore_index=True)


def load_interactions(directory: str | Path, task_id: str | None = None) -> pd.DataFrame:
    """Interaction logs saved with ``save_interactions`` (one task, or all with a
    ``task_id`` column first); columns ``user, item, rating, step[, propensity]``."""
    root = Path(directory)
    manifest = read_manifest(root)
    ids = [task_id] if task_id is not None else list(manifest.get("tasks", {}))
    logs = TaskFiles(root / "interactions")
    frames = []
    for tid in ids:
        problem = logs.problem(tid, accepted_hashes(manifest))
        if problem == "missing":
            if task_id is not None:
                raise InvalidParameterError(f"no interaction log for task {tid!r} in {root}")
            continue
        if problem is not None:
            warnings.warn(f"{logs.path(tid)}: {problem}; not loaded", CorruptResultWarning, 2)
            continue
        df = logs.read(tid)
        df.insert(0, "task_id", tid)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["task_id", "user", "item", "rating", "step"])
    return pd.concat(frames, ignore_index=True)


__all__ = ["load_interactions", "load_results"]
