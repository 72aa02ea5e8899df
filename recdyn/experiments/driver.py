"""Run plans on an executor and store the results: :func:`run_experiment` and
:func:`run_experiments`.

The driver (this process) plans, hands units of work to one executor
(:mod:`recdyn.engine`) — tuning jobs first, then each task as soon as its tuning result
exists — and writes each result to its store as it comes back. Workers only compute;
they never write to an output directory, so a run needs no shared filesystem and a lost
worker can never leave half a result behind.

Several experiments (a study spanning several environments) run on one pool and one
feed with :func:`run_experiments`: each keeps its own directory, lock, manifest and
resume/extend semantics, and its own lane of the feed. The experiments run in order, but
a worker that the current one has no unit for (its last tasks are running, or its tasks
wait for a tuning job) takes the next one's, so the slow tail of one experiment overlaps
the work of the next instead of idling workers, and the pool starts once. Each
experiment's run is recorded from its first unit (the pool's start, for the first one)
to its last.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from recdyn._validation import check_int
from recdyn.engine.feed import Event, Feed
from recdyn.engine.pools import Pool, check_backend, default_workers, make_pool
from recdyn.errors import InvalidParameterError
from recdyn.experiments.console import RunProgress
from recdyn.experiments.plan import Plan, Task, make_plan
from recdyn.experiments.resolved import check_resume
from recdyn.experiments.runner import TaskUnit, TuneUnit
from recdyn.experiments.spec import ExperimentSpec
from recdyn.experiments.store import Store

SpecLike = ExperimentSpec | Plan | str | Path


@dataclass
class RunResult:
    """What a run did in one experiment directory.

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


def run_experiment(spec: SpecLike, out: str | Path | None = None, **options: Any) -> RunResult:
    """Run every unfinished task of ``spec`` and store the results in ``out``.

    Parameters
    ----------
    spec : a validated spec, a plan, or the path of a TOML spec.
    out : output directory (default ``runs/<experiment name>``). Finished tasks found
        there are skipped; results of a different spec raise
        :class:`~recdyn.experiments.store.SpecChangedError`.

    Keyword options (all of them those of :func:`run_experiments`):

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
    progress : show progress bars (on a terminal); console : where to draw them.
    pool : run on this executor, already started (it is left open; ``backend``,
        ``workers``, ``address`` and ``max_retries`` are then its own).

    The numbers do not depend on ``backend``, ``workers`` or interruptions: re-running
    an interrupted study gives the same tables as an uninterrupted run (``seconds``, the
    wall time of each step, is the only column that varies).
    """
    return run_experiments([(spec, out)], **options)[0]


def run_experiments(
    runs: Iterable[tuple[SpecLike, str | Path | None]],
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    force: bool = False,
    extend: bool = False,
    max_retries: int = 1,
    progress: bool = False,
    console: Console | None = None,
    pool: Pool | None = None,
) -> list[RunResult]:
    """Run several experiments, ``(spec, out)`` pairs, on one pool and one feed.

    Each experiment is stored in its own directory exactly as :func:`run_experiment`
    stores it (same options, applied to each; same files, same numbers: seeds are
    derived by name, never by position); the units of all of them share the workers.
    Every directory is opened (and locked) before anything runs, so a spec change or a
    busy directory in any of them stops the run before it starts. Returns one
    :class:`RunResult` per pair, in order.
    """
    if pool is None:
        check_backend(backend, address)
    workers = default_workers(workers)
    max_retries = check_int("max_retries", max_retries, low=0)
    plans = [(s if isinstance(s, Plan) else make_plan(s), out) for s, out in runs]
    dirs = [Path(out) if out is not None else default_out(plan) for plan, out in plans]
    if len({d.resolve() for d in dirs}) < len(dirs):
        raise InvalidParameterError(
            f"each experiment needs its own output directory; got {', '.join(map(str, dirs))}"
        )
    with ExitStack() as stack:
        parts = []
        for i, ((plan, _), out) in enumerate(zip(plans, dirs)):
            store = Store.open(out, plan, force=force, extend=extend)
            stack.callback(store.close)
            parts.append(_Part(i, plan, store))
        active = [part for part in parts if part.prepare()]
        if active:
            n_tasks = sum(len(p.todo) for p in active)
            n_tune = sum(len(p.tune_todo) for p in active)
            n_workers = pool.workers if pool else min(workers, max(n_tasks, n_tune))
            shared = {"experiments": len(active)} if len(active) > 1 else {}
            for part in active:
                part.store.start_run(pool.backend if pool else backend, n_workers, **shared)
            steps = {key: task.steps for p in active for key, task in p.by_key.items()}
            ui = RunProgress(progress, n_tune, n_tasks, steps, console)
            try:
                if pool is None:
                    pool = stack.enter_context(make_pool(backend, n_workers, address, max_retries))
                with ui:
                    _run_units(pool, active, ui)
            finally:
                for part in active:
                    part.end()
    return [part.result for part in parts]


class _Part:
    """One experiment's share of a run: its plan and store, what is left to do, the
    tuning results at hand, the tasks waiting for theirs, and its :class:`RunResult`.
    Feed keys are ``"<i>:tune:<tune_id>"`` and ``"<i>:<task_id>"`` (``i``: its index)."""

    def __init__(self, index: int, plan: Plan, store: Store) -> None:
        self.lane, self.prefix = index, f"{index}:"
        self.plan, self.store = plan, store
        self.result = RunResult(store.root, plan)
        self.todo: list[Task] = []
        self.by_key: dict[str, Task] = {}
        self.tune_todo: list[Any] = []
        self.tuning: dict[str, dict[str, Any]] = {}
        self.waiting: dict[str, list[Task]] = {}
        self._open = 0
        self._ended = True
        self._began = False

    def prepare(self) -> bool:
        """Find what is left to do; check that a resume does not mix models. Whether
        there is anything to run."""
        done = self.store.finished()
        self.todo = [t for t in self.plan.tasks if t.task_id not in done]
        self.result.skipped = len(self.plan.tasks) - len(self.todo)
        if not self.todo:
            self.store.flush(force=True)  # statuses reconciled with the files
            return False
        self.by_key = {self.prefix + t.task_id: t for t in self.todo}
        jobs = {t.tuning.tune_id: t.tuning for t in self.todo if t.tuning is not None}
        for job in jobs.values():
            stored = self.store.tuning_result(job.tune_id)
            if stored is None:
                self.tune_todo.append(job)
            else:
                self.tuning[job.tune_id] = stored
        check_resume(self.plan, self.store, done, self.tuning)
        self._open, self._ended = len(self.todo), False
        return True

    def feed_tuning(self, feed: Feed) -> None:
        for job in self.tune_todo:
            feed.add(f"{self.prefix}tune:{job.tune_id}", TuneUnit(job), self.lane)

    def feed_tasks(self, feed: Feed) -> None:
        """Add the tasks whose tuning result exists; the others wait for it."""
        for task in self.todo:
            if task.tuning is None or task.tuning.tune_id in self.tuning:
                self._add(feed, task)
            else:
                self.waiting.setdefault(task.tuning.tune_id, []).append(task)

    def _add(self, feed: Feed, task: Task) -> None:
        chosen = self.tuning[task.tuning.tune_id] if task.tuning else None
        unit = TaskUnit(task, chosen, self.plan.spec_hash)
        feed.add(self.prefix + task.task_id, unit, self.lane)

    def on_event(self, ev: Event, feed: Feed, ui: RunProgress) -> None:
        """Store what ``ev`` brought (a tuning result, a task) and feed what it unblocks."""
        if not self._began:  # after the first, an experiment starts with its first unit
            self._began = True
            if self.lane:
                self.store.run_started(feed.opened[self.lane])
        key = ev.key[len(self.prefix) :]
        if key.startswith("tune:"):
            if ev.kind in ("done", "failed"):
                self._tuned(key[len("tune:") :], ev, feed, ui)
        elif ev.kind == "started":
            ui.started(ev.key)
        elif ev.kind == "step":
            ui.step(ev.key, ev.step)
        elif ev.kind == "done":
            self.store.write_task(ev.result)
            self.result.completed += 1
            ui.finished(ev.key, self.by_key[ev.key].describe())
            self._closed_one()
        else:
            self._fail(self.by_key[ev.key], ev.error or "failed", ui, ev.worker)

    def _tuned(self, tune_id: str, ev: Event, feed: Feed, ui: RunProgress) -> None:
        if ev.kind == "done":
            self.store.write_tuning(ev.result)
            self.tuning[tune_id] = ev.result
            for task in self.waiting.pop(tune_id, []):
                self._add(feed, task)
        else:
            error = f"its tuning job failed: {ev.error or 'failed'}"
            for task in self.waiting.pop(tune_id, []):
                self._fail(task, error, ui)
        ui.tuned(failed=ev.kind == "failed")

    def _fail(self, task: Task, error: str, ui: RunProgress, worker: str | None = None) -> None:
        self.store.mark_failed(task.task_id, error, worker)
        self.result.failed[task.task_id] = error
        ui.finished(self.prefix + task.task_id, task.describe(), failed=True)
        self._closed_one()

    def _closed_one(self) -> None:
        self._open -= 1
        if not self._open:
            self.end()  # its run ends with its last task, not with the whole pool's

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            r = self.result
            counts = {"completed": r.completed, "failed": len(r.failed), "skipped": r.skipped}
            self.store.end_run(counts)


def _run_units(pool: Pool, parts: list[_Part], ui: RunProgress) -> None:
    """Run every part on one feed, a lane each (:class:`~recdyn.engine.feed.Feed`): its
    tuning jobs, then its tasks, each joining as soon as its tuning result exists, so the
    tasks of fast tuning jobs run while slow ones tune; a worker the first experiment has
    no unit for takes the next experiment's."""
    feed = Feed()
    for part in parts:
        part.feed_tuning(feed)
        part.feed_tasks(feed)
    by_prefix = {part.prefix: part for part in parts}
    if not any(part.waiting for part in parts):
        feed.close()
    for ev in pool.run(feed):
        by_prefix[ev.key[: ev.key.index(":") + 1]].on_event(ev, feed, ui)
        if not feed.closed and not any(part.waiting for part in parts):
            feed.close()


__all__ = ["RunResult", "default_out", "run_experiment", "run_experiments"]
