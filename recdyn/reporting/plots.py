"""The standard figures of an experiment's results, shared by ``recdyn report`` and the
studies: a metric over time, offline metric against online performance, and the final
step. Each takes the tables of :mod:`recdyn.reporting.results`, draws one PNG and closes
the figure; colours are fixed per recommender label across a report
(:func:`~recdyn.reporting.figures.styles`).

Trials are shown as :mod:`recdyn.reporting.figures` does (95% CI with at least five
trials, each trial below), intervals cut to each metric's valid range; ``scales`` maps an
environment to its rating scale, which bounds the mean rating.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from recdyn.reporting.figures import (
    Style,
    dots,
    draw_trials,
    grid,
    pyplot,
    save,
    style_axes,
    trials_note,
)
from recdyn.reporting.labels import metric_title, valid_range

Scales = Mapping[str, "tuple[float, float] | None"]

#: Beyond this many points per panel names collide; a legend names them instead.
MAX_ANNOTATED = 12


def plot_over_time(
    series: pd.DataFrame,
    metric: str,
    path: str | Path,
    palette: Mapping[str, Style],
    smooth: int = 1,
    scales: Scales | None = None,
) -> Path:
    """``metric`` against ``step``: one panel per environment, one colour per recommender
    label (:func:`~recdyn.reporting.figures.draw_trials`); ``smooth`` is the moving-
    average window already applied (named in the title when > 1).

    ``series`` has the columns ``environment, label, trial, step, value`` of
    :func:`~recdyn.reporting.results.trial_series`.
    """
    scales = scales or {}
    envs = sorted(series["environment"].unique())
    fig, axes, legend = grid(len(envs), n_legend=series["label"].nunique())
    handles: dict[str, object] = {}
    for ax, env in zip(axes, envs):
        part = series[series["environment"] == env]
        valid = valid_range(metric, scales.get(env))
        for label, lines in part.groupby("label", sort=False):
            if lines["value"].isna().all():  # e.g. RMSE of a model that predicts no ratings
                continue
            handles.setdefault(label, draw_trials(ax, lines, palette[label], valid))
        ax.set_title(env, fontsize=10)
        style_axes(ax, steps=True)
    axes[0].set_ylabel(metric_title(metric))
    trials = series.groupby(["environment", "label"])["trial"].nunique()
    note = f"; {smooth}-step moving average" if smooth > 1 else ""
    fig.suptitle(f"{metric_title(metric)} over time\n({trials_note(trials)}{note})", fontsize=11)
    names = [n for n in palette if n in handles]
    return save(fig, Path(path), [handles[n] for n in names], names, legend)


def _trial_points(trials: pd.DataFrame | None, x: str, y: str) -> pd.DataFrame | None:
    """``environment, label, x, y`` of each trial (row of a trial table)."""
    if trials is None or x not in trials or y not in trials:
        return None
    return trials[["environment", "label", x, y]].rename(columns={x: "x", y: "y"})


def plot_offline_vs_online(
    points: pd.DataFrame,
    offline: str,
    online: str,
    correlations: pd.DataFrame,
    path: str | Path,
    palette: Mapping[str, Style],
    trials: pd.DataFrame | None = None,
    scales: Scales | None = None,
) -> Path:
    """Offline metric (x) against online performance (y), one point per recommender label,
    one panel per environment, with 95% CIs (or each trial) and the Spearman ρ in each
    title (thesis Figs. 2.1 and 2.8; Krauth et al. 2020, "Do offline metrics predict
    online performance in recommender systems?").

    ``points``: ``environment, label, x_mean, x_ci, y_mean, y_ci, n`` of
    :func:`~recdyn.reporting.results.offline_online_points`; ``correlations``:
    ``environment, rho, n`` rows for this pair of metrics; ``trials``: the trial table
    (:func:`~recdyn.reporting.results.trial_table`).
    """
    scales = scales or {}
    envs = sorted(points["environment"].unique())
    annotate = points.groupby("environment").size().max() <= MAX_ANNOTATED
    names = [n for n in palette if n in set(points["label"])]
    fig, axes, legend = grid(
        len(envs), width=5.0, height=4.0, n_legend=0 if annotate else len(names)
    )
    rho = correlations.set_index("environment")
    each = _trial_points(trials, offline, f"run_{online}")
    for ax, env in zip(axes, envs):
        part = points[points["environment"] == env]
        mine = None if each is None else each[each["environment"] == env]
        dots(ax, part, palette, mine, valid_range(offline), valid_range(online, scales.get(env)))
        for row in part.itertuples(index=False) if annotate else ():
            ax.annotate(
                row.label, (row.x_mean, row.y_mean), xytext=(5, 4), textcoords="offset points",
                fontsize=8, color="0.2",
            )  # fmt: skip
        r = rho.loc[env] if env in rho.index else None
        text = "ρ n/a" if r is None or not np.isfinite(r["rho"]) else f"ρ = {r['rho']:.2f}"
        n = 0 if r is None else int(r["n"])
        ax.set_title(f"{env}\nSpearman {text} (n = {n} recommenders)", fontsize=10)
        ax.set_xlabel(metric_title(offline))
        ax.margins(0.15)
        style_axes(ax)
    axes[0].set_ylabel(f"{metric_title(online)}, mean over run")
    fig.suptitle(
        f"{metric_title(offline)} vs online {metric_title(online)}\n"
        f"({trials_note(points['n'], 'dots')})",
        fontsize=11,
    )
    if annotate:
        return save(fig, Path(path))
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=palette[n].color, marker=palette[n].marker, ls="") for n in names
    ]
    return save(fig, Path(path), handles, names, legend)


def plot_final(
    final: pd.DataFrame,
    metrics: Sequence[str],
    path: str | Path,
    palette: Mapping[str, Style],
    trials: pd.DataFrame | None = None,
    scales: Scales | None = None,
) -> Path:
    """Final-step mean of each metric per recommender label with its 95% CI (or each
    trial), as a dot plot (a bar from zero would hide differences between ratings of 3.9
    and 4.1): one row of panels per metric, one column per environment.

    ``final`` has ``environment, label, metric, mean, ci, n`` rows; ``trials`` is the
    trial table (its ``final_<metric>`` columns).
    """
    scales = scales or {}
    plt = pyplot()
    envs = sorted(final["environment"].unique())
    labels = [n for n in palette if n in set(final["label"])]
    height = max(2.2, 0.3 * len(labels) + 1.1)
    fig, axes = plt.subplots(
        len(metrics),
        len(envs),
        figsize=(min(4.4 * len(envs), 15) + 1.2, height * len(metrics)),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    position = {label: float(i) for i, label in enumerate(labels)}
    for i, metric in enumerate(metrics):
        each = None
        if trials is not None and f"final_{metric}" in trials:
            each = trials[["environment", "label"]].assign(
                x=trials[f"final_{metric}"], y=trials["label"].map(position)
            )
        for j, env in enumerate(envs):
            ax = axes[i, j]
            part = final[(final["environment"] == env) & (final["metric"] == metric)]
            part = part[np.isfinite(part["mean"].to_numpy(dtype=float))]
            points = part.assign(
                x_mean=part["mean"], x_ci=part["ci"], y_mean=part["label"].map(position)
            )
            mine = None if each is None else each[each["environment"] == env]
            dots(ax, points, palette, mine, x_valid=valid_range(metric, scales.get(env)))
            for label in set(labels) - set(part["label"]):  # e.g. RMSE of a ranking model
                ax.text(0.01, position[label], "no value", transform=ax.get_yaxis_transform(),
                        va="center", fontsize=7, color="0.5")  # fmt: skip
            ax.set_yticks(list(position.values()), labels, fontsize=8)
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.set_xlabel(metric_title(metric), fontsize=9)
            if i == 0:
                ax.set_title(env, fontsize=10)
            style_axes(ax)
    fig.suptitle(f"final step\n({trials_note(final['n'], 'dots')})", fontsize=11)
    return save(fig, Path(path))
