"""Bad inputs a new user hit: each is one ``error: …`` line with exit status 2 (or a recdyn
error from the Python API), never a traceback, and never after the work was done."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import recdyn
from recdyn import Interactions
from recdyn.cli import app
from recdyn.errors import InvalidParameterError
from recdyn.experiments import SpecError, load_spec

SMALL = [
    "--set", "n_users=60",
    "--set", "n_items=80",
    "--set", "n_initial_ratings=500",
    "--set", "users_per_step=10",
    "--steps", "3",
]  # fmt: skip


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: "), result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture
def no_run(monkeypatch):
    """Make the simulation itself fail: a refusal must come before the first step."""

    def ran(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(recdyn, "simulate", ran)


# ---------------------------------------------------------------------- simulate --out
def test_out_naming_a_file_is_refused_before_the_run(tmp_path, no_run):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    result = invoke("simulate", "topics-static-v1", "--out", str(target), *SMALL)
    assert_one_line_error(result, str(target), "is a file")
    assert target.read_text() == "keep me"


def test_out_under_a_file_is_refused_before_the_run(tmp_path, no_run):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    result = invoke("simulate", "topics-static-v1", "--out", str(target / "run"), *SMALL)
    assert_one_line_error(result, str(target / "run"), f"is under '{target}', which is a file")
    assert target.read_text() == "keep me"


def test_empty_out_is_refused_before_the_run(tmp_path, no_run, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("simulate", "topics-static-v1", "--out", "", *SMALL)
    assert_one_line_error(result, "directory for the trajectory must be a path, got ''")
    assert list(tmp_path.iterdir()) == []


def test_tune_out_naming_a_file_is_refused_before_the_search(tmp_path, monkeypatch):
    import recdyn.evaluation

    def searched(*args, **kwargs):
        raise AssertionError("the search started")

    monkeypatch.setattr(recdyn.evaluation, "grid_search", searched)
    target = tmp_path / "best.json"
    target.write_text("{}")
    result = invoke(
        "tune", "toppop", "--grid", "prior_weight=0,1", "--env", "topics-static-v1",
        "--out", str(target),
    )  # fmt: skip
    assert_one_line_error(result, "cannot write the tuning results to", str(target), "is a file")


def test_trajectory_save_raises_a_recdyn_error_naming_the_path(tmp_path, monkeypatch):
    traj = recdyn.simulate(
        recdyn.make("topics-static-v1", n_users=30, n_items=40, n_initial_ratings=200),
        "toppop",
        steps=2,
    )
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InvalidParameterError, match="is a file"):
        traj.save(blocker)
    with pytest.raises(InvalidParameterError, match="which is a file"):
        traj.save(blocker / "sub")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(InvalidParameterError, match=r"'.*ok'.*No space left on device"):
        traj.save(tmp_path / "ok")


# ---------------------------------------------------------------------- ids
@pytest.mark.parametrize(
    ("column", "values", "shown"),
    [
        ("user", [0, 2**40], "1,099,511,627,776"),
        ("user", np.array([2**31], np.int64), "2,147,483,648"),
        ("item", np.array([2**63], np.uint64), "9,223,372,036,854,775,808"),
        ("item", [2**70], "1,180,591,620,717,411,303,424"),
    ],
)
def test_ids_beyond_int32_name_the_column_value_and_range(column, values, shown):
    n = len(values)
    cols = {"user": [0] * n, "item": [0] * n, "rating": [1.0] * n, column: values}
    with pytest.raises(InvalidParameterError) as err:
        Interactions(**cols)
    message = str(err.value)
    assert f"Interactions.{column} holds {shown}" in message
    assert "[0, 2,147,483,647]" in message


def test_ids_from_pandas_beyond_int32_are_an_error_not_a_zero():
    df = pd.DataFrame({"user": [1, 2**40], "item": [0, 1], "rating": [4.0, 5.0]})
    with pytest.raises(InvalidParameterError, match=r"user holds 1,099,511,627,776"):
        Interactions.from_pandas(df)


def test_steps_overflowing_int32_are_an_error():
    with pytest.raises(InvalidParameterError, match=r"step holds 4,294,967,296"):
        Interactions([0], [0], [1.0], step=[2**32])


# ---------------------------------------------------------------------- scores
def test_nan_scores_name_the_recommender_and_write_nothing(tmp_path):
    out = tmp_path / "run"
    result = invoke(
        "simulate", "topics-static-v1", "-r", "mf-sgd", "--param", "lr=1000",
        "--param", "reg=0", "--out", str(out), *SMALL,
    )  # fmt: skip
    assert_one_line_error(result, "NaN/inf", "mf-sgd", "step 1")
    assert not out.exists()


# ---------------------------------------------------------------------- --steps
@pytest.mark.parametrize("steps", ["1000000000000", "10000001", "-5"])
def test_steps_out_of_range_are_refused(tmp_path, steps):
    out = tmp_path / "run"
    result = invoke("simulate", "topics-static-v1", "--out", str(out), "--steps", steps)
    assert_one_line_error(result, "steps must be in [0, 10000000]", steps)
    assert not out.exists()


def test_the_python_api_bounds_steps_too():
    with pytest.raises(InvalidParameterError, match="steps"):
        recdyn.simulate("topics-static-v1", "toppop", steps=10**12)


# ---------------------------------------------------------------------- spec files
@pytest.mark.parametrize("command", ["validate", "run"])
def test_binary_spec_file_is_a_clean_error(tmp_path, command):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    result = invoke(command, str(spec))
    assert_one_line_error(result, str(spec), "not a UTF-8 text file", "0x89")


def test_latin1_spec_file_is_a_spec_error(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_bytes('[experiment]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(SpecError, match="not a UTF-8 text file"):
        load_spec(spec)


# ---------------------------------------------------------------------- --policy-param
def test_policy_parameters_reach_the_policy(tmp_path):
    result = invoke(
        "simulate", "topics-static-v1", "--policy", "softmax", "--policy-param",
        "temperature=0.25", "-q", "--out", str(tmp_path), *SMALL,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["policy"]["name"] == "softmax"
    assert info["policy"]["params"]["temperature"] == 0.25
    assert info["cli"]["policy_param"] == {"temperature": 0.25}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--policy", "softmax", "--policy-param", "temprature=2"], "temprature"),
        (["--policy", "softmax", "--policy-param", "temperature=-1"], "temperature"),
        (["--policy", "epsilon-greedy", "--policy-param", "epsilon"], "--policy-param"),
    ],
)
def test_bad_policy_parameters_are_one_line_errors(tmp_path, args, named):
    out = tmp_path / "run"
    result = invoke("simulate", "topics-static-v1", "--out", str(out), *args)
    assert_one_line_error(result, named)
    assert not out.exists()


# ---------------------------------------------------------------------- Mult-VAE / DAE
@pytest.mark.parametrize("name", ["mult-vae", "mult-dae"])
def test_autoencoders_on_implicit_data_say_which_threshold_to_set(name):
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 40, 600), rng.integers(0, 50, 600)
    implicit = Interactions(users, items, np.ones(600))
    model = recdyn.recommenders.make(name, n_epochs=2, seed=0)
    with pytest.raises(InvalidParameterError) as err:
        model.fit(implicit, 40, 50)
    message = str(err.value)
    assert "threshold=3.5" in message and "the highest is 1" in message
    assert "pass threshold=1 or lower" in message
    fitted = recdyn.recommenders.make(name, n_epochs=2, seed=0, threshold=1).fit(implicit, 40, 50)
    scores = fitted.score(np.arange(40))
    assert np.isfinite(scores).all() and scores.std(axis=1).min() > 0
