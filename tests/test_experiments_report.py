"""``recdyn report``: statistics across trials, PNG figures and the self-contained page."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from recdyn.cli import app
from recdyn.errors import InvalidParameterError
from recdyn.experiments.report import build_report, write_report
from recdyn.experiments.runner import TaskOutput
from recdyn.experiments.store import FORMAT, Store
from recdyn.reporting.formatting import fmt_ci_column, fmt_column
from recdyn.reporting.results import (
    rank_correlations,
    step_stats,
    trial_series,
    trial_summary,
    trial_table,
    with_labels,
)
from recdyn.reporting.stats import spearman

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ENVS = ("topics-dynamic-v1", "latent-static-v1")
# name: (params JSON, online level, offline rmse, offline ndcg@20) — offline and online
# orders agree, so Spearman is +1 for nDCG and -1 for RMSE in each environment.
RECS = {
    "random": ("{}", 3.0, 1.05, 0.02),
    "toppop": ("{}", 3.6, 0.98, 0.05),
    "item-knn": ('{"k":50}', 3.9, 0.93, 0.09),
}
STEPS, TRIALS = 12, 3


def task_table(env: str, rec: str, trial: int, rng: np.random.Generator) -> pd.DataFrame:
    params, level, off_rmse, off_ndcg = RECS[rec]
    step = np.arange(1, STEPS + 1)
    rating = level + 0.3 * ENVS.index(env) + 0.01 * step + rng.normal(0, 0.05, STEPS)
    return pd.DataFrame(
        {
            "task_id": f"{ENVS.index(env)}-{rec}-{trial}",
            "environment": env,
            "recommender": rec,
            "params": params,
            "policy": "greedy",
            "trial": trial,
            "step": step,
            "mean_rating": rating,
            "regret": 5.0 - rating,
            # toppop predicts no ratings: its per-step RMSE is NaN throughout
            "rmse": np.nan if rec == "toppop" else 1.0 + rng.normal(0, 0.05, STEPS),
            "n_ratings": 1000 + 100 * step,
            "seconds": 0.01,
            "offline_rmse": off_rmse,
            "offline_ndcg@20": off_ndcg,
        }
    )


def write_run(root: Path, tables: list[pd.DataFrame], spec: dict) -> Path:
    """A results directory as ``recdyn run`` leaves it, written through the store."""
    entries = {}
    for i, t in enumerate(tables):
        first = t.iloc[0]
        keys = ("environment", "recommender", "params", "policy", "trial")
        entries[first["task_id"]] = {"index": i, **{k: first[k] for k in keys}}
        entries[first["task_id"]].update(status="pending", seconds=None, worker=None)
    manifest = {
        "format": FORMAT,
        "spec_hash": "f" * 64,
        "spec": spec,
        "versions": {"recdyn": "0.1.0", "ray": None},
        "python": "3.11",
        "platform": "test-platform",
        "host": "test-host",
        "created": "2024-05-01T10:00:00+00:00",
        "runs": [
            {
                "started": "2024-05-01T10:00:00+00:00",
                "ended": "2024-05-01T10:03:20+00:00",
                "backend": "local",
                "workers": 2,
            }
        ],
        "tasks": entries,
    }
    (root / "tasks").mkdir(parents=True)
    store = Store(root, manifest)
    for t in tables:
        tid = t["task_id"].iloc[0]
        tuned = {"k": 50} if t["recommender"].iloc[0] == "item-knn" else None
        store.write_task(TaskOutput(tid, t, None, 1.5, f"w{len(tid) % 2}", tuned))
    store.flush(force=True)
    return root


SPEC = {
    "experiment": {"name": "offline-vs-online", "seed": 0, "steps": STEPS, "trials": TRIALS},
    "environments": [{"preset": e, "overrides": {"n_users": 60}} for e in ENVS],
    "recommenders": [{"name": r, "params": json.loads(p)} for r, (p, *_) in RECS.items()],
    "policies": [{"name": "greedy", "params": {}}],
    "tuning": {"folds": 5, "metric": "rmse", "note": "<script>alert(1)</script>"},
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    tables = [
        task_table(env, rec, trial, rng) for env in ENVS for rec in RECS for trial in range(TRIALS)
    ]
    return write_run(tmp_path_factory.mktemp("run"), tables, SPEC)


@pytest.fixture(scope="module")
def report(run_dir):
    return build_report(run_dir)


@pytest.fixture(scope="module")
def page(report) -> str:
    return report.path.read_text(encoding="utf-8")


# ---------------------------------------------------------------------- figures and page
def test_report_writes_png_figures(report, run_dir):
    names = sorted(p.name for p in report.figures)
    assert names == [
        "final_step.png",
        "offline_vs_online_ndcg_20.png",
        "offline_vs_online_rmse.png",
        "over_time_mean_rating.png",
        "over_time_regret.png",
        "over_time_rmse.png",
    ]
    assert report.path == run_dir / "report" / "report.html"
    for path in report.figures:
        assert path.parent == run_dir / "report"
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_page_embeds_every_figure_and_fetches_nothing(report, page):
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(report.figures)
    import base64

    assert all(base64.b64decode(data)[:8] == PNG_MAGIC for data in images)
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<(link|script)\b", page)  # no style sheets or scripts to load


def test_page_shows_summary_values_spec_and_run(run_dir, report, page):
    results = pd.concat(pd.read_parquet(p) for p in (run_dir / "tasks").glob("*.parquet"))
    cell = results[(results.environment == ENVS[0]) & (results.recommender == "item-knn")]
    per_trial = cell.groupby("trial")["mean_rating"].mean().to_numpy()
    mean = per_trial.mean()
    ci = stats.t.ppf(0.975, TRIALS - 1) * per_trial.std(ddof=1) / math.sqrt(TRIALS)
    assert 3.9 < mean < 4.1 and 0 < ci < 0.2
    column = report.summary[report.summary["quantity"] == "run_mean_rating"].reset_index()
    i = column.index[(column.environment == ENVS[0]) & (column.label == "item-knn")][0]
    text = fmt_ci_column(list(column["mean"]), list(column["ci"]))[i]
    shown_mean, shown_ci = map(float, text.split(" ± "))
    assert text in page and shown_mean == pytest.approx(mean, abs=1e-3)
    assert shown_ci == pytest.approx(ci, abs=1e-3)
    assert "tuned: k=50" in page
    # the spec, as TOML (tomli-w), escaped
    assert "name = &#34;offline-vs-online&#34;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "<title>offline-vs-online — recdyn report</title>" in page
    assert "18 done" in page and "test-host" in page and "200.0 s in 1 run" in page


def test_page_lists_spearman_correlations(report, page):
    rho = report.correlations.set_index(["environment", "offline"])["rho"]
    for env in ENVS:
        assert rho[env, "offline_ndcg@20"] == pytest.approx(1.0)
        assert rho[env, "offline_rmse"] == pytest.approx(-1.0)
    assert page.count('<td class="num">+1.000</td>') == len(ENVS)
    assert page.count('<td class="num">-1.000</td>') == len(ENVS)


def test_cli_report_with_out_and_smooth(tmp_path):
    # a small run (one environment, one metric) keeps the figures few
    rng = np.random.default_rng(1)
    tables = [
        task_table(ENVS[0], rec, trial, rng).drop(
            columns=["regret", "rmse", "offline_rmse", "offline_ndcg@20"]
        )
        for rec in ("random", "item-knn")
        for trial in range(2)
    ]
    run = write_run(tmp_path / "run", tables, SPEC)
    out = tmp_path / "rep"
    result = CliRunner().invoke(
        app, ["report", str(run), "--out", str(out), "--smooth", "3"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "final_step.png",
        "over_time_mean_rating.png",
        "report.html",
    ]
    assert str(out / "report.html") in result.output
    assert "item-knn" in result.output and "±" in result.output
    assert "moving average over 3 steps" in (out / "report.html").read_text()


# ---------------------------------------------------------------------- statistics
def tiny(values: dict[int, list[float]]) -> pd.DataFrame:
    """One configuration; ``values[trial]`` is that trial's metric per step 1, 2, …"""
    rows = [
        dict(
            task_id=f"t{trial}",
            environment="env",
            recommender="rec",
            params="{}",
            policy="greedy",
            trial=trial,
            step=step,
            mean_rating=v,
        )
        for trial, series in values.items()
        for step, v in enumerate(series, start=1)
    ]
    return pd.DataFrame(rows)


def test_step_ci_is_student_t_across_trials():
    out = step_stats(
        trial_series(tiny({0: [1.0, 2.0], 1: [2.0, 2.0], 2: [3.0, 2.0]}), "mean_rating")
    )
    # step 1: values 1, 2, 3 -> mean 2, s = 1, t_{0.975, 2} = 4.302653 -> 4.302653 / sqrt(3)
    assert out["mean"].tolist() == [2.0, 2.0]
    assert out["ci"].tolist() == pytest.approx([2.484138, 0.0], abs=1e-6)
    assert out["n"].tolist() == [3, 3]
    one = step_stats(trial_series(tiny({0: [1.0, 2.0]}), "mean_rating"))
    assert one["ci"].isna().all()  # undefined with a single trial


def test_summary_over_run_and_final_step():
    trials = trial_table(tiny({0: [1.0, 3.0], 1: [3.0, 5.0]}))
    summary = trial_summary(trials).set_index("quantity")
    # over run: trial means 2 and 4; final: 3 and 5; s = sqrt(2), t_{0.975, 1} = 12.706205
    assert summary.loc["run_mean_rating", "mean"] == 3.0
    assert summary.loc["final_mean_rating", "mean"] == 4.0
    assert summary.loc["run_mean_rating", "ci"] == pytest.approx(12.706205, abs=1e-6)
    assert summary.loc["final_mean_rating", "trials"] == 2


def test_smoothing_is_a_centred_moving_average_per_trial():
    out = trial_series(tiny({0: [0.0, 3.0, 0.0, 3.0, 0.0]}), "mean_rating", smooth=3)
    assert out["value"].tolist() == pytest.approx([1.5, 1.0, 2.0, 1.0, 1.5])


def test_spearman_of_a_perfect_monotone_relation():
    x = np.array([0.1, 0.2, 0.3, 0.4])
    assert spearman(x, np.exp(10 * x))[0] == pytest.approx(1.0)
    rho, p = spearman(x, -(x**3))
    assert rho == pytest.approx(-1.0)
    assert p == pytest.approx(2 / 24)  # exact: 2 of the 4! pairings reach |rho| = 1
    assert math.isnan(spearman(x[:2], x[:2])[0])  # two points: undefined


def test_rank_correlations_per_environment():
    rows = []
    for env, sign in (("a", 1.0), ("b", -1.0)):
        for i, level in enumerate([3.0, 3.5, 3.6, 4.2]):
            t = tiny({0: [level, level], 1: [level + 0.1, level + 0.1]})
            t["environment"], t["recommender"] = env, f"rec{i}"
            t["task_id"] = t["task_id"] + f"-{env}{i}"
            t["offline_ndcg@20"] = sign * level**2
            rows.append(t)
    corr = rank_correlations(trial_summary(trial_table(pd.concat(rows))), "mean_rating")
    assert corr.set_index("environment")["rho"].to_dict() == pytest.approx({"a": 1.0, "b": -1.0})
    assert (corr["n"] == 4).all()


def test_labels_name_hyperparameters_and_policies_only_when_they_vary():
    frame = pd.concat(
        [
            tiny({0: [1.0]}).assign(recommender="knn", params='{"k":10}', task_id="a"),
            tiny({0: [1.0]}).assign(recommender="knn", params='{"k":50}', task_id="b"),
            tiny({0: [1.0]}).assign(recommender="pop", params="{}", task_id="c"),
        ]
    )
    assert sorted(set(with_labels(frame)["label"])) == ["knn (k=10)", "knn (k=50)", "pop"]
    frame.loc[frame.task_id == "c", "policy"] = "softmax"
    assert "pop · softmax" in set(with_labels(frame)["label"])


def test_spearman_p_is_the_exact_share_of_repairings_with_ties():
    import itertools

    x, y = np.array([1.0, 2.0, 2.0, 3.0, 5.0]), np.array([0.3, 0.1, 0.4, 0.4, 0.9])
    rho, p = spearman(x, y)
    rx, ry = stats.rankdata(x) - 3, stats.rankdata(y) - 3
    null = [np.dot(rx, perm) / (np.linalg.norm(rx) * np.linalg.norm(ry)) for perm in
            itertools.permutations(ry)]  # fmt: skip
    assert rho == pytest.approx(stats.spearmanr(x, y).statistic)
    assert p == np.mean(np.abs(null) >= abs(rho) - 1e-12)


# ---------------------------------------------------------------------- a reader's view
def test_bands_stay_inside_the_valid_range():
    from recdyn.reporting.figures import clipped
    from recdyn.reporting.labels import valid_range

    assert valid_range("regret") == (0.0, math.inf)
    assert valid_range("rmse")[0] == 0.0 and valid_range("offline_ndcg@20") == (0.0, 1.0)
    assert valid_range("mean_rating", (1.0, 5.0)) == (1.0, 5.0)
    lo, hi = clipped([0.05, 4.9], [0.2, 0.3], (0.0, math.inf))
    assert lo.tolist() == [0.0, pytest.approx(4.6)] and hi.tolist() == pytest.approx([0.25, 5.2])
    lo, hi = clipped([4.9], [0.3], valid_range("mean_rating", (1.0, 5.0)))
    assert hi.tolist() == [5.0]


def test_few_trials_are_drawn_as_their_own_lines_many_as_a_band():
    from matplotlib.collections import PolyCollection

    from recdyn.reporting.figures import Style, draw_trials, pyplot, style_axes, trials_note

    plt = pyplot()
    for n, lines, bands in ((3, 4, 0), (5, 1, 1)):
        series = trial_series(tiny({t: [1.0 + t, 2.0, 3.0] for t in range(n)}), "mean_rating")
        fig, ax = plt.subplots()
        draw_trials(ax, series, Style((0.0, 0.0, 1.0)), (1.0, 5.0))
        style_axes(ax, steps=True)
        assert len(ax.lines) == lines  # each trial + the mean, or the mean alone
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == bands
        assert ax.xaxis.get_major_locator()._integer  # integer step ticks
        plt.close(fig)
    assert trials_note([3]) == "thin lines: each of the 3 trials, thick line: their mean"
    assert trials_note([10]) == "mean and 95% CI over 10 trials"


def test_a_table_column_has_one_number_of_decimals(page):
    assert fmt_column([0.95, 0.0012, float("nan")]) == ["0.9500", "0.0012", "—"]
    assert fmt_column([3, 40]) == ["3", "40"]
    assert fmt_column([0.08, 1e-9]) == ["0.08000", "<0.00001"]
    assert fmt_column([0.08, -1e-9]) == ["0.08000", ">-0.00001"]
    summary = page.split('id="summary"')[1].split("</table>")[0]
    columns: dict[int, set[int]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", summary, flags=re.S):
        for i, cell in enumerate(re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)[3:]):
            decimals = {len(n.split(".")[1]) for n in re.findall(r"[\d.]+", cell) if "." in n}
            columns.setdefault(i, set()).update(decimals)
    assert len(columns) == 8  # 3 metrics × (over run, final step) + 2 offline
    assert all(len(d) == 1 for d in columns.values()), columns


def test_versions_name_every_library_including_missing_ones(page):
    versions = page.split('id="run"')[1]
    assert "recdyn" in versions and "0.1.0" in versions
    assert re.search(r"<td>ray</td><td>not installed</td>", versions)


# ---------------------------------------------------------------------- errors
def test_a_directory_without_results_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidParameterError, match="no such directory"):
        write_report(tmp_path / "missing")
    with pytest.raises(InvalidParameterError, match=r"no results in .*no manifest\.json"):
        write_report(tmp_path)
    empty = write_run(tmp_path / "empty", [], SPEC)
    with pytest.raises(InvalidParameterError, match=r"tasks/<task_id>\.parquet") as err:
        write_report(empty)
    assert str(empty) in str(err.value)
    result = CliRunner().invoke(app, ["report", str(empty)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "error: no results in" in result.output


# ---------------------------------------------------------------------- in a browser
def _chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_page_renders_in_headless_chromium(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium not installed (apt-get install chromium): no screenshot test")
    shot = tmp_path / "page.png"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        report.path.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file(), "Chromium wrote no screenshot"
    assert shot.read_bytes()[:8] == PNG_MAGIC
    import matplotlib.image as mpimg
    from matplotlib.colors import to_rgb

    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels.std() > 0.05  # not a blank page
    # The embedded figures are drawn: the page's own style has no orange or green, the
    # scatter plots in the first 2000 px have tab10 orange and green markers. (A page
    # whose images fail to load has none of either.)
    for colour in ("tab:orange", "tab:green"):
        near = np.abs(pixels - np.array(to_rgb(colour))).max(axis=-1) < 0.04
        assert near.sum() > 100, f"no {colour} pixels: figures not rendered"
