"""The ``offline-vs-online`` study (thesis §2.6), restricted to a few cheap models."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from recdyn import studies
from recdyn.cli import app
from recdyn.cli.study_options import parse_study_args
from recdyn.errors import InvalidParameterError
from recdyn.experiments import load_results, load_spec
from recdyn.experiments.spec import dump_toml
from recdyn.studies import _online_findings, offline_vs_online
from recdyn.studies._online_readings import reading_runs
from recdyn.studies.offline_vs_online import OfflineVsOnlineStudy

ENVS = ["topics-dynamic-v1", "topics-static-v1"]
RECS = ["random", "toppop", "oracle", "mf-sgd", "item-knn", "user-knn"]


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ovo")
    study = studies.make(
        "offline-vs-online", quick=True, environments=ENVS, recommenders=RECS, steps=6, trials=2
    )
    return study, out, study.run(out, workers=1)


def test_outputs_exist(study_run):
    _, out, result = study_run
    assert result.report == out / "report.html" and result.report.stat().st_size > 10_000
    assert (out / "findings.csv").exists()
    names = {p.name for _, p in result.figures}
    for name in (
        "fig2_1_topics_dynamic.png",
        "fig2_5_2_6_mean_rating_over_time.png",
        "fig2_7_toppop_topics.png",
        "fig2_8_spearman.png",
    ):
        assert name in names and (out / name).stat().st_size > 5_000
    for env in ENVS:
        assert (out / "specs" / f"{env}.toml").exists()
        assert (out / "runs" / env / "manifest.json").exists()
    cells = pd.read_csv(out / "recommenders.csv")
    assert len(cells) == len(ENVS) * len(RECS)
    assert cells["ndcg@20"].between(0, 1).all() and cells["mean_rating"].between(1, 5).all()
    # the Oracle is best online: it ranks by the true ratings
    best = cells.loc[cells.groupby("environment")["mean_rating"].idxmax(), "recommender"]
    assert set(best) == {"oracle"}
    topics = pd.read_csv(out / "toppop_topics.csv")
    assert topics["step"].max() == 6 and topics["topic"].nunique() == 5
    # the readings of topics-dynamic (issue 23): their experiments, specs, tables, figure
    for name in READING_RUNS:
        assert (out / "specs" / f"{name}.toml").exists()
        assert len(list((out / "runs" / name / "tasks").glob("*.parquet"))) == 3 * 2
    assert (out / "initial_state_spread.png").stat().st_size > 5_000


#: The experiments of the two readings (issue 23) beside the study's environments.
READING_RUNS = (
    "topics-dynamic-v1-states",
    "topics-dynamic-v1-reclab",
    "topics-dynamic-v1-reclab-states",
)


#: Verdicts that reproduce the thesis at this module's size (quick sizes, the two topics
#: environments, the six RECS, 6 steps, 2 trials, seed 0) — pinned, so a ✓ that turns ✗
#: fails here. At this size "TopPop ≫ Random", "TopPop pushes topics" and their spread
#: over initial states are ✗ in both readings (6 steps are too few) and AutoRec, LLORMA
#: and the two budget findings are not checkable (not run, not full size): those are
#: required to be present, not pinned.
REPRODUCED = (
    "TopPop ≈ Random online on topics-static",
    "ρ(offline ndcg@20, online mean rating) > 0 in every environment",
    "ρ(offline rmse, online mean rating) < 0 in every environment",
    "Diminishing returns: beyond some offline nDCG@20, online gains flatten",
)
#: The claims that depend on the reading, in the findings' order: each thesis row with
#: the RecLab row right after it.
GAP = "TopPop ≫ Random online on topics-dynamic"
PUSHED = "TopPop pushes topics"
SPREAD = "from every initial state"
BY_READING = [
    (word, reading) for word in (GAP, PUSHED, SPREAD) for reading in ("thesis text", "RecLab code")
]
PRESENT = ("AutoRec", "LLORMA", "≤ 3 h", "≤ 1 day")


def test_findings_carry_numbers(study_run):
    _, out, result = study_run
    frame = pd.read_csv(out / "findings.csv")
    assert len(frame) == len(result.findings) == len(REPRODUCED) + len(PRESENT) + 6
    for f in result.findings:
        assert re.search(r"\d\.\d", f.measured) or "not run" in f.measured, f
    verdicts = {f.claim: f for f in result.findings}
    for claim in REPRODUCED:
        assert verdicts[claim].reproduced is True, verdicts[claim]
    for word in PRESENT:
        assert any(word in claim for claim in verdicts), word
    by_claim = {f.claim: f for f in result.findings}
    # AutoRec and LLORMA were not part of this run: not checkable, said so
    autorec = next(f for c, f in by_claim.items() if c.startswith("AutoRec"))
    assert autorec.reproduced is None and "not run" in autorec.measured


def _reading_rows(findings):
    """``(claim word, reading)`` of the findings that name a reading, in their order."""
    rows = []
    for f in findings:
        reading = re.search(r"\((thesis text|RecLab code)\)$", f.claim)
        if reading:
            word = next(w for w in (GAP, PUSHED, SPREAD) if w in f.claim)
            rows.append((word, reading.group(1)))
    return rows


def test_readings_side_by_side(study_run):
    study, out, result = study_run
    assert _reading_rows(result.findings) == BY_READING
    by = {f.claim: f for f in result.findings}
    thesis, reclab = by[f"{GAP} (thesis text)"], by[f"{GAP} (RecLab code)"]
    assert "topics-dynamic-v1-reclab" in reclab.measured and thesis.measured != reclab.measured
    assert "same in both readings" in by[f"{PUSHED}: mean affinity of the pushed topics rises "
                                          "above 4.5 (RecLab code)"].measured  # fmt: skip
    # the thesis reading on the shared state is the study's own topics-dynamic run
    shared = pd.read_csv(out / "readings.csv").set_index("reading")
    cells = pd.read_csv(out / "recommenders.csv").set_index(["environment", "recommender"])
    mean = cells.loc["topics-dynamic-v1", "mean_rating"]
    assert shared.loc["thesis text", ["toppop", "random", "oracle"]].tolist() == pytest.approx(
        mean[["toppop", "random", "oracle"]].tolist()
    )
    assert shared.loc["RecLab code", "experiment"] == "topics-dynamic-v1-reclab"
    # one row per initial state and reading; each state is the same draw in both readings
    states = pd.read_csv(out / "initial_states.csv")
    assert sorted(states.groupby("reading")["initial_state"].apply(list).tolist()) == [[0, 1]] * 2
    assert states["share"].notna().all() and (states["pushed_topics"] >= 0).all()
    specs = {n: load_spec(out / "specs" / f"{n}.toml") for n in READING_RUNS}
    for name, spec in specs.items():
        env, e = spec.environments[0], spec.experiment
        assert env.seed_name == "topics" and env.label == name and spec.tuning is None
        assert ("reclab" in name) == bool(env.overrides.get("reclab_compat"))
        assert e.initial_state == ("per-trial" if name.endswith("states") else "shared")
        assert (e.steps, e.trials, e.seed) == (6, 2, study.seed)
        assert [r.name for r in spec.recommenders] == ["random", "toppop", "oracle"]
    page = result.report.read_text()
    assert "Thesis text vs RecLab code" in page and "initial_state_spread.png" in page


def test_report_only_without_the_reclab_reading(study_run, tmp_path):
    study, out, _ = study_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for name in ("topics-dynamic-v1-reclab", "topics-dynamic-v1-reclab-states"):
        shutil.rmtree(copy / "runs" / name)
    result = study.report(copy)  # asks for both readings: reports the one stored
    assert _reading_rows(result.findings) == [r for r in BY_READING if r[1] == "thesis text"]
    assert "topics-dynamic-v1-reclab-states" in result.report.read_text()  # named as missing
    thesis = {f.claim: f.measured for f in result.findings}
    assert thesis == {f.claim: f.measured for f in study_run[2].findings if f.claim in thesis}
    args = ["study", "offline-vs-online", "--report-only", "--quick", "--readings", "thesis"]
    args += ["--environments", ",".join(ENVS), "--recommenders", ",".join(RECS)]
    args += ["--steps", "6", "--trials", "2", "--out", str(copy)]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "RecLab code" not in pd.read_csv(copy / "findings.csv")["claim"].str.cat()
    assert "reclab-states" not in (copy / "report.html").read_text()


def test_reading_runs_follow_the_study():
    def names(**kw):
        return [run.name for run in reading_runs(OfflineVsOnlineStudy(quick=True, **kw))]

    assert names() == list(READING_RUNS)
    assert names(readings=("thesis",)) == ["topics-dynamic-v1-states"]
    assert names(readings=("reclab",)) == list(READING_RUNS[1:])
    assert names(readings=None) == []  # the thesis text's rows only, from the study's run
    assert parse_study_args(OfflineVsOnlineStudy, ["--readings", "none"]) == {"readings": None}
    assert names(environments=["topics-static-v1"]) == []  # no topics-dynamic
    assert names(recommenders=["random", "oracle", "mf-sgd"]) == []  # no TopPop
    with pytest.raises(InvalidParameterError, match="readings"):
        OfflineVsOnlineStudy(readings=("recdyn",))


def test_rerun_resumes(study_run):
    study, out, _ = study_run
    tasks = sorted((out / "runs").glob("*/tasks/*.parquet"))
    topics = sorted((out / "toppop_topics").glob("*.csv"))
    stamps = {p: p.stat().st_mtime_ns for p in [*tasks, *topics]}
    readings = len(READING_RUNS) * 3 * study.trials_per_environment["topics-dynamic-v1"]
    assert len(tasks) == len(RECS) * sum(study.trials_per_environment.values()) + readings
    again = OfflineVsOnlineStudy(
        quick=True, environments=ENVS, recommenders=RECS, steps=6, trials=2
    )
    result = again.run(out, workers=1)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert [f.measured for f in result.findings] == [f.measured for f in study_run[2].findings]


def test_a_smaller_study_does_not_archive_finished_tasks(study_run):
    _, out, _ = study_run
    tasks = sorted((out / "runs").glob("*/tasks/*.parquet"))
    specs = {p: p.read_text() for p in (out / "specs").glob("*.toml")}
    for fewer in ({"trials": 1}, {"trials": 2, "recommenders": RECS[:-1]}):
        smaller = OfflineVsOnlineStudy(quick=True, environments=ENVS, steps=6, **fewer)
        with pytest.raises(InvalidParameterError, match="--trials topics-dynamic-v1=2"):
            smaller.run(out, workers=1)
    assert sorted((out / "runs").glob("*/tasks/*.parquet")) == tasks
    assert {p: p.read_text() for p in (out / "specs").glob("*.toml")} == specs
    assert not (out / "runs" / ENVS[0] / "archive").exists()


def test_report_only_reads_complete_trials_and_runs_nothing(study_run, tmp_path):
    study, out, _ = study_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    # topics-static as if another process were still running its second trial
    static = copy / "runs" / "topics-static-v1"
    results = load_results(static)
    running = results.loc[(results["trial"] == 1) & (results["recommender"] == "mf-sgd")]
    (static / "tasks" / f"{running['task_id'].iloc[0]}.parquet").unlink()
    files = sorted(copy.glob("runs/*/tasks/*.parquet"))
    result = study.report(copy)
    assert sorted(copy.glob("runs/*/tasks/*.parquet")) == files
    cells = result.tables["recommenders"].set_index(["environment", "recommender"])
    before = pd.read_csv(out / "recommenders.csv").set_index(["environment", "recommender"])
    pd.testing.assert_frame_equal(cells.loc["topics-dynamic-v1"], before.loc["topics-dynamic-v1"])
    assert cells.loc["topics-static-v1", "mean_rating_ci"].isna().all()  # one trial: no CI
    assert (
        cells.loc["topics-static-v1", "mean_rating"]
        .ne(before.loc["topics-static-v1", "mean_rating"])
        .any()
    )
    scaling = result.tables["scaling"].drop_duplicates("environment").set_index("environment")
    assert scaling["measured_trials"].to_dict() == {"topics-dynamic-v1": 2, "topics-static-v1": 1}

    other = OfflineVsOnlineStudy(quick=True, environments=ENVS, recommenders=RECS, seed=1)
    with pytest.raises(InvalidParameterError, match="holds another study"):
        other.report(copy)
    with pytest.raises(InvalidParameterError, match="holds no results"):
        study.report(tmp_path / "empty")
    # every study reports what is stored; here no sampling-bias unit is
    res = CliRunner().invoke(app, ["study", "sampling-bias", "--report-only", "--out", str(copy)])
    assert res.exit_code == 2 and "holds no result for" in res.output


def test_spec_is_valid_toml_of_the_protocol(study_run):
    study, out, _ = study_run
    spec = load_spec(out / "specs" / "topics-dynamic-v1.toml")
    assert spec.canonical() == load_spec(study.spec_data("topics-dynamic-v1")).canonical()
    e = spec.experiment
    assert (e.k, e.retrain_every, e.initial_state, e.steps, e.trials) == (1, 1, "shared", 6, 2)
    assert spec.tuning.folds == 5 and spec.tuning.metric == "rmse"
    assert set(spec.tuning.metrics) == {"rmse", "ndcg@20"}
    assert spec.environments[0].overrides["n_topics"] == 5


def test_full_mode_uses_thesis_sizes():
    study = OfflineVsOnlineStudy()
    assert study.recommenders == offline_vs_online.RECOMMENDERS and len(study.recommenders) == 13
    assert len(study.environments) == 8 and set(study.trials_per_environment.values()) == {10}
    steps = {env: study.spec_data(env)["experiment"]["steps"] for env in study.environments}
    assert steps["topics-dynamic-v1"] == 500 and steps["latent-static-v1"] == 531
    assert steps["beta-rank-v1"] == 50
    spec = load_spec(study.spec_data("topics-dynamic-v1"))  # names and params validate
    assert not spec.environments[0].overrides
    assert {r.name for r in spec.recommenders} == set(offline_vs_online.RECOMMENDERS)


def test_bad_arguments_name_the_choices():
    with pytest.raises(InvalidParameterError, match="valid: topics-static-v1"):
        OfflineVsOnlineStudy(environments=["topics-dynamc-v1"])
    with pytest.raises(InvalidParameterError, match="recommenders"):
        OfflineVsOnlineStudy(recommenders=["svd"])
    with pytest.raises(InvalidParameterError, match="trials"):
        OfflineVsOnlineStudy(trials=0)
    with pytest.raises(InvalidParameterError, match="backend"):
        OfflineVsOnlineStudy(quick=True).run("unused", backend="dask")


def test_dump_toml_round_trips():
    data = {
        "experiment": {"name": "x", "steps": 3, "save_interactions": False},
        "environments": [{"preset": "topics-static-v1", "overrides": {"n_users": 60}}],
        "recommenders": [{"name": "mf-sgd", "params": {"reg": 0.1}}],
        "tuning": {"folds": 2, "grid": {"item-knn": {"k": [5, 10]}}},
    }
    import tomllib

    assert tomllib.loads(dump_toml(data)) == data
    assert tomllib.loads(dump_toml({**data, "seed_name": None})) == data  # None: left out


def test_diminishing_returns_slopes():
    x = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95]
    concave = pd.DataFrame(
        {"environment": "e", "ndcg@20": x, "mean_rating": [2.0, 2.5, 3.0, 3.4, 3.45, 3.5]}
    )
    low, high = _online_findings.diminishing_returns(concave, "e")
    assert high < low
    assert _online_findings.diminishing_returns(concave.head(4), "e") is None


def test_cli_lists_and_rejects_unknown_study():
    runner = CliRunner()
    listing = runner.invoke(app, ["study"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "offline-vs-online" in listing.output
    bad = runner.invoke(app, ["study", "offline-vs-onlin"], env={"COLUMNS": "200"})
    assert bad.exit_code != 0 and "offline-vs-online" in bad.output


def test_cli_runs_a_tiny_study(tmp_path, monkeypatch):
    monkeypatch.setattr(offline_vs_online, "QUICK_STEPS", 3)
    args = ["study", "offline-vs-online", "--quick", "--quiet", "-w", "1"]
    args += ["--environments", "topics-static-v1", "--recommenders", "random,toppop,oracle"]
    args += ["--trials", "topics-static-v1=1"]  # one trial: no CIs
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert (tmp_path / "report.html").exists() and (tmp_path / "findings.csv").exists()
    assert len(list((tmp_path / "runs").glob("*/tasks/*.parquet"))) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["offline-vs-online", "--trials", "many"], "--trials: 'many' is not valid"),
        (["offline-vs-online", "--environments", ","], "environments must be a non-empty"),
        (["offline-vs-online", "--environments", "topics"], "unknown 'topics'"),
        (["sampling-bias", "--trials", "2"], "has no option '--trials'"),
    ],
)
def test_cli_study_options_are_checked(args, message, tmp_path):
    res = CliRunner().invoke(app, ["study", *args, "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code != 0 and message in res.output, res.output
    assert not any(tmp_path.iterdir())


def test_trials_per_environment():
    study = OfflineVsOnlineStudy(trials={"topics-dynamic-v1": 2}, quick=True)
    assert study.trials_per_environment["topics-dynamic-v1"] == 2
    assert study.trials_per_environment["latent-static-v1"] == offline_vs_online.QUICK_TRIALS
    assert study.spec_data("topics-dynamic-v1")["experiment"]["trials"] == 2
    with pytest.raises(InvalidParameterError, match="beta-rank-v1"):
        OfflineVsOnlineStudy(environments=["topics-static-v1"], trials={"beta-rank-v1": 2})
    with pytest.raises(InvalidParameterError, match="trials must be"):
        OfflineVsOnlineStudy(trials={"topics-static-v1": 0})


def test_every_environment_budget_is_judged_only_when_all_ran_in_full():
    from types import SimpleNamespace

    def scaling(envs, trials, hours):
        rows = [
            {
                "environment": e,
                "workers": 2,
                "wall_s": hours * 3600,
                "measured_s": hours * 3600,
                "measured_trials": trials,
            }
            for e in envs
        ]
        return SimpleNamespace(scaling=pd.DataFrame(rows))

    finding = _online_findings._every_environment_budget_finding
    full, envs = OfflineVsOnlineStudy(), offline_vs_online.ENVIRONMENTS
    partial = finding(scaling(envs[:2], 10, 2.0), full)
    assert partial.reproduced is None and "not run: " + envs[2] in partial.measured
    assert finding(scaling(envs, 1, 2.0), full).reproduced is None  # 1 trial: predicted only
    assert finding(scaling(envs, 10, 2.0), full).reproduced is True
    assert finding(scaling(envs, 10, 4.0), full).reproduced is False
    assert "32.00 h" in finding(scaling(envs, 10, 4.0), full).measured
