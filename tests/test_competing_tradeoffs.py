"""Claim (d) of the competing-objectives study: each re-ranker's trade-off curves at the
start and after T steps (recdyn.studies._competing_tradeoffs), on a grid smaller than
quick; the verdicts that reproduce at this size are pinned."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recdyn.errors import InvalidParameterError, RecdynError
from recdyn.studies import _competing_tradeoffs as tradeoffs

TINY = {
    **tradeoffs.QUICK,
    "steps": 16,
    "window": 4,
    "world": {"n_users": 150, "n_items": 255, "users_per_step": 30, "n_initial_ratings": 1500},
}


@pytest.fixture(scope="module")
def ran():
    units = tradeoffs.units(TINY, 0)
    results = {key: tradeoffs.run_unit(**kwargs) for key, kwargs in units.items()}
    f = tradeoffs.frame(results)
    return units, results, f, tradeoffs.findings(f)


def test_units_are_paired_per_replicate_and_json():
    units = tradeoffs.units({**TINY, "seeds": 2}, 0)
    assert len(units) == 2 * (1 + 3 * 2)
    assert all(key.startswith("tradeoffs-") for key in units)
    assert {"tradeoffs-greedy-s0", "tradeoffs-mmr-l0.95-s1"} <= set(units)
    seeds = {r: {u["seed"] for u in units.values() if u["replicate"] == r} for r in (0, 1)}
    assert all(len(s) == 1 for s in seeds.values()) and seeds[0] != seeds[1]
    assert units == tradeoffs.units({**TINY, "seeds": 2}, 0)  # derived by name
    assert units != tradeoffs.units({**TINY, "seeds": 2}, 1)
    assert json.loads(json.dumps(units)) == units


def test_results_are_json_and_the_frame_is_tidy(ran):
    _, results, f, _ = ran
    assert json.loads(json.dumps(results)) == results
    assert all(len(r["series"]["regret"]) == TINY["steps"] for r in results.values())
    # 3 re-rankers × (λ = 0 shared, 0.5, 0.95) × 2 phases
    assert len(f) == 18 and set(f["phase"]) == {"start", "end"}
    assert set(f["steps"]) == {"1–4", "13–16"}
    zero = f[f["tradeoff"] == 0]
    assert np.allclose(zero["arp_rel"], 1.0)
    assert zero.groupby("phase")["regret"].nunique().eq(1).all()  # one shared baseline
    assert f[["ild", "coverage", "aplt"]].apply(lambda c: c.between(0, 1).all()).all()
    assert (f["regret"] >= 0).all() and (f["miscalibration"] >= 0).all()


def test_run_unit_is_deterministic():
    kwargs = {**tradeoffs.units(TINY, 3)["tradeoffs-popularity-penalty-l0.5-s0"], "steps": 3,
              "window": 1}  # fmt: skip
    a, b = tradeoffs.run_unit(**kwargs), tradeoffs.run_unit(**kwargs)
    assert a["series"] == b["series"]


# The verdicts that reproduce at this size (module doc), on their measured quantities ---
def _means(f: pd.DataFrame, name: str, phase: str) -> pd.DataFrame:
    return f[(f["reranker"] == name) & (f["phase"] == phase)].groupby("tradeoff").mean(
        numeric_only=True)  # fmt: skip


def test_calibration_and_popularity_penalty_buy_their_objective_with_accuracy(ran):
    _, _, f, found = ran
    cal, pop = _means(f, "calibrated", "start"), _means(f, "popularity-penalty", "start")
    assert cal["miscalibration"].is_monotonic_decreasing
    assert cal["miscalibration"][0.95] < 0.5 * cal["miscalibration"][0.0]
    assert pop["arp_rel"].is_monotonic_decreasing and pop["arp_rel"][0.95] < 0.5
    for m in (cal, pop):
        assert m["regret"].is_monotonic_increasing and m["regret"][0.95] > m["regret"][0.0]
    verdicts = {x.claim.split(",")[1].split()[0]: x.reproduced for x in found[:3]}
    assert verdicts == {"calibrated": True, "popularity-penalty": True, "mmr": False}


def test_mmr_diversifies_without_costing_accuracy_at_the_start(ran):
    """MMR's ✗: in this slate-choice world a diverse slate does not raise the regret."""
    _, _, f, _ = ran
    mmr = _means(f, "mmr", "start")
    assert mmr["ild"][0.5] > mmr["ild"][0.0] + 0.2
    assert mmr["regret"][0.5] <= mmr["regret"][0.0]


def test_time_findings_are_stated_and_measured(ran):
    _, _, f, found = ran
    assert len(found) == 6
    assert [x.reproduced is None for x in found] == [False] * 6
    price, gain, drift = found[3:]
    assert "λ = 0.5" in price.claim and price.measured.count("→") == 3
    assert "relative to λ = 0" in gain.expected
    assert drift.measured.startswith("ILD") and "APLT" in drift.measured
    ild = _means(f, "mmr", "start")["ild"][0.0], _means(f, "mmr", "end")["ild"][0.0]
    assert ild[1] < ild[0]  # greedy's slates narrow over the run (quick: 0.47 → 0.14)


def test_figures_and_protocol(ran, tmp_path):
    _, _, f, _ = ran
    made = tradeoffs.figures(f, tmp_path)
    assert [p.name for _, p in made] == ["tradeoffs_own.png", "tradeoffs_cross.png"]
    assert all(p.stat().st_size > 10_000 for _, p in made)
    rows = dict(tradeoffs.protocol(TINY))
    assert "beta-rank-v1" in rows["world"] and "150 × 255" in rows["world"]
    empty = tradeoffs.frame({})
    assert tradeoffs.findings(empty) == [] and tradeoffs.figures(empty, tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"tradeoffs": (0.5,)},
        {"tradeoffs": (0.5, 1.5)},
        {"tradeoffs": (0.0, 0.5)},
        {"rerankers": ()},
        {"rerankers": ("mmr", "shuffle")},
        {"seeds": 0},
        {"window": 0},
        {"steps": 7},  # < 2 windows
        {"k": 0},
        {"pool": 5},  # smaller than the slate
        {"world": {"n_users": 0}},
        {"world": 5},
        {"recommender": "no-such-model"},
    ],
)
def test_bad_grids_are_named(bad):
    name = next(iter(bad))
    match = {"world": "n_users|world", "recommender": "unknown recommender"}.get(name, name)
    with pytest.raises(RecdynError, match=match):
        tradeoffs.units({**TINY, **bad}, 0)


def test_bad_grid_missing_key_and_bad_unit_arguments():
    with pytest.raises(InvalidParameterError, match="lacks"):
        tradeoffs.units({k: v for k, v in TINY.items() if k != "window"}, 0)
    kwargs = tradeoffs.units(TINY, 0)["tradeoffs-mmr-l0.5-s0"]
    with pytest.raises(InvalidParameterError, match="reranker"):
        tradeoffs.run_unit(**{**kwargs, "reranker": "shuffle"})
    with pytest.raises(InvalidParameterError, match="tradeoff"):
        tradeoffs.run_unit(**{**kwargs, "tradeoff": -0.1})
