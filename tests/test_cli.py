"""The ``recdyn`` command line, through typer's test runner."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pandas as pd
import pytest
from typer.testing import CliRunner

import recdyn
from recdyn.cli import app
from recdyn.cli.formatting import description

SMALL = [
    "--set", "n_users=60",
    "--set", "n_items=80",
    "--set", "n_initial_ratings=500",
    "--set", "users_per_step=10",
    "--steps", "5",
]  # fmt: skip


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str):
    # A wide terminal, so that tables do not wrap names and messages.
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_envs_lists_every_preset_with_its_size(runner):
    result = invoke(runner, "envs")
    assert result.exit_code == 0, result.output
    for spec in recdyn.environments.environments:
        assert spec.name in result.output
    assert "1000 × 1700" in result.output  # topics-* sizes
    assert "affinity_change=0.1" in result.output  # a preset value that differs from defaults
    assert "preference_range" not in result.output  # a class default, shown only with -v
    verbose = invoke(runner, "envs", "-v")
    assert verbose.exit_code == 0
    assert "preference_range=(0.5, 5.5)" in verbose.output


def test_recommenders_lists_hyperparameters(runner):
    result = invoke(runner, "recommenders")
    assert result.exit_code == 0, result.output
    assert "toppop" in result.output
    assert "prior_weight=1.0" in result.output


def test_recommenders_are_described_in_plain_text_whole_sentences(runner):
    result = runner.invoke(app, ["recommenders"], env={"COLUMNS": None})  # as piped to a file
    assert result.exit_code == 0, result.output
    for markup in ("``", ":math:", ":class:", "\\hat", "\\mu", "{"):
        assert markup not in result.output
    # one line each: a pipe gets wide tables, and the first sentence is never cut short
    assert "r̂_ui = μ + b_u + b_i (Koren 2010, §2.1)." in result.output
    assert "one-hot item features, sampled by MCMC" in result.output
    assert "Item-based KNNRecommender (neighbours are items the user rated)." in result.output
    assert max(len(line) for line in result.output.splitlines()) > 120


class Entry(NamedTuple):  # what a registry entry offers `description`
    summary: str
    factory: Any


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        (
            r"Estimates :math:`\hat r_{ui} = \mu + b_u` (K 2010).",
            "Estimates r̂_ui = μ + b_u (K 2010).",
        ),
        ("Uses :class:`~recdyn.knn.KNN` and ``Unif(a, b)``. More.", "Uses KNN and Unif(a, b)."),
        ("Mult-VAE\\ :sup:`PR` (Liang et al.\n2018). Then.", "Mult-VAE^PR (Liang et al. 2018)."),
        ("Each row is encoded,\n\n.. math::\n\n    x = y", "Each row is encoded."),
    ],
)
def test_descriptions_are_plain_first_sentences(summary, shown):
    assert description(Entry(summary, None)) == shown


def test_a_summary_cut_mid_sentence_is_completed_from_the_docstring():
    class Model:
        """A model over one-hot user ⊕
        one-hot item features. Details follow."""

    assert description(Entry("A model over one-hot user ⊕", Model)) == (
        "A model over one-hot user ⊕ one-hot item features."
    )
    assert description(Entry("", Model)) == "A model over one-hot user ⊕ one-hot item features."


def test_envs_table_piped_to_a_file_is_not_squeezed(runner):
    result = runner.invoke(app, ["envs"], env={"COLUMNS": None})
    assert result.exit_code == 0, result.output
    assert "Topic preferences drift towards what is shown (a=0.1); boredom m=5, τ=2, λ=1." in (
        result.output
    )


def test_simulate_writes_metrics_plot_and_info(runner, tmp_path):
    out = tmp_path / "run"
    result = invoke(
        runner, "simulate", "topics-dynamic-v1", "-r", "toppop", "--seed", "3",
        "--out", str(out), *SMALL,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "toppop on topics-dynamic-v1: 5 steps, seed 3" in result.output
    for metric in ("mean_rating", "regret", "rmse"):
        assert metric in result.output
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert list(metrics["step"]) == [1, 2, 3, 4, 5]
    assert metrics["mean_rating"].between(1, 5).all()
    assert pd.read_csv(out / "metrics.csv").shape == metrics.shape
    assert len(pd.read_parquet(out / "interactions.parquet")) == 500 + 5 * 10
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    info = json.loads((out / "info.json").read_text())
    assert info["environment"]["params"]["n_users"] == 60
    assert info["recommender"]["name"] == "toppop"
    assert info["seed"] == 3
    assert str(out / "metrics.png") in result.output


def test_simulate_passes_metrics_and_recommender_params(runner, tmp_path):
    result = invoke(
        runner, "simulate", "topics-static-v1", "--metric", "distinct_items",
        "--param", "prior_weight=0", "--k", "2", "--quiet", "--out", str(tmp_path), *SMALL,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == ""  # --quiet
    metrics = pd.read_parquet(tmp_path / "metrics.parquet")
    assert list(metrics.columns) == ["step", "distinct_items", "n_ratings", "seconds"]
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["recommender"]["params"] == {"prior_weight": 0.0}
    assert info["k"] == 2


def test_unknown_environment_suggests_the_closest_name(runner, tmp_path):
    result = invoke(runner, "simulate", "topics-dynamc-v1", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.startswith("error: unknown environment 'topics-dynamc-v1'")
    assert "did you mean 'topics-dynamic-v1'" in result.output.lower()
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--set", "noise=-1"], "noise"),
        (["--set", "nois=0.3"], "nois"),
        (["--param", "prior_weight=-2"], "prior_weight"),
        (["--set", "noise"], "--set"),
        (["--steps", "-1"], "steps"),
        (["-r", "toppopp"], "toppop"),
        (["--metric", "ndgc"], "ndgc"),
    ],
)
def test_bad_arguments_are_one_line_errors(runner, tmp_path, args, named):
    result = invoke(runner, "simulate", "topics-static-v1", "--out", str(tmp_path), *args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert named in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "metrics.parquet").exists()


def test_version(runner):
    result = invoke(runner, "--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"recdyn {recdyn.__version__}"


def test_tune_grid_search_on_environment_initial_data(runner, tmp_path):
    result = invoke(
        runner,
        "tune", "toppop", "--grid", "prior_weight=0,1000", "--env", "topics-static-v1",
        "--set", "n_users=60", "--set", "n_items=80", "--set", "n_initial_ratings=900",
        "--folds", "3", "--out", str(tmp_path), "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["params"] == {"prior_weight": 1000}  # shrinking to the mean wins when sparse
    assert (tmp_path / "results.csv").read_text().count("\n") == 3


def test_tune_needs_one_data_source(runner):
    result = invoke(runner, "tune", "toppop", "--grid", "prior_weight=0,1")
    assert result.exit_code == 2
    assert "--env" in result.output
