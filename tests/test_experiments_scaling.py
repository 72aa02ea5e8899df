"""The schedule model that predicts an experiment's wall time on more workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recdyn.errors import InvalidParameterError
from recdyn.experiments import run_experiment
from recdyn.experiments.scaling import (
    Units,
    measured_wall,
    predict_wall,
    scaling_table,
    schedule,
    unit_seconds,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _tasks(*seconds: float, after: str | None = None) -> list[tuple[str | None, float]]:
    return [(after, s) for s in seconds]


def test_the_schedule_is_the_executors_greedy_feed():
    assert schedule(Units(), 4) == 0.0
    assert schedule(Units(tasks=_tasks(3, 1, 1, 1)), 1) == 6.0
    # in order, each on the first free worker: 3 | 1+1+1
    assert schedule(Units(tasks=_tasks(3, 1, 1, 1)), 2) == 3.0
    # greedy is not optimal (Graham): 1 | 1, then 2 waits for a free worker
    assert schedule(Units(tasks=_tasks(1, 1, 2)), 2) == 3.0
    assert schedule(Units(tasks=_tasks(5, 1)), 64) == 5.0
    # a task waits for its tuning job; the other job's tasks run meanwhile
    units = Units(
        {"slow": 4.0, "fast": 1.0}, _tasks(2, 2, after="slow") + _tasks(1, 1, after="fast")
    )
    assert units.total == 11.0 and units.longest_chain == 6.0
    # worker A: slow (0-4), then a slow task (4-6); worker B: fast (0-1), its two tasks
    # (1-3), the other slow task (4-6)
    assert schedule(units, 2) == 6.0
    assert schedule(units, 1) == 11.0
    assert schedule(units, 8) == 6.0
    with pytest.raises(InvalidParameterError, match="workers"):
        schedule(units, 0)


@pytest.fixture(scope="module")
def timed_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scaling") / "out"
    assert run_experiment(EXAMPLES / "quick.toml", out, workers=1).ok
    return out


def test_predictions_follow_the_recorded_unit_times(timed_run):
    units = unit_seconds(timed_run)
    manifest = json.loads((timed_run / "manifest.json").read_text())
    tasks = sorted(manifest["tasks"].values(), key=lambda e: e["index"])
    assert units.tasks == [(e["tune_id"], e["seconds"]) for e in tasks]
    assert set(units.tuning) == {e["tune_id"] for e in tasks}
    one = predict_wall(timed_run, 1)
    assert one == pytest.approx(units.total)
    # the one-worker run took at least the time of its units, plus start-up and storing
    assert measured_wall(timed_run) >= one - 1.0  # manifest times have 1 s resolution

    doubled = unit_seconds(timed_run, trials=4)
    assert len(doubled.tasks) == 2 * len(units.tasks)
    assert doubled.total - sum(doubled.tuning.values()) == pytest.approx(
        2 * (units.total - sum(units.tuning.values()))
    )

    table = scaling_table(timed_run, workers=(1, 2, 1000))
    assert list(table["workers"]) == [1, 2, 1000]
    assert table["speedup"].iloc[0] == 1.0
    assert (table["wall_s"] >= table["bound_s"] - 1e-9).all()
    assert table["wall_s"].is_monotonic_decreasing
    assert table["wall_s"].iloc[-1] == pytest.approx(units.longest_chain)


def test_a_directory_without_results_is_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="not a recdyn experiment directory"):
        unit_seconds(tmp_path)
