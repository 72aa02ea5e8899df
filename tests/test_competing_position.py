"""Claim (c) of the competing-objectives study: position bias in the loop, tower off vs on
(recdyn.studies._competing_position), on a grid smaller than quick."""

import importlib.util
import json

import numpy as np
import pytest
from scipy.stats import rankdata

from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.metrics.online import StepContext
from recdyn.studies import _competing_position as cp

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")

TINY = {
    **cp.QUICK,
    "etas": (0.0, 1.0),
    "world": {"n_users": 200, "n_items": 300, "users_per_step": 100, "n_initial_ratings": 2000},
    "steps": 16,
    "seeds": 1,
}


@pytest.fixture(scope="module")
def tiny():
    results = {key: cp.run_unit(**kw) for key, kw in cp.units(TINY, 0).items()}
    return results, cp.frame(results)


def test_units_are_keyed_seeded_and_paired():
    units = cp.units(TINY, 0)
    assert len(units) == 2 * 2 * 1 and all(k.startswith("position-") for k in units)
    assert len({kw["seed"] for kw in units.values()}) == 1  # one world per seed: paired
    assert cp.units(TINY, 0) == units and cp.units(TINY, 1) != units
    full = cp.units(cp.FULL, 0)
    assert len(full) == len(cp.FULL["policies"]) * len(cp.FULL["etas"]) * cp.FULL["seeds"]


def test_results_are_json_and_the_frame_is_tidy(tiny):
    results, frame = tiny
    assert json.loads(json.dumps(results)) == results
    assert len(frame) == 4 * 2 * TINY["steps"]
    assert set(frame["tower"]) == {False, True} and frame["lock_in"].iloc[1:].notna().any()
    assert frame.loc[frame["step"] == 1, "lock_in"].isna().all()  # nothing shown before
    for res in results.values():
        for run in res["runs"]:
            bias = run["position_bias"]
            assert (bias is None) if not run["tower"] else len(bias) == TINY["k"]


def test_run_unit_is_deterministic():
    kw = cp.units({**TINY, "steps": 3, "policies": ("softmax",), "etas": (1.0,)}, 5)
    (kw,) = kw.values()
    a, b = cp.run_unit(**kw), cp.run_unit(**kw)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in a["runs"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in b["runs"]]


def test_softmax_reproduces_amplification_and_the_towers_damping(tiny):
    s = cp.summary(tiny[1]).set_index(["policy", "eta", "tower"])["lock_in"]
    off, on = s["softmax", 1.0, False], s["softmax", 1.0, True]
    assert off > s["softmax", 0.0, False] + 0.03  # the position effect learned as relevance
    assert on < off - 0.015  # the tower removes part of it (most of it at quick size)
    # greedy: the slot is a function of the model's own score; the tower changes little
    assert abs(s["greedy", 1.0, True] - s["greedy", 1.0, False]) < 0.03
    verdicts = {f.claim: f.reproduced for f in cp.findings(tiny[1])}
    amplifies = "Without the position tower the loop amplifies its own past rankings"
    assert verdicts[f"{amplifies} (softmax)"] is True
    assert verdicts["The position tower damps the amplification of past rankings (softmax)"]


def test_the_tower_does_not_lower_the_exposure_gini(tiny):
    g = cp.summary(tiny[1]).set_index(["policy", "eta", "tower"])["gini"]
    assert g["softmax", 1.0, True] > g["softmax", 1.0, False]  # more exposure to the relevant
    verdicts = {f.claim: f.reproduced for f in cp.findings(tiny[1])}
    assert verdicts["The position tower damps the concentration of exposure (softmax)"] is False
    assert all(v is not None for v in verdicts.values()) and len(verdicts) == 6


def test_findings_without_control_cannot_be_checked(tiny):
    frame = tiny[1][tiny[1]["eta"] > 0]
    first = cp.findings(frame)[0]
    assert first.reproduced is None and "control" in first.measured
    assert cp.findings(frame.iloc[:0]) == []


def test_figures_and_protocol(tiny, tmp_path):
    made = cp.figures(tiny[1], tmp_path)
    assert len(made) == 2 and all(p.suffix == ".png" and p.stat().st_size for _, p in made)
    rows = cp.protocol(cp.QUICK)
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in rows)


# ----------------------------------------------------------------------------- the measure
def test_partial_spearman_matches_the_residual_definition():
    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    x, y = z + rng.normal(size=200), z + 0.5 * rng.normal(size=200)
    rx, ry, rz = rankdata(x), rankdata(y), rankdata(z)
    design = np.column_stack([np.ones(200), rz])
    res = [r - design @ np.linalg.lstsq(design, r, rcond=None)[0] for r in (rx, ry)]
    expected = np.corrcoef(*res)[0, 1]
    assert cp._partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(cp._partial_spearman(x[:3], y[:3], z[:3]))


class _Scores:
    def __init__(self, scores):
        self.scores = scores

    def score(self, users):
        return self.scores[users]


class _World:
    n_users = 50


def _context(step, scores, truth, new):
    users = np.arange(50)
    return StepContext(step, users, np.zeros((50, 1), np.int64), new, truth=truth,
                       n_items=40, environment=_World(), recommender=_Scores(scores))  # fmt: skip


def test_lock_in_is_one_when_the_past_slot_decides_the_rank_and_zero_when_truth_does():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(50, 40))
    slates = np.argsort(rng.random((50, 40)), axis=1)[:, :8]  # shown at random slots
    users = np.repeat(np.arange(50), 8)
    slot = np.tile(np.arange(1, 9), 50)
    new = Interactions(users, slates.ravel(), np.zeros(400), np.ones(400, np.int64),
                       position=slot)  # fmt: skip
    locked = np.zeros((50, 40))
    locked[users, slates.ravel()] = 100.0 - slot  # the past ranking, kept
    for scores, expected in ((locked, 1.0), (truth + 0.3 * rng.normal(size=truth.shape), 0.0)):
        metric = cp.LockIn()
        assert np.isnan(metric.value(_context(1, scores, truth, new)))
        later = Interactions(users[:0], users[:0], np.zeros(0), users[:0], position=users[:0])
        assert metric.value(_context(2, scores, truth, later)) == pytest.approx(expected, abs=0.15)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "change, name",
    [
        ({"etas": (0.0, -1.0)}, "etas"),
        ({"policies": ("greedy", "mmr")}, "policies"),
        ({"temperature": 0.0}, "temperature"),
        ({"steps": 1}, "steps"),
        ({"seeds": 0}, "seeds"),
        ({"k": 301}, "k"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"etas": ()}, "etas"),
    ],
)
def test_bad_grids_name_the_key(change, name):
    with pytest.raises(InvalidParameterError, match=name):
        cp.units({**TINY, **change}, 0)


def test_bad_unit_arguments_name_the_argument():
    (kw,) = cp.units({**TINY, "policies": ("greedy",), "etas": (1.0,)}, 0).values()
    with pytest.raises(InvalidParameterError, match="policy"):
        cp.run_unit(**{**kw, "policy": "ucb"})
    with pytest.raises(InvalidParameterError, match="eta"):
        cp.run_unit(**{**kw, "eta": -0.5})
