"""The result store of an experiment: a directory that a re-run resumes.

::

    <out>/manifest.json               spec, spec hash, versions, host, per-task status
    <out>/tasks/<task_id>.parquet     one file per finished task (per-step metrics)
    <out>/interactions/<task_id>.parquet   full interaction log (save_interactions)
    <out>/tuning/<tune_id>.json       offline tuning result (when [tuning] is given)
    <out>/archive/<time>-<hash>/      earlier results moved aside by ``--force`` (all)
                                      or ``--extend`` (those not in the new plan)
    <out>/.lock                       held (``flock``) by the run writing the directory

Task files have the columns ``task_id, environment, recommender, params, policy, trial``
(``params`` is the canonical JSON of the configured hyperparameters), then ``step``, one
column per online metric, ``n_ratings``, ``seconds`` and, when tuning ran,
``offline_<metric>`` (the chosen configuration's mean k-fold CV metric, constant within a
task). Their Parquet key-value metadata holds ``recdyn.task_id``, ``recdyn.spec_hash``
and ``recdyn.format``, which the loader checks against the file name and the manifest,
and ``recdyn.resolved``: every constructor parameter of the environment, recommender and
policy the task ran with (JSON), which a resume checks against what this recdyn would
build (:mod:`recdyn.experiments.resolved`).

Writes are atomic: a file is written as ``.<name>.tmp`` in the same directory and renamed
over its final name (``os.replace``), the interaction log before the task file. A task is
finished if and only if its task file exists and verifies, so an interrupted run (Ctrl-C,
``kill -9``, a lost machine) loses at most the tasks in flight, and a re-run skips the
rest. The manifest is a convenience record (rewritten at most once a second and at the
end); the task files are the truth, and the manifest is reconciled with them on resume.
Atomicity is against crashes of the process, not power loss (no fsync): a file cut short
by the operating system fails verification and its task is run again.

One run writes a directory at a time: :meth:`Store.open` takes an exclusive ``flock`` on
``<out>/.lock`` before it reads or writes anything else, and a second run on the same
directory fails with :class:`DirectoryBusyError` naming the process that holds it (on
systems without ``fcntl``, e.g. Windows, there is no lock). The lock is released when the
run ends or its process dies.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from recdyn.errors import InvalidParameterError, RecdynError
from recdyn.experiments.plan import Plan, seed_record
from recdyn.experiments.runner import TASK_COLUMNS, TaskOutput

FORMAT = "recdyn-experiment/1"
MANIFEST = "manifest.json"
LOCK = ".lock"
_KEY_TASK, _KEY_HASH, _KEY_FORMAT = b"recdyn.task_id", b"recdyn.spec_hash", b"recdyn.format"
_KEY_RESOLVED = b"recdyn.resolved"
_VERSIONED = ("recdyn", "numpy", "scipy", "pandas", "pyarrow", "numba", "torch", "ray")


class SpecChangedError(RecdynError):
    """The output directory holds results of a different spec."""


class DirectoryBusyError(RecdynError):
    """Another run is writing the output directory."""


class CorruptResultWarning(UserWarning):
    """A file in ``tasks/`` is truncated, unreadable or not from this experiment."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment_info() -> dict[str, Any]:
    versions = {}
    for name in _VERSIONED:
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


def atomic_write_bytes(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)``, then rename ``tmp_path`` to ``path`` (same directory)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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


def encode(out: TaskOutput, spec_hash: str) -> EncodedTask:
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


def verify(path: Path, spec_hash: str | frozenset[str]) -> str | None:
    """``None`` if ``path`` is a complete task file written under ``spec_hash`` (or one of
    a set of hashes: see :func:`accepted_hashes`), else what is wrong."""
    try:
        meta = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException) as err:
        return f"unreadable or truncated Parquet file ({err})"
    task_id = meta.get(_KEY_TASK, b"").decode()
    if task_id != path.stem:
        return f"not a recdyn task file (task id {task_id or 'missing'!r} in its metadata)"
    found = meta.get(_KEY_HASH, b"").decode()
    if found not in ({spec_hash} if isinstance(spec_hash, str) else spec_hash):
        return f"written by another spec (hash {found[:12] or 'missing'})"
    return None


def accepted_hashes(manifest: dict[str, Any]) -> frozenset[str]:
    """The spec hashes whose task files count as results of ``manifest``'s spec: its own,
    and those of the specs it extended (their tasks with an unchanged ``task_id``)."""
    return frozenset([manifest["spec_hash"], *manifest.get("extends", [])])


class Store:
    """The output directory of one spec; see the module docstring for the layout."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self._last_flush = 0.0
        self._flush_seconds = 0.0
        self._lock: _DirectoryLock | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, root: str | Path, plan: Plan, force: bool = False, extend: bool = False) -> Store:
        """Create ``root`` for ``plan`` or reopen it to resume.

        A directory holding another spec's results raises :class:`SpecChangedError`.
        ``force`` starts over: earlier results (of this spec or another) are moved to
        ``archive/<time>-<hash>/``, never deleted. ``extend`` adopts another spec's
        results instead: a task's id is the hash of everything that determines its
        numbers, so a finished task whose id is in ``plan`` (e.g. trials 0-1 when the
        spec grows from 2 to 10 trials, or the old recommenders when one is added) is
        kept, and the files of tasks that are not in ``plan`` are archived.
        """
        root = Path(root)
        path = root / MANIFEST
        if (
            not path.exists()
            and root.exists()
            and any(p.name not in ("archive", LOCK) for p in root.iterdir())
        ):
            raise InvalidParameterError(
                f"{root} exists, is not empty and is not a recdyn experiment directory (no "
                f"{MANIFEST}); choose another --out"
            )
        lock = _DirectoryLock(root)
        try:
            store = cls._open_locked(root, plan, force, extend)
        except BaseException:
            lock.release()
            raise
        store._lock = lock
        return store

    @classmethod
    def _open_locked(cls, root: Path, plan: Plan, force: bool, extend: bool) -> Store:
        path = root / MANIFEST
        old: dict[str, Any] | None = None
        if path.exists():
            old = read_manifest(root)
            if force:
                _archive(root, old)
                old = None
            elif old.get("spec_hash") != plan.spec_hash:
                kept = _finished_in(root, old, plan)
                if not extend:
                    hint = (
                        f"; --extend to keep the {len(kept)} finished tasks that this spec "
                        "leaves unchanged and run only the others"
                        if kept
                        else ""
                    )
                    raise SpecChangedError(
                        f"{root} holds results of a different spec (hash "
                        f"{str(old.get('spec_hash'))[:12]}, this spec {plan.spec_hash[:12]}); "
                        f"changed: {_diff(old.get('spec', {}), plan.spec.canonical())}. Use "
                        "--force to move the old results to archive/ and start over"
                        f"{hint}, or --out DIR for a new directory"
                    )
                old = _adopt(root, old, plan, kept)
        for sub in ("tasks", "interactions", "tuning"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        info = environment_info()
        manifest = old or {
            "format": FORMAT,
            "spec_hash": plan.spec_hash,
            "spec": plan.spec.canonical(),
            **info,
            "created": now(),
            "runs": [],
        }
        previous = manifest.get("tasks", {})
        manifest["tasks"] = {
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
                **{
                    k: v
                    for k, v in previous.get(t.task_id, {}).items()
                    if k in ("status", "seconds", "worker", "error", "tuned_params")
                },
            }
            for t in plan.tasks
        }
        store = cls(root, manifest)
        store.flush(force=True)
        return store

    def start_run(self, backend: str, workers: int | None) -> None:
        self.manifest["runs"].append(
            {"started": now(), "backend": backend, "workers": workers, **environment_info()}
        )

    # ------------------------------------------------------------------ tasks
    def finished(self) -> set[str]:
        """Ids of the plan's tasks whose result files verify; fixes the manifest to match
        and warns about files that do not verify (their tasks will run again)."""
        done: set[str] = set()
        hashes = accepted_hashes(self.manifest)
        for task_id, entry in self.manifest["tasks"].items():
            path = self.root / "tasks" / f"{task_id}.parquet"
            problem = verify(path, hashes) if path.exists() else "missing"
            if problem is None and self._wants_interactions():
                ok = (self.root / "interactions" / f"{task_id}.parquet").exists()
                problem = None if ok else "missing"
            if problem is None:
                done.add(task_id)
                entry["status"] = "done"
                continue
            if problem != "missing":
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
        for sub, data in (("interactions", out.interactions), ("tasks", out.table)):
            if data is not None:
                path = self.root / sub / f"{out.task_id}.parquet"
                atomic_write_bytes(path, lambda tmp, data=data: tmp.write_bytes(data))
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
        path = self.root / "tuning" / f"{tune_id}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def write_tuning(self, result: dict[str, Any]) -> None:
        path = self.root / "tuning" / f"{result['tune_id']}.json"
        text = json.dumps({**result, "spec_hash": self.manifest["spec_hash"]}, indent=1)
        atomic_write_bytes(path, lambda tmp: tmp.write_text(text))

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
        text = _manifest_text(self.manifest)
        atomic_write_bytes(self.root / MANIFEST, lambda tmp: tmp.write_text(text))
        self._last_flush = time.monotonic()
        self._flush_seconds = self._last_flush - start

    def end_run(self, counts: dict[str, int]) -> None:
        if self.manifest["runs"]:
            self.manifest["runs"][-1].update(ended=now(), **counts)
        self.flush(force=True)

    def close(self) -> None:
        """Release the directory (another run may open it)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class _DirectoryLock:
    """An exclusive, non-blocking ``flock`` on ``root/.lock`` (creating ``root``); the
    file says who holds it. A no-op where ``fcntl`` does not exist."""

    def __init__(self, root: Path) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            self._file = None
            return
        root.mkdir(parents=True, exist_ok=True)
        self._file = open(root / LOCK, "a+", encoding="utf-8")  # held open: the lock
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise DirectoryBusyError(
                f"{root} is being written by another run ({holder}); wait for it to end, "
                "or choose another --out"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"recdyn pid {os.getpid()} on {socket.gethostname()} since {now()}")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()  # closing the file releases the flock


def _manifest_text(manifest: dict[str, Any]) -> str:
    """Indented JSON with one line per task (fast to write for many tasks, easy to read)."""
    head = json.dumps({k: v for k, v in manifest.items() if k != "tasks"}, indent=1, default=str)
    rows = ",\n".join(
        f"  {json.dumps(task_id)}: {json.dumps(entry, default=str, separators=(', ', ': '))}"
        for task_id, entry in manifest.get("tasks", {}).items()
    )
    return f'{head[:-2]},\n "tasks": {{\n{rows}\n }}\n}}\n'


def read_manifest(root: str | Path) -> dict[str, Any]:
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


def _archive(root: Path, old: dict[str, Any]) -> Path:
    dest = _archive_dir(root, old)
    for name in (MANIFEST, "tasks", "interactions", "tuning"):
        if (root / name).exists():
            shutil.move(str(root / name), str(dest / name))
    return dest


def _archive_dir(root: Path, old: dict[str, Any]) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    dest = root / "archive" / f"{stamp}-{str(old.get('spec_hash'))[:12]}"
    dest.mkdir(parents=True, exist_ok=False)
    return dest


def _finished_in(root: Path, old: dict[str, Any], plan: Plan) -> set[str]:
    """Tasks of ``plan`` that have a verified result file of the ``old`` spec."""
    hashes = accepted_hashes(old)
    return {
        t.task_id
        for t in plan.tasks
        if (path := root / "tasks" / f"{t.task_id}.parquet").exists()
        and verify(path, hashes) is None
    }


def _adopt(root: Path, old: dict[str, Any], plan: Plan, kept: set[str]) -> dict[str, Any]:
    """The manifest of ``plan`` taking over ``old``'s finished tasks ``kept``; every other
    task or interaction file (and a copy of the old manifest) moves to ``archive/``."""
    dest = _archive_dir(root, old)
    shutil.copy2(root / MANIFEST, dest / MANIFEST)
    for sub in ("tasks", "interactions"):
        for path in (root / sub).glob("*.parquet") if (root / sub).exists() else ():
            if path.stem not in kept:
                (dest / sub).mkdir(exist_ok=True)
                shutil.move(str(path), str(dest / sub / path.name))
    extended = [*old.get("extended", [])]
    extended.append({"at": now(), "from": old["spec_hash"], "kept": len(kept)})
    return {
        **old,
        "spec_hash": plan.spec_hash,
        "spec": plan.spec.canonical(),
        "extends": sorted(accepted_hashes(old)),
        "extended": extended,
        "tasks": {tid: e for tid, e in old.get("tasks", {}).items() if tid in kept},
    }


def _diff(old: Any, new: Any, path: str = "", out: list[str] | None = None) -> str:
    """A short description of where two canonical specs differ."""
    out = [] if out is None else out
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            _diff(old.get(key), new.get(key), f"{path}.{key}" if path else str(key), out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append(f"{path or 'spec'} {json.dumps(old)} -> {json.dumps(new)}")
    if path == "":
        return "; ".join(out[:5]) + (f" (+{len(out) - 5} more)" if len(out) > 5 else "")
    return ""


# ---------------------------------------------------------------------- loading
def load_results(directory: str | Path) -> pd.DataFrame:
    """All finished tasks of an experiment directory as one tidy DataFrame.

    One row per (task, step), in plan order, with the columns described in the module
    docstring. Files in ``tasks/`` that are truncated, unreadable or not from this
    experiment are skipped with a :class:`CorruptResultWarning` naming the file;
    temporary files (``.*.tmp``) are ignored.
    """
    root = Path(directory)
    manifest = read_manifest(root)
    h, tasks = accepted_hashes(manifest), manifest.get("tasks", {})
    frames: list[tuple[int, pd.DataFrame]] = []
    for path in sorted((root / "tasks").glob("*.parquet")):
        if path.name.startswith("."):
            continue
        problem = verify(path, h)
        if problem is None and path.stem not in tasks:
            problem = "not a task of this experiment's plan"
        if problem is None:
            try:
                frames.append((tasks[path.stem]["index"], pd.read_parquet(path)))
                continue
            except (OSError, pa.ArrowException) as err:
                problem = f"unreadable Parquet data ({err})"
        warnings.warn(f"{path}: {problem}; not loaded", CorruptResultWarning, 2)
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
    frames = []
    for tid in ids:
        path = root / "interactions" / f"{tid}.parquet"
        if not path.exists():
            if task_id is not None:
                raise InvalidParameterError(f"no interaction log for task {tid!r} in {root}")
            continue
        problem = verify(path, accepted_hashes(manifest))
        if problem is not None:
            warnings.warn(f"{path}: {problem}; not loaded", CorruptResultWarning, 2)
            continue
        df = pd.read_parquet(path)
        df.insert(0, "task_id", tid)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["task_id", "user", "item", "rating", "step"])
    return pd.concat(frames, ignore_index=True)
