"""The findings of the ``exposure-audit`` study: thesis ch. 5's claims (L4134–4185,
L5017–5020) set against this run's kept runs (not ruled out by the second-order test),
each with the verdict counts of the runs it rests on. Last.fm's tag-proxy claims are in
:mod:`recdyn.studies._exposure_lastfm_findings`.

Rules (a claim is ✓ only when the run shows it; – when the run is too small to judge):

* **Concentration rises with τ** (both datasets): within each (dataset, model, d, n,
  recommender seed), the mean pairwise cosine of kept runs at the largest τ exceeds that at
  the smallest. ✓ if every such pair agrees and there are at least :data:`MIN_PAIRS`
  pairs (a one-sided sign test then has p ≤ 1/16), ✗ if one disagrees, – otherwise.
* **Full concentration at τ = 1**: every kept run at τ = 1 has one distinct strategy (at
  least :data:`MIN_RUNS` kept runs).
* **Local clustering at lower τ**: the thesis says lower τ "can lead to" it (L4140): ✓ if
  some kept run at a τ < 1 has producers sharing a strategy without all doing so, ✗ if
  none of at least :data:`MIN_RUNS` does.
* **Δ > 0**, **larger at d = 50** and **NMF more biased than PMF** (ML-100K): the test
  over recommender seeds of :mod:`recdyn.studies._exposure_verdicts`.
* **Confirmed-only filtering** (L5017–5020): the share of kept runs that are only
  inconclusive (those the appendix's confirmed-only plots drop) is larger on ML-100K than
  on Last.fm-2K: ✓ when a one-sided Fisher exact test gives p < 0.05.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from recdyn.studies._exposure_verdicts import counts, kept, seed_interval
from recdyn.studies.result import Finding

__all__ = ["MIN_PAIRS", "MIN_RUNS", "findings"]

MIN_PAIRS, MIN_RUNS = 4, 5
SOURCE = "thesis ch. 5"
ML = "ml-100k"


def _rises(runs: pd.DataFrame) -> Finding:
    claim = "Concentration of equilibrium strategies rises with τ"
    expected = "higher concentration at larger τ (Fig. 5.3, Theorem 4)"
    taus = sorted(runs["tau"].unique())
    if len(taus) < 2:
        return Finding(claim, f"{SOURCE} L4134–4137", expected, "one τ only", None)
    lo, hi = taus[0], taus[-1]
    keys = ["dataset", "model", "d", "n", "seed", "tau"]
    means = kept(runs).groupby(keys)["pairwise_cos"].mean()
    pairs = means.unstack("tau").reindex(columns=[lo, hi]).dropna()
    up = int((pairs[hi] > pairs[lo]).sum())
    measured = (
        f"mean pairwise cosine higher at τ = {hi:g} than at τ = {lo:g} in {up} of "
        f"{len(pairs)} (dataset, model, d, n, seed) groups; means {pairs[lo].mean():.3f} → "
        f"{pairs[hi].mean():.3f} {counts(runs)}"
        if len(pairs)
        else f"no group with kept runs at both τ = {lo:g} and {hi:g} {counts(runs)}"
    )
    if up < len(pairs):
        verdict: bool | None = False
    else:
        verdict = True if len(pairs) >= MIN_PAIRS else None
    if verdict is None:
        measured += f"; too few groups to judge (need {MIN_PAIRS})"
    return Finding(claim, f"{SOURCE} L4134–4137", expected, measured, verdict)


def _full_at_one(runs: pd.DataFrame) -> Finding:
    claim = "Full concentration already at τ = 1, regardless of d and n"
    source = f"{SOURCE} L4136–4137"
    at = runs[np.isclose(runs["tau"], 1.0)]
    if at.empty:
        return Finding(claim, source, "one strategy at τ = 1", "τ = 1 not in this run", None)
    good = kept(at)
    one = int((good["distinct"] == 1).sum())
    parts = [
        f"{dataset} {model}: {int((g['distinct'] == 1).sum())} of {len(g)} (mean cos "
        f"{g['pairwise_cos'].mean():.3f})"
        for (dataset, model), g in good.groupby(["dataset", "model"])
    ]
    measured = (
        f"{one} of {len(good)} kept runs at τ = 1 have one distinct strategy — "
        f"{'; '.join(parts)}; checked at d ∈ {sorted(at['d'].unique().tolist())}, n ∈ "
        f"{sorted(at['n'].unique().tolist())} {counts(at)}"
    )
    if one < len(good):
        verdict: bool | None = False
    elif len(good) >= MIN_RUNS:
        verdict = True
    else:
        verdict = None
        measured += f"; too few kept runs to judge (need {MIN_RUNS})"
    return Finding(claim, source, "one strategy at τ = 1", measured, verdict)


def _local_clustering(runs: pd.DataFrame) -> Finding:
    claim = "Lower τ can lead to local clustering: a few producers share a strategy"
    source = f"{SOURCE} L4140–4143"
    expected = "some runs at τ < 1 with 1 < distinct strategies < n"
    low = runs[runs["tau"] < 1.0]
    if low.empty:
        return Finding(claim, source, expected, "no τ < 1 in this run", None)
    good = kept(low)
    parts = [
        f"τ = {tau:g}: {int(g['local_clusters'].sum())} of {len(g)} kept runs "
        f"(mean {g['distinct'].mean():.1f} distinct of n ∈ {sorted(g['n'].unique().tolist())})"
        for tau, g in good.groupby("tau")
    ]
    hits = int(good["local_clusters"].sum())
    measured = ("; ".join(parts) or "no kept runs at τ < 1") + f" {counts(low)}"
    if hits:
        verdict: bool | None = True
    elif len(good) >= MIN_RUNS:
        verdict = False
    else:
        verdict = None
        measured += f"; too few kept runs to judge (need {MIN_RUNS})"
    return Finding(claim, source, expected, measured, verdict)


def _seed_finding(
    claim: str, source: str, expected: str, what: str, per_seed: pd.Series, runs: pd.DataFrame
) -> Finding:
    text, verdict = seed_interval(per_seed)
    return Finding(claim, source, expected, f"{what} {text} {counts(runs)}", verdict)


def _ml_findings(runs: pd.DataFrame) -> list[Finding]:
    ml = runs[runs["dataset"] == ML]
    if ml.empty:
        return []
    good = kept(ml)
    out = []
    for col, what in (("delta_user", "user-centric"), ("delta_producer", "producer-centric")):
        base = f"mean Δ over kept runs (baseline b, all runs: {ml['base_' + col].mean():+.4f}):"
        out.append(
            _seed_finding(
                f"ML-100K: equilibrium content targets men, Δ = φ_men − φ_women > 0 ({what})",
                f"{SOURCE} L4170–4185, Fig. 5.4",
                "Δ > 0 (users 71 % men)",
                base,
                good.groupby("seed")[col].mean(),
                ml,
            )
        )
    for col, pair, claim, source in (
        ("d", None, "ML-100K: Δ (user-centric) is larger at the larger d", "L4183–4184"),
        ("model", ("nmf", "pmf"), "ML-100K: NMF incentivises more biased content", "L4184–4185"),
    ):
        levels = sorted(ml[col].unique())
        a, b = (levels[-1], levels[0]) if pair is None else pair
        expected = "Δ(d = 50) > Δ(d = 3)" if col == "d" else f"Δ({col} = {a}) > Δ({col} = {b})"
        cells = good.groupby([col, "seed"])["delta_user"].mean().unstack(col)
        if a == b or not {a, b} <= set(cells.columns):
            out.append(
                Finding(
                    claim,
                    f"{SOURCE} {source}",
                    expected,
                    f"this run has one {col} only ({a})"
                    if a == b
                    else f"needs kept runs at both {col} = {a} and {b}",
                    None,
                )
            )
            continue
        out.append(
            _seed_finding(
                claim,
                f"{SOURCE} {source}",
                expected,
                f"Δ({col} = {a}) − Δ({col} = {b}), user-centric:",
                cells[a] - cells[b],
                ml,
            )
        )
    return out


def _confirmed_only(runs: pd.DataFrame) -> Finding:
    claim = "Keeping only confirmed runs removes more of ML-100K's runs than of Last.fm's"
    source = f"{SOURCE} L5017–5020"
    expected = "a non-negligible share on ML-100K, little on Last.fm"
    shares = {}
    for dataset, g in runs.groupby("dataset"):
        good = kept(g)
        if len(good):
            shares[dataset] = (int((good["status"] == "inconclusive").sum()), len(good))
    measured = "; ".join(
        f"{d}: {i} of {n} kept runs only inconclusive ({i / n:.0%})" for d, (i, n) in shares.items()
    )
    if len(shares) < 2:
        return Finding(claim, source, expected, (measured or "no kept runs") + "; needs both", None)
    (i_ml, n_ml) = shares[ML]
    (i_lf, n_lf) = next(v for d, v in shares.items() if d != ML)
    table = [[i_ml, n_ml - i_ml], [i_lf, n_lf - i_lf]]
    p = float(stats.fisher_exact(table, alternative="greater").pvalue)
    measured += f"; one-sided Fisher test that ML-100K's share is larger: p = {p:.2g}"
    return Finding(claim, source, expected, f"{measured} {counts(runs)}", bool(p < 0.05))


def findings(runs: pd.DataFrame) -> list[Finding]:
    """The findings of the module doc from the per-run table (both datasets)."""
    return [
        _rises(runs),
        _full_at_one(runs),
        _local_clustering(runs),
        *_ml_findings(runs),
        _confirmed_only(runs),
    ]
