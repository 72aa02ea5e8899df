"""Tidy frames of the ``two-stage`` study's stored units, and the comparisons its findings
count.

* :func:`panel_frame` — one row per (unit, configuration, seed): the world (``source``,
  ``arms``, ``dim``), the architecture, ``N``, ``s``, ``d/s``, the cumulative regret at
  ``T`` (``regret``), its nominator and ranker parts, the uniform agent's, and the
  relative regret.
* :func:`summary` — mean, standard error and seed count per group.
* :func:`endpoint_trends` — per group, the mean at the smallest and the largest ``x`` and
  whether their difference exceeds two standard errors (seeds as replicates; the
  settings share their seeds, which makes the test conservative).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["endpoint_trends", "paired_gap", "panel_frame", "summary", "sweep_frame"]

SOURCES = {
    "linear-v1": "synthetic",
    "multilabel-synthetic-v1": "multi-label",
    "multilabel-lastfm-v1": "Last.fm",
}


def panel_frame(panels: dict[str, Any]) -> pd.DataFrame:
    """The panel units' per-seed rows (module doc)."""
    frames = []
    for key, result in panels.items():
        world = result["world"]
        f = pd.DataFrame(result["columns"]).join(pd.DataFrame(result["configs"]), on="config")
        frames.append(f.assign(unit=key, source=SOURCES[world["name"]],
                               arms=world["params"]["n_arms"], dim=world["params"]["dim"]))
    out = pd.concat(frames, ignore_index=True)
    out = out.rename(columns={
        "n_nominators": "N", "n_features": "s", "cumulative": "regret",
        "cumulative_nominator": "nominator", "cumulative_ranker": "ranker",
        "cumulative_uniform": "uniform",
    })  # fmt: skip
    out["d_over_s"] = out["dim"] / out["s"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative"] = out["regret"] / out["uniform"]
    out["stages"] = np.where(out["arch"].str.contains("+", regex=False), 2, 1)
    if "rho" not in out:
        out["rho"] = np.nan
    cols = ["unit", "source", "arms", "dim", "arch", "stages", "N", "s", "rho", "d_over_s", "seed",
            "regret", "nominator", "ranker", "uniform", "relative"]  # fmt: skip
    return out[cols]


def sweep_frame(sweeps: dict[str, Any]) -> pd.DataFrame:
    """The sweeps' rows with a ``sweep`` column (``linear`` / ``multilabel``)."""
    frames = [
        pd.DataFrame(result["rows"]).assign(sweep=key.removeprefix("sweep-"))
        for key, result in sweeps.items()
    ]
    return pd.concat(frames, ignore_index=True)


def summary(frame: pd.DataFrame, by: list[str], value: str = "regret") -> pd.DataFrame:
    """Mean, standard error and count of ``value`` per ``by`` group."""
    g = frame.groupby(by, sort=True)[value]
    return pd.DataFrame({"mean": g.mean(), "se": g.sem(), "n": g.size()}).reset_index()


def endpoint_trends(
    frame: pd.DataFrame, x: str, groups: list[str], value: str = "regret"
) -> pd.DataFrame:
    """Per ``groups`` group: the mean of ``value`` at the smallest and the largest ``x``,
    the difference (largest − smallest), its standard error and its sign where it
    exceeds two standard errors (``+1``/``-1``; ``0`` otherwise). Groups with one ``x``
    are left out."""
    s = summary(frame, [*groups, x], value)
    rows = []
    for key, g in s.groupby(groups, sort=True):
        if g[x].nunique() < 2:
            continue
        lo, hi = g.loc[g[x].idxmin()], g.loc[g[x].idxmax()]
        diff = hi["mean"] - lo["mean"]
        se = float(np.hypot(lo["se"], hi["se"]))
        sign = int(np.sign(diff)) if abs(diff) > 2 * se else 0
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(groups, key)), f"{x}_low": lo[x], f"{x}_high": hi[x],
                     "low": lo["mean"], "high": hi["mean"], "difference": diff, "se": se,
                     "significant": sign})  # fmt: skip
    return pd.DataFrame(rows)


def paired_gap(frame: pd.DataFrame, left: pd.Series, right: pd.Series, on: list[str]):
    """Rows of ``frame`` where ``left`` holds, matched on ``on`` + ``seed`` with those
    where ``right`` holds: the per-setting mean of left − right regret, its standard error
    (over seeds: the pairs share their seed's world) and its sign beyond two errors."""
    a = frame[left].set_index([*on, "seed"])["regret"]
    b = frame[right].set_index([*on, "seed"])["regret"]
    both = pd.concat({"a": a, "b": b}, axis=1, join="inner").reset_index()
    both["gap"] = both["a"] - both["b"]
    g = both.groupby(on)["gap"]
    out = pd.DataFrame({"gap": g.mean(), "se": g.sem()}).reset_index()
    out["significant"] = np.where(
        out["gap"].abs() > 2 * out["se"], np.sign(out["gap"]).astype(int), 0
    )
    return out
