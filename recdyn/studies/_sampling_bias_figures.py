"""Figures of the ``sampling-bias`` study (thesis §2.5): a metric on each biased dataset
against UNIFORM-INIT with its linear fit (Figs. 2.3, 2.4), and the held-out check — one row
of panels per reading of the biased datasets (thesis text, RecLab code), on common axes so
that a reader compares the rows directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recdyn.reporting.figures import pyplot, style_axes

#: one row of a figure: (the reading's label, its recommender × dataset-key table, its fits)
Row = tuple[str, pd.DataFrame, dict[str, dict[str, float]]]


def _limits(values: np.ndarray, pad: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return lo - pad * (hi - lo or 1.0), hi + pad * (hi - lo or 1.0)


def plot_biased_vs_uniform(
    rows: list[Row], metric: str, panels: list[tuple[str, str]], path: Path, title: str
) -> Path:
    """One panel per reading (row) and biased dataset (column): ``metric`` on it (y)
    against UNIFORM-INIT (x), one labelled point per recommender, the linear fit in red
    and ``y = x`` dashed; every panel on the same axes.

    ``rows``: ``(reading label, table, fits)`` — ``table`` one row per recommender with a
    column per dataset key, ``fits[key]``: ``slope, intercept, r2, rho``; ``panels``:
    ``(dataset key, label)``.
    """
    plt = pyplot()
    shape = (len(rows), len(panels))
    fig, axes = plt.subplots(*shape, figsize=(5.2 * shape[1], 4.6 * shape[0]), squeeze=False)
    keys = ["uniform", *(k for k, _ in panels)]
    lo, hi = _limits(np.concatenate([t[keys].to_numpy(float).ravel() for _, t, _ in rows]), 0.05)
    grid = np.array([lo, hi])
    for axes_row, (reading, table, fits) in zip(axes, rows):
        x_all = table["uniform"].to_numpy(float)
        for ax, (key, label) in zip(axes_row, panels):
            y_all = table[key].to_numpy(float)
            ok = np.isfinite(x_all) & np.isfinite(y_all)
            x, y = x_all[ok], y_all[ok]
            ax.scatter(x, y, s=28, color="tab:blue", zorder=3)
            for name, xi, yi in zip(table.index[ok], x, y):
                ax.annotate(
                    str(name), (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=7.5
                )
            ax.plot(grid, grid, "--", color="0.6", lw=1, label="y = x")
            fit = fits.get(key, {})
            if len(x) and np.isfinite(fit.get("slope", np.nan)):
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
            ax.set_title(f"{label} vs UNIFORM-INIT — {reading}", fontsize=10)
            style_axes(ax)
            ax.legend(fontsize=7.5, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_heldout(
    rows: list[tuple[str, pd.DataFrame]], datasets: list[tuple[str, str]], path: Path, metric: str
) -> Path:
    """Grouped bars, one panel per reading: ``metric`` on the reading's held-out uniform
    pairs, per recommender, for the model trained on each dataset (``rows``: ``(reading
    label, table)`` with index recommender and a column per dataset key); common y axis."""
    plt = pyplot()
    n_rec = max(len(table) for _, table in rows)
    fig, axes = plt.subplots(
        len(rows), 1, figsize=(max(6.0, 0.75 * n_rec + 2), 4.2 * len(rows)), squeeze=False
    )
    width = 0.8 / max(1, len(datasets))
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    values = np.concatenate([t[[k for k, _ in datasets]].to_numpy(float).ravel() for _, t in rows])
    lo, hi = _limits(values, 0.0)
    lo, hi = max(0.0, lo - 0.15 * (hi - lo or 1.0)), hi + 0.1 * (hi - lo or 1.0)
    for ax, (reading, heldout) in zip(axes[:, 0], rows):
        base = np.arange(len(heldout))
        for j, (key, label) in enumerate(datasets):
            ax.bar(
                base + (j - (len(datasets) - 1) / 2) * width,
                heldout[key].to_numpy(float),
                width,
                label=f"trained on {label}",
                color=colours[j % len(colours)],
            )
        ax.set_ylim(lo, hi)
        ax.set_xticks(base, [str(i) for i in heldout.index], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(f"{metric} on held-out uniform pairs")
        ax.set_title(
            f"Held-out check, {reading}: every model evaluated on the same uniform sample",
            fontsize=10,
        )
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
