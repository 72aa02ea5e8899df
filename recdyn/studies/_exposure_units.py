r"""The ``exposure-audit`` study's protocol and its worker side (thesis ch. 5, §5.3).

Source: Krauth, *The Dynamics of Recommender Systems*, ch. 5
(``shared/seeds/003_a5cce31751248cea.txt``, ``L…`` below), read with
``shared/research/wave2_scoping.md`` §C.

Two kinds of unit run in worker processes as :class:`~recdyn.engine.Call`\ s with plain
keyword arguments (their hash is the stored unit's stamp, see
:class:`~recdyn.engine.UnitStore`):

* :func:`run_embedding_unit` — one recommender (``pmf`` / ``nmf``) at one ``d`` and one
  recommender seed, tuned by the thesis's 2-fold 90/10 CV and refitted on all of ML-100K
  (L4066–4072, :func:`~recdyn.evaluation.tune_embeddings`); returns the user embeddings
  (the demand :math:`P_c`), the item embeddings (the pre-adaptation baseline 'b') and
  every user's gender;
* :func:`run_equilibrium_unit` — every initialisation of one (embeddings, τ, n) batched in
  one :func:`~recdyn.games.find_equilibria` call and certified by
  :func:`~recdyn.games.second_order_test` (Definition 3, L4013).

Arrays travel as base64 of their raw bytes (:func:`pack` / :func:`unpack`): the user
embeddings are an argument of every equilibrium unit, so its stamp changes whenever the
embeddings do, and a stored unit does not depend on where the output folder lies.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np

__all__ = [
    "ALPHA",
    "DATASET",
    "FULL",
    "LASTFM_FULL",
    "LASTFM_QUICK",
    "MODELS",
    "QUICK",
    "TUNING_GRIDS",
    "pack",
    "run_embedding_unit",
    "run_equilibrium_unit",
    "step_size",
    "unpack",
]

#: The audited dataset (943 users, 71 % men, L4115, L4183).
DATASET = "ml-100k"
#: The rating models (L4113).
MODELS = ("pmf", "nmf")
#: Regularisation grids of the 2-fold 90/10 CV (L4068–4070: "regularization and learning
#: rate"; our ALS / multiplicative fits have no learning rate). Our choice of values.
TUNING_GRIDS: dict[str, dict[str, list[float]]] = {
    "pmf": {"reg": [0.01, 0.03, 0.1, 0.3]},
    "nmf": {"reg": [0.02, 0.06, 0.2]},
}
#: The grid of the thesis (L4113–4124): d, τ, n, recommender seeds, initialisations — with
#: our step size (:data:`ALPHA`) and a 3,000-step cap in place of the thesis's 50,000
#: (L4126). Why: at τ ≤ 0.1 and n = 100 runs rarely stop (measured on ML-100K PMF, d = 3:
#: 0 of 3 within 10,000 steps at α = 10; at n = 10, τ = 0.01, 5 of 10 never stopped within
#: 50,000), so the cap sets the cost, and 50,000 steps of the 120 + 72 units at n = 100
#: (40 ms a step for 10 runs) would take ≈ 20 h on 2 cores. What the cap buys, as
#: gradient-flow time α × steps: 3,000 at n = 10 and 30,000 at n = 100, against the
#: thesis's 0.1 × 50,000 = 5,000. Runs at the cap are certified like the others (a capped
#: run with a large gradient is "violated") and counted in every finding.
FULL: dict[str, Any] = {
    "dims": (3, 50),
    "taus": (0.01, 0.1, 1.0),
    "producers": (10, 100),
    "seeds": 5,
    "inits": 10,
    "max_iter": 3_000,
    "alpha": 1.0,
}
#: The few-minute version.
QUICK: dict[str, Any] = {
    "dims": (3,),
    "taus": (0.1, 1.0),
    "producers": (10,),
    "seeds": 2,
    "inits": 5,
    "max_iter": 3_000,
    "alpha": 1.0,
}
#: Last.fm-2K's recommender seeds and initialisations (the thesis ran 2 × 3 on Last.fm,
#: L4979–4980; 3 seeds here so that a 95 % interval over seeds exists).
LASTFM_FULL: dict[str, Any] = {"seeds": 3, "inits": 3}
LASTFM_QUICK: dict[str, Any] = {"seeds": 1, "inits": 3}
#: The step size ``alpha`` of the grids is α at n = 10 producers; a unit with n producers
#: steps with α·n/10. Why: each utility is a share of 1 among n producers, so gradients
#: and curvatures shrink like 1/n and a fixed α makes n = 100 ten times slower. Measured
#: on ML-100K PMF (unit-norm starts, τ = 1, n = 100): α = 1 stops after ≈ 6,000 steps,
#: α = 10 after ≈ 720, both at one strategy and confirmed. The thesis reports α ∈ {0.01,
#: 0.1} (L4985) without saying where; at n = 10, τ = 1, α = 0.1 needed ≈ 5,000 steps and
#: α = 1 ≈ 600. The certified profiles do not depend on α (the step size changes the path,
#: not which points are critical).
ALPHA = 1.0
#: The ε-gap of every run: the first :data:`GAP_PRODUCERS` producers (initialisations are
#: exchangeable, so these are a random sample) deviate alone from their own strategy and
#: :data:`GAP_RESTARTS` other starts for at most :data:`GAP_MAX_ITER` steps.
GAP_PRODUCERS, GAP_RESTARTS, GAP_MAX_ITER = 3, 4, 500


def step_size(alpha: float, n: int) -> float:
    """The step size of a unit with ``n`` producers: ``alpha·n/10`` (:data:`ALPHA`)."""
    return float(alpha) * n / 10


def pack(array: np.ndarray, dtype: str = "float32") -> dict[str, Any]:
    """``array`` as JSON: ``{"dtype", "shape", "b64"}`` (base64 of its bytes)."""
    arr = np.ascontiguousarray(array, dtype=dtype)
    return {
        "dtype": dtype,
        "shape": list(arr.shape),
        "b64": base64.b64encode(arr.tobytes()).decode("ascii"),
    }


def unpack(packed: dict[str, Any]) -> np.ndarray:
    """The array :func:`pack` wrote (float64 for floats)."""
    raw = base64.b64decode(packed["b64"])
    arr = np.frombuffer(raw, dtype=packed["dtype"]).reshape(packed["shape"])
    return arr.astype(np.float64) if arr.dtype.kind == "f" else arr.copy()


def run_embedding_unit(
    *,
    dataset: str,
    model: str,
    d: int,
    seed: int,
    grid: dict[str, list[float]],
    folds: int = 2,
    test_fraction: float = 0.1,
) -> dict[str, Any]:
    """Tune ``model`` at ``n_factors = d`` over ``grid`` by ``folds`` random 90/10
    holdouts on ``dataset``, refit on everything (:func:`~recdyn.evaluation.
    tune_embeddings`, seed ``seed``) and return its embeddings, the users' gender (1 =
    man, from ``u.user``), the chosen parameters, the CV RMSE and the seconds taken."""
    from recdyn.datasets import load
    from recdyn.evaluation import tune_embeddings

    start = time.perf_counter()
    ds = load(dataset, download=False)
    tuned = tune_embeddings(
        model,
        ds.interactions,
        {**grid, "n_factors": [d]},
        ds.n_users,
        ds.n_items,
        seed=seed,
        folds=folds,
        test_fraction=test_fraction,
    )
    men = (ds.users["gender"] == "M").to_numpy(dtype=np.int8)
    return {
        "users": pack(tuned.user_factors),
        "items": pack(tuned.item_factors),
        "men": pack(men, "int8"),
        "best_params": {k: float(v) for k, v in tuned.best_params.items()},
        "cv_rmse": float(tuned.search.best_score),
        "seconds": time.perf_counter() - start,
    }


def run_equilibrium_unit(
    *,
    users: dict[str, Any],
    tau: float,
    n: int,
    inits: int,
    seed: int,
    max_iter: int,
    alpha: float,
) -> dict[str, Any]:
    """Search equilibria of the exposure game of ``users`` (packed ``[m, d]``) at
    temperature ``tau`` with ``n`` producers from ``inits`` initialisations in one batch
    (:func:`~recdyn.games.find_equilibria` with step size ``alpha``, stream ``seed``),
    certify each profile (:func:`~recdyn.games.second_order_test`), bound its ε-gap from
    below (:func:`~recdyn.games.epsilon_gap`, :data:`GAP_PRODUCERS` producers) and return
    the strategies ``[inits, n, d]``, utilities, iterations, whether each run converged
    before ``max_iter``, the verdicts, the largest Riemannian gradient norm and the ε-gap
    per run."""
    from recdyn.games import ExposureGame, epsilon_gap, find_equilibria, second_order_test

    start = time.perf_counter()
    game = ExposureGame(unpack(users), tau)
    found = find_equilibria(game, n, n_inits=inits, seed=seed, alpha=alpha, max_iter=max_iter)
    cert = second_order_test(game, found.strategies)
    gap = epsilon_gap(
        game,
        found.strategies,
        n_restarts=GAP_RESTARTS,
        producers=list(range(min(GAP_PRODUCERS, n))),
        alpha=alpha,
        max_iter=GAP_MAX_ITER,
        seed=seed,
    )
    return {
        "strategies": pack(found.strategies),
        "utilities": pack(found.utilities),
        "iterations": [int(i) for i in found.iterations],
        "converged": [bool(c) for c in found.converged],
        "status": [str(s) for s in cert.status],
        "gradient_norm": [float(g) for g in cert.gradient_norm.max(axis=-1)],
        "epsilon_gap": [float(g) for g in gap.gap],
        "seconds": time.perf_counter() - start,
    }
