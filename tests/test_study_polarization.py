"""The ``polarization`` study (seed 004): a run at a size below quick (30 users, 150 steps,
3 runs), its outputs, resume, report-only, the protocol it declares, parameter errors, the
missing-dataset error and the CLI."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from recdyn import studies
from recdyn.cli import app
from recdyn.errors import InvalidParameterError
from recdyn.studies.polarization import PolarizationStudy

#: Below quick: the seed's 50 creators in d = 10, 30 users, 150 steps, 3 runs (about the
#: time the base softmax takes to polarize).
TINY = dict(n_users=30, steps=150, runs=3)
FIGURES = ("curves_oracle.png", "curves_robustness.png", "end_values.png", "time_to_polarize.png")
#: Verdicts that held at this size with seeds 0, 1, 2 (checked before pinning): top-k
#: truncation prevents polarization (oracle, MF, real-data start), larger k and η and
#: smaller β polarize faster, the secondary sources' top-1 and τ = 0.707 numbers, τ = 0
#: worst; and the ⌊n/k⌋ clusters reading fails (k = 25 ends with far more than 2 clusters:
#: the absorbing states exist but are not reached). Not pinned: (a) (β = 10 needs more
#: than 150 steps), the no-effect results of ε and ρ (a p-value near chance), k = n's
#: TP (≈ 0.96–0.98 at step 150, next to the 0.95 bound).
PINNED = {
    "(b) Top-k truncation prevents polarization": True,
    "(b) Top-k truncation ends in at most ⌊n/k⌋ creator clusters": False,
    "(d) Larger k polarizes faster": True,
    "(d) Larger η (both rates) polarizes faster": True,
    "(d) More diverse softmax (smaller β) polarizes faster": True,
    "(f) Secondary sources' numbers at β = 1, k = 1": True,
    "(f) Secondary sources' numbers at τ = cos 45° = 0.707": True,
    "(f) Threshold truncation: τ = 0 polarizes most": True,
    "(e) With a learned MF (mf-als): top-k truncation prevents polarization, larger k "
    "polarizes faster": True,
    "(g) From real-data embeddings: top-k truncation prevents polarization, larger k "
    "polarizes faster": True,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("polarization")
    study = PolarizationStudy(quick=True, **TINY)
    result = study.run(out, workers=2)
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("runs/**/*.parquet")}
    return study, result, out, mtimes


def test_run_writes_report_findings_tables_and_figures(run):
    _, result, out, _ = run
    html = result.report.read_text(encoding="utf-8")
    assert "seed 004" in html and "data:image/png;base64" in html
    for name in FIGURES:
        assert (out / name).stat().st_size > 5_000, name
    assert sorted(p.name for p in (out / "specs").glob("*.toml")) == sorted(
        f"{k}.toml" for k in studies.make("polarization").sweeps
    )
    findings = pd.read_csv(out / "findings.csv")
    assert list(findings.columns) == ["claim", "source", "expected", "measured", "reproduced"]
    assert len(findings) == 15 and findings["measured"].str.contains(r"\d", regex=True).all()
    assert findings["source"].str.contains("004 L|digest", regex=True).all()
    for name in ("end_values", "runs", "curves", "secondary"):
        assert (out / f"{name}.csv").exists(), name


def test_pinned_verdicts(run):
    _, result, _, _ = run
    verdicts = {f.claim: f.reproduced for f in result.findings}
    for claim, verdict in PINNED.items():
        assert verdicts[claim] is verdict, (claim, result.findings)
    assert all(v in (True, False) for v in verdicts.values())


def test_every_setting_is_measured_every_few_steps(run):
    study, result, _, _ = run
    runs = result.tables["runs"]
    assert set(runs["sweep"]) == set(study.sweeps)
    assert (runs.groupby(["sweep", "value"])["trial"].nunique() == 3).all()
    assert set(result.tables["curves"]["step"]) == set(range(5, 151, 5))
    k1 = runs[(runs["sweep"] == "k") & (runs["value"] == 1)]
    assert (k1["RD"] == 0).all() and (k1["RR"] > 0.99).all()  # top-1: one creator, its user's
    assert runs["TP"].between(0, 1).all() and runs["CD"].between(0, 2).all()


def test_rerun_resumes_without_recomputing(run):
    _, _, out, mtimes = run
    PolarizationStudy(quick=True, **TINY).run(out, workers=2)
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/**/*.parquet")} == mtimes


def test_report_only_needs_the_same_options(run):
    _, result, out, _ = run
    again = PolarizationStudy(quick=True, **TINY).report(out)
    assert [f.measured for f in again.findings] == [f.measured for f in result.findings]
    with pytest.raises(InvalidParameterError, match="another run than this one"):
        PolarizationStudy(quick=True, **{**TINY, "steps": 140}).report(out)


def test_declares_the_seed_protocol():
    study = studies.make("polarization")
    assert (study.n_users, study.n_creators, study.dim, study.n_steps, study.n_runs) == (
        100,
        50,
        10,
        1000,
        10,
    )
    assert study.values("k") == (1, 2, 5, 10, 25, 50)
    assert study.values("beta") == (0, 0.5, 1, 3, 10, float("inf"))
    beta = study.spec_data("beta")
    assert beta["policies"][0] == {"name": "uniform-mix", "params": {"epsilon": 1.0}}
    assert beta["policies"][-1] == {"name": "greedy"}
    assert beta["policies"][3] == {"name": "softmax", "params": {"temperature": 1 / 3}}
    eta = study.spec_data("eta")
    assert [e["overrides"]["eta_creators"] for e in eta["environments"]] == [0.02, 0.05, 0.1, 0.2]
    assert {e["seed_name"] for e in eta["environments"]} == {"world"}
    mf = study.spec_data("mf-k")
    assert mf["recommenders"] == [{"name": "mf-als", "params": {"n_factors": 10}}]
    assert mf["experiment"]["retrain_every"] == 10
    assert study.spec_data("real-k")["environments"][0]["overrides"]["init"] == "ml-100k"
    quick = studies.make("polarization", quick=True)
    assert (quick.n_steps, quick.n_runs) == (300, 4)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"sweeps": ("kappa",)}, "sweeps"),
        ({"steps": 4, "every": 5}, "every=5 must be at most steps=4"),
        ({"eta": 0}, "eta"),
        ({"n_creators": 1}, "n_creators"),
        ({"real_init": "ml-20m"}, "real_init"),
        ({"runs": 0}, "runs"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        PolarizationStudy(**params)


def test_missing_dataset_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("RECDYN_DATA_DIR", str(tmp_path))
    study = PolarizationStudy(sweeps=("real-k",), **TINY)
    with pytest.raises(InvalidParameterError, match=r"RECDYN_DATA_DIR.*leave real-k out"):
        study.run(tmp_path / "out")


def test_cli_reads_the_study_options(run):
    _, result, out, _ = run
    args = ["study", "polarization", "--quick", "--out", str(out), "--report-only", "--quiet"]
    args += ["--n-users", "30", "--steps", "150", "--runs", "3"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    findings = pd.read_csv(out / "findings.csv")
    assert list(findings["measured"]) == [f.measured for f in result.findings]
    bad = CliRunner().invoke(app, ["study", "polarization", "--sweeps", "nope", "--quiet"])
    assert bad.exit_code == 2 and "nope" in bad.output
