"""Experiments at scale: a study is one TOML spec and one command.

``spec`` (TOML → validated pydantic models) → ``plan`` (tasks with seeds derived by name)
→ ``driver`` (the units fed to an executor of :mod:`recdyn.engine`: local processes or
Ray; several experiments can share one pool, :func:`run_experiments`) → ``store`` (one
Parquet file per finished task, resumable) → :func:`load_results` (one tidy DataFrame)
and ``recdyn report``.

>>> from recdyn.experiments import load_spec, make_plan, run_experiment, load_results
>>> plan = make_plan(load_spec("examples/quick.toml"))     # doctest: +SKIP
>>> run_experiment(plan, "runs/quick", workers=2)           # doctest: +SKIP
>>> load_results("runs/quick").groupby("recommender").mean_rating.mean()  # doctest: +SKIP
"""

from recdyn.engine.pools import BACKENDS
from recdyn.experiments.driver import RunResult, run_experiment, run_experiments
from recdyn.experiments.plan import Plan, Task, TuningJob, make_plan
from recdyn.experiments.resolved import ResolvedParamsChangedError
from recdyn.experiments.runner import STEP_COLUMNS, TASK_COLUMNS, run_task, run_tuning
from recdyn.experiments.spec import ExperimentSpec, SpecError, load_spec, spec_hash
from recdyn.experiments.store import (
    CorruptResultWarning,
    DirectoryBusyError,
    SpecChangedError,
    Store,
    load_interactions,
    load_results,
    read_manifest,
)

__all__ = [
    "BACKENDS",
    "STEP_COLUMNS",
    "TASK_COLUMNS",
    "CorruptResultWarning",
    "DirectoryBusyError",
    "ExperimentSpec",
    "Plan",
    "ResolvedParamsChangedError",
    "RunResult",
    "SpecChangedError",
    "SpecError",
    "Store",
    "Task",
    "TuningJob",
    "load_interactions",
    "load_results",
    "load_spec",
    "make_plan",
    "read_manifest",
    "run_experiment",
    "run_experiments",
    "run_task",
    "run_tuning",
    "spec_hash",
]
