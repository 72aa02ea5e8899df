"""The findings of the ``exposure-audit`` study: thesis ch. 5's claims (L4136–4185) set
against this run's kept runs (not ruled out by the second-order test), each with the
verdict counts of the runs it rests on.

Rules (a claim is ✓ only when the run shows it; – when the run is too small to judge):

* **Concentration rises with τ**: within each (model, d, n, recommender seed), the mean
  pairwise cosine of kept runs at the largest τ exceeds that at the smallest. ✓ if every
  such pair agrees and there are at least :data:`MIN_PAIRS` pairs (a one-sided sign test
  then has p ≤ 1/16), ✗ if one disagrees, – otherwise.
* **Full concentration at τ = 1**: every kept run at τ = 1 has one distinct strategy (at
  least :data:`MIN_RUNS` kept runs).
* **Δ > 0** and **NMF more biased than PMF**: recommender seeds are the independent units
  (runs of one seed share its embeddings): per-seed means, then a 95 % t-interval over
  seeds. ✓ if it lies above 0, ✗ otherwise; – with fewer than :data:`MIN_SEEDS` seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from recdyn.studies.result import Finding

__all__ = ["MIN_PAIRS", "MIN_RUNS", "MIN_SEEDS", "findings"]

MIN_PAIRS, MIN_RUNS, MIN_SEEDS = 4, 5, 3
SOURCE = "thesis ch. 5"


def _counts(runs: pd.DataFrame) -> str:
    s = runs["status"]
    return (
        f"[{len(runs)} runs: {(s == 'confirmed').sum()} confirmed, "
        f"{(s == 'inconclusive').sum()} inconclusive, {(s == 'violated').sum()} violated; "
        f"{int(runs['capped'].sum())} stopped at the cap]"
    )


def _kept(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] != "violated"]


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(values))
    half = float(stats.t.ppf(0.975, len(values) - 1) * stats.sem(values))
    return mean, mean - half, mean + half


def _rises(runs: pd.DataFrame) -> Finding:
    claim = "Concentration of equilibrium strategies rises with τ"
    expected = "higher concentration at larger τ (Fig. 5.3, Theorem 4)"
    taus = sorted(runs["tau"].unique())
    if len(taus) < 2:
        return Finding(claim, f"{SOURCE} L4134–4137", expected, "one τ only", None)
    lo, hi = taus[0], taus[-1]
    means = _kept(runs).groupby(["model", "d", "n", "seed", "tau"])["pairwise_cos"].mean()
    table = means.unstack("tau").reindex(columns=[lo, hi])
    pairs = table.dropna()
    up = int((pairs[hi] > pairs[lo]).sum())
    measured = (
        f"mean pairwise cosine higher at τ = {hi:g} than at τ = {lo:g} in {up} of "
        f"{len(pairs)} (model, d, n, seed) groups; means {pairs[lo].mean():.3f} → "
        f"{pairs[hi].mean():.3f} {_counts(runs)}"
        if len(pairs)
        else f"no group with kept runs at both τ = {lo:g} and {hi:g} {_counts(runs)}"
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
    kept = _kept(at)
    one = int((kept["distinct"] == 1).sum())
    measured = (
        f"{one} of {len(kept)} kept runs at τ = 1 have one distinct strategy; mean "
        f"pairwise cosine {kept['pairwise_cos'].mean():.4f}; checked at d ∈ "
        f"{sorted(at['d'].unique().tolist())}, n ∈ {sorted(at['n'].unique().tolist())} "
        f"only {_counts(at)}"
    )
    if one < len(kept):
        verdict: bool | None = False
    elif len(kept) >= MIN_RUNS:
        verdict = True
    else:
        verdict = None
        measured += f"; too few kept runs to judge (need {MIN_RUNS})"
    return Finding(claim, source, "one strategy at τ = 1", measured, verdict)


def _seed_test(
    claim: str, source: str, expected: str, per_seed: pd.Series, base: str, counts: str
) -> Finding:
    values = per_seed.dropna().to_numpy()
    if len(values) < MIN_SEEDS:
        shown = ", ".join(f"{v:+.4f}" for v in values) or "none"
        return Finding(
            claim,
            source,
            expected,
            f"{base} per seed: {shown}; too few recommender seeds to judge (need "
            f"{MIN_SEEDS}) {counts}",
            None,
        )
    mean, low, high = _interval(values)
    return Finding(
        claim,
        source,
        expected,
        f"{base} {mean:+.4f} (95 % interval over {len(values)} seeds {low:+.4f} to "
        f"{high:+.4f}) {counts}",
        bool(low > 0),
    )


def _delta(runs: pd.DataFrame) -> list[Finding]:
    out = []
    kept = _kept(runs)
    for col, what in (("delta_user", "user-centric"), ("delta_producer", "producer-centric")):
        per_seed = kept.groupby("seed")[col].mean()
        out.append(
            _seed_test(
                f"Equilibrium content targets men: Δ = φ_men − φ_women > 0 ({what})",
                f"{SOURCE} L4170–4185, Fig. 5.4",
                "Δ > 0 (users 71 % men)",
                per_seed,
                f"mean Δ over kept runs (baseline b, all runs: {runs['base_' + col].mean():+.4f});",
                _counts(runs),
            )
        )
    return out


def _nmf_more(runs: pd.DataFrame) -> Finding:
    claim = "NMF incentivises more biased content than PMF (user-centric Δ)"
    source = f"{SOURCE} L4184–4185"
    expected = "Δ(NMF) > Δ(PMF) consistently"
    if set(runs["model"]) != {"pmf", "nmf"}:
        return Finding(claim, source, expected, "needs both pmf and nmf", None)
    cells = _kept(runs).groupby(["model", "seed"])["delta_user"].mean().unstack("model")
    diff = (cells["nmf"] - cells["pmf"]) if len(cells) else pd.Series(dtype=float)
    return _seed_test(claim, source, expected, diff, "Δ(NMF) − Δ(PMF):", _counts(runs))


def findings(runs: pd.DataFrame) -> list[Finding]:
    """The findings of the module doc from the per-run table."""
    return [_rises(runs), _full_at_one(runs), *_delta(runs), _nmf_more(runs)]
