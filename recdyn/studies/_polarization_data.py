r"""The numbers of the ``polarization`` study (seed 004): each sweep's curves over time,
each run's end values and its time to polarize, and their means with 95 % intervals.

* **Curves**: CD, TP, RD, RR and the number of creator clusters at every measured step
  (every ``every`` steps), mean ± 95 % Student-t interval over runs.
* **End values**: each run's values at its last measured step (step T).
* **Time to polarize** :math:`t_{pol}`: the first measured step with TP ≥ 0.95
  (:data:`~._polarization_protocol.POLARIZED`); a run that never gets there is *censored*
  and counts as T + every (it ranks after every run that polarized). "Polarizes faster"
  means a smaller :math:`t_{pol}`; a knob's effect is the Spearman rank correlation
  between the knob and :math:`t_{pol}` over all runs of its sweep (censored runs tie).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recdyn.reporting.stats import aggregate, spearman
from recdyn.studies._polarization_protocol import METRICS, POLARIZED, SECONDARY, Reported

__all__ = ["PolarizationData", "collect", "reported", "trend"]

SHORT = list(METRICS.values())


@dataclass
class PolarizationData:
    """``rows``: one row per (sweep, value, trial, step) measured, with the five metrics;
    ``curves``: mean, ci, n per (sweep, value, metric, step); ``ends``: per (sweep,
    value, trial) the end values and ``t_pol`` (censored: T + every) with ``polarized``;
    ``summary``: per (sweep, value, metric) the end value's mean, ci, n (metric
    ``t_pol`` included); ``steps``, ``every``, ``runs``: the runs' T, measurement interval
    and the fewest runs of a setting; ``sweeps``: the study's sweep keys in order;
    ``n_creators``: the world's n."""

    rows: pd.DataFrame
    curves: pd.DataFrame
    ends: pd.DataFrame
    summary: pd.DataFrame
    steps: int
    every: int
    runs: int
    sweeps: tuple[str, ...]
    n_creators: int

    def end(self, sweep: str, value: float, metric: str) -> dict[str, float]:
        """``{"mean", "ci", "n"}`` of ``metric``'s end value (or ``t_pol``) at one knob
        value (NaN, n = 0 when absent)."""
        s = self.summary
        row = s[(s["sweep"] == sweep) & (s["value"] == value) & (s["metric"] == metric)]
        if row.empty:
            return {"mean": float("nan"), "ci": float("nan"), "n": 0}
        r = row.iloc[0]
        return {"mean": float(r["mean"]), "ci": float(r["ci"]), "n": int(r["n"])}

    def values(self, sweep: str) -> list[float]:
        """The knob values of ``sweep`` that have runs, ascending."""
        return sorted(self.ends.loc[self.ends["sweep"] == sweep, "value"].unique())

    def share_polarized(self, sweep: str, value: float) -> tuple[int, int]:
        """(runs with TP ≥ 0.95 at some measured step, runs) at one knob value."""
        e = self.ends[(self.ends["sweep"] == sweep) & (self.ends["value"] == value)]
        return int(e["polarized"].sum()), len(e)


def collect(
    results: dict[str, pd.DataFrame], settings: dict[str, dict], every: int, n_creators: int
) -> PolarizationData:
    """:class:`PolarizationData` from each sweep's results (``key → load_results``) and its
    settings (``key → {(environment, policy): knob value}``, the study's ``settings``)."""
    frames = []
    for key, frame in results.items():
        labels = settings[key]
        value = [labels[(e, p)] for e, p in zip(frame["environment"], frame["policy"])]
        part = frame.rename(columns=METRICS).assign(sweep=key, value=value)
        frames.append(part[["sweep", "value", "trial", "step", *SHORT]])
    rows = pd.concat(frames, ignore_index=True).dropna(subset=["TP"])
    rows = rows.sort_values(["sweep", "value", "trial", "step"], ignore_index=True)
    steps = int(rows["step"].max())
    long = rows.melt(
        id_vars=["sweep", "value", "trial", "step"],
        value_vars=SHORT,
        var_name="metric",
        value_name="x",
    )
    curves = aggregate(long, ["sweep", "value", "metric", "step"], "x")
    ends = _ends(rows, steps + every)
    end_long = ends.melt(
        id_vars=["sweep", "value", "trial"],
        value_vars=[*SHORT, "t_pol"],
        var_name="metric",
        value_name="x",
    )
    summary = aggregate(end_long, ["sweep", "value", "metric"], "x")
    counts = ends.groupby(["sweep", "value"])["trial"].nunique()
    return PolarizationData(
        rows,
        curves,
        ends,
        summary,
        steps,
        every,
        int(counts.min()) if len(counts) else 0,
        tuple(results),
        n_creators,
    )


def _ends(rows: pd.DataFrame, censored: int) -> pd.DataFrame:
    """Each run's last measured values and its time to polarize."""
    keys = ["sweep", "value", "trial"]
    last = rows.groupby(keys, sort=False).last().reset_index()
    hit = rows[rows["TP"] >= POLARIZED].groupby(keys, sort=False)["step"].min()
    t_pol = last.set_index(keys).index.map(hit.to_dict()).astype(float)
    return last.drop(columns="step").assign(
        t_pol=np.where(np.isnan(t_pol), censored, t_pol), polarized=~np.isnan(t_pol)
    )


def trend(data: PolarizationData, sweep: str, column: str = "t_pol") -> tuple[float, float, int]:
    """Spearman ρ between the knob and ``column`` over every run of ``sweep`` (∞ ranks
    last), its p-value and the number of runs."""
    e = data.ends[data.ends["sweep"] == sweep]
    knob = e["value"].to_numpy(dtype=float)
    finite = np.where(np.isinf(knob), np.nanmax(knob[np.isfinite(knob)]) * 10 + 1, knob)
    rho, p = spearman(finite, e[column].to_numpy(dtype=float))
    return rho, p, len(e)


def reported(data: PolarizationData) -> list[tuple[Reported, float, dict, dict]]:
    """Each number of the secondary sources that the run can set beside its own: (the
    source's entry, the knob value — k = n for "k = n" —, our end TP, our end CD)."""
    out = []
    for r in SECONDARY:
        if r.sweep not in data.sweeps:
            continue
        value = max(data.values(r.sweep)) if r.value < 0 else r.value
        tp, cd = data.end(r.sweep, value, "TP"), data.end(r.sweep, value, "CD")
        if tp["n"]:
            out.append((r, value, tp, cd))
    return out
