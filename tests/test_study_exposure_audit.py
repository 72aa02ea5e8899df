"""The ``exposure-audit`` study (thesis ch. 5) at a size smaller than quick: outputs,
resume without recomputing, report-only, bad parameters and a missing dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recdyn import studies
from recdyn.errors import InvalidParameterError
from recdyn.studies._exposure_analysis import profile_statistics

TINY = {"quick": True, "seeds": 1, "inits": 2, "max_iter": 200, "models": ("pmf",)}


@pytest.fixture(scope="module")
def ran(tmp_path_factory, ml100k_dir):
    out = tmp_path_factory.mktemp("exposure-audit")
    study = studies.make("exposure-audit", **TINY)
    return study, study.run(out, workers=1), out


@pytest.fixture(scope="module")
def ml100k_dir():
    from recdyn.datasets import DatasetError, load

    try:
        load("ml-100k", download=False)
    except DatasetError:
        pytest.skip("ML-100K is not available (set RECDYN_DATA_DIR)")


def test_outputs(ran):
    study, result, out = ran
    for name in ("summary.csv", "runs.csv", "embeddings.csv", "findings.csv", "report.html"):
        assert (out / name).exists(), name
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 1 * 2 * 1 * 2  # seeds × τ × n × inits
    assert set(runs["status"]) <= {"violated", "inconclusive", "confirmed"}
    assert set(runs["tau"]) == {0.1, 1.0}
    assert len(result.findings) == 5
    assert study.last_run == (1 + 2, 0)  # one embedding unit, two equilibrium units
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "not built yet" in html.lower()


def test_resume_and_report_only(ran):
    _, result, out = ran
    again = studies.make("exposure-audit", **TINY)
    again.run(out, workers=1)
    assert again.last_run == (0, 3)
    reported = studies.make("exposure-audit", **TINY).report(out)
    pd.testing.assert_frame_equal(reported.tables["runs"], result.tables["runs"])


def test_report_of_other_options_names_missing_units(ran):
    _, _, out = ran
    other = studies.make("exposure-audit", **{**TINY, "inits": 3})
    with pytest.raises(InvalidParameterError, match="holds no result"):
        other.report(out)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"taus": [0.0, 1.0]}, "taus"),
        ({"producers": [0]}, "producers"),
        ({"models": ("svd",)}, "models"),
        ({"alpha": -1.0}, "alpha"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        studies.make("exposure-audit", quick=True, **params)


def test_missing_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("RECDYN_DATA_DIR", str(tmp_path / "empty"))
    study = studies.make("exposure-audit", **TINY)
    with pytest.raises(InvalidParameterError, match=r"ml-100k.*RECDYN_DATA_DIR"):
        study.run(tmp_path / "out")
    assert not (tmp_path / "out" / "units").exists()


def test_profile_statistics_collapsed_and_spread():
    users = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    men = np.array([1, 1, 0])
    one = profile_statistics(users, men, np.tile([1.0, 0.0], (3, 1)))
    assert one["distinct"] == 1 and one["pairwise_cos"] == pytest.approx(1.0)
    assert one["delta_user"] > 0 and one["delta_producer"] == pytest.approx(1.0)
    two = profile_statistics(users, men, np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert two["distinct"] == 2 and two["pairwise_cos"] == pytest.approx(0.0)
    assert two["delta_producer"] == pytest.approx(0.0)
