"""Findings of the ``sampling-bias`` study: the claims of thesis §2.5 against the fits
and differences of the offline metrics measured on the three datasets, with the
thresholds of each verdict stated in the finding.

Every claim involves a biased dataset, so each is judged once per reading with the same
criteria — the thesis's text, then RecLab's code (issue 23) — and the claim says which:
"… (thesis text)", "… (RecLab code)".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recdyn.studies._sampling_bias_protocol import READINGS
from recdyn.studies.result import Finding

SOURCE = "thesis §2.5"
#: thresholds of the verdicts (stated in every finding).
MIN_FIT = 0.8  # Spearman ρ and R² of a "close linear relation"
ON_PAR = 0.01  # |mean nDCG@20 difference| counted as "on par" / "not biased"


def _f(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:+.4f}"


def _differences(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per model, ML-100K-INIT − UNIFORM-INIT and ML-100K-INIT-FLIP − UNIFORM-INIT."""
    ml, flip = (
        (table[ds] - table["uniform"]).dropna() for ds in ("ml100k-init", "ml100k-init-flip")
    )
    return ml, flip


def _shift(claim: str, source: str, expected: str, diff: pd.Series, sign: int) -> Finding:
    """A claim that a metric is shifted up (``sign=+1``) or down (``-1``) on a biased
    dataset, judged on the per-model differences ``diff`` = biased − uniform: the mean
    moves that way and a majority of the models do."""
    word, relation = ("higher", ">") if sign > 0 else ("lower", "<")
    moved = int((sign * diff > 0).sum())
    measured = (
        f"mean difference {_f(diff.mean())}, {word} for {moved}/{len(diff)} models "
        f"(verdict: mean {relation} 0 and a majority {word})"
    )
    verdict = bool(sign * diff.mean() > 0 and moved > len(diff) / 2) if len(diff) else None
    return Finding(claim, source, expected, measured, verdict)


def findings(
    wide: dict[str, dict[str, pd.DataFrame]],
    fits: dict[str, dict[str, dict[str, dict[str, float]]]],
    held: dict[str, pd.DataFrame],
    folds: int,
) -> list[Finding]:
    """The claims of thesis §2.5, each judged in every reading of ``wide`` (reading →
    metric → recommender × dataset-key table; ``fits`` and ``held`` keyed alike), the
    readings' rows of one claim next to each other."""
    judged = [_judged(wide[r], fits[r], held[r], folds) for r in wide]
    return [
        Finding(f"{f.claim} ({READINGS[reading]})", f.source, f.expected, f.measured, f.reproduced)
        for row in zip(*judged)
        for reading, f in zip(wide, row)
    ]


def _judged(
    wide: dict[str, pd.DataFrame],
    fits: dict[str, dict[str, dict[str, float]]],
    held: pd.DataFrame,
    folds: int,
) -> list[Finding]:
    """The claims of thesis §2.5 against the numbers of one reading (thresholds in the
    text)."""
    out = []
    names = {"ml100k-init": "ML-100K-INIT", "ml100k-init-flip": "ML-100K-INIT-FLIP"}
    for metric, fig in (("nDCG@20", "Fig. 2.3"), ("RMSE", "Fig. 2.4")):
        for ds, name in names.items():
            fit = fits[metric][ds]
            ok = None
            if np.isfinite(fit["rho"]) and np.isfinite(fit["r2"]):
                ok = bool(fit["rho"] >= MIN_FIT and fit["r2"] >= MIN_FIT)
            out.append(
                Finding(
                    f"{metric} on {name} is a close linear function of {metric} on "
                    "UNIFORM-INIT: the ranking of recommenders is preserved",
                    f"{SOURCE}, {fig}",
                    "points close to the red linear fit; relative ranking preserved",
                    f"Spearman ρ = {fit['rho']:.3f}, R² = {fit['r2']:.3f}, slope "
                    f"{fit['slope']:.3f} over {wide[metric][ds].notna().sum()} models; "
                    f"without the Oracle ρ = {fit['rho_no']:.3f}, R² = {fit['r2_no']:.3f} "
                    f"(verdict, all models: ρ ≥ {MIN_FIT} and R² ≥ {MIN_FIT})",
                    ok,
                )
            )
    nd = wide["nDCG@20"]
    d_ml, d_flip = _differences(nd)
    out.append(
        _shift(
            "nDCG@20 on ML-100K-INIT is higher on average than on UNIFORM-INIT",
            f"{SOURCE}, Fig. 2.3",
            "biased upwards (no number given)",
            d_ml,
            +1,
        )
    )
    measured, verdict = "Random was not run", None
    if "Random" in nd.index:
        r = nd.loc["Random"]
        diff = r["ml100k-init"] - r["uniform"]
        measured = (
            f"Random: {r['ml100k-init']:.4f} on ML-100K-INIT vs {r['uniform']:.4f} on "
            f"UNIFORM-INIT ({_f(diff)}); {folds}-fold means"
        )
        verdict = bool(diff > 0)
    out.append(
        Finding(
            "Random's nDCG@20 is higher on ML-100K-INIT (ranking is easier there)",
            SOURCE,
            "higher on ML-100K-INIT",
            measured,
            verdict,
        )
    )
    out.append(
        Finding(
            "nDCG@20 on ML-100K-INIT-FLIP is not a biased estimate of UNIFORM-INIT's",
            f"{SOURCE}, Fig. 2.3",
            "not biased",
            f"mean difference {_f(d_flip.mean())} (ML-100K-INIT: {_f(d_ml.mean())}); "
            f"verdict: |mean| ≤ {ON_PAR}",
            bool(abs(d_flip.mean()) <= ON_PAR) if len(d_flip) else None,
        )
    )
    r_ml, r_flip = _differences(wide["RMSE"])
    out.append(
        _shift(
            "RMSE on ML-100K-INIT overestimates performance (lower than on UNIFORM-INIT)",
            f"{SOURCE}, Fig. 2.4",
            "lower RMSE on ML-100K-INIT",
            r_ml,
            -1,
        )
    )
    out.append(
        Finding(
            "RMSE on ML-100K-INIT-FLIP predicts UNIFORM-INIT's RMSE better than ML-100K-INIT",
            f"{SOURCE}, Fig. 2.4",
            "FLIP a better predictor",
            f"mean |difference| FLIP {abs(r_flip).mean():.4f} vs ML-100K-INIT "
            f"{abs(r_ml).mean():.4f} (mean signed FLIP {_f(r_flip.mean())})",
            bool(abs(r_flip).mean() < abs(r_ml).mean()) if len(r_ml) else None,
        )
    )
    # Random and the Oracle ignore their training data: leave them out of the comparison
    learners = held.drop(index=["Random", "Oracle"], errors="ignore")
    h = (learners["ml100k-init"] - learners["uniform"]).dropna()
    out.append(
        Finding(
            "Models trained on ML-100K-INIT score on par with UNIFORM-INIT-trained ones on "
            "held-out uniform pairs (the higher nDCG comes from easier ranking, not better "
            "models)",
            SOURCE,
            "on par",
            f"held-out nDCG@20, ML-100K-INIT-trained − UNIFORM-trained: mean {_f(h.mean())} "
            f"over {len(h)} learning models, better for {(h > 0).sum()} (CV gap: "
            f"{_f(d_ml.mean())}); "
            f"verdict: |mean| ≤ {ON_PAR}",
            bool(abs(h.mean()) <= ON_PAR) if len(h) else None,
        )
    )
    out.append(
        Finding(
            "The higher nDCG@20 on ML-100K-INIT does not come from better models: trained on "
            "it, models are no better on held-out uniform pairs",
            SOURCE,
            "not better (on par)",
            f"held-out nDCG@20, ML-100K-INIT-trained − UNIFORM-trained: mean {_f(h.mean())} "
            f"against a CV gap of {_f(d_ml.mean())}; verdict: mean ≤ +{ON_PAR}",
            bool(h.mean() <= ON_PAR) if len(h) else None,
        )
    )
    return out
