"""The numbers behind Figs. 3.2–3.4 of the ``feedback-loops`` study (thesis ch. 3,
L1957–2033): each arm's curves over time, its per-run averages and the paired differences
between arms, from the experiments' stored results.

Every run evaluates the held-out metrics and homogenization every ``evaluate_every``
steps (NaN between). A run's **average** of a metric is its mean over those evaluations
(the area under its curve over the run's length); the arms are compared on it, run by run:
runs of one index share their world draw and arrivals (Feedback and Uniform also their
policy stream and held-out pairs), so the difference of two arms is taken within a run and
its 95 % Student-t interval is over runs (:func:`recdyn.reporting.stats.aggregate`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from recdyn.reporting.stats import aggregate
from recdyn.studies._feedback_protocol import ARM_LABELS, arm_of

__all__ = [
    "COMPARISONS",
    "METRICS",
    "FigureData",
    "Metric",
    "best_shares",
    "collect",
    "effect",
    "paired_curves",
]


@dataclass(frozen=True)
class Metric:
    """A column of the runs, its title and which direction is better."""

    column: str
    title: str
    lower_is_better: bool


#: The metrics of Figs. 3.2–3.4 (homogenization in both readings of its sets).
METRICS = {
    m.column: m
    for m in (
        Metric("heldout_rmse", "held-out RMSE", True),
        Metric("heldout_ndcg@20", "held-out nDCG@20", False),
        Metric("homogenization", "homogenization (current top-10, minus oracle)", True),
        Metric("homogenization_cumulative", "homogenization (cumulative, minus oracle)", True),
    )
}
#: Paired differences reported (first − second).
COMPARISONS = (("Feedback", "Uniform"), ("CAFL", "Feedback"), ("CAFL", "Uniform"))


@dataclass
class FigureData:
    """``long``: one row per (world, arm, metric, trial, step) evaluation; ``curves``: mean,
    ci, n per (world, arm, metric, step); ``runs``: each run's average (world, arm, metric,
    trial, value, final); ``summary``: per (world, arm, metric) the average and final value
    over runs (mean ± ci); ``effects``: paired differences per (world, metric, comparison);
    ``worlds``: in the study's order; ``steps``, ``runs_per_arm``: the runs' length and
    count (the fewest finished)."""

    long: pd.DataFrame
    curves: pd.DataFrame
    runs: pd.DataFrame
    summary: pd.DataFrame
    effects: pd.DataFrame
    worlds: tuple[str, ...]
    steps: int
    runs_per_arm: int


def collect(results: dict[str, pd.DataFrame], names: dict[str, tuple[str, str]]) -> FigureData:
    """:class:`FigureData` from each experiment's results (``name → load_results``) and its
    ``(world, training)``."""
    frames = []
    for name, frame in results.items():
        world, training = names[name]
        arms = {p: arm_of(training, json.loads(p)) for p in frame["params"].unique()}
        frames.append(frame.assign(world=world, arm=frame["params"].map(arms)))
    rows = pd.concat(frames, ignore_index=True)
    columns = [c for c in METRICS if c in rows.columns]
    long = rows.melt(
        id_vars=["world", "arm", "trial", "step"], value_vars=columns, var_name="metric"
    ).dropna(subset=["value"])
    long = long.sort_values(["world", "arm", "metric", "trial", "step"], ignore_index=True)
    curves = aggregate(long, ["world", "arm", "metric", "step"], "value")
    keys = ["world", "arm", "metric", "trial"]
    runs = long.groupby(keys, sort=False).agg(value=("value", "mean"), final=("value", "last"))
    runs = runs.reset_index()
    summary = _summary(runs)
    effects = _effects(runs)
    worlds = tuple(dict.fromkeys(w for w, _ in names.values()))
    counts = runs.groupby(["world", "arm", "metric"])["trial"].nunique()
    return FigureData(
        long,
        curves,
        runs,
        summary,
        effects,
        worlds,
        int(rows["step"].max()),
        int(counts.min()) if len(counts) else 0,
    )


def _summary(runs: pd.DataFrame) -> pd.DataFrame:
    keys = ["world", "arm", "metric"]
    average = aggregate(runs, keys, "value").rename(columns={"mean": "average", "ci": "average_ci"})
    final = aggregate(runs, keys, "final").rename(columns={"mean": "final", "ci": "final_ci"})
    out = average.merge(final.drop(columns="n"), on=keys)
    rank = out["arm"].map({a: i for i, a in enumerate(ARM_LABELS)})
    return out.assign(rank=rank).sort_values(["world", "metric", "rank"]).drop(columns="rank")


def _effects(runs: pd.DataFrame) -> pd.DataFrame:
    wide = runs.pivot_table(index=["world", "metric", "trial"], columns="arm", values="value")
    parts = []
    for first, second in COMPARISONS:
        if first not in wide or second not in wide:
            continue
        diff = (wide[first] - wide[second]).dropna().rename("difference").reset_index()
        stats = aggregate(diff, ["world", "metric"], "difference")
        parts.append(stats.assign(comparison=f"{first} − {second}", first=first, second=second))
    if not parts:
        return pd.DataFrame(columns=["world", "metric", "comparison", "mean", "ci", "n"])
    return pd.concat(parts, ignore_index=True)


def effect(data: FigureData, world: str, metric: str, first: str, second: str) -> dict[str, Any]:
    """The paired difference ``first − second`` of ``metric``'s run averages in ``world``:
    ``{"mean", "ci", "n"}`` (NaN when absent)."""
    e = data.effects
    name = f"{first} − {second}"
    row = e[(e["world"] == world) & (e["metric"] == metric) & (e["comparison"] == name)]
    if row.empty:
        return {"mean": float("nan"), "ci": float("nan"), "n": 0}
    r = row.iloc[0]
    return {"mean": float(r["mean"]), "ci": float(r["ci"]), "n": int(r["n"])}


def paired_curves(data: FigureData, base: str = "Uniform") -> pd.DataFrame:
    """Each arm's value minus ``base``'s in the same run and at the same step (the feedback
    effect M(R_t) − M(R̂_t) of Definition 1, L1903–1918, for ``base="Uniform"``):
    ``world, arm, metric, trial, step, value`` for the other arms."""
    keys = ["world", "metric", "trial", "step"]
    wide = data.long.pivot_table(index=keys, columns="arm", values="value")
    if base not in wide:
        return pd.DataFrame(columns=[*keys, "arm", "value"])
    arms = [a for a in ARM_LABELS if a != base and a in wide]
    diff = wide[arms].sub(wide[base], axis=0).reset_index()
    out = diff.melt(id_vars=keys, value_vars=arms, var_name="arm").dropna(subset=["value"])
    return out.sort_values(["world", "arm", "metric", "trial", "step"], ignore_index=True)


def best_shares(data: FigureData, arm: str, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Per (world, metric): the share of evaluation steps at which ``arm``'s mean over
    runs is the best of the arms (lowest error, highest nDCG)."""
    rows = []
    for (world, metric), curves in data.curves[data.curves["metric"].isin(metrics)].groupby(
        ["world", "metric"], sort=False
    ):
        wide = curves.pivot_table(index="step", columns="arm", values="mean").dropna()
        if arm not in wide or wide.shape[1] < 2:
            continue
        best = wide.idxmin(axis=1) if METRICS[metric].lower_is_better else wide.idxmax(axis=1)
        rows.append({"world": world, "metric": metric, "share": float((best == arm).mean())})
    return pd.DataFrame(rows, columns=["world", "metric", "share"])
