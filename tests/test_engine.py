"""The execution engine: the unit store, the resumable unit runner, failures brought back
to the driver, and several experiments on one pool."""

from __future__ import annotations

import faulthandler
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recdyn.engine import Call, Feed, LocalPool, UnitError, UnitRunner, UnitStore, run_unit
from recdyn.engine.feed import Event
from recdyn.errors import InvalidParameterError
from recdyn.evaluation import cross_validate
from recdyn.experiments import load_results, run_experiment, run_experiments
from recdyn.experiments.scaling import Units, measured_wall, schedule
from recdyn.interactions import Interactions
from recdyn.recommenders import TopPop

TINY = "{ n_users = 60, n_items = 80, n_initial_ratings = 600, users_per_step = 12 }"


def square(x: int) -> dict[str, int]:
    """A unit of work for these tests (imported by name in the workers)."""
    if x < 0:
        raise ValueError(f"negative: {x}")
    return {"square": x * x}


def test_the_unit_store_verifies_what_it_returns(tmp_path):
    store = UnitStore(tmp_path / "units")
    assert store.load("a", {"x": 1}) is None and store.problem("a") == "missing"
    store.save("a", {"x": 1, "w": (1, 2)}, {"y": 2})
    assert store.load("a", {"w": [1, 2], "x": 1}) == {"y": 2}  # canonical JSON
    assert store.load("a", {"x": 2, "w": [1, 2]}) is None  # made with other arguments
    assert store.keys() == ["a"] and not list(store.directory.glob(".*"))  # no temp left
    record = json.loads(store.path("a").read_text())
    assert set(record) == {"key", "hash", "payload", "result"}

    record["payload"]["x"] = 2  # edited by hand: the hash no longer matches
    store.path("a").write_text(json.dumps(record))
    assert store.load("a", {"x": 2, "w": [1, 2]}) is None
    assert "hash does not match" in store.problem("a")
    store.path("a").write_text(json.dumps(record)[:20])  # cut short
    assert store.load("a", {"x": 1, "w": [1, 2]}) is None
    assert store.problem("a").startswith("unreadable or truncated")
    store.save("b", {"x": 1}, 1)
    store.path("b").rename(store.path("c"))  # another unit's file
    assert store.problem("c").startswith("not a recdyn unit file")
    # a record written before records had a key and a hash is still read
    store.path("old").write_text(json.dumps({"payload": {"x": 3}, "result": 9}))
    assert store.load("old", {"x": 3}) == 9


def test_the_unit_runner_resumes_from_the_store_and_reports_failures(tmp_path):
    units = {f"u{x}": Call(f"{__name__}:square", {"x": x}) for x in (1, 2, -3)}
    store = UnitStore(tmp_path)
    with UnitRunner(store, workers=2) as runner:
        done = runner.run(units)
        assert done == {"u1": {"square": 1}, "u2": {"square": 4}}
        assert set(runner.failed) == {"u-3"} and "ValueError: negative: -3" in runner.failed["u-3"]
        assert (runner.computed, runner.reused) == (2, 0)
    with UnitRunner(store, workers=2) as again:
        assert again.run({k: units[k] for k in ("u1", "u2")}) == done
        assert (again.computed, again.reused) == (0, 2)
        assert again.pool is None  # no worker started


def echo(blob: str) -> dict[str, str]:
    """A unit whose result is as large as its argument (imported by name in workers)."""
    return {"blob": blob[::-1]}


def test_large_units_and_results_do_not_deadlock_the_pipe():
    # a worker is handed its next unit while it runs one; with both the unit and the result
    # larger than the pipe's buffer, a worker that did not read while sending would block
    # forever against a driver blocked sending (seen in the exposure-audit study)
    blob = "x" * 300_000
    faulthandler.dump_traceback_later(90, exit=True)  # a deadlock ends the run loudly
    try:
        with LocalPool(1) as pool:
            items = [(f"k{i}", Call(f"{__name__}:echo", {"blob": blob})) for i in range(3)]
            done = [e for e in pool.run(items) if e.kind == "done"]
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert len(done) == 3


def test_a_failed_unit_brings_its_exception_back():
    with LocalPool(1) as pool:
        events = pool.run([("k", Call(f"{__name__}:square", {"x": -1}))])
        (event,) = [e for e in events if e.kind != "started"]
    assert event.kind == "failed" and isinstance(event.exception, ValueError)
    with pytest.raises(ValueError, match="negative: -1") as caught:
        event.reraise("the unit")
    assert isinstance(caught.value.__cause__, UnitError)
    assert "Traceback" in str(caught.value.__cause__)
    with pytest.raises(UnitError, match="the unit failed: worker died"):
        Event("failed", "k", error="worker died").reraise("the unit")
    with pytest.raises(TypeError, match="run\\(report\\) method"):
        run_unit({"x": 1})


class Unfittable(TopPop):
    """A model that cannot be fitted (the workers import it from this module)."""

    def fit(self, *args, **kwargs):
        raise ValueError("cannot fit this one")


def test_a_fold_that_fails_in_a_worker_raises_as_it_would_here():
    rng = np.random.default_rng(0)
    data = Interactions(rng.integers(0, 20, 200), rng.integers(0, 30, 200), np.full(200, 3.0))
    for n_jobs in (1, 2):
        with pytest.raises(ValueError, match="cannot fit this one"):
            cross_validate(Unfittable(), data, 20, 30, folds=2, n_jobs=n_jobs)


def _spec(tmp_path: Path, name: str, recommenders: str, tuning: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[experiment]\nname = "{name}"\nsteps = 3\ntrials = 2\n'
        f'[[environments]]\npreset = "{name}"\noverrides = {TINY}\n{recommenders}{tuning}'
    )
    return path


def test_several_experiments_run_on_one_pool_as_they_would_alone(tmp_path):
    tuning = (
        '[tuning]\nfolds = 2\nmetric = "rmse"\ngrid = { toppop = { prior_weight = [1.0, 4.0] } }\n'
    )
    specs = [
        _spec(tmp_path, "topics-static-v1", '[[recommenders]]\nname = "toppop"\n', tuning),
        _spec(tmp_path, "latent-static-v1", '[[recommenders]]\nname = "random"\n'),
    ]
    shared = tmp_path / "shared"
    runs = [(spec, shared / spec.stem) for spec in specs]
    results = run_experiments(runs, workers=2)
    assert [(r.completed, r.skipped, r.ok) for r in results] == [(2, 0, True)] * 2
    for spec, result in zip(specs, results):
        assert result.directory == shared / spec.stem
        alone = run_experiment(spec, tmp_path / "alone" / spec.stem, workers=1)
        assert alone.completed == 2
        pd.testing.assert_frame_equal(
            load_results(result.directory).drop(columns="seconds"),
            load_results(alone.directory).drop(columns="seconds"),
            check_exact=True,
        )
        (run,) = json.loads((result.directory / "manifest.json").read_text())["runs"]
        assert run["experiments"] == 2 and run["workers"] == 2 and run["completed"] == 2
    walls = [measured_wall(r.directory) for r in results]  # overlapping: counted once
    assert max(walls) <= measured_wall([r.directory for r in results]) <= sum(walls)
    # resumed: nothing left in either; one grown by a trial runs alone on the pool
    assert [r.skipped for r in run_experiments(runs, workers=2)] == [2, 2]
    specs[1].write_text(specs[1].read_text().replace("trials = 2", "trials = 3"))
    grown = run_experiments(runs, workers=2, extend=True)
    assert [(r.completed, r.skipped) for r in grown] == [(0, 2), (1, 2)]
    with pytest.raises(InvalidParameterError, match="its own output directory"):
        run_experiments([(specs[0], shared), (specs[1], shared)])


def test_a_feed_serves_its_lowest_lane_first():
    feed = Feed()
    feed.add("b1", "x", lane=1)
    feed.add("a1", "x")
    feed.add("b2", "x", lane=1)
    assert feed.take() == ("a1", "x") and set(feed.opened) == {0}
    taken = feed.take()
    assert taken == ("b1", "x") and set(feed.opened) == {0, 1}
    feed.put_back(taken)  # to the front of its own lane
    feed.add("a2", "x")
    assert [feed.take()[0] for _ in range(3)] == ["a2", "b1", "b2"]
    assert feed.take() is None and not feed.finished
    feed.close()
    assert feed.finished


def test_one_feed_lets_one_experiments_tail_overlap_the_next():
    # two experiments, each a long task and a short one, on 2 workers
    first, second = Units(tasks=[(None, 4.0), (None, 1.0)]), Units(tasks=[(None, 4.0), (None, 1.0)])
    assert schedule(first, 2) + schedule(second, 2) == 8.0  # one after the other
    assert schedule([first, second], 2) == 5.0  # one pool: 4 + 1 | 1 + 4
    # a lane each: the first experiment's task joins ahead of the second's, once tuned
    tuned = Units({"t": 2.0}, [("t", 3.0)])
    assert schedule([tuned, Units(tasks=[(None, 1.0)] * 4)], 1) == 2 + 3 + 4
    assert schedule([tuned, tuned], 2) == 5.0  # both tunings at once, then both tasks
