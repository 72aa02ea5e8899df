"""Figures of the ``offline-vs-online`` study: thesis Figs. 2.1 and 2.5–2.8.

Drawn with :mod:`recdyn.reporting.plots` where it has the plot (offline vs online
scatter with CIs and Spearman ρ; mean rating over time) and with the helpers of
:mod:`recdyn.reporting.figures` otherwise (topic affinities, correlation bars). Colours
are fixed per recommender; trials are shown as every report shows them (a 95% CI with at
least five trials, each trial with fewer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn.reporting import figures as fig
from recdyn.reporting import plots
from recdyn.reporting.labels import valid_range
from recdyn.reporting.results import offline_online_points, run_smooth, trial_series
from recdyn.studies._online_findings import FAR_SHARE
from recdyn.studies._online_protocol import PUSHED
from recdyn.studies._online_readings import READING_ENVIRONMENT as READING

#: file name → caption naming the thesis figure it reproduces.
CAPTIONS = {
    "fig2_1_topics_dynamic.png": "Fig. 2.1: offline nDCG@20 (left) and RMSE (right) vs "
    "online mean rating on topics-dynamic, mean across trials (95% CIs with ≥ 5 trials, "
    "each trial with fewer), Spearman ρ",
    "fig2_5_2_6_mean_rating_over_time.png": "Figs. 2.5 (topics-dynamic) and 2.6 "
    "(topics-static): mean rating over time, mean across trials (95% CI band with ≥ 5 "
    "trials, each trial's line with fewer)",
    "fig2_7_toppop_topics.png": "Fig. 2.7: TopPop (trial 0) — mean preference of every "
    "topic over time on topics-dynamic vs topics-static (dashed: 4.5)",
    "initial_state_spread.png": "TopPop's lead over Random on topics-dynamic per initial "
    "state, in both readings (issue 23): TopPop − Random as % of Oracle − Random, one dot "
    "per initial state (its colour: the topics TopPop pushed above 4.5), a line joining the "
    "same initial state in the two readings, the mean as a bar, the shared initial state "
    "of the study's trials as a diamond; dashed: the 25% the findings call ≫",
    "fig2_8_spearman.png": "Fig. 2.8: Spearman ρ between offline nDCG@20 / RMSE and online "
    "mean rating, per environment",
    "offline_vs_online_ndcg_all.png": "offline nDCG@20 vs online mean rating in every "
    "environment (the points behind Fig. 2.8)",
    "offline_vs_online_rmse_all.png": "offline RMSE vs online mean rating in every environment",
}

#: The caption of Fig. 2.7 with RecLab's reading beside the thesis's.
TOPICS_IN_BOTH_READINGS = (
    "Fig. 2.7 in both readings (issue 23): TopPop (trial 0) — mean preference of every "
    "topic over time on topics-dynamic as the thesis's text reads it, as RecLab's code ran "
    "it (reclab_compat: preferences drifted while the initial data were generated; same "
    "initial state draw), and on topics-static (dashed: 4.5)"
)


def draw(data: Any, out: Path, readings: Any) -> list[tuple[str, Path]]:
    """Every figure the data (and the ``readings`` of topics-dynamic) allow, as
    ``(caption, path)``."""
    results = data.results
    palette = fig.styles(results[["label", "base", "policy"]].drop_duplicates())
    envs = set(results["environment"])
    written: list[Path] = []
    for offline, slug in (("offline_ndcg@20", "ndcg"), ("offline_rmse", "rmse")):
        points = offline_online_points(data.summary, offline, "mean_rating")
        rho = data.correlations[data.correlations["offline"] == offline]
        if not points.empty:
            path = out / f"offline_vs_online_{slug}_all.png"
            written.append(
                plots.plot_offline_vs_online(
                    points, offline, "mean_rating", rho, path, palette, data.trials, data.scales
                )
            )
    if "topics-dynamic-v1" in envs:
        written.append(plot_fig_2_1(data, out / "fig2_1_topics_dynamic.png", palette))
    window = run_smooth(results)
    pair = [e for e in ("topics-dynamic-v1", "topics-static-v1") if e in envs]
    if pair:
        part = results[results["environment"].isin(pair)]
        series = trial_series(part, "mean_rating", window)
        path = out / "fig2_5_2_6_mean_rating_over_time.png"
        written.append(
            plots.plot_over_time(series, "mean_rating", path, palette, window, data.scales)
        )
    if not data.topics.empty:
        topics = pd.concat([data.topics, readings.topics], ignore_index=True)
        written.append(plot_topics(topics, out / "fig2_7_toppop_topics.png"))
    if not readings.states.empty:
        path = out / "initial_state_spread.png"
        written.append(plot_spread(readings.states, readings.shared, path))
    if not data.correlations.dropna(subset=["rho"]).empty:
        written.append(plot_spearman(data.correlations, out / "fig2_8_spearman.png"))
    captions = dict(CAPTIONS)
    if not readings.topics.empty:
        captions["fig2_7_toppop_topics.png"] = TOPICS_IN_BOTH_READINGS
    return [(captions.get(p.name, p.stem), p) for p in written]


def plot_fig_2_1(data: Any, path: Path, palette: Any) -> Path:
    """Thesis Fig. 2.1: on topics-dynamic, offline nDCG@20 (left panel) and offline RMSE
    (right panel) against the online mean rating over the run, one labelled point per
    recommender with its trials (:func:`~recdyn.reporting.figures.dots`), the Spearman ρ
    in each title."""
    env = "topics-dynamic-v1"
    f, axes, _ = fig.grid(2, width=5.6, height=4.6)
    trials = data.trials[data.trials["environment"] == env]
    online = valid_range("mean_rating", data.scales.get(env))
    for ax, (offline, name) in zip(
        axes, (("offline_ndcg@20", "offline nDCG@20"), ("offline_rmse", "offline RMSE"))
    ):
        points = offline_online_points(data.summary, offline, "mean_rating")
        part = points[points["environment"] == env]
        c = data.correlations
        hit = c[(c["environment"] == env) & (c["offline"] == offline)]
        rho = float(hit["rho"].iloc[0]) if len(hit) else float("nan")
        each = None
        if offline in trials:
            each = trials[["label"]].assign(x=trials[offline], y=trials["run_mean_rating"])
        fig.dots(ax, part, palette, each, valid_range(offline), online)
        for row in part.itertuples(index=False):
            ax.annotate(
                row.label, (row.x_mean, row.y_mean), xytext=(4, 3),
                textcoords="offset points", fontsize=7, color="0.2",
            )  # fmt: skip
        text = "n/a" if not np.isfinite(rho) else f"{rho:+.2f}"
        ax.set_title(f"{name}: Spearman ρ = {text} (n = {len(part)})", fontsize=10)
        ax.set_xlabel(name)
        ax.margins(0.12)
        fig.style_axes(ax)
    axes[0].set_ylabel("online mean rating over the run")
    note = fig.trials_note(trials.groupby("label")["trial"].nunique(), "dots")
    f.suptitle(f"{env}: offline metrics vs online mean rating (thesis Fig. 2.1)\n({note})")
    return fig.save(f, path)


def plot_topics(topics: Any, path: Path) -> Path:
    """Mean (over users) preference of each topic against the step, one panel per
    environment; topics ending above 4.5 drawn bold (thesis Fig. 2.7)."""
    import matplotlib

    order = ("topics-dynamic-v1", f"{READING}-reclab", "topics-static-v1")
    envs = [e for e in order if e in set(topics["environment"])]
    both = f"{READING}-reclab" in envs
    titles = {
        READING: f"{READING} (thesis text): TopPop" if both else f"{READING}: TopPop",
        f"{READING}-reclab": f"{READING} (RecLab code): TopPop",
    }
    f, axes, _ = fig.grid(len(envs), width=5.2, height=3.8)
    top = topics["mean_preference"].max()
    for ax, env in zip(axes, envs):
        part = topics[topics["environment"] == env]
        wide = part.pivot(index="step", columns="topic", values="mean_preference")
        cmap = matplotlib.colormaps["tab20"]
        for j, topic in enumerate(wide.columns):
            series = wide[topic]
            pushed = series.iloc[-1] > PUSHED
            ax.plot(
                wide.index,
                series,
                color=cmap(j % 20),
                lw=2.2 if pushed else 0.9,
                alpha=1.0 if pushed else 0.7,
                label=f"topic {topic}" if pushed else None,
            )
        ax.axhline(PUSHED, color="0.3", ls="--", lw=1)
        ax.set_ylim(min(2.0, float(part["mean_preference"].min()) - 0.2), max(5.0, top + 0.2))
        ax.set_title(titles.get(env, f"{env}: TopPop"), fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, frameon=False, loc="upper left")
        fig.style_axes(ax, steps=True)
    axes[0].set_ylabel("mean preference over users")
    f.suptitle("Topic preferences under TopPop (mean over users)")
    return fig.save(f, path)


def plot_spearman(correlations: Any, path: Path) -> Path:
    """Grouped bars: per environment, Spearman ρ of offline nDCG@20 and of offline RMSE
    with the online mean rating (thesis Fig. 2.8)."""
    import matplotlib

    envs = list(dict.fromkeys(correlations["environment"]))
    f, axes, _ = fig.grid(1, width=max(6.0, 1.1 * len(envs) + 2), height=4.2)
    ax = axes[0]
    x = np.arange(len(envs))
    colours = matplotlib.colormaps["tab10"]
    for j, (offline, label) in enumerate(
        (("offline_ndcg@20", "nDCG@20"), ("offline_rmse", "RMSE"))
    ):
        part = correlations[correlations["offline"] == offline].set_index("environment")
        rho = part.reindex(envs)["rho"].to_numpy(dtype=float)
        ax.bar(x + (j - 0.5) * 0.38, np.nan_to_num(rho), 0.38, color=colours(j), label=label)
    ax.axhline(0, color="0.2", lw=0.8)
    ax.set_xticks(x, [e.removesuffix("-v1") for e in envs], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("Spearman ρ with online mean rating")
    # beside the axes: inside, it covers the last environment's bar at ρ ≈ 0.9
    ax.legend(fontsize=9, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.style_axes(ax)
    f.suptitle(
        "Spearman ρ, offline metric vs online mean rating\n"
        "(RMSE: lower is better, so ρ < 0 means agreement)",
        fontsize=10,
    )
    return fig.save(f, path)


def plot_spread(states: pd.DataFrame, shared: pd.DataFrame, path: Path) -> Path:
    """TopPop − Random as % of Oracle − Random on topics-dynamic, one column per reading:
    a dot per initial state coloured by the topics TopPop pushed above 4.5 from it, grey
    lines joining the same initial state in the two readings, the mean as a bar, the
    shared initial state (the study's trials) as a diamond, and the 25% line."""
    import matplotlib
    from matplotlib.lines import Line2D

    titles = list(dict.fromkeys(states["reading"]))
    f, axes, _ = fig.grid(1, width=max(4.6, 2.2 * len(titles) + 1.6), height=4.4)
    ax = axes[0]
    wide = states.pivot(index="initial_state", columns="reading", values="share")[titles]
    for _, row in wide.iterrows():
        ax.plot(range(len(titles)), 100 * row.to_numpy(float), color="0.8", lw=0.8, zorder=1)
    colours = matplotlib.colormaps["viridis"]
    top = max(2, int(states["pushed_topics"].max()))
    for x, title in enumerate(titles):
        part = states[states["reading"] == title]
        pushed = part["pushed_topics"].to_numpy(int)
        ax.scatter(
            np.full(len(part), x), 100 * part["share"], c=[colours(p / top) for p in pushed],
            s=36, edgecolor="0.2", linewidth=0.5, zorder=3,
        )  # fmt: skip
        mean = 100 * part["share"].mean()
        ax.plot([x - 0.22, x + 0.22], [mean, mean], color="0.1", lw=2, zorder=2)
        ax.annotate(f"mean {mean:.0f}%", (x + 0.24, mean), fontsize=8, va="center", color="0.1")
        hit = shared[shared["reading"] == title] if len(shared) else shared
        if len(hit):
            ax.scatter(
                [x + 0.12], [100 * hit["share"].iloc[0]], marker="D", s=44, facecolor="none",
                edgecolor="tab:red", linewidth=1.4, zorder=4,
            )  # fmt: skip
    ax.axhline(100 * FAR_SHARE, color="0.3", ls="--", lw=1)
    ax.set_xticks(range(len(titles)), titles)
    ax.set_xlim(-0.5, len(titles) - 0.2)  # room for the last "mean" label
    ax.set_ylabel("TopPop − Random, % of Oracle − Random")
    fig.style_axes(ax)
    handles = [
        Line2D([], [], marker="o", ls="", color=colours(k / top), markeredgecolor="0.2",
               label=f"{k} topic(s) > {PUSHED}")
        for k in range(top + 1)
    ]  # fmt: skip
    handles.append(
        Line2D([], [], marker="D", ls="", markerfacecolor="none", markeredgecolor="tab:red",
               label="shared initial state (the study's trials, mean)")
    )  # fmt: skip
    handles.append(
        Line2D([], [], color="0.3", ls="--", label=f"{FAR_SHARE:.0%}: ≫ in the findings")
    )
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="center left",
              bbox_to_anchor=(1.0, 0.5))  # fmt: skip
    n = states.groupby("reading")["initial_state"].nunique().max()
    f.suptitle(f"topics-dynamic: TopPop's lead over Random from {n} initial states", fontsize=10)
    return fig.save(f, path)
