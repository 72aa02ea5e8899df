"""Drawing helpers shared by every figure of a report (matplotlib, Agg backend).

A colour per recommender and a line style / marker per policy (:func:`styles`), panels
in a grid with one legend below them (:func:`grid`, :func:`save`), integer ticks on step
axes, and the two ways a figure shows trials (:func:`draw_trials`, :func:`dots`): with
at least :data:`~recdyn.reporting.stats.MIN_BAND_TRIALS` trials the mean and its 95%
Student-t interval, with fewer each trial's own values and their mean. Every interval
is cut to the metric's valid range (:func:`~recdyn.reporting.labels.valid_range`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn.reporting.stats import MIN_BAND_TRIALS, aggregate

MAX_COLUMNS = 3
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D", "v", "P")
UNBOUNDED = (-math.inf, math.inf)


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
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
            tuple(colour[base]), LINESTYLES[j % len(LINESTYLES)], MARKERS[j % len(MARKERS)]
        )
    return dict(sorted(out.items()))


#: Width (inches) of a legend beside a single column of panels.
SIDE_LEGEND = 2.2


def grid(n: int, width: float = 4.8, height: float = 3.6, n_legend: int = 0):
    """``n`` panels in at most three columns (2 × 2 for four), with room for a legend of
    ``n_legend`` entries: below the panels, or beside a single column of them; returns
    ``(figure, axes, legend)`` for :func:`save`."""
    plt = pyplot()
    nrows = int(np.ceil(n / MAX_COLUMNS))
    ncols = int(np.ceil(n / nrows))
    fig_width, fig_height = width * ncols, height * nrows
    if n_legend == 0:
        legend = (1, "")
    elif ncols == 1:
        legend = (1, "outside right upper")
        fig_width += SIDE_LEGEND
    else:
        ncol = max(1, min(n_legend, int(fig_width // 2.8)))
        legend = (ncol, "outside lower center")
        fig_height += 0.3 + 0.19 * int(np.ceil(n_legend / ncol))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(fig_width, fig_height), squeeze=False, layout="constrained"
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n]), legend


def style_axes(ax, steps: bool = False) -> None:
    """Light grid, no top/right spines; ``steps``: the x axis counts steps (integer ticks)."""
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if steps:
        from matplotlib.ticker import MaxNLocator

        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def save(fig, path: Path, handles=None, labels=None, legend=(1, "")) -> Path:
    """Write ``fig`` as PNG (with the figure's one legend where :func:`grid` made room for
    it) and close it."""
    ncol, where = legend
    if handles and where:
        fig.legend(handles, labels, loc=where, ncol=ncol, fontsize=9, frameon=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    pyplot().close(fig)
    return path


def clipped(centre: Any, half: Any, valid: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``centre ± half`` cut to ``valid``: the interval's part that a value can be in."""
    centre = np.asarray(centre, dtype=float)
    half = np.nan_to_num(np.asarray(half, dtype=float))
    return np.clip(centre - half, *valid), np.clip(centre + half, *valid)


def trials_note(n_trials: Any, what: str = "band") -> str:
    """How a figure shows its trials, for its title: ``"mean, 95% CI over 10 trials"``
    or, below :data:`MIN_BAND_TRIALS`, ``"thin: each of the 3 trials, thick: mean"``."""
    counts = sorted({int(n) for n in np.atleast_1d(n_trials) if n == n and n > 0})
    many = [n for n in counts if n >= MIN_BAND_TRIALS]
    few = [n for n in counts if n < MIN_BAND_TRIALS]
    text = "–".join(map(str, (counts[0], counts[-1]) if len(counts) > 1 else counts))
    if not few:
        return f"mean and 95% CI over {text} trials"
    shown = "thin lines" if what == "band" else "small markers"
    thick = "thick line" if what == "band" else "large marker"
    trial_s = "trial" if counts == [1] else "trials"
    note = f"{shown}: each of the {text} {trial_s}, {thick}: their mean"
    if many:
        note += f" (95% CI where ≥ {MIN_BAND_TRIALS} trials)"
    return note


def draw_trials(ax, series: pd.DataFrame, style: Style, valid=UNBOUNDED):
    """One label's trials against the step (``series``: ``trial, step, value``): with
    at least :data:`MIN_BAND_TRIALS` trials the mean and its 95% CI band (cut to
    ``valid``), with fewer each trial's thin line under the mean's. Returns the mean's
    line (for a legend)."""
    stats = aggregate(series.assign(key=0), ["key", "step"], "value").sort_values("step")
    n_trials = series["trial"].nunique()
    if n_trials < MIN_BAND_TRIALS:
        for _, trial in series.groupby("trial", sort=False):
            trial = trial.sort_values("step")
            ax.plot(
                trial["step"], trial["value"], lw=0.7, alpha=0.3, color=style.color,
                ls=style.linestyle,
            )  # fmt: skip
    else:
        lo, hi = clipped(stats["mean"], stats["ci"], valid)
        ax.fill_between(stats["step"], lo, hi, color=style.color, alpha=0.18, lw=0)
    (line,) = ax.plot(stats["step"], stats["mean"], lw=1.8, color=style.color, ls=style.linestyle)
    return line


def dots(
    ax,
    points: pd.DataFrame,
    palette: Mapping[str, Style],
    trials: pd.DataFrame | None = None,
    x_valid=UNBOUNDED,
    y_valid=UNBOUNDED,
) -> None:
    """One marker per row of ``points`` (``label, x_mean, y_mean``, optional ``x_ci``,
    ``y_ci`` and ``n`` trials) in its label's style. A row with at least
    :data:`MIN_BAND_TRIALS` trials gets 95% CI whiskers cut to the valid ranges; a row
    with fewer gets none, and its trials (rows of ``trials``: ``label, x, y``) are drawn
    as small hollow markers around it."""
    labels = list(points["label"])
    xs, ys = points["x_mean"].to_numpy(float), points["y_mean"].to_numpy(float)
    n = points["n"].to_numpy(float) if "n" in points else np.full(len(points), np.inf)
    band = n >= MIN_BAND_TRIALS
    colours = [palette[label].color for label in labels]
    band_colours = [c for c, b in zip(colours, band) if b]
    for err, valid, draw, at, centre in (
        ("x_ci", x_valid, ax.hlines, ys, xs),
        ("y_ci", y_valid, ax.vlines, xs, ys),
    ):
        if err in points and band.any():
            lo, hi = clipped(centre[band], points[err].to_numpy(float)[band], valid)
            draw(at[band], lo, hi, colors=band_colours, lw=1.3)
    if trials is not None and not band.all():
        few = trials[trials["label"].isin([lab for lab, b in zip(labels, band) if not b])]
        for label, part in few.groupby("label", sort=False):
            s = palette[label]
            ax.scatter(
                part["x"], part["y"], s=14, marker=s.marker, facecolors="none",
                edgecolors=[s.color], linewidths=0.9, zorder=2,
            )  # fmt: skip
    for marker in dict.fromkeys(palette[label].marker for label in labels):
        pick = [i for i, label in enumerate(labels) if palette[label].marker == marker]
        ax.scatter(xs[pick], ys[pick], c=[colours[i] for i in pick], marker=marker, s=36, zorder=3)
