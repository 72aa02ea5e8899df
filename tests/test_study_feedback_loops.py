"""The ``feedback-loops`` study (thesis ch. 3: Figs. 3.2–3.4, Table 3.1): a run at a size
below quick (tiny worlds, few steps, runs and repeats), its outputs, resume, report-only,
the protocol it declares, parameter errors, the Table 3.1 unit and the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from recdyn import studies
from recdyn.cli import app
from recdyn.errors import InvalidParameterError
from recdyn.experiments import load_spec, make_plan
from recdyn.studies._feedback_table import run_table_unit
from recdyn.studies.feedback_loops import FeedbackLoopsStudy

#: Below quick: beta-rank at the CAFL configuration and a latent world (latent-static-v1,
#: ml100k-v1's generative model without its dataset) of 60 × 100, 200 steps, 3 runs; the
#: Pan/Chaney world at 150 × 60 (top 6 boosted), 2 repeats.
LATENT = {"n_users": 60, "n_items": 100, "latent_dim": 8, "users_per_step": 1,
          "n_initial_ratings": 0}  # fmt: skip
TINY = dict(
    worlds=("beta-rank-cafl-v1", "latent-static-v1"),
    overrides={
        "beta-rank-cafl-v1": {"n_users": 60, "n_items": 100},
        "latent-static-v1": LATENT,
        "pan-chaney-v1": {"n_users": 150, "n_items": 60, "users_per_step": 150, "boost_depth": 6},
    },
    steps=200,
    runs=3,
    evaluate_every=50,
    repeats=2,
    sensitivity_regs=(0.5,),
)
FIGURES = ("fig3_2_rmse.png", "fig3_3_ndcg.png", "fig3_4_homogenization.png",
           "feedback_effect.png", "table3_1.png")  # fmt: skip
#: Findings judged at every size: the claims of Figs. 3.2–3.4 (2 per world, Uniform, 2 for
#: ml100k's homogenization, 1 for beta-rank's) and Table 3.1 (2 orders, the gain).
JUDGED = 4 + 1 + 2 + 1 + 3
#: The two claims that cannot be checked here (the thesis's scale, Pan's method).
NOT_CHECKABLE = ("Absolute MSE and MAE of Table 3.1", "Pan et al.'s correction")
#: No claim of the thesis reproduces robustly at this size (checked with 300 steps and 3
#: repeats, seeds 0, 1, 2: at most one ✓ per seed, a different one each time — the arms
#: differ by less than the noise of 3 short runs, and CAFL loses Table 3.1 with GMF's
#: default λ at every size), so none is pinned; every one must be judged.


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("feedback-loops")
    study = FeedbackLoopsStudy(quick=True, **TINY)
    result = study.run(out, workers=2)
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("**/tasks/*.parquet")}
    return study, result, out, mtimes


def test_run_writes_report_findings_tables_and_figures(run):
    _, result, out, _ = run
    html = result.report.read_text(encoding="utf-8")
    assert "Table 3.1" in html and "data:image/png;base64" in html
    for name in FIGURES:
        assert (out / name).stat().st_size > 5_000, name
    findings = pd.read_csv(out / "findings.csv")
    assert list(findings.columns) == ["claim", "source", "expected", "measured", "reproduced"]
    assert len(findings) == JUDGED + len(NOT_CHECKABLE)
    verdicts = {f.claim: f.reproduced for f in result.findings}
    for claim in NOT_CHECKABLE:
        assert [v for c, v in verdicts.items() if c.startswith(claim)] == [None]
    judged = [v for c, v in verdicts.items() if not c.startswith(NOT_CHECKABLE)]
    assert len(judged) == JUDGED and all(v in (True, False) for v in judged)
    assert findings["measured"].str.contains(r"\d", regex=True).all()
    assert any("(here latent-static-v1)" in c for c in verdicts)  # the stand-in is named
    for name in ("arms", "effects", "curves", "table3_1", "table3_1_sensitivity"):
        assert (out / f"{name}.csv").exists(), name


def test_arms_are_measured_at_every_evaluation_of_every_run(run):
    _, result, _, _ = run
    curves = result.tables["curves"]
    assert set(curves["arm"]) == {"Feedback", "Uniform", "CAFL"}
    assert set(curves["step"]) == {50, 100, 150, 200}
    assert (curves["n"] == 3).all()
    rmse = curves[curves["metric"] == "held-out RMSE"]
    assert rmse["mean"].between(0, 5).all()
    effects = result.tables["effects"]
    assert set(effects["comparison"]) == {"Feedback − Uniform", "CAFL − Feedback", "CAFL − Uniform"}


def test_table_3_1_sets_ours_beside_the_thesis(run):
    _, result, _, _ = run
    table = result.tables["table3_1"].set_index("correction")
    assert list(table.index) == ["Naive", "Pop", "PF", "Pan", "CAFL"]
    assert table.loc["Naive", "MSE (thesis)"] == "2.001 ± 0.066"
    assert table.loc["CAFL", "MAE (thesis)"] == "1.015 ± 0.005"
    assert table.loc["Pan", "MSE (here)"] == "not run" and table.loc["Pan", "repeats"] == 0
    assert table.loc["Naive", "MSE / Naive (here)"] == 1.0
    assert (table.drop(index="Pan")["repeats"] == 2).all()
    units = result.tables["table3_1_units"]
    assert (units["n_train"] == 150 * 20).all() and (units["n_test"] == 150 * 20).all()
    # every correction of a repeat is tested on the same pairs: Naive and CAFL differ
    assert units.groupby("repeat")["mse"].nunique().eq(4).all()
    sensitivity = result.tables["table3_1_sensitivity"]
    assert list(sensitivity["GMF λ"]) == [0.12, 0.5]


def test_rerun_resumes_without_recomputing(run):
    _, _, out, mtimes = run
    again = FeedbackLoopsStudy(quick=True, **TINY)
    again.run(out, workers=2)
    assert again.last_table_run[1:] == (0, 2 * 4 + 2 * 2)
    assert {p: p.stat().st_mtime_ns for p in out.glob("**/tasks/*.parquet")} == mtimes


def test_report_only_needs_the_same_options(run):
    _, result, out, _ = run
    again = FeedbackLoopsStudy(quick=True, **TINY).report(out)
    assert [f.measured for f in again.findings] == [f.measured for f in result.findings]
    with pytest.raises(InvalidParameterError, match="another run than this one"):
        FeedbackLoopsStudy(quick=True, **{**TINY, "steps": 150}).report(out)
    with pytest.raises(InvalidParameterError, match="holds no result"):
        FeedbackLoopsStudy(quick=True, **{**TINY, "repeats": 3}).report(out)


def test_declares_the_thesis_protocol_and_its_unstated_defaults():
    study = studies.make("feedback-loops")
    assert study.worlds == ("beta-rank-cafl-v1", "ml100k-v1")
    assert study.table_world == "pan-chaney-v1"
    assert (study.n_runs, study.n_steps, study.n_repeats) == (10, 20_000, 10)
    assert (study.rank, study.reg, study.temperature, study.retrain_every) == (20, 0.1, 1.0, 10)
    assert study.heldout_size("beta-rank-cafl-v1") == 100_000
    spec = study.spec_data("ml100k-v1", "feedback")
    exp = spec["experiment"]
    assert (exp["k"], exp["steps"], exp["trials"], exp["training"]) == (1, 20_000, 10, "feedback")
    assert exp["heldout"]["n_pairs"] == 100_000
    assert spec["policies"] == [{"name": "softmax", "params": {"temperature": 1.0}}]
    plain, cafl = spec["recommenders"]
    assert plain["params"] == {"n_factors": 20, "reg": 0.1}
    assert cafl["params"]["weighting"] == {"name": "cafl", "held_out": 100_000}
    assert [r["params"] for r in study.spec_data("ml100k-v1", "uniform")["recommenders"]] == [
        plain["params"]
    ]


def test_feedback_and_uniform_arms_share_every_seed():
    study = FeedbackLoopsStudy(quick=True, **TINY)
    world = "latent-static-v1"
    feedback = make_plan(load_spec(study.spec_data(world, "feedback"))).tasks
    uniform = make_plan(load_spec(study.spec_data(world, "uniform"))).tasks
    plain = [t for t in feedback if "weighting" not in t.params]
    cafl = [t for t in feedback if "weighting" in t.params]
    for f, u, c in zip(plain, uniform, cafl):
        assert f.seed.spawn_key == u.seed.spawn_key  # arrivals, policy, held-out pairs
        assert f.env_init.spawn_key == u.env_init.spawn_key == c.env_init.spawn_key  # world
        assert f.env_dynamics.spawn_key == c.env_dynamics.spawn_key


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"worlds": ("beta-rank-cafl-v2",)}, "Did you mean 'beta-rank-cafl-v1'"),
        ({"table_world": "pan-chaney"}, "Did you mean 'pan-chaney-v1'"),
        ({"overrides": {"latent-static-v1": {"n_users": 9}}}, "overrides names worlds"),
        ({"steps": 50, "evaluate_every": 100}, "evaluate_every=100 must be at most steps=50"),
        ({"parts": ("tables",)}, "parts"),
        ({"repeats": 1}, "repeats"),
        ({"sensitivity_regs": (0.0,)}, "positive numbers"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        FeedbackLoopsStudy(**params)


def test_table_unit_errors_and_records():
    with pytest.raises(InvalidParameterError, match="correction must be one of"):
        run_table_unit(world="pan-chaney-v1", overrides={}, seed=0, repeat=0, correction="pan")


def test_table_units_record_the_scale_and_models(run):
    _, _, out, _ = run
    unit = json.loads(next((out / "table").glob("table--r0--pf*.json")).read_text())
    result = unit.get("result", unit)
    assert result["rating_range"] == [1.0, 5.0] and "RecLab" in result["scale"]
    assert result["gmf"]["weighting"] == "inverse-propensity" and result["n_train"] == 3000


def test_cli_reads_the_study_options(run):
    _, result, out, _ = run
    args = ["study", "feedback-loops", "--quick", "--out", str(out), "--report-only", "--quiet"]
    args += ["--worlds", ",".join(TINY["worlds"]), "--overrides", json.dumps(TINY["overrides"])]
    args += ["--steps", "200", "--runs", "3", "--evaluate-every", "50", "--repeats", "2"]
    args += ["--sensitivity-regs", "[0.5]"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    findings = pd.read_csv(out / "findings.csv")
    assert list(findings["measured"]) == [f.measured for f in result.findings]
    bad = CliRunner().invoke(app, ["study", "feedback-loops", "--worlds", "nope", "--quiet"])
    assert bad.exit_code == 2 and "nope" in bad.output
