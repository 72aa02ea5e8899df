"""What the ``offline-vs-online`` study's analysis reads (thesis §2.6): the trials every
recommender finished in each environment, their statistics across trials
(:mod:`recdyn.reporting.results`), per-recommender cells, wall times and the schedule
model's predictions, TopPop's topic preferences (Fig. 2.7, re-simulated) and LLORMA
trained on all initial data — collected into one :class:`Data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn.errors import InvalidParameterError
from recdyn.experiments import load_results, read_manifest
from recdyn.experiments.scaling import measured_wall, scaling_table
from recdyn.reporting.labels import rating_scale
from recdyn.reporting.results import rank_correlations, trial_summary, trial_table, with_labels
from recdyn.studies._online_protocol import FULL_TRIALS

NDCG, RMSE = "offline_ndcg@20", "offline_rmse"


@dataclass
class Data:
    """Everything the findings and figures need."""

    results: pd.DataFrame  # per (task, step), with labels
    trials: pd.DataFrame  # trial_table: per task, run_/final_/offline_ quantities
    summary: pd.DataFrame  # trial_summary
    correlations: pd.DataFrame  # rank_correlations on mean_rating
    cells: pd.DataFrame  # one row per environment × recommender
    timing: pd.DataFrame  # wall seconds per environment × recommender
    topics: pd.DataFrame  # TopPop: mean preference per topic per step (Fig. 2.7)
    llorma: dict[str, Any] | None  # held-out nDCG of LLORMA trained on all initial data
    scaling: pd.DataFrame  # predicted wall time of the full trials on n workers
    scales: dict[str, tuple[float, float] | None]  # environment → rating scale
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def collect(out: Path, plans: dict[str, Any], study: Any) -> Data:
    """Read the runs of every environment of ``plans`` under ``out/runs`` and compute the
    study's tables (the CSV files of the study are ``data.tables``)."""
    frames, timing, scaling = [], [], []
    for preset in plans:
        root = out / "runs" / preset
        frames.append(complete_trials(load_results(root), plans[preset], root))
        timing.append(_timing(root, preset))
        scaling.append(_scaling(root, preset, frames[-1]["trial"].nunique()))
    results = with_labels(pd.concat(frames, ignore_index=True))
    trials = trial_table(results)
    summary = trial_summary(trials)
    correlations = rank_correlations(summary, "mean_rating")
    cells = recommender_cells(summary)
    timing_frame = pd.concat(timing, ignore_index=True)
    topics = _topics_state(out, plans)
    llorma = _llorma_holdout(out, plans, study)
    scaling_frame = pd.concat(scaling, ignore_index=True)
    scales = {
        preset: rating_scale(plan.tasks[0].preset, plan.tasks[0].overrides)
        for preset, plan in plans.items()
        if plan.tasks
    }
    data = Data(
        results, trials, summary, correlations, cells, timing_frame, topics, llorma,
        scaling_frame, scales,
    )  # fmt: skip
    data.tables = {
        "recommenders": cells,
        "correlations": correlations,
        "timing": timing_frame,
        "scaling": scaling_frame,
        "summary": summary,
    }
    if not topics.empty:
        data.tables["toppop_topics"] = topics
    return data


def complete_trials(results: pd.DataFrame, plan: Any, root: Path) -> pd.DataFrame:
    """The trials that every recommender of ``plan`` has finished (all of them after a
    run; fewer while another process is still running the environment)."""
    wanted = {t.recommender for t in plan.tasks}
    have = results.groupby("trial")["recommender"].agg(lambda r: wanted <= set(r))
    complete = have.index[have]
    if not len(complete):
        raise InvalidParameterError(
            f"{root}: no trial is finished for every recommender yet; report it later"
        )
    return results[results["trial"].isin(complete)]


def _scaling(root: Path, preset: str, trials: int) -> pd.DataFrame:
    """Predicted wall time of ``FULL_TRIALS`` trials on 1 … 128 workers, from this run's
    per-task times (:mod:`recdyn.experiments.scaling`), the measured wall time and the
    number of ``trials`` every recommender finished."""
    table = scaling_table(root, trials=FULL_TRIALS)
    return table.assign(
        environment=preset,
        trials=FULL_TRIALS,
        measured_s=measured_wall(root),
        measured_trials=trials,
    )[["environment", "trials", *table.columns, "measured_s", "measured_trials"]]


def _timing(root: Path, preset: str) -> pd.DataFrame:
    """Wall seconds per recommender: tuning (once) and the online tasks (summed over
    trials), from the manifest and the tuning files."""
    manifest = read_manifest(root)
    tasks = pd.DataFrame(manifest["tasks"].values())
    tune = {}
    for path in (root / "tuning").glob("*.json"):
        record = json.loads(path.read_text())
        tune[record["tune_id"]] = float(record.get("seconds") or 0.0)
    steps = manifest["spec"]["experiment"]["steps"]
    rows = []
    for rec, part in tasks.groupby("recommender", sort=False):
        seconds = part["seconds"].astype(float)
        tuned = sum(tune.get(t, 0.0) for t in part["tune_id"].dropna().unique())
        rows.append(
            {
                "environment": preset,
                "recommender": rec,
                "tuning_s": tuned,
                "online_s": float(seconds.sum()),
                "trials_done": int(seconds.notna().sum()),
                "per_trial_s": float(seconds.mean()),
                "per_step_s": float(seconds.mean() / steps),
                "tuned_params": json.dumps(part["tuned_params"].dropna().iloc[0])
                if "tuned_params" in part and part["tuned_params"].notna().any()
                else "{}",
            }
        )
    return pd.DataFrame(rows)


def recommender_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """Per environment × recommender: offline metrics, online mean rating over the run
    (± 95% CI), and ranks (1 = best) by each."""
    wide = summary.pivot_table(
        index=["environment", "recommender"], columns="quantity", values="mean", sort=False
    )
    ci = summary.pivot_table(  # a single trial has no CI (NaN): keep the column
        index=["environment", "recommender"],
        columns="quantity",
        values="ci",
        sort=False,
        dropna=False,
    )
    frame = pd.DataFrame(
        {
            "ndcg@20": wide.get(NDCG, np.nan),
            "rmse": wide.get(RMSE, np.nan),
            "mean_rating": wide["run_mean_rating"],
            "mean_rating_ci": ci["run_mean_rating"],
            "final_mean_rating": wide["final_mean_rating"],
        }
    ).reset_index()
    by_env = frame.groupby("environment", sort=False)
    frame["online_rank"] = by_env["mean_rating"].rank(ascending=False, method="min")
    frame["ndcg_rank"] = by_env["ndcg@20"].rank(ascending=False, method="min")
    frame["rmse_rank"] = by_env["rmse"].rank(ascending=True, method="min")
    return frame


def _toppop_task(plans: dict[str, Any], preset: str) -> Any:
    plan = plans.get(preset)
    if plan is None:
        return None
    return next((t for t in plan.tasks if t.recommender == "toppop" and t.trial == 0), None)


def _topics_state(out: Path, plans: dict[str, Any]) -> pd.DataFrame:
    """Fig. 2.7: TopPop's trial 0 on topics-dynamic and topics-static re-simulated with
    its exact seeds (so its ratings equal the stored task's), reading every user's topic
    preferences after each step; mean over users per topic. Cached by task id."""
    frames = []
    for preset in ("topics-dynamic-v1", "topics-static-v1"):
        task = _toppop_task(plans, preset)
        if task is None:
            continue
        frames.append(topic_means(out, task).assign(environment=preset))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def topic_means(out: Path, task: Any) -> pd.DataFrame:
    """TopPop ``task`` re-simulated with its exact seeds: the mean (over users) preference
    of every topic after each step (``step, topic, mean_preference``; step 0 = the start
    of the online phase). Cached in ``out/toppop_topics/<task id>.csv``."""
    path = out / "toppop_topics" / f"{task.task_id}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _simulate_topics(task).to_csv(path, index=False)
    return pd.read_csv(path)


def _simulate_topics(task: Any) -> pd.DataFrame:
    from recdyn.environments import make as make_environment
    from recdyn.experiments.spec import tuples
    from recdyn.simulation import simulate

    env = make_environment(task.preset, **tuples(task.overrides))
    start = make_environment(task.preset, **tuples(task.overrides))
    start.reset(seed=(task.env_init, task.env_dynamics))
    rows = [start.state["preference"].mean(axis=0)]
    simulate(
        env,
        "toppop",
        "greedy",
        steps=task.steps,
        seed=task.seed,
        k=task.k,
        metrics=(),
        env_seed=(task.env_init, task.env_dynamics),
        callback=lambda step, row: rows.append(env.state["preference"].mean(axis=0)),
    )
    means = np.asarray(rows)
    steps, topics = np.meshgrid(np.arange(len(means)), np.arange(means.shape[1]), indexing="ij")
    return pd.DataFrame(
        {"step": steps.ravel(), "topic": topics.ravel(), "mean_preference": means.ravel()}
    )


def _llorma_holdout(out: Path, plans: dict[str, Any], study: Any) -> dict[str, Any] | None:
    """LLORMA (its tuned configuration) trained on *all* initial ratings of
    topics-dynamic, evaluated on a held-out set of the same size as one CV test fold
    (a fifth of the initial data): pairs drawn uniformly without replacement from the
    pairs not in the initial data, rated by the environment's observation model
    (``clip(true + noise·ε)``). The model's seed, unless tuned or fixed, is derived from
    the study's (``"llorma-holdout", "recommender"``), so the check is reproducible.
    Cached by task id (a record without a seed, from before seeds were set, is redone)."""
    plan = plans.get("topics-dynamic-v1")
    if plan is None:
        return None
    task = next((t for t in plan.tasks if t.recommender == "llorma" and t.trial == 0), None)
    if task is None:
        return None
    path = out / "llorma_holdout" / f"{task.task_id}.json"
    if path.exists():
        record = json.loads(path.read_text())
        if "seed" in record["params"]:
            return record
    from recdyn import seeding
    from recdyn.environments import make as make_environment
    from recdyn.evaluation import evaluate
    from recdyn.experiments.spec import tuples
    from recdyn.interactions import Interactions
    from recdyn.recommenders import make as make_recommender

    tuned = read_manifest(out / "runs" / "topics-dynamic-v1")["tasks"][task.task_id]
    params = {**task.params, **(tuned.get("tuned_params") or {})}
    if params.get("seed") is None:
        derived = seeding.derive(study.seed, "llorma-holdout", "recommender")
        params["seed"] = int(derived.generate_state(1, np.uint32)[0])
    env = make_environment(task.preset, **tuples(task.overrides))
    train = env.reset(seed=(task.env_init, task.env_dynamics))
    rng = seeding.generator(study.seed, "llorma-holdout")
    free = np.flatnonzero(~env.rated_mask(np.arange(env.n_users)).ravel())
    n = max(1, len(train) // 5)
    pick = np.sort(rng.choice(free, size=min(n, len(free)), replace=False))
    users, items = np.divmod(pick, env.n_items)
    true = env.true_ratings()[users, items].astype(np.float64)
    lo, hi = env.rating_range
    noise = float(getattr(env, "noise", 0.0))
    rating = np.clip(true + noise * rng.standard_normal(len(true)), lo, hi)
    test = Interactions(users, items, rating)
    rec = make_recommender("llorma", **tuples(params))
    rec.fit(train, env.n_users, env.n_items)
    scores = evaluate(rec, train, test, metrics=("ndcg@20", "rmse"))
    record = {
        "train_ratings": len(train),
        "test_ratings": len(test),
        "params": params,
        "ndcg@20": scores["ndcg@20"],
        "rmse": scores["rmse"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    return record
