r"""Fig. 4.5 of the ``two-stage`` study: learned pool allocation (a Gaussian mixture of
experts, :class:`~recdyn.bandits.MixtureOfExperts`) against fixed random pools, offline,
P@5 and R@5 on held-out points (thesis §4.4, L3040–3175, L3604–3620).

Data: the synthetic AmazonCat substitute (:func:`~recdyn.bandits.synthetic_multilabel`,
d = 400, 100 arms; AmazonCat's BERT features are not available), ``c`` training examples
per arm, 5,000 test points (the thesis: 50,000 entries). Grid as Fig. 4.5: N ∈ {10, 20}
experts × c ∈ {100, 500, 750} × s ∈ {10, 25, 50, 100} × d_e ∈ {5, 10, 50} × {MoE,
random} × 3 seeds, with the thesis's selected optimisers (:func:`~recdyn.bandits.
thesis_defaults`) and :data:`~recdyn.bandits.moe.STEPS` steps where the thesis took
50,000 (the convergence check in ``benchmarks/bench_moe.py``). One unit per (N, c, seed)
fits its 24 models on one split.

Findings (L3159–3168): the MoE ≥ random pools for most settings — the share of (N, c, s,
d_e) settings where the MoE's mean over seeds is at least the random pools', in P@5 and
in R@5 (reproduces at more than half); and the exception, c = 100 at the highest d_e,
where the MoE falls below random pools in most of those settings.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn.studies.result import Finding

__all__ = ["FULL", "QUICK", "moe_findings", "moe_frame", "moe_units", "run_moe_unit"]

FULL: dict[str, Any] = {
    "experts": (10, 20),
    "per_arm": (100, 500, 750),
    "features": (10, 25, 50, 100),
    "item_dims": (5, 10, 50),
    "seeds": 2,
    "steps": None,  # the library default (STEPS)
    "n_points": 25_000,  # a 20,000-point training pool, as in benchmarks/bench_moe.py
    "n_test": 5000,
}
QUICK: dict[str, Any] = {
    "experts": (10,),
    "per_arm": (100, 500),
    "features": (10, 50),
    "item_dims": (5, 50),
    "seeds": 1,
    "steps": 2000,
    "n_points": 12_000,
    "n_test": 2000,
}
GATES = ("learned", "random")
SOURCE = "thesis §4.4, Fig. 4.5 (L3159–3168)"


def moe_units(grid: dict[str, Any], seed: int) -> dict[str, dict[str, Any]]:
    """``key → kwargs`` of :func:`run_moe_unit`, one per (N, c, seed); the largest first."""
    out = {}
    for c in sorted(grid["per_arm"], reverse=True):
        for n in sorted(grid["experts"], reverse=True):
            for r in range(grid["seeds"]):
                seq = seeding.derive(seed, "two-stage", "moe", str(r))
                out[f"moe-N{n}-c{c}-s{r}"] = {
                    "n_experts": n,
                    "per_arm": c,
                    "features": list(grid["features"]),
                    "item_dims": list(grid["item_dims"]),
                    "steps": grid["steps"],
                    "n_points": grid["n_points"],
                    "n_test": grid["n_test"],
                    "seed": int(seq.generate_state(1, np.uint32)[0]),
                }
    return out


def run_moe_unit(
    *, n_experts: int, per_arm: int, features: list[int], item_dims: list[int],
    steps: int | None, n_points: int, n_test: int, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """Fit both gates at every (s, d_e) on one split of the data (drawn from ``seed``):
    P@5, R@5 and the final training loss of each fit."""
    from recdyn import bandits
    from recdyn.recommenders.neural.runtime import set_threads

    set_threads(1)
    # the multi-label world's data (d = 400, 100 arms, data seed 0), built once a process
    data = bandits.make("multilabel-synthetic-v1", n_points=n_points).data
    train, test = bandits.offline_split(data, per_arm, n_test=n_test, seed=seed)
    rows = []
    for s in features:
        for de in item_dims:
            for gate in GATES:
                start = time.perf_counter()
                extra = {} if steps is None else {"steps": steps}
                model = bandits.MixtureOfExperts(
                    gate=gate, n_experts=n_experts, n_features=s, item_dim=de, seed=seed, **extra
                ).fit(train)
                pr = model.precision_recall(test, k=5)
                rows.append({
                    "gate": gate, "s": s, "item_dim": de,
                    "precision": float(pr["precision"]), "recall": float(pr["recall"]),
                    "loss": float(np.mean(model.losses_[-50:])),
                    "seconds": time.perf_counter() - start,
                })  # fmt: skip
    return {"n_experts": n_experts, "per_arm": per_arm, "rows": rows}


def moe_frame(fits: dict[str, Any]) -> pd.DataFrame:
    """One row per fit: N, c, seed key, gate, s, d_e, P@5, R@5, loss, seconds."""
    frames = []
    for key, result in fits.items():
        f = pd.DataFrame(result["rows"])
        f["N"], f["c"], f["unit"] = result["n_experts"], result["per_arm"], key
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _gaps(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (N, c, s, d_e): the MoE's mean ``metric`` over seeds minus random pools'."""
    m = frame.groupby(["N", "c", "s", "item_dim", "gate"])[metric].mean().unstack("gate")
    return (m["learned"] - m["random"]).rename("gap").reset_index()


def moe_findings(frame: pd.DataFrame) -> list[Finding]:
    """The two claims of Fig. 4.5 (module doc)."""
    if frame.empty:
        return []
    out = []
    for metric, label in (("precision", "P@5"), ("recall", "R@5")):
        g = _gaps(frame, metric)
        share = float((g["gap"] >= 0).mean())
        out.append(Finding(
            f"Learned pools (MoE) ≥ random pools in most settings ({label})",
            SOURCE,
            "the MoE at or above random pools for most (N, c, s, d_e)",
            f"MoE ≥ random in {int((g['gap'] >= 0).sum())} of {len(g)} settings "
            f"({share:.0%}); mean gap {g['gap'].mean():+.4f}",
            share > 0.5,
        ))  # fmt: skip
    g = _gaps(frame, "precision")
    corner = g[(g["c"] == g["c"].min()) & (g["item_dim"] == g["item_dim"].max())]
    below = int((corner["gap"] < 0).sum())
    cells = g.groupby(["c", "item_dim"])["gap"].mean()
    others = cells.drop((g["c"].min(), g["item_dim"].max()))
    c_min, de_max = int(g["c"].min()), int(g["item_dim"].max())
    out.append(Finding(
        f"Exception: at c = {c_min} examples per arm and high d_e = {de_max}, the MoE "
        "falls below random pools",
        SOURCE,
        "MoE worse at the smallest training set and the highest item dimension",
        f"P@5 of the MoE below random pools in {below} of {len(corner)} (N, s) settings at "
        f"c = {c_min}, d_e = {de_max} (mean gap {corner['gap'].mean():+.4f}; the other "
        f"(c, d_e): {others.min():+.4f} to {others.max():+.4f})",
        below > len(corner) / 2,
    ))  # fmt: skip
    return out
