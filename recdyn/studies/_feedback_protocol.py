"""What the ``feedback-loops`` study runs (thesis ch. 3, §3.4): its worlds, its three
training arms, its defaults where the thesis is silent, Table 3.1's rows and the numbers
the thesis reports.

Thesis: ``shared/seeds/003_a5cce31751248cea.txt`` (``L…`` below); the protocol and its
gaps are listed in ``shared/research/wave2_scoping.md`` §A. Shared by the study
(:mod:`recdyn.studies.feedback_loops`), its Table 3.1 units
(:mod:`recdyn.studies._feedback_table`) and its analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------- Figs. 3.2–3.4
#: The worlds of Figs. 3.2–3.4 (L1933–1941): RecLab's beta-rank-v1 at its ch. 3 size
#: (1000 users × 1700 items, one user per step, no initial ratings) and ml100k-v1 (a
#: latent world fitted by MF to MovieLens-100K, d = 100, L1938), in the figures' order
#: (beta-rank left, ml100k right).
FIGURE_WORLDS = ("beta-rank-cafl-v1", "ml100k-v1")
#: "We repeat each experiment 10 times" (L1945–1946).
RUNS = 10
#: Unstated in the thesis (scoping §A): T = 20,000 steps with one user per step,
#: retrain every 10 steps, ALS rank 20 and λ = 0.1, softmax policy at temperature 1.
STEPS = 20_000
RETRAIN_EVERY = 10
RANK = 20
REG = 0.1
TEMPERATURE = 1.0
#: "a randomly sampled test set of size 100,000" (L1971, L1984), never recommended.
HELDOUT_PAIRS = 100_000
#: Where a world is small, at most this share of its free pairs is held out (as
#: :class:`recdyn.heldout.HeldOut` does).
HELDOUT_FRACTION = 0.1
#: Unstated: how often the held-out metrics and homogenization are evaluated (the
#: thesis's M); 200 points over 20k steps.
EVALUATE_EVERY = 100
#: Held-out metrics (L1964–1968): RMSE, and nDCG "averaged across all users" (L1977),
#: cut at 20 as everywhere in recdyn.
HELDOUT_METRICS = ("rmse", "ndcg@20")
#: Homogenization (L2002–2033): users whose recommended sets are compared per evaluation
#: and the size of a "current" set (the metric's defaults).
HOMOGENIZATION_USERS = 500
HOMOGENIZATION_K = 10
#: The two readings of "the set of recommended items of each user ... at each timestep"
#: (L2030–2033): each user's current top-k, or everything shown so far
#: (:mod:`recdyn.metrics.homogenization`); the findings use the first.
HOMOGENIZATION_SETS = {
    "homogenization": "current top-10",
    "homogenization_cumulative": "cumulative",
}


@dataclass(frozen=True)
class Arm:
    """One curve of Figs. 3.2–3.4 (L1948–1955): what mf-als trains on, and its weights."""

    label: str
    training: str  # simulate(training=…)
    cafl: bool  # weighting="cafl" (Corollary 1) or naive


#: Feedback: retrained on its own recommendations; Uniform: on uniformly drawn,
#: never-recommended pairs (the shadow arm, Definition 1); CAFL: its own recommendations
#: weighted by Corollary 1 (L1742–1777).
ARMS = (
    Arm("Feedback", "feedback", False),
    Arm("Uniform", "uniform", False),
    Arm("CAFL", "feedback", True),
)
ARM_LABELS = tuple(a.label for a in ARMS)
#: The training modes, one experiment per (world, mode): the arms of a mode share it.
TRAININGS = ("feedback", "uniform")

#: Quick mode: each world shrunk to 1/5 of its users and items (1/25 of its pairs), so
#: that 2,000 steps fill it about as densely (2.9 %) as 20,000 steps fill the full world
#: (1.2 %); overrides by world name (a world not named here keeps its size).
QUICK_STEPS = 2_000
QUICK_RUNS = 5
QUICK_EVALUATE_EVERY = 100
QUICK_OVERRIDES: dict[str, dict[str, Any]] = {
    "beta-rank-cafl-v1": {"n_users": 200, "n_items": 340},
    "ml100k-v1": {"n_users": 189, "n_items": 336},
}

# ---------------------------------------------------------------- Table 3.1
#: The Pan/Chaney benchmark world (L2036–2113) and its repeats (L2113).
TABLE_WORLD = "pan-chaney-v1"
REPEATS = 10
QUICK_REPEATS = 5
#: Quick mode: 600 users × 200 items (1/5 of each; every user online, the top 20 items
#: boosted instead of 100), same 30 steps and 20/20 split.
QUICK_TABLE_OVERRIDES: dict[str, Any] = {
    "n_users": 600,
    "n_items": 200,
    "users_per_step": 600,
    "boost_depth": 20,
}


@dataclass(frozen=True)
class Correction:
    """One row of Table 3.1 and the thesis's MSE / MAE (mean ± its interval, L2126–2136)."""

    key: str
    label: str
    mse: tuple[float, float]
    mae: tuple[float, float]
    runnable: bool = True
    note: str = ""


CORRECTIONS = (
    Correction("naive", "Naive", (2.001, 0.066), (1.087, 0.021), note="no correction"),
    Correction(
        "pop", "Pop", (1.990, 0.035), (1.080, 0.010), note="inverse item popularity weights"
    ),
    Correction(
        "pf",
        "PF",
        (1.945, 0.038),
        (1.065, 0.010),
        note="inverse exposure propensities from a Poisson factorisation of the exposures",
    ),
    Correction(
        "pan",
        "Pan",
        (1.896, 0.042),
        (1.042, 0.011),
        runnable=False,
        note="Pan et al. (2021): an RNN that estimates each user's dynamic exposure "
        "probabilities; its architecture and hyperparameters are not in the thesis and "
        "its code is not sourced here, so the row is not run",
    ),
    Correction("cafl", "CAFL", (1.818, 0.019), (1.015, 0.005), note="Corollary 1 weights (CAFL)"),
)
CORRECTION_KEYS = tuple(c.key for c in CORRECTIONS if c.runnable)
BY_KEY = {c.key: c for c in CORRECTIONS}
#: CAFL's relative MSE gain over Naive in Table 3.1: (2.001 − 1.818) / 2.001 = 9.1 %.
THESIS_GAIN = (2.001 - 1.818) / 2.001
#: How CAFL weighs the Pan/Chaney world's ratings, where every user rates one item at
#: every step (the thesis does not say, L2110): per user (N = the user's items, s and t
#: the user's counts, q the world's probability of the item given the user), or one pool
#: of all pairs (s, t counting every logged pair). See :mod:`recdyn.debias.cafl`.
TABLE_CAFL = ("cafl-per-user", "cafl")
#: GMF's L2 penalty λ in the sensitivity rows of Table 3.1 (Naive and CAFL only): the
#: thesis takes Pan et al.'s unstated settings (L2109–2110); recdyn's gmf default is 0.12.
SENSITIVITY_REGS = (0.03, 0.5, 2.0)
SENSITIVITY_CORRECTIONS = ("naive", "cafl")


def arm_of(training: str, params: dict[str, Any]) -> str:
    """The arm of a result row: its experiment's training mode and its weighting."""
    if training == "uniform":
        return "Uniform"
    weighting = params.get("weighting")
    name = weighting.get("name") if isinstance(weighting, dict) else weighting
    return "CAFL" if name == "cafl" else "Feedback"
