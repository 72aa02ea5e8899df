"""Tables computed from the rows of an experiment (one row per task and step, as
:func:`recdyn.experiments.load_results` returns them): per-trial quantities, their
summary across trials, step-wise statistics and offline–online rank correlations.

A *configuration* is one ``environment × recommender × params × policy``
(:data:`CONFIG_KEYS`); its trials (independent seeds) are aggregated with the Student-t
intervals of :mod:`recdyn.reporting.stats`. A *trial's quantity* is, per metric ``m``,
``run_m`` (the mean of ``m`` over the trial's steps), ``final_m`` (its value at the last
step) or ``offline_m`` (measured once per task, e.g. by tuning).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from recdyn.reporting.labels import OFFLINE_PREFIX
from recdyn.reporting.stats import aggregate, spearman

#: Columns of a task file that identify a row or record bookkeeping, not a metric.
ID_COLUMNS = (
    "step",
    "n_ratings",
    "seconds",
    "task_id",
    "environment",
    "recommender",
    "params",
    "policy",
    "trial",
    "seed",
    "label",
    "base",
)
#: One configuration; trials (seeds) of it are aggregated.
CONFIG_KEYS = ["environment", "recommender", "params", "policy"]
#: Steps per point of the time series' moving average: ``max(1, T // SMOOTH_POINTS)``.
SMOOTH_POINTS = 50


def online_metric_columns(results: pd.DataFrame) -> list[str]:
    """Numeric per-step metric columns that hold at least one value, in file order."""
    return [
        c
        for c in results.columns
        if c not in ID_COLUMNS
        and not c.startswith(OFFLINE_PREFIX)
        and pd.api.types.is_numeric_dtype(results[c])
        and results[c].notna().any()
    ]


def offline_metric_columns(results: pd.DataFrame) -> list[str]:
    """``offline_<metric>`` columns that hold at least one value."""
    return [c for c in results.columns if c.startswith(OFFLINE_PREFIX) and results[c].notna().any()]


def default_smooth(n_steps: int) -> int:
    """The one default moving-average window of every time-series figure:
    ``max(1, n_steps // 50)`` steps (1: no smoothing)."""
    return max(1, int(n_steps) // SMOOTH_POINTS)


def run_smooth(results: pd.DataFrame) -> int:
    """:func:`default_smooth` of the longest task of ``results``."""
    return default_smooth(results.groupby("task_id")["step"].nunique().max())


def params_text(params: Any, empty: str = "") -> str:
    """``k=50, reg=0.1`` from the JSON text of a recommender's parameters (``empty``
    when there are none; the text itself when it is not a JSON object)."""
    try:
        value = json.loads(params)
    except (TypeError, ValueError):
        return str(params)
    if isinstance(value, dict):
        return ", ".join(f"{k}={json.dumps(v)}" for k, v in value.items()) or empty
    return str(params)


def with_labels(results: pd.DataFrame) -> pd.DataFrame:
    """Add ``base`` — the recommender's name, plus its hyperparameters when the run has
    several settings of that recommender — and ``label``: ``base``, plus the policy when
    the run has several."""
    keys = ["recommender", "params", "policy"]
    combos = results[keys].drop_duplicates()
    several = combos.groupby("recommender")["params"].nunique()
    several_policies = combos["policy"].nunique() > 1
    base, label = [], []
    for rec, params, policy in combos.itertuples(index=False):
        base.append(f"{rec} ({params_text(params)})" if several[rec] > 1 else str(rec))
        label.append(f"{base[-1]} · {policy}" if several_policies else base[-1])
    names = combos.assign(base=base, label=label).set_index(keys)
    return results.drop(columns=["base", "label"], errors="ignore").join(names, on=keys)


def _labelled(results: pd.DataFrame) -> pd.DataFrame:
    return results if "label" in results else with_labels(results)


def trial_series(results: pd.DataFrame, metric: str, smooth: int = 1) -> pd.DataFrame:
    """Each trial's series of ``metric``: ``environment, label, trial, task_id, step,
    value``. With ``smooth > 1`` the value is the centred moving average over ``smooth``
    steps of the trial's series (fewer steps at its ends)."""
    frame = _labelled(results)[["environment", "label", "trial", "task_id", "step", metric]]
    frame = frame.sort_values(["task_id", "step"]).rename(columns={metric: "value"})
    if smooth > 1:
        rolled = frame.groupby("task_id", sort=False)["value"].rolling(
            smooth, center=True, min_periods=1
        )
        frame = frame.assign(value=rolled.mean().reset_index(level=0, drop=True))
    return frame


def step_stats(series: pd.DataFrame) -> pd.DataFrame:
    """Per environment, label and step of a :func:`trial_series`: mean across trials and
    its 95% CI, as ``environment, label, step, mean, ci, n`` (with ``smooth > 1`` the
    band is the CI of the smoothed quantity)."""
    return aggregate(series, ["environment", "label", "step"], "value")


def trial_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per task (trial): each online metric's mean over the run (``run_<m>``) and
    its value at the task's last step (``final_<m>``), and the offline metrics."""
    frame = _labelled(results)
    keys = [*CONFIG_KEYS, "label", "trial", "task_id"]
    online = online_metric_columns(frame)
    run = frame.groupby(keys, sort=False)[online].mean()
    last = frame.sort_values("step", kind="stable").groupby("task_id", sort=False).tail(1)
    final = last.set_index(keys)[online]
    offline = frame.groupby(keys, sort=False)[offline_metric_columns(frame)].mean()
    return pd.concat(
        [run.add_prefix("run_"), final.add_prefix("final_"), offline], axis=1
    ).reset_index()


def trial_summary(trials: pd.DataFrame) -> pd.DataFrame:
    """Tidy summary across the trials of a :func:`trial_table`: one row per configuration
    × quantity with ``mean``, ``ci`` (95% half-width) and ``n`` (trials with a value);
    ``trials`` is the configuration's number of trials."""
    keys = [*CONFIG_KEYS, "label"]
    quantities = [c for c in trials.columns if c not in (*keys, "trial", "task_id")]
    long = trials.melt(id_vars=[*keys, "trial"], value_vars=quantities, var_name="quantity")
    out = aggregate(long, [*keys, "quantity"], "value")
    counts = trials.groupby(keys, sort=False)["trial"].nunique().rename("trials")
    return out.join(counts, on=keys)


def offline_online_points(summary: pd.DataFrame, offline: str, online: str) -> pd.DataFrame:
    """Per environment and label: ``x_*`` = offline metric, ``y_*`` = mean online metric
    over the run (means and CI half-widths across trials), and ``n`` (trials), from a
    :func:`trial_summary`."""
    keys = ["environment", "label"]
    x = summary[summary["quantity"] == offline].set_index(keys)[["mean", "ci"]]
    y = summary[summary["quantity"] == f"run_{online}"].set_index(keys)[["mean", "ci", "n"]]
    points = x.add_prefix("x_").join(y.add_prefix("y_"), how="inner").reset_index()
    points = points.rename(columns={"y_n": "n"})
    ok = np.isfinite(points["x_mean"]) & np.isfinite(points["y_mean"])
    return points[ok].reset_index(drop=True)


def rank_correlations(summary: pd.DataFrame, online: str) -> pd.DataFrame:
    """Spearman ρ across recommenders, per environment and offline metric, between the
    offline metric and the mean online ``online`` metric over the run (thesis Fig. 2.8).
    For error metrics (RMSE, MAE) a negative ρ means offline and online agree."""
    rows = []
    for offline in [q for q in dict.fromkeys(summary["quantity"]) if q.startswith(OFFLINE_PREFIX)]:
        points = offline_online_points(summary, offline, online)
        for env, part in points.groupby("environment", sort=False):
            rho, p = spearman(part["x_mean"], part["y_mean"])
            rows.append((env, offline, f"run_{online}", rho, p, len(part)))
    columns = ["environment", "offline", "online", "rho", "p", "n"]
    return pd.DataFrame(rows, columns=columns)
