"""Analysis, findings and report page of the ``offline-vs-online`` study (thesis §2.6).

Statistics reuse :mod:`recdyn.experiments.report` (Student-t 95% CIs across trials,
Spearman ρ across recommenders); figures are in :mod:`recdyn.studies._online_figures`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn.errors import InvalidParameterError
from recdyn.experiments import load_results, read_manifest
from recdyn.experiments.report import rank_correlations, summary_table, with_labels
from recdyn.experiments.scaling import measured_wall, scaling_table
from recdyn.studies.base import Finding, StudyResult
from recdyn.studies.offline_vs_online import ENVIRONMENTS, FULL_TRIALS, RECOMMENDERS

SOURCE = "thesis §2.6"
NDCG, RMSE = "offline_ndcg@20", "offline_rmse"
#: TopPop "≫" Random: the gap is at least this share of Oracle − Random ...
FAR_SHARE = 0.25
#: ... and "≈" Random: below this share.
NEAR_SHARE = 0.10
PUSHED = 4.5  # thesis Fig. 2.7: mean topic affinity of the pushed topics
#: Thesis §2.6: LLORMA's nDCG@20 when trained on all 100k initial ratings.
LLORMA_THESIS_NDCG = 0.948


@dataclass
class Data:
    """Everything the findings and figures need."""

    results: pd.DataFrame  # per (task, step), with labels
    summary: pd.DataFrame  # summary_table
    correlations: pd.DataFrame  # rank_correlations on mean_rating
    cells: pd.DataFrame  # one row per environment × recommender
    timing: pd.DataFrame  # wall seconds per environment × recommender
    topics: pd.DataFrame  # TopPop: mean preference per topic per step (Fig. 2.7)
    llorma: dict[str, Any] | None  # held-out nDCG of LLORMA trained on all initial data
    scaling: pd.DataFrame  # predicted wall time of the full trials on n workers
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# ---------------------------------------------------------------------- collecting
def collect(out: Path, plans: dict[str, Any], study: Any) -> Data:
    frames, timing, scaling = [], [], []
    for preset in plans:
        root = out / "runs" / preset
        frames.append(_complete_trials(load_results(root), plans[preset], root))
        timing.append(_timing(root, preset))
        scaling.append(_scaling(root, preset, frames[-1]["trial"].nunique()))
    results = with_labels(pd.concat(frames, ignore_index=True))
    summary = summary_table(results)
    correlations = rank_correlations(summary, "mean_rating")
    cells = _cells(summary, out, plans)
    timing_frame = pd.concat(timing, ignore_index=True)
    topics = _topics_state(out, plans)
    llorma = _llorma_holdout(out, plans, study)
    scaling_frame = pd.concat(scaling, ignore_index=True)
    data = Data(results, summary, correlations, cells, timing_frame, topics, llorma, scaling_frame)
    data.tables = {
        "recommenders": cells,
        "correlations": correlations,
        "timing": timing_frame,
        "scaling": scaling_frame,
        "summary": summary,
    }
    if not topics.empty:
        data.tables["toppop_topics"] = topics
    return data


def _complete_trials(results: pd.DataFrame, plan: Any, root: Path) -> pd.DataFrame:
    """The trials that every recommender of ``plan`` has finished (all of them after a
    run; fewer while another process is still running the environment)."""
    wanted = {t.recommender for t in plan.tasks}
    have = results.groupby("trial")["recommender"].agg(lambda r: wanted <= set(r))
    complete = have.index[have]
    if not len(complete):
        raise InvalidParameterError(
            f"{root}: no trial is finished for every recommender yet; report it later"
        )
    return results[results["trial"].isin(complete)]


def _scaling(root: Path, preset: str, trials: int) -> pd.DataFrame:
    """Predicted wall time of ``FULL_TRIALS`` trials on 1 … 128 workers, from this run's
    per-task times (:mod:`recdyn.experiments.scaling`), the measured wall time and the
    number of ``trials`` every recommender finished."""
    table = scaling_table(root, trials=FULL_TRIALS)
    return table.assign(
        environment=preset,
        trials=FULL_TRIALS,
        measured_s=measured_wall(root),
        measured_trials=trials,
    )[["environment", "trials", *table.columns, "measured_s", "measured_trials"]]


def _timing(root: Path, preset: str) -> pd.DataFrame:
    """Wall seconds per recommender: tuning (once) and the online tasks (summed over
    trials), from the manifest and the tuning files."""
    manifest = read_manifest(root)
    tasks = pd.DataFrame(manifest["tasks"].values())
    tune = {}
    for path in (root / "tuning").glob("*.json"):
        record = json.loads(path.read_text())
        tune[record["tune_id"]] = float(record.get("seconds") or 0.0)
    steps = manifest["spec"]["experiment"]["steps"]
    rows = []
    for rec, part in tasks.groupby("recommender", sort=False):
        seconds = part["seconds"].astype(float)
        tuned = sum(tune.get(t, 0.0) for t in part["tune_id"].dropna().unique())
        rows.append(
            {
                "environment": preset,
                "recommender": rec,
                "tuning_s": tuned,
                "online_s": float(seconds.sum()),
                "trials_done": int(seconds.notna().sum()),
                "per_trial_s": float(seconds.mean()),
                "per_step_s": float(seconds.mean() / steps),
                "tuned_params": json.dumps(part["tuned_params"].dropna().iloc[0])
                if "tuned_params" in part and part["tuned_params"].notna().any()
                else "{}",
            }
        )
    return pd.DataFrame(rows)


def _cells(summary: pd.DataFrame, out: Path, plans: dict[str, Any]) -> pd.DataFrame:
    """Per environment × recommender: offline metrics, online mean rating over the run
    (± 95% CI), and ranks (1 = best) by each."""
    wide = summary.pivot_table(
        index=["environment", "recommender"], columns="quantity", values="mean", sort=False
    )
    ci = summary.pivot_table(  # a single trial has no CI (NaN): keep the column
        index=["environment", "recommender"],
        columns="quantity",
        values="ci",
        sort=False,
        dropna=False,
    )
    frame = pd.DataFrame(
        {
            "ndcg@20": wide.get(NDCG, np.nan),
            "rmse": wide.get(RMSE, np.nan),
            "mean_rating": wide["run_mean_rating"],
            "mean_rating_ci": ci["run_mean_rating"],
            "final_mean_rating": wide["final_mean_rating"],
        }
    ).reset_index()
    by_env = frame.groupby("environment", sort=False)
    frame["online_rank"] = by_env["mean_rating"].rank(ascending=False, method="min")
    frame["ndcg_rank"] = by_env["ndcg@20"].rank(ascending=False, method="min")
    frame["rmse_rank"] = by_env["rmse"].rank(ascending=True, method="min")
    return frame


def _toppop_task(plans: dict[str, Any], preset: str) -> Any:
    plan = plans.get(preset)
    if plan is None:
        return None
    return next((t for t in plan.tasks if t.recommender == "toppop" and t.trial == 0), None)


def _topics_state(out: Path, plans: dict[str, Any]) -> pd.DataFrame:
    """Fig. 2.7: TopPop's trial 0 on topics-dynamic and topics-static re-simulated with
    its exact seeds (so its ratings equal the stored task's), reading every user's topic
    preferences after each step; mean over users per topic. Cached by task id."""
    frames = []
    for preset in ("topics-dynamic-v1", "topics-static-v1"):
        task = _toppop_task(plans, preset)
        if task is None:
            continue
        path = out / "toppop_topics" / f"{task.task_id}.csv"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _simulate_topics(task).to_csv(path, index=False)
        frames.append(pd.read_csv(path).assign(environment=preset))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _simulate_topics(task: Any) -> pd.DataFrame:
    from recdyn.environments import make as make_environment
    from recdyn.experiments.spec import tuples
    from recdyn.simulation import simulate

    env = make_environment(task.preset, **tuples(task.overrides))
    start = make_environment(task.preset, **tuples(task.overrides))
    start.reset(seed=(task.env_init, task.env_dynamics))
    rows = [start.state["preference"].mean(axis=0)]
    simulate(
        env,
        "toppop",
        "greedy",
        steps=task.steps,
        seed=task.seed,
        k=task.k,
        metrics=(),
        env_seed=(task.env_init, task.env_dynamics),
        callback=lambda step, row: rows.append(env.state["preference"].mean(axis=0)),
    )
    means = np.asarray(rows)
    steps, topics = np.meshgrid(np.arange(len(means)), np.arange(means.shape[1]), indexing="ij")
    return pd.DataFrame(
        {"step": steps.ravel(), "topic": topics.ravel(), "mean_preference": means.ravel()}
    )


def _llorma_holdout(out: Path, plans: dict[str, Any], study: Any) -> dict[str, Any] | None:
    """LLORMA (its tuned configuration) trained on *all* initial ratings of
    topics-dynamic, evaluated on a held-out set of the same size as one CV test fold
    (a fifth of the initial data): pairs drawn uniformly without replacement from the
    pairs not in the initial data, rated by the environment's observation model
    (``clip(true + noise·ε)``). Cached by task id."""
    plan = plans.get("topics-dynamic-v1")
    if plan is None:
        return None
    task = next((t for t in plan.tasks if t.recommender == "llorma" and t.trial == 0), None)
    if task is None:
        return None
    path = out / "llorma_holdout" / f"{task.task_id}.json"
    if path.exists():
        return json.loads(path.read_text())
    from recdyn import seeding
    from recdyn.environments import make as make_environment
    from recdyn.evaluation import evaluate
    from recdyn.experiments.spec import tuples
    from recdyn.interactions import Interactions
    from recdyn.recommenders import make as make_recommender

    tuned = read_manifest(out / "runs" / "topics-dynamic-v1")["tasks"][task.task_id]
    params = {**task.params, **(tuned.get("tuned_params") or {})}
    env = make_environment(task.preset, **tuples(task.overrides))
    train = env.reset(seed=(task.env_init, task.env_dynamics))
    rng = seeding.generator(study.seed, "llorma-holdout")
    free = np.flatnonzero(~env.rated_mask(np.arange(env.n_users)).ravel())
    n = max(1, len(train) // 5)
    pick = np.sort(rng.choice(free, size=min(n, len(free)), replace=False))
    users, items = np.divmod(pick, env.n_items)
    true = env.true_ratings()[users, items].astype(np.float64)
    lo, hi = env.rating_range
    noise = float(getattr(env, "noise", 0.0))
    rating = np.clip(true + noise * rng.standard_normal(len(true)), lo, hi)
    test = Interactions(users, items, rating)
    rec = make_recommender("llorma", **tuples(params))
    rec.fit(train, env.n_users, env.n_items)
    scores = evaluate(rec, train, test, metrics=("ndcg@20", "rmse"))
    record = {
        "train_ratings": len(train),
        "test_ratings": len(test),
        "params": params,
        "ndcg@20": scores["ndcg@20"],
        "rmse": scores["rmse"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    return record


# ---------------------------------------------------------------------- findings
def _cell(data: Data, env: str, rec: str) -> pd.Series | None:
    c = data.cells
    hit = c[(c["environment"] == env) & (c["recommender"] == rec)]
    return None if hit.empty else hit.iloc[0]


def _fmt(row: pd.Series) -> str:
    return f"{row['mean_rating']:.3f} ± {row['mean_rating_ci']:.3f}"


def findings(data: Data, study: Any) -> list[Finding]:
    size = "quick mode (100 × 170 sizes; not the thesis's)" if study.quick else "thesis sizes"
    out = [*_toppop_findings(data), _pushed_finding(data), _autorec_finding(data)]
    out.append(_llorma_finding(data, study.quick))
    out += _correlation_findings(data)
    out.append(_diminishing_finding(data))
    out.append(_budget_finding(data, study))
    out.append(_every_environment_budget_finding(data, study))
    return [
        Finding(f.claim, f.source, f.expected, f"{f.measured} [{size}]", f.reproduced) for f in out
    ]


def _toppop_findings(data: Data) -> list[Finding]:
    out = []
    claims = {
        "topics-dynamic-v1": ("TopPop ≫ Random online on topics-dynamic", "Fig. 2.5"),
        "topics-static-v1": ("TopPop ≈ Random online on topics-static", "Fig. 2.6"),
    }
    for env, (claim, fig) in claims.items():
        t, r, o = (_cell(data, env, name) for name in ("toppop", "random", "oracle"))
        if t is None or r is None:
            continue
        gap = t["mean_rating"] - r["mean_rating"]
        share = gap / (o["mean_rating"] - r["mean_rating"]) if o is not None else np.nan
        measured = (
            f"mean rating over the run: TopPop {_fmt(t)}, Random {_fmt(r)}"
            + (f", Oracle {_fmt(o)}" if o is not None else "")
            + f"; TopPop − Random = {gap:+.3f} ({share:.0%} of Oracle − Random)"
        )
        separated = gap > t["mean_rating_ci"] + r["mean_rating_ci"]
        if env == "topics-dynamic-v1":
            ok = bool(separated and share >= FAR_SHARE) if np.isfinite(share) else None
            expected = (
                f"TopPop much higher than Random (here: gap ≥ {FAR_SHARE:.0%} of Oracle − "
                "Random, CIs apart), although their offline nDCG is similar"
            )
        else:
            ok = bool(abs(share) < NEAR_SHARE) if np.isfinite(share) else None
            expected = f"TopPop ≈ Random (here: |gap| < {NEAR_SHARE:.0%} of Oracle − Random)"
        out.append(Finding(claim, f"{SOURCE}, {fig}", expected, measured, ok))
    return out


def _pushed_finding(data: Data) -> Finding:
    claim = "TopPop pushes topics: mean affinity of the pushed topics rises above 4.5"
    source = f"{SOURCE}, Fig. 2.7"
    expected = "on topics-dynamic two topics > 4.5 after 100k recommendations; static ≈ 3"
    t = data.topics
    if t.empty or "topics-dynamic-v1" not in set(t["environment"]):
        return Finding(claim, source, expected, "TopPop on topics-dynamic not run", None)
    parts = []
    counts = {}
    for env in ("topics-dynamic-v1", "topics-static-v1"):
        part = t[t["environment"] == env]
        if part.empty:
            continue
        first = part[part["step"] == 0]["mean_preference"]
        last = part[part["step"] == part["step"].max()]["mean_preference"]
        counts[env] = int((last > PUSHED).sum())
        parts.append(
            f"{env}: step 0 topic means {first.min():.2f}–{first.max():.2f}, after "
            f"{part['step'].max()} steps {last.min():.2f}–{last.max():.2f}, "
            f"{counts[env]} topic(s) > {PUSHED}"
        )
    ok = counts["topics-dynamic-v1"] >= 1 and counts.get("topics-static-v1", 0) == 0
    return Finding(claim, source, expected, "; ".join(parts), ok)


def _autorec_finding(data: Data) -> Finding:
    claim = "AutoRec's online performance is well above what its offline nDCG predicts"
    source = f"{SOURCE}, Figs. 2.5, 2.6"
    expected = "AutoRec among the best online despite a middling offline nDCG"
    parts, oks = [], []
    for env in ("topics-dynamic-v1", "topics-static-v1"):
        a = _cell(data, env, "autorec")
        if a is None:
            continue
        n = int((data.cells["environment"] == env).sum())
        parts.append(
            f"{env}: online rank {a['online_rank']:.0f}/{n} vs nDCG@20 rank "
            f"{a['ndcg_rank']:.0f}/{n} (nDCG {a['ndcg@20']:.3f}, mean rating {_fmt(a)})"
        )
        oks.append(a["online_rank"] < a["ndcg_rank"])
    if not parts:
        return Finding(claim, source, expected, "AutoRec on topics-* not run", None)
    return Finding(claim, source, expected, "; ".join(parts), all(oks))


def _llorma_finding(data: Data, quick: bool) -> Finding:
    claim = "LLORMA's nDCG@20 is near 0.948 when trained on all 100k initial ratings"
    source = f"{SOURCE} (text on Fig. 2.5)"
    expected = f"nDCG@20 = {LLORMA_THESIS_NDCG} (vs lower 5-fold CV nDCG on 80k)"
    rec = data.llorma
    cv = _cell(data, "topics-dynamic-v1", "llorma")
    if rec is None or cv is None:
        return Finding(claim, source, expected, "LLORMA on topics-dynamic not run", None)
    measured = (
        f"trained on all {rec['train_ratings']:,} initial ratings, nDCG@20 = "
        f"{rec['ndcg@20']:.3f} (RMSE {rec['rmse']:.3f}) on {rec['test_ratings']:,} held-out "
        f"uniformly drawn unrated pairs with fresh noisy ratings; 5-fold CV nDCG@20 "
        f"{cv['ndcg@20']:.3f}"
    )
    ok = None if quick else bool(abs(rec["ndcg@20"] - LLORMA_THESIS_NDCG) <= 0.02)
    return Finding(claim, source, expected, measured, ok)


def _correlation_findings(data: Data) -> list[Finding]:
    out = []
    c = data.correlations
    for metric, sign, word in ((NDCG, 1, "positive"), (RMSE, -1, "negative")):
        part = c[c["offline"] == metric]
        name = metric.removeprefix("offline_")
        relation = "> 0" if sign > 0 else "< 0"
        claim = f"ρ(offline {name}, online mean rating) {relation} in every environment"
        expected = f"{word} rank correlation in every environment (no values in the text)"
        if part.empty:
            out.append(Finding(claim, f"{SOURCE}, Fig. 2.8", expected, "not measured", None))
            continue
        measured = "; ".join(
            f"{r.environment} ρ = {r.rho:+.2f} (n = {r.n}, p = {r.p:.2g})"
            for r in part.itertuples(index=False)
        )
        finite = part["rho"].dropna()
        ok = bool(len(finite) == len(part) and (sign * finite > 0).all()) if len(part) else None
        out.append(Finding(claim, f"{SOURCE}, Figs. 2.1, 2.8", expected, measured, ok))
    return out


def diminishing_returns(cells: pd.DataFrame, env: str) -> tuple[float, float] | None:
    """Least-squares slopes of mean rating on offline nDCG@20 over the lower and the upper
    half of the recommenders ranked by nDCG (the median one in both when odd)."""
    part = cells[cells["environment"] == env].dropna(subset=["ndcg@20", "mean_rating"])
    part = part.sort_values("ndcg@20")
    n = len(part)
    if n < 6:
        return None
    half = (n + 1) // 2
    x, y = part["ndcg@20"].to_numpy(), part["mean_rating"].to_numpy()
    slopes = []
    for sl in (slice(0, half), slice(n - half, n)):
        if np.ptp(x[sl]) == 0:
            return None
        slopes.append(float(np.polyfit(x[sl], y[sl], 1)[0]))
    return slopes[0], slopes[1]


def _diminishing_finding(data: Data) -> Finding:
    claim = "Diminishing returns: beyond some offline nDCG@20, online gains flatten"
    source = f"{SOURCE}, Fig. 2.1"
    expected = "on topics-dynamic, online mean rating flattens among the best offline models"
    parts, flags = [], {}
    for env in dict.fromkeys(data.cells["environment"]):
        s = diminishing_returns(data.cells, env)
        if s is None:
            continue
        flags[env] = s[1] < s[0]
        parts.append(f"{env}: slope lower half {s[0]:.2f}, upper half {s[1]:.2f}")
    if "topics-dynamic-v1" not in flags:
        return Finding(claim, source, expected, "; ".join(parts) or "too few models", None)
    n_flat = sum(flags.values())
    measured = f"{'; '.join(parts)} (flatter at the top in {n_flat}/{len(flags)} environments)"
    return Finding(claim, source, expected, measured, flags["topics-dynamic-v1"])


def _budget_finding(data: Data, study: Any) -> Finding:
    claim = "The full study on topics-dynamic (13 models × 10 trials × 500 steps) ≤ 3 h on 2 cores"
    source = "issue 6 (performance target)"
    scaling = data.scaling[data.scaling["environment"] == "topics-dynamic-v1"]
    if scaling.empty:
        return Finding(claim, source, "≤ 3 h", "topics-dynamic not run", None)
    at = scaling.set_index("workers")
    measured_s, trials = float(at["measured_s"].iloc[0]), int(at["measured_trials"].iloc[0])
    t = data.timing[data.timing["environment"] == "topics-dynamic-v1"]
    slow = t.assign(s=t["tuning_s"] + t["online_s"]).nlargest(3, "s")
    measured = (
        f"measured {measured_s / 3600:.2f} h wall for {trials} trial(s) on the workers of "
        f"this run; from the per-task times, {int(at['trials'].iloc[0])} trials ≈ "
        f"{at.loc[2, 'wall_s'] / 3600:.2f} h on 2 workers, {at.loc[16, 'wall_s'] / 60:.0f} min "
        f"on 16, floor {at['bound_s'].min() / 60:.0f} min (longest tuning job + longest "
        "task); most time: "
        + ", ".join(f"{r.recommender} {r.s / 60:.1f} min" for r in slow.itertuples(index=False))
    )
    full = _full_size(study, "topics-dynamic-v1") and trials == FULL_TRIALS
    verdict = bool(measured_s <= 3 * 3600) if full else None
    return Finding(claim, source, "≤ 3 h", measured, verdict)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _full_size(study: Any, preset: str) -> bool:
    """Whether ``preset`` runs as the thesis does: its sizes and steps, all 13 models and
    10 trials."""
    return (
        not study.quick
        and study.steps is None
        and len(study.recommenders) == len(RECOMMENDERS)
        and study.trials.get(preset) == FULL_TRIALS
    )


def _every_environment_budget_finding(data: Data, study: Any) -> Finding:
    """Issue 6: every environment in ≤ 1 day on 2 cores. Measured where all 10 trials of
    every environment ran; otherwise the schedule model's 10-trial prediction from the
    per-task times of the trials that ran."""
    claim = "The full study in every environment (13 models × 10 trials) ≤ 1 day on 2 cores"
    source = "issue 6 (performance target)"
    two = data.scaling[data.scaling["workers"] == 2].set_index("environment")
    if two.empty:
        return Finding(claim, source, "≤ 24 h", "no environment run", None)
    missing = [env for env in ENVIRONMENTS if env not in two.index]
    short = [env for env in two.index if two.at[env, "measured_trials"] < FULL_TRIALS]
    measured = (
        f"measured {_duration(two['measured_s'].sum())} wall for the trials run ("
        + ", ".join(f"{e} {int(n)}" for e, n in two["measured_trials"].items())
        + f"); 10 trials predicted from the per-task times: {_duration(two['wall_s'].sum())} "
        "on 2 workers ("
        + ", ".join(f"{e} {_duration(w)}" for e, w in two["wall_s"].items())
        + ")"
        + (f"; not run: {', '.join(missing)}" if missing else "")
    )
    full = not missing and not short and all(_full_size(study, e) for e in two.index)
    verdict = bool(two["measured_s"].sum() <= 24 * 3600) if full else None
    return Finding(claim, source, "≤ 24 h", measured, verdict)


# ---------------------------------------------------------------------- the page
def _trials_text(trials: dict[str, int]) -> str:
    """``"10"`` when every environment has 10 trials, else ``"10 (topics-dynamic-v1), 2 (…)"``."""
    if len(set(trials.values())) == 1:
        return str(next(iter(trials.values())))
    return ", ".join(f"{n} ({env})" for env, n in trials.items())


def figures(data: Data, out: Path, study: Any) -> list[Path]:
    from recdyn.studies import _online_figures

    return [p for _, p in _online_figures.draw(data, out)]


def write_page(result: StudyResult, data: Data, study: Any) -> None:
    from recdyn.studies import _online_figures
    from recdyn.studies.page import frame_html, write_study_page

    mode = "quick mode (small sizes, few trials)" if study.quick else "full mode (thesis sizes)"
    intro = (
        "<p>Thesis §2.6 (Krauth et al. 2020, <i>Do offline metrics predict online "
        "performance in recommender systems?</i>): each recommender is tuned by 5-fold CV "
        "grid search on RMSE over the initial uniformly sampled ratings, then run online "
        "(greedy top-1 of unrated items, retrained every step); offline nDCG@20 and RMSE "
        "are set against the online mean rating. "
        f"This run: {escape(mode)}, environments {escape(', '.join(study.environments))}; "
        f"trials {_trials_text(study.trials)}. "
        "Specs: <code>specs/</code>, results: <code>runs/</code>.</p>"
    )
    cells = data.cells.copy()
    sections = [
        ("Recommenders: offline metrics, online mean rating and ranks", frame_html(cells)),
        ("Spearman ρ per environment (Fig. 2.8)", frame_html(data.correlations)),
        ("Wall time per recommender (seconds, one worker)", frame_html(data.timing)),
        (
            "Predicted wall time of the full trials on n workers (schedule model fed with "
            "this run's task times; recdyn.experiments.scaling)",
            frame_html(data.scaling),
        ),
    ]
    if data.llorma is not None:
        sections.append(
            ("LLORMA trained on all initial ratings", frame_html(pd.DataFrame([data.llorma])))
        )
    write_study_page(
        result,
        title="Offline metrics vs online performance (thesis §2.6)",
        intro_html=intro,
        sections=sections,
        figures=_online_figures.captions(result.figures),
    )
