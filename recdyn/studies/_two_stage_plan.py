r"""What the ``two-stage`` study runs: its grids (full and quick) and units.

Full grid, next to the thesis's (§4.8, L3528–3620):

* **Sweeps** (Tables 4.1 / 4.3, rerun: their selected values were lost in extraction):
  single stage, every learner's 7-value grid; synthetic |A| = 100, d = s = 20, noise 0.1,
  T = 1000, 30 seeds (as the thesis); multi-label s = 50, |A| = 100, **T = 2000 and 10
  seeds** (thesis T = 5000, 30 seeds: 49 LinUCB configurations at d = 400 cost ≈ 25 min
  a seed-batch at T = 5000 here).
* **Fig. 4.3** (synthetic, T = 1000, 30 seeds, noise 0.1, |A| = 100): (a) N = 5,
  d ∈ {5, 10, 20, 40, 80} × ρ ∈ {0.2, …, 1}; (b) d = 40, N ∈ {2, 5, 10, 20}; and the
  arm-count panel the text describes (L2520): |A| ∈ {10, 100, 1000} at d = 20, N = 5,
  ρ ∈ {0.2, 0.6, 1} (|A| = 10,000 of Table 4.2 only in ``benchmarks/bench_bandits.py``'s
  timing: ≈ 0.25 s a round for 30 seeds, 40 configurations ≈ 3 h).
* **Fig. 4.4** (multi-label, the synthetic AmazonCat substitute, d = 400, |A| = 100,
  **T = 2000, 10 seeds**): N ∈ {2, 5, 10, 20} × s ∈ {10, 25, 50, 100} for U+U and G+G,
  single stages U and G at s ∈ {10, 25, 50, 100, 400}; the Last.fm-2K proxy for U+U at
  s = 50 and every N (full only: it needs the data).
* **Fig. 4.5**: see :mod:`recdyn.studies._two_stage_moe`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recdyn import seeding
from recdyn.studies._two_stage_units import ARCHITECTURES, subset_size

__all__ = ["FULL", "QUICK", "panel_units", "run_seeds", "sized", "sweep_units"]

FULL: dict[str, Any] = {
    "seeds": 30,
    "rounds": 1000,
    "arms": 100,
    "noise": 0.1,
    "sweep_dim": 20,
    "dims": (5, 10, 20, 40, 80),
    "rhos": (0.2, 0.4, 0.6, 0.8, 1.0),
    "nominators": 5,
    "panel_b": {"dim": 40, "nominators": (2, 5, 10, 20)},
    "arm_counts": {"arms": (10, 100, 1000), "dim": 20, "rhos": (0.2, 0.6, 1.0)},
    "multilabel": {
        "rounds": 2000,
        "seeds": 10,
        "dim": 400,
        "arms": 100,
        "sweep_features": 50,
        "nominators": (2, 5, 10, 20),
        "features": (10, 25, 50, 100),
        "archs": ("U+U", "G+G"),
        "single": ("U", "G"),
    },
    "lastfm": {"features": 50, "archs": ("U+U",)},
}

QUICK: dict[str, Any] = {
    "seeds": 5,
    "rounds": 300,
    "arms": 100,
    "noise": 0.1,
    "sweep_dim": 10,
    "dims": (5, 20),
    "rhos": (0.2, 0.6, 1.0),
    "nominators": 5,
    "panel_b": {"dim": 20, "nominators": (2, 5, 10)},
    "arm_counts": {"arms": (10, 100), "dim": 20, "rhos": (0.2, 1.0)},
    "multilabel": {
        "rounds": 300,
        "seeds": 5,
        "dim": 400,
        "arms": 100,
        "sweep_features": 50,
        "nominators": (2, 20),
        "features": (10, 50),
        "archs": ("U+U",),
        "single": ("U",),
    },
    "lastfm": None,
}


def sized(grid: dict[str, Any], seeds: int | None, rounds: int | None) -> dict[str, Any]:
    """``grid`` with its bandit units' seeds and rounds replaced where given."""
    out = {**grid, "multilabel": dict(grid["multilabel"])}
    for part in (out, out["multilabel"]):
        if seeds is not None:
            part["seeds"] = seeds
        if rounds is not None:
            part["rounds"] = rounds
    return out


def run_seeds(root: int, n: int) -> list[int]:
    """The ``n`` run seeds every unit uses (common random numbers), from the study's
    root seed."""
    state = seeding.derive(root, "two-stage", "runs").generate_state(n, np.uint32)
    seeds = [int(s) for s in state]
    if len(set(seeds)) != n:  # 2⁻³² per pair: never in practice, but fail loudly
        raise RuntimeError("run seeds collided; choose another seed")
    return seeds


def linear(grid: dict[str, Any], dim: int, arms: int | None = None) -> dict[str, Any]:
    return {
        "name": "linear-v1",
        "params": {"n_arms": arms or grid["arms"], "dim": dim, "noise": grid["noise"]},
    }


def multilabel(grid: dict[str, Any], source: str = "synthetic") -> dict[str, Any]:
    ml = grid["multilabel"]
    name = "multilabel-synthetic-v1" if source == "synthetic" else "multilabel-lastfm-v1"
    return {"name": name, "params": {"n_arms": ml["arms"], "dim": ml["dim"]}}


def sweep_units(grid: dict[str, Any], seed: int) -> dict[str, dict[str, Any]]:
    """``key → kwargs`` of :func:`~._two_stage_units.run_sweep_unit`: ``sweep-linear``
    (Table 4.1) and ``sweep-multilabel`` (Table 4.3)."""
    ml = grid["multilabel"]
    return {
        "sweep-linear": {
            "world": linear(grid, grid["sweep_dim"]),
            "n_features": None,
            "rounds": grid["rounds"],
            "seeds": run_seeds(seed, grid["seeds"]),
        },
        "sweep-multilabel": {
            "world": multilabel(grid),
            "n_features": ml["sweep_features"],
            "rounds": ml["rounds"],
            "seeds": run_seeds(seed, ml["seeds"]),
        },
    }


def _configs(
    archs: tuple[str, ...], nominators: int, dim: int, rhos: tuple[float, ...]
) -> list[dict[str, Any]]:
    return [
        {"arch": a, "n_nominators": nominators, "n_features": subset_size(dim, rho), "rho": rho}
        for rho in rhos
        for a in archs
    ]


def panel_units(
    grid: dict[str, Any], seed: int, hyper: dict[str, dict[str, dict[str, float]]],
    lastfm: bool,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """``key → kwargs`` of :func:`~._two_stage_units.run_panel_unit` (module doc), with
    ``hyper`` = ``{"linear": …, "multilabel": …}`` the sweeps' selections; the costliest
    first so that the workers end together."""
    syn = {"hyper": hyper["linear"], "rounds": grid["rounds"],
           "seeds": run_seeds(seed, grid["seeds"])}  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for dim in sorted(grid["dims"], reverse=True):
        out[f"syn-d{dim}"] = {
            "world": linear(grid, dim),
            "configs": _configs(ARCHITECTURES, grid["nominators"], dim, grid["rhos"]),
            **syn,
        }
    b = grid["panel_b"]
    for n in b["nominators"]:
        if n != grid["nominators"] or b["dim"] not in grid["dims"]:
            out[f"syn-d{b['dim']}-N{n}"] = {
                "world": linear(grid, b["dim"]),
                "configs": _configs(ARCHITECTURES, n, b["dim"], grid["rhos"]),
                **syn,
            }
    a = grid["arm_counts"]
    for arms in a["arms"]:
        in_panel_a = a["dim"] in grid["dims"] and set(a["rhos"]) <= set(grid["rhos"])
        if arms == grid["arms"] and in_panel_a:
            continue  # panel (a) has it
        for rho in a["rhos"]:
            out[f"syn-A{arms}-d{a['dim']}-r{rho:g}"] = {
                "world": linear(grid, a["dim"], arms),
                "configs": _configs(ARCHITECTURES, grid["nominators"], a["dim"], (rho,)),
                **syn,
            }
    ml = grid["multilabel"]
    mlk = {"hyper": hyper["multilabel"], "rounds": ml["rounds"],
           "seeds": run_seeds(seed, ml["seeds"])}  # fmt: skip
    for n in ml["nominators"]:
        out[f"ml-N{n}"] = {
            "world": multilabel(grid),
            "configs": [{"arch": arch, "n_nominators": n, "n_features": s}
                        for s in ml["features"] for arch in ml["archs"]],
            **mlk,
        }
    out["ml-single"] = {
        "world": multilabel(grid),
        "configs": [{"arch": arch, "n_nominators": 1, "n_features": s}
                    for s in (*ml["features"], ml["dim"]) for arch in ml["single"]],
        **mlk,
    }
    if lastfm and grid["lastfm"]:
        lf = grid["lastfm"]
        out["lfm"] = {
            "world": multilabel(grid, "lastfm"),
            "configs": [{"arch": arch, "n_nominators": n, "n_features": lf["features"]}
                        for n in ml["nominators"] for arch in lf["archs"]],
            **mlk,
        }
    return dict(sorted(out.items(), key=lambda kv: -_cost(kv[1])))


def _cost(kwargs: dict[str, Any]) -> float:
    """A rough relative cost of a panel unit (seed-rounds × configs × features² × arms)."""
    p = kwargs["world"]["params"]
    total = 0.0
    for c in kwargs["configs"]:
        stages = 1 + ("+" in c["arch"])
        total += stages * (p["n_arms"] * c["n_features"] ** 2 + p["dim"] ** 2 * c["n_nominators"])
    return total * kwargs["rounds"] * len(kwargs["seeds"])
