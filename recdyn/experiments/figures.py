"""Figures of an experiment's results (matplotlib, Agg backend; used by ``recdyn report``).

Every function takes the tidy aggregates built by :mod:`recdyn.experiments.report`
(:func:`~recdyn.experiments.report.step_stats` and friends), draws one PNG and closes the
figure. Colours are fixed per recommender label across all figures of a report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Readable titles of the built-in online metrics.
METRIC_LABELS = {
    "mean_rating": "mean rating of recommended items",
    "regret": "regret vs. oracle",
    "rmse": "RMSE on recommended items",
    "distinct_items": "distinct items shown",
}

_MAX_COLUMNS = 3
_MAX_ANNOTATED = 12
_LINESTYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True)
class Style:
    """How one recommender label is drawn in every figure of a report."""

    color: tuple[float, ...]
    linestyle: str = "-"
    marker: str = "o"


def styles(labels: pd.DataFrame) -> dict[str, Style]:
    """One :class:`Style` per ``label`` of a ``label, base, policy`` table: a colour per
    ``base`` (recommender and hyperparameters: tab10, tab20, then a sampled colormap) and
    a line style and marker per policy, so the same model under two policies shares its
    colour. Ordered by label."""
    import matplotlib

    bases = sorted(labels["base"].unique())
    policies = sorted(labels["policy"].astype(str).unique())
    if len(bases) <= 10:
        colours = [matplotlib.colormaps["tab10"](i) for i in range(len(bases))]
    elif len(bases) <= 20:
        # the ten strong tab20 colours first, then their light partners
        order = [*range(0, 20, 2), *range(1, 20, 2)]
        colours = [matplotlib.colormaps["tab20"](i) for i in order[: len(bases)]]
    else:
        colours = list(matplotlib.colormaps["turbo"](np.linspace(0.05, 0.95, len(bases))))
    colour = dict(zip(bases, colours))
    out = {}
    for label, base, policy in labels[["label", "base", "policy"]].drop_duplicates().to_numpy():
        j = policies.index(str(policy))
        out[label] = Style(
            tuple(colour[base]), _LINESTYLES[j % len(_LINESTYLES)], _MARKERS[j % len(_MARKERS)]
        )
    return dict(sorted(out.items()))


def metric_title(name: str) -> str:
    if name.startswith("offline_"):
        return f"offline {name.removeprefix('offline_')}"
    return METRIC_LABELS.get(name, name)


def _legend_inches(n_labels: int, width: float) -> tuple[int, float]:
    """Columns of a figure legend and the height (inches) it takes below the panels."""
    if n_labels == 0:
        return 1, 0.0
    ncol = max(1, min(n_labels, int(width // 2.8)))
    return ncol, 0.3 + 0.19 * int(np.ceil(n_labels / ncol))


def _grid(n: int, width: float = 4.8, height: float = 3.6, n_legend: int = 0):
    """``n`` panels in at most three columns (2 × 2 for four), with room for a legend."""
    plt = _pyplot()
    nrows = int(np.ceil(n / _MAX_COLUMNS))
    ncols = int(np.ceil(n / nrows))
    fig_width = width * ncols
    ncol, legend = _legend_inches(n_legend, fig_width)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(fig_width, height * nrows + legend),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n]), (ncol, legend)


def _style(ax) -> None:
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _save(fig, path: Path, handles=None, labels=None, legend=(1, 0.0)) -> Path:
    ncol, legend = legend
    if handles and legend:
        # One legend for the whole figure, below the panels, so panels keep their width.
        fig.legend(
            handles, labels, loc="outside lower center", ncol=ncol, fontsize=9, frameon=False
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def plot_over_time(
    stats: pd.DataFrame,
    metric: str,
    path: str | Path,
    palette: Mapping[str, Style],
    smooth: int = 1,
) -> Path:
    """``metric`` against ``step``: one panel per environment, one line per recommender
    label (mean over trials) with its shaded 95% confidence band; ``smooth`` is the
    moving-average window already applied (named in the title when > 1).

    ``stats`` has the columns ``environment, label, step, mean, ci`` of
    :func:`~recdyn.experiments.report.step_stats`.
    """
    envs = sorted(stats["environment"].unique())
    fig, axes, legend = _grid(len(envs), n_legend=stats["label"].nunique())
    handles: dict[str, object] = {}
    for ax, env in zip(axes, envs):
        part = stats[stats["environment"] == env]
        _clip_to_means(ax, part)
        for label, line in part.groupby("label", sort=False):
            if line["mean"].isna().all():  # e.g. RMSE of a model that predicts no ratings
                continue
            line = line.sort_values("step")
            style = palette[label]
            (h,) = ax.plot(
                line["step"], line["mean"], lw=1.6, color=style.color, ls=style.linestyle
            )
            handles.setdefault(label, h)
            lo, hi = line["mean"] - line["ci"], line["mean"] + line["ci"]
            ax.fill_between(line["step"], lo, hi, color=style.color, alpha=0.18, lw=0)
        ax.set_title(env, fontsize=10)
        ax.set_xlabel("step")
        _style(ax)
    axes[0].set_ylabel(metric_title(metric))
    note = f"; {smooth}-step moving average" if smooth > 1 else ""
    fig.suptitle(f"{metric_title(metric)} over time\n(mean, 95% CI over trials{note})", fontsize=11)
    names = [n for n in palette if n in handles]
    return _save(fig, Path(path), [handles[n] for n in names], names, legend)


def _clip_to_means(ax, part: pd.DataFrame) -> None:
    """Fit the y-axis to the mean lines (plus a margin), not to the bands: with few trials
    a t-interval is wide enough to flatten every line otherwise."""
    means = part["mean"].to_numpy(dtype=float)
    means = means[np.isfinite(means)]
    if not len(means):
        return
    lo, hi = float(means.min()), float(means.max())
    pad = 0.25 * (hi - lo) or 0.1 * max(abs(hi), 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_autoscaley_on(False)


def plot_offline_vs_online(
    points: pd.DataFrame,
    offline: str,
    online: str,
    correlations: pd.DataFrame,
    path: str | Path,
    palette: Mapping[str, Style],
) -> Path:
    """Offline metric (x) against online performance (y), one point per recommender label,
    one panel per environment, with 95% CI error bars and the Spearman ρ in each title
    (thesis Figs. 2.1 and 2.8; Krauth et al. 2020, "Do offline metrics predict online
    performance in recommender systems?").

    ``points`` has ``environment, label, x_mean, x_ci, y_mean, y_ci`` for this pair of
    metrics; ``correlations`` has ``environment, rho, n`` rows for it.
    """
    envs = sorted(points["environment"].unique())
    # Beyond a dozen points names collide; then a legend below the panels names them.
    annotate = points.groupby("environment").size().max() <= _MAX_ANNOTATED
    names = [n for n in palette if n in set(points["label"])]
    fig, axes, legend = _grid(
        len(envs), width=5.0, height=4.0, n_legend=0 if annotate else len(names)
    )
    rho = correlations.set_index("environment")
    for ax, env in zip(axes, envs):
        part = points[points["environment"] == env]
        _dots(
            ax, part["x_mean"], part["y_mean"], part["label"], palette, part["x_ci"], part["y_ci"]
        )
        for row in part.itertuples(index=False) if annotate else ():
            ax.annotate(
                row.label,
                (row.x_mean, row.y_mean),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=8,
                color="0.2",
            )
        r = rho.loc[env] if env in rho.index else None
        text = "ρ n/a" if r is None or not np.isfinite(r["rho"]) else f"ρ = {r['rho']:.2f}"
        n = 0 if r is None else int(r["n"])
        ax.set_title(f"{env}\nSpearman {text} (n = {n})", fontsize=10)
        ax.set_xlabel(metric_title(offline))
        ax.margins(0.15)
        _style(ax)
    axes[0].set_ylabel(f"online {online}, mean over run")
    fig.suptitle(f"{metric_title(offline)} vs online {metric_title(online)}")
    if annotate:
        return _save(fig, Path(path))
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=palette[n].color, marker=palette[n].marker, ls="") for n in names
    ]
    return _save(fig, Path(path), handles, names, legend)


def _dots(ax, x, y, labels, palette, xerr=None, yerr=None) -> None:
    """Points in their labels' styles with 95% CI whiskers, in a few vectorised calls
    (one ``errorbar`` per point is slow with dozens of recommenders)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    styles_ = [palette[label] for label in labels]
    colours = [s.color for s in styles_]
    for err, draw, at, centre in ((xerr, ax.hlines, y, x), (yerr, ax.vlines, x, y)):
        if err is not None:
            e = np.nan_to_num(np.asarray(err, dtype=float))
            draw(at, centre - e, centre + e, colors=colours, lw=1.3)
    for marker in dict.fromkeys(s.marker for s in styles_):
        pick = [i for i, s in enumerate(styles_) if s.marker == marker]
        ax.scatter(x[pick], y[pick], c=[colours[i] for i in pick], marker=marker, s=36, zorder=3)


def plot_final(
    final: pd.DataFrame, metrics: Sequence[str], path: str | Path, palette: Mapping[str, Style]
) -> Path:
    """Final-step mean of each metric per recommender label with its 95% CI, as a dot
    plot (a bar from zero would hide differences between ratings of 3.9 and 4.1): one row
    of panels per metric, one column per environment.

    ``final`` has ``environment, label, metric, mean, ci`` rows.
    """
    plt = _pyplot()
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
    y = np.arange(len(labels))
    for i, metric in enumerate(metrics):
        for j, env in enumerate(envs):
            ax = axes[i, j]
            part = final[(final["environment"] == env) & (final["metric"] == metric)]
            part = part.set_index("label").reindex(labels)
            ok = np.isfinite(part["mean"].to_numpy(dtype=float))
            shown = [label for label, keep in zip(labels, ok) if keep]
            _dots(ax, part["mean"][ok], y[ok], shown, palette, xerr=part["ci"][ok])
            ax.set_yticks(y, labels, fontsize=8)
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.set_xlabel(metric_title(metric), fontsize=9)
            if i == 0:
                ax.set_title(env, fontsize=10)
            ax.grid(alpha=0.3)
            ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle("final step: mean and 95% CI across trials")
    return _save(fig, Path(path))
