"""Figures of the ``sampling-bias`` study (thesis §2.5): a metric on each biased dataset
against UNIFORM-INIT with its linear fit (Figs. 2.3, 2.4), and the held-out check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recdyn.reporting.figures import pyplot, style_axes


def plot_biased_vs_uniform(
    table: pd.DataFrame,
    metric: str,
    panels: list[tuple[str, str]],
    fits: dict[str, dict[str, float]],
    path: Path,
    title: str,
) -> Path:
    """One panel per biased dataset: ``metric`` on it (y) against UNIFORM-INIT (x), one
    labelled point per recommender, the linear fit in red and ``y = x`` dashed.

    ``table``: one row per recommender with a column per dataset key; ``panels``:
    ``(dataset key, label)``; ``fits[key]``: ``slope, intercept, r2, rho``.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False)
    x_all = table["uniform"].to_numpy(float)
    for ax, (key, label) in zip(axes[0], panels):
        y_all = table[key].to_numpy(float)
        ok = np.isfinite(x_all) & np.isfinite(y_all)
        x, y = x_all[ok], y_all[ok]
        ax.scatter(x, y, s=28, color="tab:blue", zorder=3)
        for name, xi, yi in zip(table.index[ok], x, y):
            ax.annotate(
                str(name), (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=7.5
            )
        if len(x):
            lo = float(min(x.min(), y.min()))
            hi = float(max(x.max(), y.max()))
            pad = 0.05 * (hi - lo or 1.0)
            grid = np.array([lo - pad, hi + pad])
            ax.plot(grid, grid, "--", color="0.6", lw=1, label="y = x")
            fit = fits.get(key, {})
            if np.isfinite(fit.get("slope", np.nan)):
                ax.plot(
                    grid,
                    fit["slope"] * grid + fit["intercept"],
                    color="tab:red",
                    lw=1.5,
                    label=f"linear fit (R² = {fit['r2']:.3f}, Spearman ρ = {fit['rho']:.3f})",
                )
            ax.set_xlim(*grid)
            ax.set_ylim(*grid)
        ax.set_xlabel(f"{metric} on UNIFORM-INIT")
        ax.set_ylabel(f"{metric} on {label}")
        ax.set_title(f"{label} vs UNIFORM-INIT", fontsize=10)
        style_axes(ax)
        ax.legend(fontsize=7.5, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_heldout(
    heldout: pd.DataFrame, datasets: list[tuple[str, str]], path: Path, metric: str
) -> Path:
    """Grouped bars: ``metric`` on the held-out uniform pairs, per recommender, for the
    model trained on each dataset (``heldout``: index recommender, a column per key)."""
    plt = pyplot()
    n_rec = len(heldout)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * n_rec + 2), 4.2))
    width = 0.8 / max(1, len(datasets))
    base = np.arange(n_rec)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for j, (key, label) in enumerate(datasets):
        ax.bar(
            base + (j - (len(datasets) - 1) / 2) * width,
            heldout[key].to_numpy(float),
            width,
            label=f"trained on {label}",
            color=colours[j % len(colours)],
        )
    values = heldout[[k for k, _ in datasets]].to_numpy(float)
    finite = values[np.isfinite(values)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        ax.set_ylim(max(0.0, lo - 0.15 * (hi - lo or 1.0)), hi + 0.1 * (hi - lo or 1.0))
    ax.set_xticks(base, [str(i) for i in heldout.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"{metric} on held-out uniform pairs")
    ax.set_title("Held-out check: every model evaluated on the same uniform sample", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
