"""The ``two-stage`` study's bandit findings (Figs. 4.3–4.4), each a claim of thesis §4.3
with the verdict rule it is judged by.

Trend claims ("regret rises with X") are judged per group of the other settings (the
architecture and the remaining axes): the mean regret at the largest X against the
smallest (:func:`~._two_stage_frames.endpoint_trends`); a claim **reproduces** when at
least two thirds of the groups move significantly (beyond two standard errors) in the
claimed direction and none significantly against it. Comparisons of systems
(:func:`~._two_stage_frames.paired_gap`) use the same two-thirds rule over settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recdyn.studies._two_stage_frames import endpoint_trends, paired_gap
from recdyn.studies.result import Finding

__all__ = ["MOST", "bandit_findings", "coverage_finding", "synthetic_panels"]

#: the share of groups a claim needs (module doc)
MOST = 2 / 3
FIG43 = "thesis §4.3, Fig. 4.3 (L2520–2525)"


def _count_verdict(t: pd.DataFrame, direction: int) -> tuple[bool | None, str]:
    if t.empty:
        return None, "no groups to compare at these settings"
    right = int((t["significant"] == direction).sum())
    wrong = int((t["significant"] == -direction).sum())
    ok = right >= MOST * len(t) and wrong == 0
    return ok, f"{right} of {len(t)} groups significantly, {wrong} against"


def _trend(
    frame: pd.DataFrame, x: str, groups: list[str], claim: str, source: str, expected: str,
    direction: int = 1, value: str = "regret", label: str = "",
) -> Finding:  # fmt: skip
    t = endpoint_trends(frame, x, groups, value)
    ok, counted = _count_verdict(t, direction)
    if not t.empty:
        lo, hi = t[f"{x}_low"].iloc[0], t[f"{x}_high"].iloc[0]
        mean_lo, mean_hi = t["low"].mean(), t["high"].mean()
        counted = (f"{label or x} {lo:g} → {hi:g}: mean {value} {mean_lo:.3g} → "
                   f"{mean_hi:.3g}; {counted}")  # fmt: skip
    return Finding(claim, source, expected, counted, ok)


def synthetic_panels(frame: pd.DataFrame, grid: dict[str, Any]) -> dict[str, pd.DataFrame]:
    syn = frame[frame["source"] == "synthetic"]
    a = grid["arm_counts"]
    panel_a = syn[syn["unit"].str.match(r"^syn-d\d+$")]
    arms = syn[(syn["dim"] == a["dim"]) & syn["rho"].isin(a["rhos"])
               & (syn["N"] == grid["nominators"])]  # fmt: skip
    by_n = syn[(syn["dim"] == grid["panel_b"]["dim"]) & (syn["arms"] == grid["arms"])]
    return {"a": panel_a, "arms": arms, "b": by_n}


def bandit_findings(frame: pd.DataFrame, grid: dict[str, Any]) -> list[Finding]:
    """Findings of Figs. 4.3 and 4.4 from :func:`~._two_stage_frames.panel_frame`."""
    p = synthetic_panels(frame, grid)
    out = [
        _trend(p["arms"], "arms", ["arch", "rho"], "Regret rises with the number of arms |A|",
               FIG43, "higher regret at more arms, single- and two-stage alike", label="|A|"),
        _trend(p["a"], "dim", ["arch", "rho"], "Regret rises with the feature dimension d",
               FIG43, "higher regret at larger d (at fixed ρ = s/d), all architectures",
               label="d"),
        _trend(p["a"], "d_over_s", ["arch", "dim"],
               "Regret rises with misspecification d/s", FIG43,
               "higher regret as the nominators / single stages see fewer of the d features",
               label="d/s"),
        _two_stage_beats_single(pd.concat([p["a"], p["b"]]).drop_duplicates(
            ["unit", "arch", "s", "seed"])),
    ]  # fmt: skip
    ml = frame[(frame["source"] == "multi-label") & (frame["stages"] == 2)]
    out += _multilabel(ml, "the multi-label world (synthetic AmazonCat substitute)")
    lfm = frame[(frame["source"] == "Last.fm") & (frame["stages"] == 2)]
    if not lfm.empty:
        out += _multilabel(lfm, "the Last.fm-2K proxy")
    return out


def _two_stage_beats_single(frame: pd.DataFrame) -> Finding:
    """Every two-stage ``R+Y`` against the single stage ``Y`` on the same ``s < d``
    features, seed by seed."""
    restricted = frame[frame["s"] < frame["dim"]]
    gaps = []
    for arch in sorted(restricted.loc[restricted["stages"] == 2, "arch"].unique()):
        nominator = arch.split("+")[1]
        g = paired_gap(restricted, restricted["arch"] == arch,
                       restricted["arch"] == nominator, ["unit", "s"])  # fmt: skip
        gaps.append(g.assign(arch=arch))
    t = pd.concat(gaps, ignore_index=True) if gaps else pd.DataFrame()
    ok, counted = _count_verdict(t, -1)
    if not t.empty:
        share = float((t["gap"] < 0).mean())
        against = t[t["significant"] > 0]
        named = "; ".join(f"{r.arch} ({r.unit}, s = {r.s})" for r in against.itertuples())
        counted = (f"two-stage minus single-stage regret, mean {t['gap'].mean():.3g} over "
                   f"{len(t)} (architecture, d, N, s) settings, lower in {share:.0%}; "
                   f"{counted} lower" + (f" — higher: {named}" if named else ""))
    return Finding(
        "Two-stage systems beat their s-restricted single-stage counterparts",
        "thesis §4.3, Figs. 4.3–4.4 (L2526–2533, L2600–2619)",
        "two-stage regret well below the single stage with the nominators' learner and s",
        counted,
        ok,
    )


def _multilabel(ml: pd.DataFrame, where: str) -> list[Finding]:
    src = "thesis §4.3, Fig. 4.4 (L2581–2596)"
    out = [
        _trend(ml, "N", ["arch", "s"], f"On {where}, relative regret falls with N",
               src, "two-stage relative regret decreases as nominators are added",
               direction=-1, value="relative"),
    ]  # fmt: skip
    # the thesis shows U+U "as a representative example" (Fig. 4.4 caption)
    ucb = ml[ml["arch"] == ("U+U" if (ml["arch"] == "U+U").any() else ml["arch"].iloc[0])]
    share = ucb.assign(share=ucb["nominator"] / ucb["regret"])
    by = share.groupby(["s", "N"])["share"].mean().unstack("N")
    if by.shape[1] < 2:
        out.append(Finding(f"On {where}, R^N dominates at small N, R^R at large N", src,
                           "nominator share > ½ at the fewest nominators, < ½ at the most",
                           "only one N measured", None))  # fmt: skip
        return out
    lo, hi = by.columns.min(), by.columns.max()
    holds = (by[lo] > 0.5) & (by[hi] < 0.5)
    arch = ucb["arch"].iloc[0]
    measured = (f"{arch}: nominator share of the regret at N = {lo} vs N = {hi}: "
                + ", ".join(f"s = {s}: {by.at[s, lo]:.2f} → {by.at[s, hi]:.2f}"
                            for s in by.index)
                + f"; holds at {int(holds.sum())} of {len(by)} s")  # fmt: skip
    out.append(Finding(
        f"On {where}, the nominator regret R^N dominates at small N and gives way to the "
        "ranker regret R^R as N grows",
        src,
        "nominator share of the regret > ½ at the fewest nominators, < ½ at the most",
        measured,
        bool(holds.sum() >= MOST * len(by)),
    ))
    return out


def coverage_finding(labels: np.ndarray, n_nominators: int = 10) -> Finding:
    r"""The chance that ``n_nominators`` arms, one drawn point each, include a positive:
    :math:`1 - \prod_n (1 - p_{a_n})` averaged over random sets of arms, against the
    thesis's :math:`1 - 0.9^{10}` (L2597–2602)."""
    p = np.asarray(labels, dtype=bool).mean(axis=0)
    rng = np.random.default_rng(0)
    sets = np.stack([rng.choice(len(p), n_nominators, replace=False) for _ in range(2000)])
    coverage = float((1.0 - np.prod(1.0 - p[sets], axis=1)).mean())
    target = 1.0 - 0.9**n_nominators
    return Finding(
        f"{n_nominators} random nominators cover a positive arm ≈ 65 % of the time",
        "thesis §4.3 (L2597–2602)",
        f"1 − 0.9^{n_nominators} = {target:.3f} at ≈ 10 % positivity",
        f"{coverage:.3f} at positivity {p.mean():.2%} (random sets of {n_nominators} of "
        f"{len(p)} arms)",
        bool(abs(coverage - target) < 0.05),
    )
