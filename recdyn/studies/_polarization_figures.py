"""The figures of the ``polarization`` study (seed 004): TP and CD over time, one row per
sweep and one line per knob value (mean and 95 % band over runs,
:func:`recdyn.reporting.figures.draw_trials`); the end values of TP, CD and the number of
creator clusters against each knob; and the time to polarize against each knob (mean and
95 % interval over runs)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from recdyn.reporting import figures as fig
from recdyn.studies._polarization_data import PolarizationData
from recdyn.studies._polarization_protocol import BY_KEY, POLARIZED

__all__ = ["draw_figures"]

#: The oracle's knobs (first figure) and the robustness checks (e, g).
ORACLE = ("k", "beta", "tau", "eta", "epsilon", "rho")
ROBUST = ("mf-k", "mf-rho", "real-k")


def _tick(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:g}"


def _colours(n: int) -> list[tuple[float, ...]]:
    cmap = fig.pyplot().get_cmap("viridis")
    return [cmap(x) for x in np.linspace(0.0, 0.88, n)]


def _curves(data: PolarizationData, sweeps: list[str], path: Path, title: str) -> Path:
    """One row per sweep: TP (left) and CD (right) against the step."""
    plt = fig.pyplot()
    figure, axes = plt.subplots(
        len(sweeps),
        2,
        figsize=(11, 2.9 * len(sweeps) + 0.7),
        squeeze=False,
        layout="constrained",
    )
    for row, key in enumerate(sweeps):
        sweep = BY_KEY[key]
        values = data.values(key)
        part = data.rows[data.rows["sweep"] == key]
        for col, metric in enumerate(("TP", "CD")):
            ax = axes[row][col]
            lines = []
            for value, colour in zip(values, _colours(len(values))):
                series = part[part["value"] == value][["trial", "step", metric]]
                series = series.rename(columns={metric: "value"})
                lines.append(fig.draw_trials(ax, series, fig.Style(colour)))
            fig.style_axes(ax, steps=True)
            ax.set_ylabel(metric, fontsize=9)
            ax.set_title(f"{sweep.title}: {metric}", fontsize=9)
            if metric == "TP":
                ax.axhline(POLARIZED, color="0.4", lw=0.8, ls=":")
            else:
                ax.legend(
                    lines,
                    [f"{sweep.knob} = {_tick(v)}" for v in values],
                    fontsize=7,
                    frameon=False,
                    loc="best",
                )
    note = fig.trials_note(data.runs).replace("trial", "run")
    figure.suptitle(f"{title}\n({note}; dotted: TP = {POLARIZED})", fontsize=10)
    return fig.save(figure, path)


def _against_knob(
    data: PolarizationData, metrics: tuple[str, ...], path: Path, title: str, ylabel: str
) -> Path:
    """One panel per sweep: each of ``metrics`` at T against the knob values (evenly
    spaced, labelled), mean and 95 % interval over runs."""
    figure, axes, _ = fig.grid(len(data.sweeps), width=4.2, height=3.1)
    markers = {"TP": "o", "CD": "s", "clusters/n": "^", "t_pol": "o"}
    colours = {"TP": "tab:red", "CD": "tab:blue", "clusters/n": "tab:green", "t_pol": "0.2"}
    for ax, key in zip(axes, data.sweeps):
        values = data.values(key)
        x = np.arange(len(values))
        for shift, metric in zip(np.linspace(-0.1, 0.1, len(metrics)), metrics):
            source = "clusters" if metric == "clusters/n" else metric
            stats = [data.end(key, v, source) for v in values]
            scale = 1.0 / data.n_creators if metric == "clusters/n" else 1.0
            mean = np.array([s["mean"] for s in stats]) * scale
            ci = np.nan_to_num(np.array([s["ci"] for s in stats])) * scale
            ax.errorbar(
                x + shift,
                mean,
                yerr=ci,
                fmt=markers[metric] + "-",
                ms=4,
                lw=1,
                color=colours[metric],
                capsize=3,
                label=metric,
            )
        ax.set_xticks(x, [_tick(v) for v in values])
        ax.set_xlabel(BY_KEY[key].knob)
        ax.set_title(BY_KEY[key].title, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
        fig.style_axes(ax)
        if len(metrics) > 1:
            ax.legend(fontsize=7, frameon=False)
    figure.suptitle(f"{title} (mean and 95% CI over {data.runs} runs)", fontsize=10)
    return fig.save(figure, path)


def draw_figures(data: PolarizationData, out: Path) -> list[tuple[str, Path]]:
    """The study's figures into ``out``; (caption, path) pairs."""
    shown = []
    oracle = [k for k in ORACLE if k in data.sweeps]
    robust = [k for k in ROBUST if k in data.sweeps]
    if oracle:
        path = _curves(data, oracle, out / "curves_oracle.png", "TP and CD over time, oracle")
        shown.append(
            (
                "Tendency to polarization TP (mean |cos| between creators; 1 = consensus or "
                "two opposite poles) and creator diversity CD (mean distance between "
                "creators) over time, one row per knob moved from the base (softmax β = 1, "
                "η = 0.1, oracle)",
                path,
            )
        )
    if robust:
        path = _curves(
            data,
            robust,
            out / "curves_robustness.png",
            "TP and CD over time, learned MF and real-data start",
        )
        shown.append(
            (
                "The same with mf-als in place of the oracle (e) and from the MF "
                "embeddings of a real dataset (g)",
                path,
            )
        )
    ends = _against_knob(
        data,
        ("TP", "CD", "clusters/n"),
        out / "end_values.png",
        f"At step {data.steps}",
        "value at T",
    )
    shown.append(
        (
            f"End values at step {data.steps} against each knob: TP, CD and the number of "
            "creator clusters (cosine > 0.999) divided by n",
            ends,
        )
    )
    times = _against_knob(
        data, ("t_pol",), out / "time_to_polarize.png", f"First step with TP ≥ {POLARIZED}", "step"
    )
    shown.append(
        (
            f"Time to polarize: the first step with TP ≥ {POLARIZED}, runs that never get "
            f"there counted as {data.steps + data.every} (the top of the axis: no "
            "polarization within the run); lower is faster",
            times,
        )
    )
    return shown
