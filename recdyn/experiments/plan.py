"""The plan: a spec expanded into tasks (environment × recommender config × policy × trial).

Every task is identified by ``task_id``, the first 16 hex digits of the sha256 of its
canonical JSON (everything that determines its numbers), and gets its seeds from the root
seed by *names* (:func:`recdyn.seeding.derive`), never by position::

    task seed      derive(root, "task", env, recommender, params-json, policy, "trial<t>")
                   -> the recommender's and the policy's streams (inside ``simulate``)
    init seed      I = derive(root, "environment", env, "init")              (shared)
                   I = derive(root, "environment", env, "trial<t>", "init")  (per-trial)
    dynamics       D = derive(root, "environment", env, "trial<t>", "dynamics")

and ``simulate(..., env_seed=(derive(I, "environment"), D))``: the initial state and
initial ratings come from ``I`` exactly as ``grid_search(..., seed=I)`` draws its tuning
data, the online dynamics from ``D``. Names are the environment's ``seed_name`` or its
label (its ``name``, or its preset), the recommender's registered name, its configured
parameters as canonical JSON, and the policy label. So a task's numbers do not depend on
the worker, the backend, the order of execution, how many tasks run at once, or which other
tasks the spec holds.

Initial state. By default (``initial_state = "shared"``) recdyn follows the thesis
(RecLab's ``env.seed((0, trial))``): every recommender and every trial starts from the same
initial state and the same initial ratings, and the trials differ in the online dynamics
(which users come online, rating noise, drift); within a trial every recommender also sees
the same dynamics stream (common random numbers), so differences between recommenders are
not differences of luck in the initial data. The trials then measure the variability of
the online phase given one initial dataset. ``initial_state = "per-trial"`` draws a new
initial state per trial (still shared by all recommenders of that trial), which measures
variability over initial datasets as well.

Tuning (``[tuning]``). One :class:`TuningJob` per (environment, recommender config, initial
state): a k-fold grid search (or, for recommenders without a tuning grid, a plain k-fold
cross-validation) on exactly the initial data the online phase starts from. Its best
parameters are used online and its offline metrics are recorded in the task's results.
With shared initial states the job is shared by all trials, so tuning runs once per cell.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recdyn import seeding
from recdyn.experiments.canonical import canonical_json, policy_label
from recdyn.experiments.spec import ExperimentSpec, load_spec, spec_hash


def _digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:16]


def seed_record(seed: np.random.SeedSequence) -> dict[str, Any]:
    """JSON form of a seed: ``SeedSequence(entropy, spawn_key=spawn_key)`` rebuilds it."""
    return {"entropy": int(seed.entropy), "spawn_key": [int(k) for k in seed.spawn_key]}


@dataclass(frozen=True)
class TuningJob:
    """Offline tuning of one recommender config on one environment's initial data."""

    tune_id: str
    environment: str
    preset: str
    overrides: dict[str, Any]
    recommender: str
    params: dict[str, Any]
    grid: dict[str, list[Any]]
    folds: int
    metric: str
    metrics: tuple[str, ...]
    seed: np.random.SeedSequence = field(repr=False)
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """One ``simulate`` run of the study."""

    task_id: str
    index: int
    environment: str
    preset: str
    overrides: dict[str, Any]
    recommender: str
    params: dict[str, Any]
    policy: str
    policy_name: str
    policy_params: dict[str, Any]
    trial: int
    steps: int
    k: int
    retrain_every: int
    metrics: tuple[str, ...]
    save_interactions: bool
    seed: np.random.SeedSequence = field(repr=False)
    env_init: np.random.SeedSequence = field(repr=False)
    env_dynamics: np.random.SeedSequence = field(repr=False)
    tuning: TuningJob | None = None
    imports: tuple[str, ...] = ()
    #: what the recommender trains on: "feedback" or "uniform" (the shadow arm)
    training: str = "feedback"
    #: keyword arguments of :class:`recdyn.heldout.HeldOut`, or ``None``: no held-out pairs
    heldout: dict[str, Any] | None = None

    @property
    def params_json(self) -> str:
        """The configured hyperparameters as canonical JSON (the ``params`` column)."""
        return canonical_json(self.params)

    def describe(self) -> str:
        return f"{self.recommender} on {self.environment}, trial {self.trial}"


@dataclass(frozen=True)
class Plan:
    """The tasks of a spec, in a fixed order, and the tuning jobs they need."""

    spec: ExperimentSpec
    spec_hash: str
    tasks: tuple[Task, ...]
    tuning_jobs: tuple[TuningJob, ...]

    def __len__(self) -> int:
        return len(self.tasks)

    def describe(self) -> str:
        """``"8 tasks = 2 environments × 2 recommender configs × 1 policy × 2 trials"``."""
        s = self.spec
        n_configs = sum(len(_expand(r.grid)) for r in s.recommenders)

        def n(count: int, word: str) -> str:
            plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
            return f"{count} {word if count == 1 else plural}"

        text = (
            f"{n(len(self.tasks), 'task')} = {n(len(s.environments), 'environment')} × "
            f"{n(n_configs, 'recommender config')} × {n(len(s.policies), 'policy')} × "
            f"{n(s.experiment.trials, 'trial')}, {s.experiment.steps} steps each"
        )
        if self.tuning_jobs:
            text += f"; {n(len(self.tuning_jobs), 'tuning job')} first"
        return text


def _expand(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]


def make_plan(spec: ExperimentSpec | str | Any) -> Plan:
    """Expand ``spec`` (a validated spec, or a path to its TOML file) into a :class:`Plan`.

    Order: environments, then recommender entries and their grid configurations (last
    grid key fastest), then policies, then trials.
    """
    if not isinstance(spec, ExperimentSpec):
        spec = load_spec(spec)
    exp = spec.experiment
    root = exp.seed
    imports = tuple(exp.imports)
    experiment_key = {
        "seed": root,
        "steps": exp.steps,
        "k": exp.k,
        "retrain_every": exp.retrain_every,
        "metrics": exp.metric_keys(),
        "save_interactions": exp.save_interactions,
        "initial_state": exp.initial_state,
        "imports": list(imports),
    }
    heldout = exp.heldout.kwargs() if exp.heldout is not None else None
    # thesis ch. 3 options: in a task's id only when set (older ids stay as they were)
    if exp.training != "feedback":
        experiment_key["training"] = exp.training
    if heldout is not None:
        experiment_key["heldout"] = heldout
    tasks: list[Task] = []
    jobs: dict[str, TuningJob] = {}
    for env in spec.environments:
        env_key = {"name": env.label, "preset": env.preset, "overrides": env.overrides}
        if env.seed_name is not None:
            env_key["seed_name"] = env.seed_name
        for rec in spec.recommenders:
            for config in _expand(rec.grid):
                params = {**rec.params, **config}
                params_json = canonical_json(params)
                for pol in spec.policies:
                    label = policy_label(pol.name, pol.params)
                    for trial in range(exp.trials):
                        t = f"trial{trial}"
                        if exp.initial_state == "shared":
                            init = seeding.derive(root, "environment", env.seed_label, "init")
                        else:
                            init = seeding.derive(root, "environment", env.seed_label, t, "init")
                        job = _tuning_job(spec, env, rec.name, params, init, jobs)
                        key = {
                            "experiment": experiment_key,
                            "environment": env_key,
                            "recommender": {"name": rec.name, "params": params},
                            "policy": {"name": pol.name, "params": pol.params},
                            "trial": trial,
                            "tuning": job.tune_id if job else None,
                        }
                        tasks.append(
                            Task(
                                task_id=_digest(key),
                                index=len(tasks),
                                environment=env.label,
                                preset=env.preset,
                                overrides=dict(env.overrides),
                                recommender=rec.name,
                                params=params,
                                policy=label,
                                policy_name=pol.name,
                                policy_params=dict(pol.params),
                                trial=trial,
                                steps=exp.steps,
                                k=exp.k,
                                retrain_every=exp.retrain_every,
                                metrics=tuple(exp.metric_keys()),
                                save_interactions=exp.save_interactions,
                                seed=seeding.derive(
                                    root, "task", env.label, rec.name, params_json, label, t
                                ),
                                # grid_search(seed=init) resets the environment with
                                # derive(init, "environment"): tune on the same initial data
                                env_init=seeding.derive(init, "environment"),
                                env_dynamics=seeding.derive(
                                    root, "environment", env.seed_label, t, "dynamics"
                                ),
                                tuning=job,
                                imports=imports,
                                training=exp.training,
                                heldout=heldout,
                            )
                        )
    return Plan(spec, spec_hash(spec), tuple(tasks), tuple(jobs.values()))


def _tuning_job(
    spec: ExperimentSpec,
    env: Any,
    name: str,
    params: dict[str, Any],
    init: np.random.SeedSequence,
    jobs: dict[str, TuningJob],
) -> TuningJob | None:
    tuning = spec.tuning
    if tuning is None:
        return None
    grid = tuning.grid.get(name, {})
    key = {
        "environment": {"name": env.label, "preset": env.preset, "overrides": env.overrides},
        "recommender": {"name": name, "params": params},
        "grid": grid,
        "folds": tuning.folds,
        "metrics": list(tuning.reported),
        "seed": seed_record(init),
        "imports": list(spec.experiment.imports),
    }
    tune_id = _digest(key)
    if tune_id not in jobs:
        jobs[tune_id] = TuningJob(
            tune_id=tune_id,
            environment=env.label,
            preset=env.preset,
            overrides=dict(env.overrides),
            recommender=name,
            params=params,
            grid=dict(grid),
            folds=tuning.folds,
            metric=tuning.metric,
            metrics=tuning.reported,
            seed=init,
            imports=tuple(spec.experiment.imports),
        )
    return jobs[tune_id]
