"""What the ``offline-vs-online`` study's analysis reads of its two readings of
topics-dynamic (issue 23; the experiments: :mod:`recdyn.studies._online_readings`): for
each reading, TopPop's lead over Random on the shared initial state (the thesis's
protocol) and on every initial state of the per-trial experiments, with the topics TopPop
pushed above 4.5 (thesis Fig. 2.7, re-simulated from each task's seeds) — collected into
one :class:`Readings`.

The thesis reading on the shared initial state is the study's own topics-dynamic run, so
its numbers are those of the study's recommenders table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn.experiments import load_results
from recdyn.reporting.results import trial_summary, trial_table, with_labels
from recdyn.studies._online_data import complete_trials, recommender_cells, topic_means
from recdyn.studies._online_protocol import PUSHED
from recdyn.studies._online_readings import READING_ENVIRONMENT, READING_TITLES, ReadingRun


@dataclass
class Readings:
    """Both readings' numbers.

    ``cells``: per experiment (``environment`` = its name) × recommender, as the study's
    recommenders table (mean rating over the run ± 95% CI); ``shared``: one row per
    reading on the shared initial state; ``states``: one row per reading × initial state
    (per-trial experiments); ``topics``: TopPop's topic means per step (trial 0 of each
    shared experiment of a reading but the thesis's, whose are the study's; ``environment`` =
    its name); ``asked``: the readings the study asked
    for; ``missing``: the experiments of those that ``out`` does not hold.
    """

    cells: pd.DataFrame
    shared: pd.DataFrame
    states: pd.DataFrame
    topics: pd.DataFrame
    asked: tuple[str, ...]
    missing: list[str]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV files of the readings: ``readings.csv``, ``initial_states.csv``."""
        out = {}
        if not self.shared.empty:
            out["readings"] = self.shared
        if not self.states.empty:
            out["initial_states"] = self.states
        return out


def collect_readings(
    out: Path,
    plans: dict[str, Any],
    reading_plans: dict[ReadingRun, Any],
    expected: list[ReadingRun],
    asked: tuple[str, ...],
) -> Readings:
    """Both readings from ``out``: the thesis reading's shared state from the study's
    topics-dynamic run (``plans``), the rest from ``reading_plans`` (the reading runs
    ``out`` holds; ``expected`` are those the study would run)."""
    cells, shared, states, topics = [], [], [], []
    if expected:  # the thesis reading's shared state: the study's own run
        root = out / "runs" / READING_ENVIRONMENT
        plan = plans[READING_ENVIRONMENT]
        results = complete_trials(load_results(root), plan, root)
        runs = [("thesis", "shared", READING_ENVIRONMENT, plan, results)]
    else:
        runs = []
    for run, plan in reading_plans.items():
        root = out / "runs" / run.name
        results = complete_trials(load_results(root), plan, root)
        runs.append((run.reading, run.initial_state, run.name, plan, results))
    for reading, initial_state, name, plan, results in runs:
        trials = trial_table(with_labels(results))
        if initial_state == "shared":
            part = recommender_cells(trial_summary(trials))
            cells.append(part)
            means = topic_means(out, _toppop(plan, 0)) if _has(plan, "toppop") else None
            if means is not None and name != READING_ENVIRONMENT:  # the study's own: data.topics
                topics.append(means.assign(environment=name))
            shared.append(_shared_row(reading, name, part, trials, means))
        else:
            states.append(_state_rows(out, reading, name, plan, trials))
    missing = [r.name for r in expected if r not in reading_plans]
    return Readings(
        cells=pd.concat(cells, ignore_index=True) if cells else pd.DataFrame(),
        shared=pd.DataFrame(shared),
        states=pd.concat(states, ignore_index=True) if states else pd.DataFrame(),
        topics=pd.concat(topics, ignore_index=True) if topics else pd.DataFrame(),
        asked=asked,
        missing=missing,
    )


def _has(plan: Any, recommender: str) -> bool:
    return any(t.recommender == recommender for t in plan.tasks)


def _toppop(plan: Any, trial: int) -> Any:
    return next(t for t in plan.tasks if t.recommender == "toppop" and t.trial == trial)


def pushed_topics(means: pd.DataFrame) -> tuple[int, float]:
    """Topics whose mean preference ends above :data:`PUSHED`, and the highest topic mean
    at the end, from a :func:`~recdyn.studies._online_data.topic_means` frame."""
    last = means[means["step"] == means["step"].max()]["mean_preference"]
    return int((last > PUSHED).sum()), float(last.max())


def share(toppop: Any, random: Any, oracle: Any) -> Any:
    """TopPop − Random as a share of Oracle − Random (NaN without an Oracle)."""
    return (toppop - random) / (oracle - random)


def _shared_row(
    reading: str, name: str, cells: pd.DataFrame, trials: pd.DataFrame, means: Any
) -> dict[str, Any]:
    by = cells.set_index("recommender")
    row: dict[str, Any] = {
        "reading": READING_TITLES[reading],
        "experiment": name,
        "trials": int(trials["trial"].nunique()),
    }
    for rec in ("toppop", "random", "oracle"):
        row[rec] = by.at[rec, "mean_rating"] if rec in by.index else np.nan
        row[f"{rec}_ci"] = by.at[rec, "mean_rating_ci"] if rec in by.index else np.nan
    row["gap"] = row["toppop"] - row["random"]
    row["share"] = share(row["toppop"], row["random"], row["oracle"])
    pushed, top = pushed_topics(means) if means is not None else (np.nan, np.nan)
    row["pushed_topics"], row["top_topic_mean"] = pushed, top
    return row


def _state_rows(
    out: Path, reading: str, name: str, plan: Any, trials: pd.DataFrame
) -> pd.DataFrame:
    """One row per initial state (trial) of a per-trial experiment: each recommender's
    mean rating over the run, TopPop − Random and its share of Oracle − Random, and the
    topics TopPop pushed above :data:`PUSHED` from that state (re-simulated, cached)."""
    wide = trials.pivot_table(
        index="trial", columns="recommender", values="run_mean_rating", sort=True
    )
    rows = []
    for trial, values in wide.iterrows():
        oracle = values.get("oracle", np.nan)
        pushed, top = pushed_topics(topic_means(out, _toppop(plan, int(trial))))
        rows.append(
            {
                "reading": READING_TITLES[reading],
                "experiment": name,
                "initial_state": int(trial),
                "toppop": values["toppop"],
                "random": values["random"],
                "oracle": oracle,
                "gap": values["toppop"] - values["random"],
                "share": share(values["toppop"], values["random"], oracle),
                "pushed_topics": pushed,
                "top_topic_mean": top,
            }
        )
    return pd.DataFrame(rows)


__all__ = ["Readings", "collect_readings", "pushed_topics", "share"]
