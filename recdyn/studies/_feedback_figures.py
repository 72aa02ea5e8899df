"""The figures of the ``feedback-loops`` study: thesis Figs. 3.2 (held-out RMSE), 3.3
(held-out nDCG, logit axis as the thesis, L1994–2000) and 3.4 (homogenization minus the
oracle's, L2030–2033) — one panel per world, one line per arm, mean and 95 % interval over
runs (:func:`recdyn.reporting.figures.draw_trials`) —, the feedback effect (each arm minus
Uniform within a run, Definition 1: what the findings judge, without the spread between
world draws that widens the bands of Fig. 3.4), and Table 3.1 as each correction's MSE and
MAE relative to Naive's, here and in the thesis (a scale-free comparison).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recdyn.reporting import figures as fig
from recdyn.studies._feedback_data import METRICS, FigureData, paired_curves
from recdyn.studies._feedback_protocol import ARM_LABELS, BY_KEY, CORRECTION_KEYS
from recdyn.studies._feedback_table_data import TableData

__all__ = ["draw_figures", "draw_table"]

#: One colour per arm in every figure.
COLOURS = {"Feedback": "tab:red", "Uniform": "tab:blue", "CAFL": "tab:green"}


def _style(arm: str) -> fig.Style:
    from matplotlib.colors import to_rgba

    return fig.Style(to_rgba(COLOURS[arm]))


def _plain_logit(ax) -> None:
    """A logit y axis with plain decimal tick labels (0.9, 0.99), not 1 − 10⁻²."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("logit")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.4g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _panels(
    data: FigureData, metrics: list[str], path: Path, title: str, long=None, ylabel: str = ""
) -> Path:
    """One row of panels (one per world) per metric, one line per arm of ``long``
    (default: the runs' values)."""
    long = data.long if long is None else long
    n_worlds = len(data.worlds)
    plt = fig.pyplot()
    figure, axes = plt.subplots(
        len(metrics),
        n_worlds,
        figsize=(5.2 * n_worlds, 3.6 * len(metrics) + 0.6),
        squeeze=False,
        layout="constrained",
    )
    lines = {}
    for row, metric in enumerate(metrics):
        for col, world in enumerate(data.worlds):
            ax = axes[row][col]
            part = long[(long["world"] == world) & (long["metric"] == metric)]
            for arm in ARM_LABELS:
                series = part[part["arm"] == arm]
                if series.empty:
                    continue
                lines[arm] = fig.draw_trials(ax, series[["trial", "step", "value"]], _style(arm))
            fig.style_axes(ax, steps=True)
            ax.set_title(world, fontsize=10)
            ax.set_ylabel(ylabel + METRICS[metric].title, fontsize=9)
            inside = part["value"].between(0, 1, inclusive="neither").all()
            if metric.startswith("heldout_ndcg") and not ylabel and len(part) and inside:
                _plain_logit(ax)
            if metric.startswith("homogenization") or ylabel:
                ax.axhline(0.0, color="0.4", lw=0.8, ls=":")
    note = fig.trials_note(data.runs_per_arm).replace("trial", "run")
    figure.suptitle(f"{title}\n({note})", fontsize=10)
    return fig.save(
        figure,
        path,
        list(lines.values()),
        list(lines),
        (len(lines), "outside lower center"),
    )


def draw_figures(data: FigureData, out: Path) -> list[tuple[str, Path]]:
    """Figs. 3.2–3.4 into ``out``; (caption, path) pairs."""
    return [
        (
            "Fig. 3.2: held-out RMSE over time (lower is better); pairs never recommended",
            _panels(data, ["heldout_rmse"], out / "fig3_2_rmse.png", "Held-out RMSE"),
        ),
        (
            "Fig. 3.3: held-out nDCG@20 over time, logit axis as in the thesis (higher is better)",
            _panels(data, ["heldout_ndcg@20"], out / "fig3_3_ndcg.png", "Held-out nDCG@20"),
        ),
        (
            "Fig. 3.4: homogenization (mean pairwise Jaccard of users' recommended sets "
            "minus the oracle's; lower is more diverse); top: each user's current top-10, "
            "bottom: everything shown so far. Every run draws its own world, so the bands "
            "hold the spread between worlds; the arms are compared within a run below",
            _panels(
                data,
                ["homogenization", "homogenization_cumulative"],
                out / "fig3_4_homogenization.png",
                "Homogenization minus the oracle's",
            ),
        ),
        (
            "Feedback effect (Definition 1, L1903–1918): each arm minus Uniform in the same "
            "run and step — the paired differences the findings judge (run averages of "
            "these curves); below 0 is lower than Uniform",
            _panels(
                data,
                ["heldout_rmse", "heldout_ndcg@20", "homogenization"],
                out / "feedback_effect.png",
                "Arm minus Uniform, paired within runs",
                long=paired_curves(data),
                ylabel="Δ ",
            ),
        ),
    ]


def draw_table(table: TableData, out: Path) -> tuple[str, Path]:
    """Table 3.1 as points: MSE and MAE of each correction relative to Naive's, here (mean
    and 95 % interval of the per-repeat ratios) and in the thesis."""
    from recdyn.reporting.stats import half_width

    plt = fig.pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    keys = list(CORRECTION_KEYS)
    x = np.arange(len(keys))
    for ax, metric in zip(axes, ("mse", "mae")):
        wide = table.units.pivot_table(index="repeat", columns="correction", values=metric)
        ratios = wide[keys].div(wide["naive"], axis=0)
        mean = ratios.mean().to_numpy()
        ci = np.nan_to_num(half_width(ratios.std(ddof=1).to_numpy(), ratios.count().to_numpy()))
        naive = getattr(BY_KEY["naive"], metric)[0]
        thesis = [getattr(BY_KEY[k], metric)[0] / naive for k in keys]
        ax.errorbar(x - 0.08, mean, yerr=ci, fmt="o", color="tab:green", capsize=4, label="here")
        ax.plot(x + 0.08, thesis, "D", color="0.45", label="thesis")
        ax.set_xticks(x, [BY_KEY[k].label for k in keys])
        ax.set_xlim(-0.5, len(keys) - 0.5)
        ax.axhline(1.0, color="0.3", lw=0.8, ls=":")
        ax.set_ylabel(f"{metric.upper()} / Naive's {metric.upper()}")
        fig.style_axes(ax)
    axes[0].legend(frameon=False, fontsize=9)
    n = table.units["repeat"].nunique()
    figure.suptitle(
        f"Table 3.1: GMF's test error relative to Naive ({n} repeats; thesis L2126–2136)",
        fontsize=10,
    )
    path = fig.save(figure, out / "table3_1.png")
    caption = (
        "Table 3.1 relative to Naive (below 1: better than no correction): here (green, "
        "95 % interval over repeats) and in the thesis (grey)"
    )
    return caption, path
