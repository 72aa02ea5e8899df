"""The result store of an experiment: a directory that a re-run resumes.

::

    <out>/manifest.json               spec, spec hash, versions, host, per-task status
    <out>/tasks/<task_id>.parquet     one file per finished task (per-step metrics)
    <out>/interactions/<task_id>.parquet   full interaction log (save_interactions)
    <out>/tuning/<tune_id>.json       offline tuning result (when [tuning] is given)
    <out>/archive/<time>-<hash>/      earlier results moved aside by ``--force`` (all)
                                      or ``--extend`` (those not in the new plan)
    <out>/.lock                       held (``flock``) by the run writing the directory

The concerns live in their own modules: the task and tuning files
(:mod:`.result_files`: format, encoding, verification), the manifest (:mod:`.manifest`),
what happens to another spec's results (:mod:`.archive`), loading (:mod:`.loading`), the
lock (:class:`recdyn.engine.lock.DirectoryLock`). :class:`Store` ties them together for
a run; the names this module has always offered are re-exported from here.

Every file is written atomically through :class:`recdyn.engine.unit_store.UnitStore` (the
interaction log before the task file). A task is finished if and only if its task file
exists and verifies, so an interrupted run (Ctrl-C, ``kill -9``, a lost machine) loses at
most the tasks in flight, and a re-run skips the rest. The manifest is a convenience
record (rewritten at most once a second and at the end); the task files are the truth,
and the manifest is reconciled with them on resume.

One run writes a directory at a time: :meth:`Store.open` takes the directory's lock
before it reads or writes anything else, and a second run on the same directory fails
with :class:`DirectoryBusyError` naming the process that holds it. The lock is released
when the run ends or its process dies.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from recdyn.engine.lock import LOCK, DirectoryBusyError, DirectoryLock
from recdyn.engine.unit_store import atomic_write
from recdyn.errors import InvalidParameterError
from recdyn.experiments.archive import SpecChangedError, reconcile
from recdyn.experiments.loading import load_interactions, load_results
from recdyn.experiments.manifest import (
    MANIFEST,
    accepted_hashes,
    environment_info,
    manifest_text,
    new_manifest,
    now,
    read_manifest,
    task_entries,
)
from recdyn.experiments.plan import Plan
from recdyn.experiments.result_files import (
    FORMAT,
    CorruptResultWarning,
    EncodedTask,
    TaskFiles,
    TaskOutput,
    TuningFiles,
    encode,
    read_resolved,
)


def _foreign(path: Path) -> bool:
    """Whether ``path`` in a directory without a manifest is not what a run that was
    killed as it started could have left (its lock, empty result folders, a temporary
    manifest, an archive)."""
    name = path.name
    if name in ("archive", LOCK, f".{MANIFEST}.tmp"):
        return False
    empty = path.is_dir() and not any(path.iterdir())
    return not (name in ("tasks", "interactions", "tuning") and empty)


class Store:
    """The output directory of one spec; see the module docstring for the layout."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.tasks = TaskFiles(root / "tasks")
        self.interactions = TaskFiles(root / "interactions")
        self.tuning = TuningFiles(root / "tuning")
        self._last_flush = 0.0
        self._flush_seconds = 0.0
        self._lock: DirectoryLock | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, root: str | Path, plan: Plan, force: bool = False, extend: bool = False) -> Store:
        """Create ``root`` for ``plan`` or reopen it to resume.

        A directory holding another spec's results raises :class:`SpecChangedError`,
        unless ``force`` (start over: earlier results are moved to
        ``archive/<time>-<hash>/``, never deleted) or ``extend`` (keep the finished tasks
        ``plan`` leaves unchanged), see :mod:`.archive`. A directory that another run
        writes raises :class:`DirectoryBusyError`, whatever that run has written so far.
        """
        root = Path(root)
        lock = DirectoryLock(root)  # first: nothing of a run starting now is looked at
        try:
            if not (root / MANIFEST).exists() and any(map(_foreign, root.iterdir())):
                lock.release(discard=True)
                raise InvalidParameterError(
                    f"{root} exists, is not empty and is not a recdyn experiment directory "
                    f"(no {MANIFEST}); choose another --out"
                )
            store = cls._open_locked(root, plan, force, extend)
        except BaseException:
            lock.release()
            raise
        store._lock = lock
        return store

    @classmethod
    def _open_locked(cls, root: Path, plan: Plan, force: bool, extend: bool) -> Store:
        old = None
        if (root / MANIFEST).exists():
            old = reconcile(root, read_manifest(root), plan, force, extend)
        for sub in ("tasks", "interactions", "tuning"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        manifest = old or new_manifest(plan)
        manifest["tasks"] = task_entries(plan, manifest.get("tasks", {}))
        store = cls(root, manifest)
        store.flush(force=True)
        return store

    def start_run(self, backend: str, workers: int | None, **details: Any) -> None:
        """Record a run (its backend, workers and ``details``) in the manifest."""
        self.manifest["runs"].append(
            {
                "started": now(),
                "backend": backend,
                "workers": workers,
                **details,
                **environment_info(),
            }
        )

    def run_started(self, at: float) -> None:
        """The run's first unit started at ``at`` (epoch seconds), after the run itself
        (an experiment that waited for others on a shared pool): its start, as recorded."""
        runs = self.manifest["runs"]
        if runs and "ended" not in runs[-1]:
            runs[-1]["started"] = now(at)

    # ------------------------------------------------------------------ tasks
    def finished(self) -> set[str]:
        """Ids of the plan's tasks whose result files verify; fixes the manifest to match
        and warns about files that do not verify (their tasks will run again)."""
        done: set[str] = set()
        hashes = accepted_hashes(self.manifest)
        logs = self._wants_interactions()
        for task_id, entry in self.manifest["tasks"].items():
            problem = self.tasks.problem(task_id, hashes)
            if problem is None and logs and not self.interactions.path(task_id).exists():
                problem = "missing"
            if problem is None:
                done.add(task_id)
                entry["status"] = "done"
                continue
            if problem != "missing":
                path = self.tasks.path(task_id)
                warnings.warn(f"{path}: {problem}; running the task again", CorruptResultWarning, 2)
            if entry["status"] == "done":
                entry["status"] = "pending"
        return done

    def _wants_interactions(self) -> bool:
        return bool(self.manifest["spec"]["experiment"].get("save_interactions"))

    def write_task(self, out: TaskOutput | EncodedTask) -> None:
        """Store a finished task (interaction log first: the task file marks completion)."""
        if not isinstance(out, EncodedTask):
            out = encode(out, self.manifest["spec_hash"])
        if out.interactions is not None:
            self.interactions.write(out.task_id, out.interactions)
        self.tasks.write(out.task_id, out.table)
        entry = self.manifest["tasks"][out.task_id]
        entry.update(status="done", seconds=round(out.seconds, 6), worker=out.worker)
        entry.pop("error", None)
        if out.tuned_params is not None:
            entry["tuned_params"] = out.tuned_params
        self.flush()

    def mark_failed(self, task_id: str, error: str, worker: str | None = None) -> None:
        entry = self.manifest["tasks"][task_id]
        entry.update(status="failed", error=error, worker=worker)
        self.flush()

    # ------------------------------------------------------------------ tuning
    def tuning_result(self, tune_id: str) -> dict[str, Any] | None:
        return self.tuning.result(tune_id)

    def write_tuning(self, result: dict[str, Any]) -> None:
        self.tuning.save_result(result, self.manifest["spec_hash"])

    # ------------------------------------------------------------------ manifest
    def flush(self, force: bool = False) -> None:
        """Rewrite the manifest (atomically) unless ``force`` is false and it was written
        recently: at most once a second, and less often for a manifest so large that
        writing it takes more than 2% of the time (thousands of tasks)."""
        start = time.monotonic()
        if not force and start - self._last_flush < max(1.0, 50 * self._flush_seconds):
            return
        self.manifest["updated"] = stamp = now()
        runs = self.manifest.get("runs")
        if runs and "ended" not in runs[-1]:
            runs[-1]["updated"] = stamp  # a run killed later keeps its last sign of life
        atomic_write(self.root / MANIFEST, manifest_text(self.manifest))
        self._last_flush = time.monotonic()
        self._flush_seconds = self._last_flush - start

    def end_run(self, counts: dict[str, int]) -> None:
        runs = self.manifest["runs"]
        if runs and "ended" not in runs[-1]:
            runs[-1].update(ended=now(), **counts)
        self.flush(force=True)

    def close(self) -> None:
        """Release the directory (another run may open it)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


__all__ = [
    "FORMAT",
    "MANIFEST",
    "CorruptResultWarning",
    "DirectoryBusyError",
    "EncodedTask",
    "SpecChangedError",
    "Store",
    "encode",
    "load_interactions",
    "load_results",
    "read_manifest",
    "read_resolved",
]
