"""Run a plan on an executor and store the results: :func:`run_experiment`.

The driver (this process) plans, hands units of work to the executor — tuning jobs first,
then each task as soon as its tuning result exists — and writes each result to the store
as it comes back. Workers only
compute; they never write to the output directory, so a run needs no shared filesystem
and a lost worker can never leave half a result behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from recdyn._validation import check_int
from recdyn.errors import InvalidParameterError
from recdyn.experiments.console import RunProgress
from recdyn.experiments.executors.base import THREAD_VARS, Event, Feed
from recdyn.experiments.executors.local import LocalPool
from recdyn.experiments.plan import Plan, Task, make_plan
from recdyn.experiments.resolved import check_resume
from recdyn.experiments.spec import ExperimentSpec
from recdyn.experiments.store import Store

BACKENDS = ("local", "ray")

__all__ = ["BACKENDS", "THREAD_VARS", "Event", "Feed", "LocalPool", "RunResult", "run_experiment"]


@dataclass
class RunResult:
    """What :func:`run_experiment` did.

    ``skipped``: tasks already finished by an earlier run; ``completed``: finished now;
    ``failed``: task id → error (failed tasks run again on the next run).
    """

    directory: Path
    plan: Plan
    skipped: int = 0
    completed: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def default_out(plan: Plan) -> Path:
    return Path("runs") / plan.spec.experiment.name


def make_pool(backend: str, workers: int, address: str | None = None, max_retries: int = 1) -> Any:
    """A :class:`LocalPool` or a :class:`~.ray_pool.RayPool`."""
    if backend == "local":
        if address:
            raise InvalidParameterError("--address joins a Ray cluster; add --backend ray")
        return LocalPool(workers, max_retries=max_retries)
    if backend == "ray":
        from recdyn.experiments.executors.ray_pool import RayPool

        return RayPool(workers, address=address, max_retries=max_retries)
    raise InvalidParameterError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")


def run_experiment(
    spec: ExperimentSpec | Plan | str | Path,
    out: str | Path | None = None,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    force: bool = False,
    extend: bool = False,
    max_retries: int = 1,
    progress: bool = False,
    console: Console | None = None,
) -> RunResult:
    """Run every unfinished task of ``spec`` and store the results in ``out``.

    Parameters
    ----------
    spec : a validated spec, a plan, or the path of a TOML spec.
    out : output directory (default ``runs/<experiment name>``). Finished tasks found
        there are skipped; results of a different spec raise
        :class:`~recdyn.experiments.store.SpecChangedError`.
    force : start over: move any earlier results in ``out`` to ``out/archive/<time>-<hash>/``
        (nothing is deleted), whether or not the spec changed.
    extend : after a spec change, keep the finished tasks the new spec leaves unchanged
        (same ``task_id``: more trials, recommenders or environments) and run only the
        others; results of tasks no longer in the spec are archived.
    backend : ``"local"`` (spawned processes) or ``"ray"``.
    workers : processes (local) or CPUs of the local Ray instance; default: all cores.
        Ignored with ``address``: a cluster runs as many tasks at once as it has CPUs.
    address : join this Ray cluster instead of starting a local instance.
    max_retries : re-runs of a task whose worker died (not of a task that raised).
    progress : show progress bars (on a terminal).

    The numbers do not depend on ``backend``, ``workers`` or interruptions: re-running
    an interrupted study gives the same tables as an uninterrupted run (``seconds``, the
    wall time of each step, is the only column that varies).
    """
    plan = spec if isinstance(spec, Plan) else make_plan(spec)
    if backend not in BACKENDS:
        raise InvalidParameterError(
            f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    if address and backend != "ray":
        raise InvalidParameterError("--address joins a Ray cluster; add --backend ray")
    if workers is None:
        workers = os.cpu_count() or 1
    workers = check_int("workers", workers, low=1)
    max_retries = check_int("max_retries", max_retries, low=0)
    out = Path(out) if out is not None else default_out(plan)
    store = Store.open(out, plan, force=force, extend=extend)
    try:
        return _run_plan(plan, store, backend, workers, address, max_retries, progress, console)
    finally:
        store.close()


def _run_plan(
    plan: Plan,
    store: Store,
    backend: str,
    workers: int,
    address: str | None,
    max_retries: int,
    progress: bool,
    console: Any,
) -> RunResult:
    """Run the tasks of ``plan`` that ``store`` has not finished."""
    result = RunResult(store.root, plan)
    done = store.finished()
    todo = [t for t in plan.tasks if t.task_id not in done]
    result.skipped = len(plan.tasks) - len(todo)
    if not todo:
        store.flush(force=True)  # statuses reconciled with the files
        return result
    tuning: dict[str, dict[str, Any]] = {}
    tune_todo = []
    jobs = {t.tuning.tune_id: t.tuning for t in todo if t.tuning is not None}
    for job in jobs.values():
        stored = store.tuning_result(job.tune_id)
        if stored is None:
            tune_todo.append(job)
        else:
            tuning[job.tune_id] = stored
    check_resume(plan, store, done, tuning)
    n_workers = min(workers, max(len(todo), len(tune_todo)))
    store.start_run(backend, n_workers)
    ui = RunProgress(progress, len(tune_todo), len(todo), plan.spec.experiment.steps, console)
    try:
        with make_pool(backend, n_workers, address, max_retries) as pool, ui:
            _run_units(pool, todo, tune_todo, tuning, store, ui, result)
    finally:
        store.end_run(
            {"completed": result.completed, "failed": len(result.failed), "skipped": result.skipped}
        )
    return result


def _run_units(
    pool: Any,
    tasks: list[Task],
    tune_jobs: list[Any],
    tuning: dict[str, dict[str, Any]],
    store: Store,
    ui: RunProgress,
    result: RunResult,
) -> None:
    """Run the tuning jobs, then the tasks, on one feed: a task joins it as soon as its
    tuning result exists, so the tasks of fast tuning jobs run while slow ones tune."""
    h = store.manifest["spec_hash"]
    feed = Feed(("tune:" + job.tune_id, ("tune", job)) for job in tune_jobs)
    waiting: dict[str, list[Task]] = {}
    by_id = {t.task_id: t for t in tasks}

    def add(task: Task) -> None:
        chosen = tuning[task.tuning.tune_id] if task.tuning else None
        feed.add(task.task_id, ("task", task, chosen, h))

    def fail(task_id: str, error: str, worker: str | None = None) -> None:
        store.mark_failed(task_id, error, worker)
        result.failed[task_id] = error
        ui.finished(task_id, by_id[task_id].describe(), failed=True)

    for task in tasks:
        if task.tuning is None or task.tuning.tune_id in tuning:
            add(task)
        else:
            waiting.setdefault(task.tuning.tune_id, []).append(task)
    if not waiting:
        feed.close()
    for ev in pool.run(feed):
        if ev.key.startswith("tune:"):
            if ev.kind not in ("done", "failed"):
                continue
            tune_id = ev.key[len("tune:") :]
            if ev.kind == "done":
                store.write_tuning(ev.result)
                tuning[tune_id] = ev.result
                for task in waiting.pop(tune_id, []):
                    add(task)
            else:
                error = f"its tuning job failed: {ev.error or 'failed'}"
                for task in waiting.pop(tune_id, []):
                    fail(task.task_id, error)
            ui.tuned(failed=ev.kind == "failed")
            if not waiting:
                feed.close()
        elif ev.kind == "started":
            ui.started(ev.key)
        elif ev.kind == "step":
            ui.step(ev.key, ev.step)
        elif ev.kind == "done":
            store.write_task(ev.result)
            result.completed += 1
            ui.finished(ev.key, by_id[ev.key].describe())
        else:
            fail(ev.key, ev.error or "failed", ev.worker)
