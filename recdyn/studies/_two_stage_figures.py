"""The figures of the ``two-stage`` study: Fig. 4.3's and 4.4's regret panels (x = d/s,
one line per architecture, mean ± two standard errors over seeds), Fig. 4.4's nominator /
ranker split, and Fig. 4.5's pool-allocation panels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recdyn.reporting import figures as fig
from recdyn.studies._two_stage_frames import summary
from recdyn.studies._two_stage_units import ARCHITECTURES

__all__ = ["moe_figure", "regret_panels", "split_figure"]

#: single stages dashed, two-stage solid; one colour per architecture in every figure
COLOURS = dict(zip(ARCHITECTURES, ("tab:blue", "tab:orange", "tab:green", "tab:red",
                                   "tab:purple", "tab:brown", "tab:pink", "tab:gray")))  # fmt: skip


def _log2_axis(ax) -> None:
    """A log₂ x axis with plain tick labels (1, 2, 4, …)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _line(ax, g: pd.DataFrame, x: str, label: str, colour: str, dashed: bool) -> None:
    g = g.sort_values(x)
    ax.errorbar(g[x], g["mean"], yerr=2 * g["se"].fillna(0), marker="o", ms=3.5,
                capsize=2, lw=1.4, color=colour, ls="--" if dashed else "-",
                label=label)  # fmt: skip


def regret_panels(
    frame: pd.DataFrame, panel: str, out: Path, name: str, value: str = "regret",
    ylabel: str = "regret at T",
) -> Path:  # fmt: skip
    """One panel per value of ``panel`` (``dim``, ``N`` or ``arms``); x = d/s (log scale);
    a line per architecture."""
    s = summary(frame, [panel, "arch", "d_over_s"], value)
    keys = sorted(s[panel].unique())
    archs = [a for a in ARCHITECTURES if a in set(s["arch"])]
    figure, axes, legend = fig.grid(len(keys), width=3.6, height=3.0, n_legend=len(archs))
    for ax, key in zip(axes, keys):
        part = s[s[panel] == key]
        for arch in archs:
            g = part[part["arch"] == arch]
            if len(g):
                _line(ax, g, "d_over_s", arch, COLOURS[arch], "+" not in arch)
        _log2_axis(ax)
        ax.set_title(f"{ {'dim': 'd', 'N': 'N', 'arms': '|A|'}[panel] } = {key}", fontsize=10)
        ax.set_xlabel("d / s")
        ax.set_ylabel(ylabel)
        fig.style_axes(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    return fig.save(figure, out / f"{name}.png", handles, labels, legend)


def split_figure(frame: pd.DataFrame, out: Path, name: str, arch: str = "U+U") -> Path:
    """Fig. 4.4's bottom row: ``arch``'s nominator and ranker shares of its regret against
    d/s, one panel per N."""
    part = frame[frame["arch"] == arch].assign(
        nominator_share=lambda f: f["nominator"] / f["regret"],
        ranker_share=lambda f: f["ranker"] / f["regret"],
    )
    keys = sorted(part["N"].unique())
    figure, axes, legend = fig.grid(len(keys), width=3.6, height=3.0, n_legend=2)
    for ax, n in zip(axes, keys):
        g = part[part["N"] == n]
        for col, label, colour in (("nominator_share", "nominator regret R^N", "tab:red"),
                                   ("ranker_share", "ranker regret R^R", "tab:blue")):  # fmt: skip
            _line(ax, summary(g, ["d_over_s"], col), "d_over_s", label, colour, False)
        ax.axhline(0.5, color="k", lw=0.6, alpha=0.4)
        _log2_axis(ax)
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(f"{arch}, N = {n}", fontsize=10)
        ax.set_xlabel("d / s")
        ax.set_ylabel("share of the regret at T")
        fig.style_axes(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    return fig.save(figure, out / f"{name}.png", handles, labels, legend)


def moe_figure(frame: pd.DataFrame, out: Path, n_experts: int) -> Path:
    """Fig. 4.5 (a)/(b): P@5 (top row) and R@5 (bottom row) against s, one column per c,
    a line per (gate, d_e); MoE solid, random pools dashed."""
    part = frame[frame["N"] == n_experts]
    cs = sorted(part["c"].unique())
    plt = fig.pyplot()
    figure, axes = plt.subplots(2, len(cs), figsize=(3.6 * len(cs), 5.8), squeeze=False,
                                layout="constrained")  # fmt: skip
    dims = sorted(part["item_dim"].unique())
    colours = dict(zip(dims, ("tab:blue", "tab:orange", "tab:green", "tab:red")))
    for row, (metric, label) in enumerate((("precision", "P@5"), ("recall", "R@5"))):
        for ax, c in zip(axes[row], cs):
            g = part[part["c"] == c]
            for gate in ("learned", "random"):
                for de in dims:
                    h = summary(g[(g["gate"] == gate) & (g["item_dim"] == de)], ["s"], metric)
                    _line(ax, h, "s", f"{'MoE' if gate == 'learned' else 'random'}, d_e = {de}",
                          colours[de], gate == "random")  # fmt: skip
            _log2_axis(ax)
            ax.set_title(f"N = {n_experts}, c = {c}", fontsize=10)
            ax.set_xlabel("s (features the experts see)")
            ax.set_ylabel(label)
            fig.style_axes(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    return fig.save(figure, out / f"moe_N{n_experts}.png", handles, labels,
                    (min(len(labels), 6), "outside lower center"))  # fmt: skip
