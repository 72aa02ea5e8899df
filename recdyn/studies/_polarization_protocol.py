"""What the ``polarization`` study runs (seed 004, arXiv 2407.14094): its base setting, its
one-factor-at-a-time sweeps, the policy of each knob value and the numbers the secondary
sources report.

Seed: ``shared/seeds/004_b5d82ee14eb58be4.txt`` (``004 L…`` below), read with
``shared/research/wave2_scoping.md`` §0, §D and ``seeds_methods_digest.md`` §1. The seed
gives the setup (d = 10, n = 50 creators, m = 100 users, T = 1000, 004 L37) and qualitative
claims, no result table; the numbers of :data:`SECONDARY` come from secondary notes
(digest §1.6). Shared by the study (:mod:`recdyn.studies.polarization`) and its analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from recdyn.experiments.canonical import policy_label

__all__ = [
    "METRICS",
    "SECONDARY",
    "SWEEPS",
    "SWEEP_KEYS",
    "Sweep",
    "k_values",
    "policy_entry",
]

# ---------------------------------------------------------------- the base setting
#: World size of 004 L37 (d = 10, n = 50, m = 100, T = 1000) and the runs per setting.
USERS, CREATORS, DIM, STEPS, RUNS = 100, 50, 10, 1000, 10
#: Quick mode: the same world, 300 steps, 4 runs.
QUICK_STEPS, QUICK_RUNS = 300, 4
#: η_u = η_c = 0.1: a choice (the seed gives no value; scoping §D).
ETA = 0.1
#: The metrics are measured every 5 steps (the whole full sweep within 2 minutes on two
#: cores; every step doubles the metrics' cost): step 5, 10, …, T.
EVERY = 5
#: A run has polarized once TP ≥ this (the first measured step: its "time to polarize").
POLARIZED = 0.95
#: The learned recommender of (e) (004 L149): ALS matrix factorisation at rank d,
#: retrained every 10 steps on every rating so far (each step, all m users rate).
MF_RANK, MF_RETRAIN_EVERY = 10, 10
#: The real-data initialisation of (g): MF embeddings of a MovieLens dataset.
REAL_INITS = ("ml-100k", "ml-latest-small")

#: Online metrics (registered, :mod:`recdyn.metrics.polarization`) → short name.
METRICS = {
    "creator_diversity": "CD",
    "polarization": "TP",
    "recommendation_diversity": "RD",
    "recommendation_relevance": "RR",
    "creator_clusters": "clusters",
}


# ---------------------------------------------------------------- sweeps
@dataclass(frozen=True)
class Sweep:
    """One one-factor-at-a-time sweep around the base (softmax β = 1, η_u = η_c = 0.1,
    oracle, uniform initial vectors): which knob moves, over which values, with which
    recommender and initialisation."""

    key: str
    knob: str  # the knob's symbol on axes and in tables
    title: str
    values: tuple[float, ...]  # () : the k grid, which depends on n (k_values)
    recommender: str = "oracle"
    real: bool = False  # initial vectors from a dataset's MF embeddings

    def policy(self) -> str:
        """The policy family of the sweep's knob (``eta``: the base softmax)."""
        return self.key.split("-")[-1]


#: k: top-k truncation of the β = 1 softmax (k = n is no truncation); β: softmax inverse
#: temperature (0: uniform traffic, ∞: greedy); τ: threshold truncation; η: both rates;
#: ε: uniform-traffic mixing; ρ: diversity boosting; then (e) and (g).
SWEEPS = (
    Sweep("k", "k", "top-k truncation (oracle)", ()),
    Sweep("beta", "β", "softmax inverse temperature (oracle)", (0, 0.5, 1, 3, 10, math.inf)),
    Sweep("tau", "τ", "threshold truncation (oracle)", (0, 0.5, 0.707, 0.9)),
    Sweep("eta", "η", "update rates η_u = η_c (oracle)", (0.02, 0.05, 0.1, 0.2)),
    Sweep("epsilon", "ε", "uniform-traffic mixing (oracle)", (0, 0.01, 0.05, 0.2)),
    Sweep("rho", "ρ", "diversity boosting (oracle)", (0, 0.5, 1)),
    Sweep("mf-k", "k", "top-k truncation (mf-als)", (), recommender="mf-als"),
    Sweep("mf-rho", "ρ", "diversity boosting (mf-als)", (0, 0.5, 1), recommender="mf-als"),
    Sweep("real-k", "k", "top-k truncation (oracle, real-data start)", (), real=True),
)
SWEEP_KEYS = tuple(s.key for s in SWEEPS)
BY_KEY = {s.key: s for s in SWEEPS}
#: The k grid below n (k = n, no truncation, is always added).
K_GRID = (1, 2, 5, 10, 25)


def k_values(n_creators: int) -> tuple[int, ...]:
    """The k of the truncation sweeps: :data:`K_GRID` below n, then n."""
    return (*(k for k in K_GRID if k < n_creators), n_creators)


def policy_entry(sweep: Sweep, value: float) -> dict[str, Any]:
    """The ``[[policies]]`` entry of one knob value (its base: softmax at β = 1)."""
    kind = sweep.policy()
    if kind == "k":
        return {"name": "truncated", "params": {"m": int(value)}}
    if kind == "tau":
        return {"name": "threshold", "params": {"tau": float(value)}}
    if kind == "epsilon":
        return {"name": "uniform-mix", "params": {"epsilon": float(value)}}
    if kind == "rho":
        return {"name": "diversity-boost", "params": {"rho": float(value)}}
    if kind == "beta":
        if value == 0:  # all traffic uniform
            return {"name": "uniform-mix", "params": {"epsilon": 1.0}}
        if math.isinf(value):
            return {"name": "greedy"}
        return {"name": "softmax", "params": {"temperature": 1.0 / value}}
    return {"name": "softmax", "params": {"temperature": 1.0}}  # eta: the base policy


def label_of(entry: dict[str, Any]) -> str:
    """The result rows' ``policy`` label of a ``[[policies]]`` entry."""
    return policy_label(entry["name"], entry.get("params", {}))


def eta_name(eta: float) -> str:
    """The environment label of one η of the η sweep."""
    return f"eta-{eta:g}"


# ---------------------------------------------------------------- what the sources say
@dataclass(frozen=True)
class Reported:
    """A number of the secondary sources (digest §1.6, scoping §0) for one sweep value."""

    sweep: str
    value: float
    setting: str
    tp: str
    cd: str
    tp_range: tuple[float, float]
    cd_range: tuple[float, float]


#: Top-1 and k = n at β = 1 (Table 1 of the paper via the notes), threshold truncation.
#: The ranges are what "reproduced" means here (the sources give two decimals at best).
SECONDARY = (
    Reported("k", 1, "β = 1, k = 1", "0.27", "1.40", (0.22, 0.32), (1.35, 1.45)),
    Reported("k", -1, "β = 1, k = n", "≈ 1.00", "1.00", (0.95, 1.0), (0.9, 1.1)),
    Reported(
        "tau", 0.707, "τ = cos 45° = 0.707", "0.28–0.33", "1.37–1.39", (0.23, 0.38), (1.32, 1.44)
    ),
)
