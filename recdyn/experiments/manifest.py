"""``manifest.json``: the record of an experiment directory.

It holds the spec and its hash, the versions of recdyn and of every backend library that
computes results (:data:`VERSIONED`), the host, one entry per run (started, ended,
backend, workers, counts) and one entry per task of the plan (its seeds, status, seconds,
worker, tuned parameters). The manifest is a convenience record: the task files are the
truth, and :class:`~recdyn.experiments.store.Store` reconciles the manifest with them on
resume.
"""

from __future__ import annotations

import json
import platform
import socket
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from recdyn.errors import InvalidParameterError
from recdyn.experiments.plan import Plan, seed_record
from recdyn.experiments.result_files import FORMAT

MANIFEST = "manifest.json"
#: Distributions whose versions are recorded: recdyn and every library that computes or
#: stores its results (numba: k-NN and MF kernels; torch: neural models; myfm: Bayes MF;
#: ray: the Ray executor).
VERSIONED = (
    "recdyn",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "numba",
    "torch",
    "myfm",
    "ray",
)
#: fields of a task entry that a reopened directory keeps from its earlier runs
_KEPT = ("status", "seconds", "worker", "error", "tuned_params")


def now(at: float | None = None) -> str:
    """The time (now, or ``at`` epoch seconds) as the manifest writes it (UTC, ISO 8601)."""
    when = datetime.now(timezone.utc) if at is None else datetime.fromtimestamp(at, timezone.utc)
    return when.isoformat(timespec="seconds")


def environment_info() -> dict[str, Any]:
    """Versions of :data:`VERSIONED` (``None``: not installed), Python, platform, host."""
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "versions": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
    }


def new_manifest(plan: Plan) -> dict[str, Any]:
    """The manifest of a directory that ``plan`` starts."""
    return {
        "format": FORMAT,
        "spec_hash": plan.spec_hash,
        "spec": plan.spec.canonical(),
        **environment_info(),
        "created": now(),
        "runs": [],
    }


def task_entries(plan: Plan, previous: dict[str, Any]) -> dict[str, Any]:
    """One entry per task of ``plan`` (seeds, tuning job, status), keeping the status,
    seconds, worker, error and tuned parameters of ``previous`` entries."""
    return {
        t.task_id: {
            "index": t.index,
            "environment": t.environment,
            "recommender": t.recommender,
            "params": t.params_json,
            "policy": t.policy,
            "trial": t.trial,
            "seed": seed_record(t.seed),
            "env_seed": [seed_record(t.env_init), seed_record(t.env_dynamics)],
            "tune_id": t.tuning.tune_id if t.tuning else None,
            "status": "pending",
            "seconds": None,
            "worker": None,
            **{k: v for k, v in previous.get(t.task_id, {}).items() if k in _KEPT},
        }
        for t in plan.tasks
    }


def accepted_hashes(manifest: dict[str, Any]) -> frozenset[str]:
    """The spec hashes whose task files count as results of ``manifest``'s spec: its own,
    and those of the specs it extended (their tasks with an unchanged ``task_id``)."""
    return frozenset([manifest["spec_hash"], *manifest.get("extends", [])])


def manifest_text(manifest: dict[str, Any]) -> str:
    """Indented JSON with one line per task (fast to write for many tasks, easy to read)."""
    head = json.dumps({k: v for k, v in manifest.items() if k != "tasks"}, indent=1, default=str)
    rows = ",\n".join(
        f"  {json.dumps(task_id)}: {json.dumps(entry, default=str, separators=(', ', ': '))}"
        for task_id, entry in manifest.get("tasks", {}).items()
    )
    return f'{head[:-2]},\n "tasks": {{\n{rows}\n }}\n}}\n'


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of the experiment directory ``root``; a clear error if it has none or
    it is unreadable or of another format."""
    path = Path(root) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidParameterError(
            f"{root} is not a recdyn experiment directory (no {MANIFEST})"
        ) from None
    except (OSError, ValueError) as err:
        raise InvalidParameterError(f"cannot read {path}: {err}") from None
    if manifest.get("format") != FORMAT:
        raise InvalidParameterError(
            f"{path} has format {manifest.get('format')!r}; this recdyn reads {FORMAT!r}"
        )
    return manifest


__all__ = [
    "MANIFEST",
    "VERSIONED",
    "accepted_hashes",
    "environment_info",
    "manifest_text",
    "new_manifest",
    "now",
    "read_manifest",
    "task_entries",
]
