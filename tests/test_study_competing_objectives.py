"""The ``competing-objectives`` study as a whole (seeds 000–001, issue 21 item 5): its
options, its bad input, and one run smaller than quick through execute → store → report →
resume. Each claim's measurements and verdicts are tested in ``test_competing_*.py``."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from recdyn import studies
from recdyn.errors import InvalidParameterError
from recdyn.studies import competing_objectives as co

MINI = {
    "tradeoffs": {
        "rerankers": ("mmr",),
        "tradeoffs": (0.5, 0.95),
        "steps": 4,
        "window": 2,
        "world": {"n_users": 60, "n_items": 120, "users_per_step": 20, "n_initial_ratings": 600},
    },
    "position": {
        "etas": (1.0,),
        "policies": ("softmax",),
        "world": {"n_users": 60, "n_items": 100, "users_per_step": 30, "n_initial_ratings": 600},
        "steps": 3,
        "seeds": 1,
    },
}


def _grids() -> dict[str, dict]:
    return {c: {**co.claim_module(c).QUICK, **g} for c, g in MINI.items()}


def test_registered_with_its_claims_as_an_option():
    assert "competing-objectives" in studies.names()
    study = studies.make("competing-objectives", quick=True)
    assert study.claims == tuple(co.CLAIMS)
    for claim in co.CLAIMS:
        module = co.claim_module(claim)
        for name in ("FULL", "QUICK", "SOURCE", "units", "run_unit", "frame", "findings",
                     "figures", "protocol"):  # fmt: skip
            assert hasattr(module, name), (claim, name)
        assert module.units(study.grid(claim), 0), claim


def test_unit_keys_are_distinct_across_claims_and_seeded_by_name():
    study = studies.make("competing-objectives", quick=True)
    keys = [k for c in co.CLAIMS for k in study.units(c)]
    assert len(keys) == len(set(keys))
    again = studies.make("competing-objectives", quick=True)
    other = studies.make("competing-objectives", quick=True, seed=1)
    assert study.units("tradeoffs") == again.units("tradeoffs") != other.units("tradeoffs")


def test_unknown_claim_is_named():
    with pytest.raises(InvalidParameterError, match="claims"):
        studies.make("competing-objectives", claims=("calibration", "fairness"))


def test_report_only_without_results_names_the_missing_unit(tmp_path):
    study = studies.make("competing-objectives", quick=True, claims=("tradeoffs",))
    with pytest.raises(InvalidParameterError, match="holds no result"):
        study.report(tmp_path)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_runs_reports_and_resumes(tmp_path):
    pytest.importorskip("matplotlib")
    study = studies.make("competing-objectives", quick=True, claims=tuple(MINI))
    study.grids.update(_grids())
    result = study.run(tmp_path, workers=1)
    n_units = sum(len(study.units(c)) for c in MINI)
    assert study.last_run == (n_units, 0)
    found = pd.read_csv(tmp_path / "findings.csv")
    assert set(found.columns) == {"claim", "source", "expected", "measured", "reproduced"}
    letters = {claim[:3] for claim in found["claim"]}
    assert letters == {"(c)", "(d)"}
    page = result.report.read_text()
    assert "Protocol as run" in page and "(d) Each re-ranker" in page and "<img" in page
    assert (tmp_path / "costs.csv").exists() and (tmp_path / "tradeoffs.csv").exists()
    again = studies.make("competing-objectives", quick=True, claims=tuple(MINI))
    again.grids.update(_grids())
    again.run(tmp_path, workers=1)
    assert again.last_run == (0, n_units)  # resumed: nothing recomputed
    assert pd.read_csv(tmp_path / "findings.csv").equals(found)
