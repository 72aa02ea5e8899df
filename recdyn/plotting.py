"""Figures of one simulated trajectory's metrics (``Trajectory.plot``; matplotlib,
headless-safe). Titles come from :mod:`recdyn.reporting.labels`; the moving average has
the one default window of every report (:func:`~recdyn.reporting.results.default_smooth`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from recdyn.reporting.figures import style_axes
from recdyn.reporting.labels import metric_title
from recdyn.reporting.results import default_smooth


def plot_metrics(
    table: pd.DataFrame,
    path: str | Path | None = None,
    metrics: Sequence[str] | None = None,
    title: str = "",
    by: str | None = None,
    smooth: int | None = None,
):
    """One panel per metric over ``step``; one line per value of column ``by`` if given.

    Per-step values are drawn faintly with a centred moving average over ``smooth`` steps
    on top (default :func:`~recdyn.reporting.results.default_smooth` of the series'
    length; ``1`` draws the raw series only).
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    skip = {"step", "n_ratings", "seconds", by}
    metrics = list(metrics) if metrics else [c for c in table.columns if c not in skip]
    metrics = [m for m in metrics if table[m].notna().any()]
    n = max(len(metrics), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes[0], metrics)):
        groups = table.groupby(by) if by else [(None, table)]
        for g, (label, part) in enumerate(groups):
            part = part.sort_values("step")
            color = f"C{g % 10}"
            window = smooth or default_smooth(part[name].notna().sum())
            if window > 1:
                ax.plot(part["step"], part[name], lw=0.8, alpha=0.3, color=color)
                trend = part[name].rolling(window, center=True, min_periods=1).mean()
                ax.plot(part["step"], trend, lw=1.8, color=color, label=label)
            else:
                ax.plot(part["step"], part[name], lw=1.2, color=color, label=label)
        ax.set_title(metric_title(name), fontsize=10)
        style_axes(ax, steps=True)
        if by and j == 0:
            ax.legend(fontsize=8, title=by, title_fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
