"""Run one unit of work of a plan — a tuning job or a task — inside any worker.

This is the only code of an experiment that executes on workers (local processes or
Ray): :class:`TuneUnit` and :class:`TaskUnit` are the plain-data payloads the driver feeds
to the executor (:mod:`recdyn.engine`), whose workers call their ``run`` method. It
builds the environment, recommender and policy from their names, so a worker needs
recdyn (and the spec's ``imports``) installed, nothing else; it returns plain data (a
task's Parquet files as bytes, a tuning result as a dict) that the driver writes to the
store. Workers never touch the output directory.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recdyn._json import json_params
from recdyn.engine.workers import worker_name
from recdyn.experiments.plan import Task, TuningJob
from recdyn.experiments.result_files import (
    STEP_COLUMNS,
    TASK_COLUMNS,
    EncodedTask,
    TaskOutput,
    encode,
)
from recdyn.experiments.spec import tuples
from recdyn.interactions import COLUMNS as INTERACTION_COLUMNS


@dataclass(frozen=True)
class TuneUnit:
    """Payload of a tuning job: :func:`run_tuning` in a worker."""

    job: TuningJob

    def run(self, report: Callable[[int], None] | None = None) -> dict[str, Any]:
        return run_tuning(self.job)


@dataclass(frozen=True)
class TaskUnit:
    """Payload of a task, with its tuning result (if any) and the hash of its spec: the
    task simulated in a worker and returned as its Parquet files. ``report(step)`` is
    called as the simulation advances (progress bars)."""

    task: Task
    tuning: dict[str, Any] | None
    spec_hash: str

    def run(self, report: Callable[[int], None] | None = None) -> EncodedTask:
        return encode(_simulate_task(self.task, self.tuning, report), self.spec_hash)


def resolved_params(env: Any, rec: Any, policy: Any = None) -> dict[str, Any]:
    """Every constructor parameter of ``env``, ``rec`` and ``policy`` (if given) —
    configured, preset or default — as JSON values (:func:`recdyn._json.json_params`):
    ``{"environment": {...}, "recommender": {...}, "policy": {...}}``. Workers record it
    with each result, so that a resume can tell when a default changed (:mod:`.resolved`)."""
    parts = {"environment": env, "recommender": rec, "policy": policy}
    return json_params({part: obj.get_params() for part, obj in parts.items() if obj is not None})


def import_modules(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)


def run_tuning(job: TuningJob) -> dict[str, Any]:
    """Grid search (or cross-validation, without a grid) on the environment's initial data.

    Returns ``{"tune_id", "best_params", "offline": {metric: mean over folds}, "results":
    [rows of the grid table], "resolved": resolved_params(...) before the search, "seconds",
    "worker"}``.
    """
    from recdyn.environments import make as make_environment
    from recdyn.evaluation import cross_validate, grid_search
    from recdyn.recommenders import make as make_recommender

    import_modules(job.imports)
    start = time.perf_counter()
    env = make_environment(job.preset, **tuples(job.overrides))
    rec = make_recommender(job.recommender, **tuples(job.params))
    resolved = resolved_params(env, rec)
    if job.grid:
        result = grid_search(
            rec,
            tuples(job.grid),
            env,
            folds=job.folds,
            metric=job.metric,
            metrics=job.metrics,
            seed=job.seed,
        )
        best_row = result.results[result.results["rank"] == 1].iloc[0]
        offline = {m: float(best_row[f"mean_{m}"]) for m in job.metrics}
        best = {k: _plain(v) for k, v in result.best_params.items()}
        rows = [{k: _plain(v) for k, v in r.items()} for r in result.results.to_dict("records")]
    else:
        table = cross_validate(rec, env, folds=job.folds, metrics=job.metrics, seed=job.seed)
        offline = {m: float(table.loc["mean", m]) for m in job.metrics}
        best, rows = {}, []
    return {
        "tune_id": job.tune_id,
        "best_params": best,
        "offline": offline,
        "results": rows,
        "resolved": resolved,
        "seconds": time.perf_counter() - start,
        "worker": worker_name(),
    }


def run_task(
    task: Task,
    tuning: dict[str, Any] | None = None,
    report: Callable[[int], None] | None = None,
) -> TaskOutput:
    """``simulate`` one task and return its result table (format: :mod:`.store`).

    ``tuning`` is the task's tuning result (best parameters and offline metrics), if any;
    ``report(step)`` is called after each step.
    """
    out = _simulate_task(task, tuning, report)
    logs = out.interactions
    return TaskOutput(
        out.task_id,
        pd.DataFrame(out.table),
        None if logs is None else pd.DataFrame(logs),
        out.seconds,
        out.worker,
        out.tuned_params,
        out.resolved,
    )


def _simulate_task(
    task: Task, tuning: dict[str, Any] | None, report: Callable[[int], None] | None
) -> TaskOutput:
    """Like :func:`run_task`, with the tables as dicts of columns (no pandas on the way
    to Parquet: the per-task overhead matters when tasks take milliseconds)."""
    from recdyn.environments import make as make_environment
    from recdyn.heldout import HeldOut
    from recdyn.policies import make as make_policy
    from recdyn.recommenders import make as make_recommender
    from recdyn.simulation import simulate

    import_modules(task.imports)
    start = time.perf_counter()
    tuned = dict(tuning["best_params"]) if tuning else {}
    heldout = HeldOut(**tuples(task.heldout)) if task.heldout is not None else None
    env = make_environment(task.preset, **tuples(task.overrides))
    rec = make_recommender(task.recommender, **tuples({**task.params, **tuned}))
    policy = make_policy(task.policy_name, **tuples(task.policy_params))
    resolved = resolved_params(env, rec, policy)
    traj = simulate(
        env,
        rec,
        policy,
        steps=task.steps,
        seed=task.seed,
        k=task.k,
        retrain_every=task.retrain_every,
        metrics=online_metrics(task.metrics),
        training=task.training,
        heldout=heldout,
        env_seed=(task.env_init, task.env_dynamics),
        callback=(lambda step, _row: report(step)) if report is not None else None,
    )
    metrics = traj.metrics
    n = len(metrics)
    table: dict[str, Any] = {
        "task_id": [task.task_id] * n,
        "environment": [task.environment] * n,
        "recommender": [task.recommender] * n,
        "params": [task.params_json] * n,
        "policy": [task.policy] * n,
        "trial": np.full(n, task.trial, np.int64),
    }
    table.update({col: metrics[col].to_numpy() for col in metrics.columns})
    for metric, value in (tuning["offline"] if tuning else {}).items():
        table[f"offline_{metric}"] = np.full(n, value, np.float64)
    logs = None
    if task.save_interactions:
        log = traj.interactions
        logs = {c: getattr(log, c) for c in INTERACTION_COLUMNS if getattr(log, c) is not None}
    seconds = time.perf_counter() - start
    return TaskOutput(task.task_id, table, logs, seconds, worker_name(), tuned or None, resolved)


def online_metrics(entries: tuple[Any, ...]) -> list[Any]:
    """A task's metrics for ``simulate``: names as they are, tables ``{"name", "params"}``
    as metric objects (``online_metrics.make(name, **params)``)."""
    from recdyn.metrics.online import online_metrics as registry

    return [
        m if isinstance(m, str) else registry.make(m["name"], **tuples(m.get("params", {})))
        for m in entries
    ]


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars (JSON), tuples as lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


__all__ = [
    "STEP_COLUMNS",
    "TASK_COLUMNS",
    "TaskOutput",
    "TaskUnit",
    "TuneUnit",
    "import_modules",
    "resolved_params",
    "run_task",
    "run_tuning",
    "worker_name",
]
