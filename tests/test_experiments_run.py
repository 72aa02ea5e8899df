"""Running studies: local and Ray executors, the result store, resuming after a crash."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from recdyn.cli import app
from recdyn.engine import THREAD_VARS, DirectoryLock, Feed, LocalPool
from recdyn.environments.presets import environments
from recdyn.errors import InvalidParameterError
from recdyn.experiments import (
    CorruptResultWarning,
    DirectoryBusyError,
    ResolvedParamsChangedError,
    SpecChangedError,
    Store,
    load_interactions,
    load_results,
    load_spec,
    make_plan,
    run_experiment,
    run_task,
)
from recdyn.experiments.resolved import differences
from recdyn.experiments.result_files import read_resolved
from recdyn.experiments.runner import resolved_params
from recdyn.policies import make as make_policy
from recdyn.recommenders.registry import recommenders

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REPO = EXAMPLES.parent
TINY = "{ n_users = 60, n_items = 80, n_initial_ratings = 600, users_per_step = 12 }"


def _spec(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[experiment]\nname = "{name}"\n{body}')
    return path


def _numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Everything but the wall-clock column."""
    return df.drop(columns="seconds")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("quick") / "out"
    result = run_experiment(EXAMPLES / "quick.toml", out, workers=2)
    assert result.ok and result.completed == 8
    return out


def test_results_follow_the_store_format(quick_run):
    manifest = json.loads((quick_run / "manifest.json").read_text())
    plan = make_plan(load_spec(EXAMPLES / "quick.toml"))
    assert manifest["spec_hash"] == plan.spec_hash
    assert manifest["spec"]["experiment"]["name"] == "quick"
    assert {"recdyn", "numpy", "scipy", "pandas", "torch"} <= set(manifest["versions"])
    assert manifest["python"] and manifest["host"] and manifest["created"]
    entry = manifest["tasks"][plan.tasks[0].task_id]
    assert entry["status"] == "done" and entry["seconds"] > 0 and entry["worker"]
    assert entry["seed"] == {"entropy": 0, "spawn_key": list(plan.tasks[0].seed.spawn_key)}

    files = sorted(p.stem for p in (quick_run / "tasks").iterdir())
    assert files == sorted(t.task_id for t in plan.tasks)
    meta = pq.read_metadata(quick_run / "tasks" / f"{files[0]}.parquet").metadata
    assert meta[b"recdyn.task_id"].decode() == files[0]
    assert meta[b"recdyn.spec_hash"].decode() == plan.spec_hash

    df = load_results(quick_run)
    assert list(df.columns) == [
        "task_id", "environment", "recommender", "params", "policy", "trial",
        "step", "mean_rating", "regret", "rmse", "n_ratings", "seconds",
        "offline_rmse", "offline_ndcg@10",
    ]  # fmt: skip
    assert len(df) == 8 * 20
    assert df["task_id"].unique().tolist() == [t.task_id for t in plan.tasks]  # plan order
    per_task = df.groupby("task_id")
    assert (per_task["step"].apply(list) == [list(range(1, 21))] * 8).all()
    assert (per_task["offline_rmse"].nunique() == 1).all()
    mf = df[df["recommender"] == "mf-sgd"]
    assert set(mf["params"]) == {'{"n_epochs":10,"n_factors":8,"partial_epochs":2}'}
    tuned = {e["tuned_params"]["reg"] for e in manifest["tasks"].values() if "tuned_params" in e}
    assert tuned <= {0.05, 0.2} and len(tuned) >= 1


def test_a_task_gives_the_same_numbers_in_a_worker_and_in_this_process(quick_run):
    plan = make_plan(load_spec(EXAMPLES / "quick.toml"))
    task = next(t for t in plan.tasks if t.recommender == "mf-sgd" and t.trial == 1)
    tuning = json.loads((quick_run / "tuning" / f"{task.tuning.tune_id}.json").read_text())
    here = run_task(task, tuning).table
    stored = load_results(quick_run).query("task_id == @task.task_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(_numbers(here), _numbers(stored), check_exact=True)


def test_rerunning_skips_finished_tasks(quick_run):
    stamps = {p: p.stat().st_mtime_ns for p in (quick_run / "tasks").iterdir()}
    result = run_experiment(EXAMPLES / "quick.toml", quick_run, workers=2)
    assert (result.completed, result.skipped) == (0, 8)
    assert {p: p.stat().st_mtime_ns for p in (quick_run / "tasks").iterdir()} == stamps


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="ray is not installed (pip install 'recdyn[ray]'); the Ray backend is untested",
)
def test_ray_backend_gives_identical_tables_and_loses_only_failed_tasks(
    quick_run, tmp_path, request
):
    import ray
    from ray import cloudpickle

    from recdyn.engine.ray_pool import RayPool

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)  # Ray's workers cannot import this file
    request.addfinalizer(lambda: cloudpickle.unregister_pickle_by_value(module))
    items = [(p, p) for p in ("a", "die", "b", "raise", "c", "threads")]
    driver_env = {var: os.environ.get(var) for var in THREAD_VARS}
    with RayPool(2, fn=_die_on_request, max_retries=1) as pool:  # starts a local instance
        assert {var: os.environ.get(var) for var in THREAD_VARS} == driver_env  # restored
        events = list(pool.run(items))
        outcome = {e.key: e.result if e.kind == "done" else e.error for e in events}
        assert {k: outcome[k] for k in "abc"} == {"a": "A", "b": "B", "c": "C"}
        assert outcome["die"].startswith("WorkerCrashedError after 1 retries")
        assert outcome["raise"] == "RuntimeError: bad input"  # not retried
        assert outcome["threads"] == dict.fromkeys(THREAD_VARS, "1")  # inherited, no runtime_env

        # Ray already running (as on a cluster): run_experiment uses it and leaves it up.
        result = run_experiment(EXAMPLES / "quick.toml", tmp_path / "ray", backend="ray", workers=2)
        assert result.ok and result.completed == 8
        assert ray.is_initialized()
    assert not ray.is_initialized()
    local, ray_tables = load_results(quick_run), load_results(tmp_path / "ray")
    pd.testing.assert_frame_equal(_numbers(local), _numbers(ray_tables), check_exact=True)


#: A worker function for a run in another process: every unit runs as usual, except the
#: tasks named in ``held``, which never end (until the run is killed).
HOLDING = """
import time
from recdyn.engine import run_unit

def hold(held, payload, report=None):
    task = getattr(payload, "task", None)
    if task is not None and task.task_id in held:
        time.sleep(3600)
    return run_unit(payload, report)
"""


def test_a_run_killed_midway_resumes_to_the_uninterrupted_results(tmp_path):
    spec = _spec(
        tmp_path,
        "killed",
        "steps = 25\ntrials = 4\nsave_interactions = true\n"
        f'[[environments]]\npreset = "topics-dynamic-v1"\noverrides = {TINY}\n'
        '[[recommenders]]\nname = "toppop"\n[[recommenders]]\nname = "item-knn"\n'
        '[[recommenders]]\nname = "mf-sgd"\nparams = { n_factors = 8, n_epochs = 10 }\n',
    )
    out = tmp_path / "out"
    # The first five tasks (in feed order) finish; every later one is held, so the kill
    # lands between them whatever the machine's speed.
    plan = make_plan(load_spec(spec))
    first, held = plan.tasks[:5], [t.task_id for t in plan.tasks[5:]]
    (tmp_path / "holding.py").write_text(HOLDING)
    script = (
        f"import functools, sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "from holding import hold\n"
        "from recdyn.engine import LocalPool\n"
        "from recdyn.experiments import run_experiment\n"
        f"with LocalPool(2, functools.partial(hold, {held!r})) as pool:\n"
        f"    run_experiment({str(spec)!r}, {str(out)!r}, pool=pool)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        start_new_session=True,  # its own process group: SIGKILL takes the workers too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while {p.stem for p in out.glob("tasks/*.parquet")} != {t.task_id for t in first}:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    finished = {p.stem for p in (out / "tasks").glob("*.parquet")}
    assert finished == {t.task_id for t in first}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean kill leaves nothing half-written
        partial = load_results(out)
    assert set(partial["task_id"]) == finished and len(partial) == 25 * len(finished)

    # Plant what a crash mid-write could leave: a truncated result and a temp file.
    todo = [t.task_id for t in plan.tasks if t.task_id not in finished]
    source = (out / "tasks" / f"{sorted(finished)[0]}.parquet").read_bytes()
    (out / "tasks" / f"{todo[0]}.parquet").write_bytes(source[: len(source) // 2])
    (out / "tasks" / f".{todo[1]}.parquet.tmp").write_bytes(source[:100])
    (out / "tasks" / "foreign.parquet").write_bytes(source[:50])
    with pytest.warns(CorruptResultWarning) as caught:
        assert set(load_results(out)["task_id"]) == finished
    named = " ".join(str(w.message) for w in caught)
    assert f"{todo[0]}.parquet" in named and "foreign.parquet" in named and ".tmp" not in named

    with pytest.warns(CorruptResultWarning, match=todo[0]):  # found, and run again
        resumed = run_experiment(spec, out, workers=2)
    assert resumed.ok and resumed.completed == len(todo)
    # The uninterrupted computation of every task (in this process, which gives the same
    # numbers as a worker: see test_a_task_gives_the_same_numbers_...; a second full run
    # would only add process start-up time to the suite).
    reference = [run_task(task) for task in plan.tasks]
    with pytest.warns(CorruptResultWarning, match="foreign.parquet"):
        after = load_results(out)
    expected = pd.concat([r.table for r in reference], ignore_index=True)
    pd.testing.assert_frame_equal(_numbers(after), _numbers(expected), check_exact=True)
    logs = [r.interactions.assign(task_id=r.task_id) for r in reference]
    expected_logs = pd.concat(logs, ignore_index=True)[load_interactions(out).columns]
    pd.testing.assert_frame_equal(load_interactions(out), expected_logs, check_exact=True)
    assert not list((out / "tasks").glob(".*.tmp"))


def test_one_run_writes_a_directory_at_a_time(tmp_path):
    body = f'steps = 2\n[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
    spec = _spec(tmp_path, "busy", body + '[[recommenders]]\nname = "toppop"\n')
    out = tmp_path / "out"
    holder = Store.open(out, make_plan(load_spec(spec)))  # as a run in another process
    manifest = (out / "manifest.json").read_text()
    with pytest.raises(DirectoryBusyError, match=f"pid {os.getpid()}"):
        run_experiment(spec, out, workers=1)
    refused = CliRunner().invoke(app, ["run", str(spec), "--out", str(out), "-q"])
    assert refused.exit_code == 2 and "being written by another run" in refused.output
    assert (out / "manifest.json").read_text() == manifest
    holder.close()
    assert run_experiment(spec, out, workers=1).completed == 1
    assert run_experiment(spec, out, workers=1).skipped == 1  # released after each run


@pytest.mark.parametrize(
    "written", ["the lock", "the result folders", "a temporary manifest", "the manifest"]
)
def test_the_loser_of_two_runs_started_together_is_always_told_it_is_busy(tmp_path, written):
    # The winner of two runs started at the same moment holds the lock and has written
    # this much of the directory when the loser looks at it: the loser is refused as busy
    # (not as "not a recdyn directory"), and nothing of the winner's is touched.
    body = f'steps = 2\n[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
    spec = _spec(tmp_path, "race", body + '[[recommenders]]\nname = "toppop"\n')
    out = tmp_path / "out"
    winner = DirectoryLock(out)
    if written != "the lock":
        for sub in ("tasks", "interactions", "tuning"):
            (out / sub).mkdir()
    if written == "a temporary manifest":
        (out / ".manifest.json.tmp").write_text('{"format": ')
    if written == "the manifest":
        (out / "manifest.json").write_text("{}")  # not even complete JSON is read
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(DirectoryBusyError, match="being written by another run"):
        run_experiment(spec, out, workers=1)
    refused = CliRunner().invoke(app, ["run", str(spec), "--out", str(out), "-q"])
    assert refused.exit_code == 2 and "being written by another run" in refused.output
    assert sorted(p.name for p in out.iterdir()) == before
    winner.release()


def test_a_run_killed_as_it_started_leaves_a_directory_that_can_be_reused(tmp_path):
    body = f'steps = 2\n[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
    spec = _spec(tmp_path, "restart", body + '[[recommenders]]\nname = "toppop"\n')
    out = tmp_path / "out"
    for sub in ("tasks", "interactions", "tuning"):
        (out / sub).mkdir(parents=True)
    (out / ".lock").write_text("recdyn pid 1 on elsewhere")
    (out / ".manifest.json.tmp").write_text('{"format": ')
    assert run_experiment(spec, out, workers=1).completed == 1
    (out / "tasks" / "mine.txt").write_text("not a result")
    (out / "manifest.json").unlink()
    with pytest.raises(Exception, match="not a recdyn experiment directory"):
        run_experiment(spec, out, workers=1)
    assert (out / ".lock").exists()  # it was there before: left as found


def test_a_changed_spec_is_refused_unless_forced(tmp_path):
    body = (
        "steps = 4\n"
        f'[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
        '[[environments]]\npreset = "topics-static-v1"\nname = "too-small"\n'
        "overrides = { n_users = 12, n_items = 3, n_initial_ratings = 0, users_per_step = 12 }\n"
        '[[recommenders]]\nname = "toppop"\n'
    )
    spec = _spec(tmp_path, "changing", body)
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(spec), "--out", str(out), "-w", "1", "-q"])
    # the second environment runs out of unrated items at step 4: that task fails alone
    assert first.exit_code == 1, first.output
    assert "NoEligibleUsersError" in first.output
    manifest = json.loads((out / "manifest.json").read_text())
    status = sorted(e["status"] for e in manifest["tasks"].values())
    assert status == ["done", "failed"]

    spec.write_text(spec.read_text().replace("steps = 4", "steps = 3"))
    refused = runner.invoke(app, ["run", str(spec), "--out", str(out), "-q"])
    assert refused.exit_code == 2
    assert "different spec" in refused.output and "experiment.steps 4 -> 3" in refused.output
    assert "--force" in refused.output
    with pytest.raises(SpecChangedError):
        run_experiment(spec, out)

    forced = runner.invoke(app, ["run", str(spec), "--out", str(out), "-w", "1", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "2 tasks run now" in forced.output
    (archived,) = (out / "archive").iterdir()
    assert json.loads((archived / "manifest.json").read_text())["spec"]["experiment"]["steps"] == 4
    assert len(list((archived / "tasks").glob("*.parquet"))) == 1
    assert set(load_results(out)["step"]) == {1, 2, 3}

    shown = runner.invoke(app, ["results", str(out), "--csv", str(tmp_path / "all.csv")])
    assert shown.exit_code == 0, shown.output
    assert "changing: 2/2 tasks finished" in shown.output
    assert len(pd.read_csv(tmp_path / "all.csv")) == 2 * 3


def test_a_grown_spec_extends_the_finished_tasks(tmp_path):
    body = (
        "steps = 3\ntrials = 1\n"
        f'[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
        '[[recommenders]]\nname = "toppop"\n[[recommenders]]\nname = "random"\n'
    )
    spec = _spec(tmp_path, "growing", body)
    out = tmp_path / "out"
    assert run_experiment(spec, out, workers=1).completed == 2
    first = load_results(out)
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "tasks").iterdir()}

    # two trials instead of one, and random swapped for oracle
    spec.write_text(
        spec.read_text().replace("trials = 1", "trials = 2").replace('"random"', '"oracle"')
    )
    with pytest.raises(SpecChangedError, match="--extend to keep the 1 finished tasks"):
        run_experiment(spec, out)
    grown = run_experiment(spec, out, workers=1, extend=True)
    assert (grown.completed, grown.skipped) == (3, 1)
    kept = first[first["recommender"] == "toppop"]
    (toppop_file,) = [n for n in stamps if n[:-8] in set(kept["task_id"])]
    assert (out / "tasks" / toppop_file).stat().st_mtime_ns == stamps[toppop_file]
    (archived,) = (out / "archive").iterdir()
    assert [p.name for p in (archived / "tasks").iterdir()] == [
        n for n in stamps if n != toppop_file
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = load_results(out)
    assert sorted(set(zip(results["recommender"], results["trial"]))) == [
        ("oracle", 0),
        ("oracle", 1),
        ("toppop", 0),
        ("toppop", 1),
    ]
    fresh = run_experiment(spec, tmp_path / "fresh", workers=1)
    assert fresh.completed == 4
    pd.testing.assert_frame_equal(
        _numbers(results), _numbers(load_results(tmp_path / "fresh")), check_exact=True
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["extended"][0]["kept"] == 1
    assert manifest["extends"] == [manifest["extended"][0]["from"]] != [manifest["spec_hash"]]
    assert run_experiment(spec, out).skipped == 4


def test_a_resume_refuses_to_mix_models_after_a_default_changed(tmp_path, monkeypatch):
    body = (
        "steps = 2\ntrials = 2\n"
        f'[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
        '[[recommenders]]\nname = "toppop"\n'
    )
    spec = _spec(tmp_path, "defaults", body)
    out = tmp_path / "out"
    assert run_experiment(spec, out, workers=1).completed == 2
    first = load_results(out)
    lost, kept = sorted((out / "tasks").glob("*.parquet"))
    recorded = read_resolved(kept)
    assert recorded["recommender"] == {"prior_weight": 1.0} and recorded["policy"] == {}
    assert recorded["environment"]["noise"] == 0.5 and recorded["environment"]["n_users"] == 60
    lost.unlink()  # a killed run: one trial left to do

    static = environments.spec("topics-static-v1").params
    for registry, name, changed, message in (
        (recommenders, "toppop", {"prior_weight": 3.0}, "recommender prior_weight: 1.0 -> 3.0"),
        (environments, "topics-static-v1", {**static, "noise": 0.7}, "environment noise: 0.5"),
    ):
        with monkeypatch.context() as patch:
            new = dataclasses.replace(registry.spec(name), params=MappingProxyType(changed))
            patch.setitem(registry._specs, name, new)
            with pytest.raises(ResolvedParamsChangedError, match="--force") as refused:
                run_experiment(spec, out, workers=1)
            assert message in str(refused.value)
            assert [p.name for p in (out / "tasks").iterdir()] == [kept.name]

    resumed = run_experiment(spec, out, workers=1)
    assert (resumed.completed, resumed.skipped) == (1, 1)
    pd.testing.assert_frame_equal(_numbers(load_results(out)), _numbers(first))


def test_a_stored_tuning_result_is_checked_too_but_not_its_tuned_values(tmp_path, monkeypatch):
    body = (
        "steps = 2\ntrials = 1\n"
        f'[[environments]]\npreset = "topics-static-v1"\noverrides = {TINY}\n'
        '[[recommenders]]\nname = "toppop"\n'
        '[tuning]\nfolds = 2\nmetric = "rmse"\ngrid = { toppop = { prior_weight = [1.0, 2.0] } }\n'
    )
    spec = _spec(tmp_path, "tuned", body)
    out = tmp_path / "out"
    assert run_experiment(spec, out, workers=1).completed == 1
    (tuned,) = (out / "tuning").iterdir()
    assert json.loads(tuned.read_text())["resolved"]["environment"]["noise"] == 0.5
    for path in (out / "tasks").iterdir():
        path.unlink()  # only the tuning result is left

    toppop = dataclasses.replace(recommenders.spec("toppop"), params={"prior_weight": 5.0})
    static = environments.spec("topics-static-v1")
    noisier = dataclasses.replace(static, params=MappingProxyType({**static.params, "noise": 1}))
    with monkeypatch.context() as patch:
        patch.setitem(environments._specs, "topics-static-v1", noisier)
        with pytest.raises(ResolvedParamsChangedError, match=r"its tuning result .* noise: 0.5"):
            run_experiment(spec, out, workers=1)
    monkeypatch.setitem(recommenders._specs, "toppop", toppop)  # the grid chooses it
    assert run_experiment(spec, out, workers=1).completed == 1


def test_only_values_both_sides_know_and_untuned_ones_are_compared():
    old = {"environment": {"noise": 0.5}, "recommender": {"k": 40, "gone": 1, "lr": 0.1}}
    new = {"environment": {"noise": 0.5}, "recommender": {"k": 20, "added": 2, "lr": 0.2}}
    assert differences(old, new) == ["recommender k: 40 -> 20", "recommender lr: 0.1 -> 0.2"]
    assert differences(old, new, tuned=["lr"]) == ["recommender k: 40 -> 20"]
    assert differences(old, old) == []


def test_resolved_parameters_are_json_values_without_addresses():
    class Params:
        def get_params(self):
            return {"n": np.int64(3), "w": np.array([0.5, 2.0]), "pair": (1, 2), "fn": len}

    recorded = resolved_params(Params(), Params(), make_policy("truncated", m=5))
    assert recorded["recommender"] == {
        "n": 3,
        "w": [0.5, 2.0],
        "pair": [1, 2],
        "fn": "<builtin_function_or_method>",
    }
    assert recorded["policy"] == {
        "base_policy": {"class": "SoftmaxPolicy", "temperature": 1.0},
        "m": 5,
    }
    assert json.loads(json.dumps(recorded)) == recorded


def _die_on_request(payload: str, report=None) -> str | dict[str, str | None]:
    if payload == "threads":
        return {var: os.environ.get(var) for var in THREAD_VARS}
    if payload == "die":
        os._exit(3)
    if payload == "raise":
        raise RuntimeError("bad input")
    if payload.startswith("wait:"):  # until the test creates the file named
        gate, deadline = Path(payload[len("wait:") :]), time.monotonic() + 120
        while not gate.exists():
            assert time.monotonic() < deadline, "the test never opened the gate"
            time.sleep(0.01)
        return "waited"
    return payload.upper()


def test_a_feed_grows_while_its_units_run(tmp_path):
    # what run_experiment does with tuning jobs: the tasks of a finished job join the feed
    # while a slower job still runs, and the run ends when the feed is closed. The slow
    # job waits until the added task is done: the order is the test's, not the clock's.
    gate = tmp_path / "gate"
    feed = Feed([("slow", f"wait:{gate}"), ("fast", "fast")])
    finished = []
    with LocalPool(2, _die_on_request) as pool:
        for ev in pool.run(feed):
            if ev.kind != "done":
                continue
            finished.append(ev.key)
            if ev.key == "fast":
                feed.add("added", "added")
                feed.close()
            if ev.key == "added":
                gate.touch()
    assert finished == ["fast", "added", "slow"]
    with pytest.raises(RuntimeError, match="open and empty with nothing in flight"):
        list(LocalPool(1, _die_on_request).run(Feed()))
    with pytest.raises(RuntimeError, match="closed"):
        feed.add("late", "late")


def test_a_dead_worker_costs_only_its_task():
    items = [(p, p) for p in ("a", "die", "b", "raise", "c", "threads")]
    with LocalPool(2, _die_on_request, max_retries=1) as pool:
        events = [e for e in pool.run(items) if e.kind in ("done", "failed")]
    outcome = {e.key: e.result if e.kind == "done" else e.error for e in events}
    assert {k: outcome[k] for k in "abc"} == {"a": "A", "b": "B", "c": "C"}
    assert "died (exit code 3) after 2 attempt(s)" in outcome["die"]  # retried once
    assert outcome["raise"].startswith("RuntimeError: bad input")  # not retried
    assert outcome["threads"] == dict.fromkeys(THREAD_VARS, "1")


def test_bad_output_directories_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for file in (tmp_path / "notes.txt", tmp_path / "notes.txt" / "out"):
        with pytest.raises(InvalidParameterError, match="is a file or lies under one"):
            run_experiment(EXAMPLES / "quick.toml", file)
    with pytest.raises(Exception, match="not a recdyn experiment directory"):
        run_experiment(EXAMPLES / "quick.toml", tmp_path)
    with pytest.raises(Exception, match="not a recdyn experiment directory"):
        load_results(tmp_path)
