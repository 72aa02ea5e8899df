r"""Grids and units of work of the ``two-stage`` study (thesis ch. 4, §4.3 and §4.8).

Architectures are named as in the thesis's legends: a single stage by its learner —
``U`` (LinUCB), ``G`` (Greedy), ``PG`` (softmax policy gradient) — and a two-stage system
as ``ranker+nominator`` (``U+G``: a LinUCB ranker with Greedy nominators). The single
stages and the nominators see ``s`` of the ``d`` features, the ranker all of them
(L2506–2513); on the synthetic world :math:`s = \max(1, \lfloor\rho d\rfloor)` for the
"misspecification" :math:`\rho` of Table 4.2 (printed ":math:`\lfloor d/\rho\rfloor`",
which would exceed ``d``).

Units (each a module-level function of JSON-able keywords, stored by
:class:`~recdyn.engine.UnitStore`):

* :func:`run_sweep_unit` — a single-stage hyperparameter sweep (Tables 4.1 / 4.3): the
  7-value grids of every learner batched in one :func:`~recdyn.bandits.run_bandit` call;
  the figures' hyperparameters are each learner's lowest mean regret at ``T``.
* :func:`run_panel_unit` — a list of (architecture, N, s) configurations on one world,
  every seed in one batch: final cumulative regret and its decomposition per seed.

Every unit uses the same run seeds (common random numbers: the architectures of a
setting face the same :math:`\theta^\star` and contexts).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from recdyn import bandits

__all__ = [
    "ARCHITECTURES",
    "SWEEP_VALUES",
    "architecture_system",
    "run_panel_unit",
    "run_sweep_unit",
    "select",
    "subset_size",
]

#: single stages, then two-stage systems (``ranker+nominator``), as in Fig. 4.3's legend
ARCHITECTURES = ("U", "G", "PG", "U+U", "U+PG", "U+G", "PG+PG", "G+G")
LEARNERS = {"U": "linucb", "G": "greedy", "PG": "policy-gradient"}
#: the thesis's 7-value grid of every hyperparameter (Tables 4.1 and 4.3)
SWEEP_VALUES = tuple(float(10.0**k) for k in range(-4, 3))
#: the swept hyperparameters of each learner
SWEPT = {"U": ("reg", "alpha"), "G": ("reg",), "PG": ("learning_rate",)}


def subset_size(dim: int, rho: float) -> int:
    r""":math:`s = \max(1, \lfloor\rho d\rfloor)` (module doc)."""
    return max(1, int(np.floor(rho * dim + 1e-9)))


def _learner(short: str, hyper: dict[str, dict[str, float]]) -> bandits.Learner:
    return bandits.make_learner(LEARNERS[short], **hyper.get(short, {}))


def architecture_system(
    arch: str, hyper: dict[str, dict[str, float]], n_nominators: int, n_features: int
) -> bandits.System:
    """The system of architecture ``arch`` (module doc) with the learners'
    hyperparameters ``hyper`` (``{"U": {"alpha": …, "reg": …}, …}``)."""
    if "+" not in arch:
        return bandits.SingleStage(_learner(arch, hyper), n_features=n_features)
    ranker, nominator = arch.split("+")
    return bandits.TwoStage(
        _learner(ranker, hyper),
        _learner(nominator, hyper),
        n_nominators=n_nominators,
        n_features=n_features,
    )


def _world(world: dict[str, Any]) -> bandits.BanditWorld:
    return bandits.make(world["name"], **world.get("params", {}))


def _sweep_configs() -> list[tuple[str, dict[str, float]]]:
    out: list[tuple[str, dict[str, float]]] = []
    for short, names in SWEPT.items():
        grids = np.meshgrid(*[SWEEP_VALUES] * len(names), indexing="ij")
        for values in zip(*(g.reshape(-1) for g in grids)):
            out.append((short, {n: float(v) for n, v in zip(names, values)}))
    return out


def run_sweep_unit(
    *, world: dict[str, Any], n_features: int | None, rounds: int, seeds: list[int]
) -> dict[str, Any]:
    """The single-stage sweep of every learner's grid on ``world`` (``n_features`` = s
    features, ``None``: all): one row per (learner, hyperparameters) with the mean and
    standard error over ``seeds`` of the cumulative regret at ``rounds``."""
    start = time.perf_counter()
    configs = _sweep_configs()
    systems = [
        bandits.SingleStage(bandits.make_learner(LEARNERS[s], **h), n_features=n_features)
        for s, h in configs
    ]
    frame = bandits.run_bandit(_world(world), systems, rounds, seeds, every=rounds)
    final = frame.groupby("config")["cumulative"]
    mean, se = final.mean(), final.sem()
    rows = [
        {"learner": s, **h, "regret": float(mean[i]), "se": float(se[i])}
        for i, (s, h) in enumerate(configs)
    ]
    return {"rows": rows, "seconds": time.perf_counter() - start}


def select(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each learner's hyperparameters of lowest mean regret in a sweep's ``rows`` (ties:
    the first in grid order)."""
    out: dict[str, dict[str, float]] = {}
    for short, names in SWEPT.items():
        mine = [r for r in rows if r["learner"] == short]
        best = min(mine, key=lambda r: r["regret"])
        out[short] = {n: float(best[n]) for n in names}
    return out


def run_panel_unit(
    *,
    world: dict[str, Any],
    configs: list[dict[str, Any]],
    hyper: dict[str, dict[str, float]],
    rounds: int,
    seeds: list[int],
) -> dict[str, Any]:
    """``configs`` (``{"arch", "n_nominators", "n_features"}``) on ``world`` for
    ``rounds`` rounds and every seed: per (config, seed) the cumulative regret, its
    nominator and ranker parts and the uniform agent's, at ``rounds``."""
    start = time.perf_counter()
    systems = [
        architecture_system(c["arch"], hyper, c["n_nominators"], c["n_features"])
        for c in configs
    ]
    frame = bandits.run_bandit(_world(world), systems, rounds, seeds, every=rounds)
    cols = {
        "config": frame["config"].to_numpy().tolist(),
        "seed": frame["seed"].to_numpy().tolist(),
    }
    for name in ("cumulative", "cumulative_nominator", "cumulative_ranker", "cumulative_uniform"):
        cols[name] = np.round(frame[name].to_numpy(), 6).tolist()
    return {
        "world": world,
        "configs": configs,
        "columns": cols,
        "seconds": time.perf_counter() - start,
    }
