"""The schedule model that predicts an experiment's wall time on more workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recdyn.errors import InvalidParameterError
from recdyn.experiments import run_experiment
from recdyn.experiments.scaling import (
    makespan,
    measured_wall,
    predict_wall,
    scaling_table,
    unit_seconds,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_makespan_is_the_greedy_list_schedule():
    assert makespan([], 4) == 0.0
    assert makespan([3.0, 1.0, 1.0, 1.0], 1) == 6.0
    # in order, each on the first free worker: 3 | 1+1+1
    assert makespan([3.0, 1.0, 1.0, 1.0], 2) == 3.0
    # the greedy order is not optimal (Graham): 1 | 1, then 2 waits for a free worker
    assert makespan([1.0, 1.0, 2.0], 2) == 3.0
    assert makespan([5.0, 1.0], 64) == 5.0
    with pytest.raises(InvalidParameterError, match="workers"):
        makespan([1.0], 0)


@pytest.fixture(scope="module")
def timed_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scaling") / "out"
    assert run_experiment(EXAMPLES / "quick.toml", out, workers=1).ok
    return out


def test_predictions_follow_the_recorded_unit_times(timed_run):
    units = unit_seconds(timed_run)
    manifest = json.loads((timed_run / "manifest.json").read_text())
    tasks = sorted(manifest["tasks"].values(), key=lambda e: e["index"])
    assert units["tasks"] == [e["seconds"] for e in tasks]
    assert len(units["tuning"]) == len({e["tune_id"] for e in tasks})
    one = predict_wall(timed_run, 1)
    assert one == pytest.approx(sum(units["tuning"]) + sum(units["tasks"]))
    # the one-worker run took at least the time of its units, plus start-up and storing
    assert measured_wall(timed_run) >= one - 1.0  # manifest times have 1 s resolution

    doubled = unit_seconds(timed_run, trials=4)["tasks"]
    assert len(doubled) == 2 * len(units["tasks"])
    assert sum(doubled) == pytest.approx(2 * sum(units["tasks"]))

    table = scaling_table(timed_run, workers=(1, 2, 1000))
    assert list(table["workers"]) == [1, 2, 1000]
    assert table["speedup"].iloc[0] == 1.0
    assert (table["wall_s"] >= table["bound_s"] - 1e-9).all()
    assert table["wall_s"].is_monotonic_decreasing
    longest = max(units["tuning"]) + max(units["tasks"])
    assert table["wall_s"].iloc[-1] == pytest.approx(longest)


def test_a_directory_without_results_is_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="not a recdyn experiment directory"):
        unit_seconds(tmp_path)
