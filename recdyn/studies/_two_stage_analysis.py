"""Analysis of the ``two-stage`` study (thesis ch. 4): tables, findings, figures and the
page from the stored units."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from recdyn.reporting.page import Definitions, Prose, figure, frame_table
from recdyn.studies import _two_stage_figures as figures
from recdyn.studies import _two_stage_frames as frames
from recdyn.studies import _two_stage_moe as moe
from recdyn.studies._two_stage_findings import (
    bandit_findings,
    coverage_finding,
    synthetic_panels,
)
from recdyn.studies._two_stage_units import LEARNERS, SWEEP_VALUES, SWEPT, select
from recdyn.studies.result import StudyResult

__all__ = ["TITLE", "analyse"]

TITLE = "Two-stage recommenders: nominators, rankers and pool allocation (thesis ch. 4)"


def _hyper_table(sweeps: dict[str, Any]) -> pd.DataFrame:
    """Tables 4.1 / 4.3 rerun: every learner's selection and its regret per sweep."""
    rows = []
    for key, result in sweeps.items():
        chosen = select(result["rows"])
        for short, params in chosen.items():
            best = next(r for r in result["rows"] if r["learner"] == short
                        and all(r[p] == v for p, v in params.items()))  # fmt: skip
            worst = max(r["regret"] for r in result["rows"] if r["learner"] == short)
            rows.append({
                "sweep": key.removeprefix("sweep-"),
                "learner": LEARNERS[short],
                "selected": ", ".join(f"{p} = {v:g}" for p, v in params.items()),
                "regret at T": round(best["regret"], 2),
                "± se": round(best["se"], 2),
                "worst in grid": round(worst, 2),
            })  # fmt: skip
    return pd.DataFrame(rows)


def _with_single_everywhere(ml: pd.DataFrame) -> pd.DataFrame:
    """The single stages (one unit) repeated in every N panel of Fig. 4.4."""
    single, two = ml[ml["stages"] == 1], ml[ml["stages"] == 2]
    copies = [single.assign(N=n) for n in sorted(two["N"].unique())]
    return pd.concat([two, *copies], ignore_index=True)


def _figures(study: Any, out: Path, frame: pd.DataFrame, fits: pd.DataFrame):
    p = synthetic_panels(frame, study.grid)
    items = [
        ("Fig. 4.3 (a): regret at T against d/s for every architecture, N = "
         f"{study.grid['nominators']}, |A| = {study.grid['arms']}, one panel per d (dashed: "
         "single stage on s features; solid: ranker+nominator, the ranker on all d). Mean ± "
         "two standard errors over seeds.", figures.regret_panels(p["a"], "dim", out, "fig43a")),
        (f"Fig. 4.3 (b): the same at d = {study.grid['panel_b']['dim']}, one panel per N.",
         figures.regret_panels(p["b"], "N", out, "fig43b")),
        (f"Regret against d/s by the number of arms |A| (d = {study.grid['arm_counts']['dim']}, "
         f"N = {study.grid['nominators']}; the text's claim, L2520).",
         figures.regret_panels(p["arms"], "arms", out, "arms")),
    ]  # fmt: skip
    ml = frame[frame["source"] == "multi-label"]
    if len(ml):
        items += [
            ("Fig. 4.4 (a) on the synthetic multi-label world (d = 400, |A| = 100): regret "
             "relative to a uniformly random agent's, against d/s, one panel per N (the "
             "single stages repeated in each).",
             figures.regret_panels(_with_single_everywhere(ml), "N", out, "fig44",
                                   value="relative", ylabel="relative regret at T")),
            ("Fig. 4.4 (b): the nominator and ranker shares of U+U's regret, one panel per N.",
             figures.split_figure(ml[ml["stages"] == 2], out, "fig44_split")),
        ]  # fmt: skip
    for n in sorted(fits["N"].unique()) if len(fits) else []:
        items.append((
            f"Fig. 4.5 with N = {n} experts: P@5 (top) and R@5 (bottom) on held-out points "
            "against s, one column per c (training examples per arm); solid: learned pools "
            "(MoE), dashed: random pools; colour: d_e. Mean ± two standard errors over seeds.",
            figures.moe_figure(fits, out, n),
        ))  # fmt: skip
    return items


def analyse(
    study: Any, out: Path, sweeps: dict[str, Any], panels: dict[str, Any], fits: dict[str, Any]
) -> StudyResult:
    """The study's result from its stored units (``key → result``)."""
    from recdyn import bandits

    frame = frames.panel_frame(panels)
    fit_frame = moe.moe_frame(fits)
    result = StudyResult(study.name, out, title=TITLE)
    result.tables["runs"] = frame
    result.tables["summary"] = frames.summary(
        frame, ["source", "arms", "dim", "N", "s", "arch"], "regret"
    ).merge(frames.summary(frame, ["source", "arms", "dim", "N", "s", "arch"], "relative")
            .rename(columns={"mean": "relative", "se": "relative_se"}).drop(columns="n"),
            on=["source", "arms", "dim", "N", "s", "arch"])  # fmt: skip
    result.tables["sweeps"] = frames.sweep_frame(sweeps)
    result.tables["hyperparameters"] = _hyper_table(sweeps)
    if len(fit_frame):
        result.tables["moe"] = fit_frame
    ml = study.grid["multilabel"]
    ml_world = bandits.make("multilabel-synthetic-v1", n_arms=ml["arms"], dim=ml["dim"])
    result.findings = [
        *bandit_findings(frame, study.grid),
        coverage_finding(ml_world.data.labels),
        *moe.moe_findings(fit_frame),
    ]
    costs = pd.DataFrame(
        [{"unit": k, "seconds": round(v.get("seconds", 0.0), 1)} for k, v in
         {**sweeps, **panels}.items()]
        + [{"unit": k, "seconds": round(sum(r["seconds"] for r in v["rows"]), 1)}
           for k, v in fits.items()]
    )
    result.tables["costs"] = costs
    reproduced = sum(f.reproduced is True for f in result.findings)
    result.intro = Markup(
        "<p>Single- and two-stage contextual-bandit recommenders on the synthetic linear "
        "world and a multi-label world calibrated to AmazonCat-13K's label statistics, and "
        "a learned pool allocation against random pools. <b>{} of {} claims "
        "reproduce.</b> Units took {:,.0f} s of compute in all.</p>"
    ).format(reproduced, len(result.findings), costs["seconds"].sum())
    shown = [figure(caption, path) for caption, path in _figures(study, out, frame, fit_frame)]
    result.sections = [
        ("Protocol as run", [_protocol(study)]),
        ("Figures", shown),
        ("Hyperparameters (Tables 4.1 and 4.3, rerun)",
         [Prose(Markup("<p>Every learner's grid ({} … {}) on the single stage; the figures "
                       "use the selections below (lowest mean regret at T).</p>").format(
             f"{SWEEP_VALUES[0]:g}", f"{SWEEP_VALUES[-1]:g}")),
          frame_table(result.tables["hyperparameters"])]),
        ("Cost", [Prose(Markup("<p>Seconds of compute per kind of unit (every unit in "
                               "<code>costs.csv</code>).</p>")),
                  frame_table(_cost_summary(costs))]),
    ]
    return result


def _cost_summary(costs: pd.DataFrame) -> pd.DataFrame:
    kind = costs["unit"].str.extract(r"^([a-z]+)", expand=False).map(KINDS)
    g = costs.groupby(kind, sort=False)["seconds"]
    return pd.DataFrame({"units": g.size(), "seconds": g.sum().round(0),
                         "longest unit": g.max().round(0)}).reset_index(names="kind")


KINDS = {"sweep": "hyperparameter sweeps", "syn": "synthetic panels (Fig. 4.3)",
         "ml": "multi-label panels (Fig. 4.4)", "lfm": "Last.fm proxy (Fig. 4.4)",
         "moe": "pool allocation fits (Fig. 4.5)"}


def _protocol(study: Any) -> Definitions:
    g, ml = study.grid, study.grid["multilabel"]
    swept = "; ".join(f"{LEARNERS[k]}: {', '.join(v)}" for k, v in SWEPT.items())
    return Definitions([
        ("synthetic world", f"linear-v1, noise {g['noise']}, T = {g['rounds']}, "
         f"{g['seeds']} seeds; d ∈ {list(g['dims'])}, ρ = s/d ∈ {list(g['rhos'])}"),
        ("multi-label world", f"multilabel-synthetic-v1, d = {ml['dim']}, |A| = {ml['arms']}, "
         f"T = {ml['rounds']}, {ml['seeds']} seeds; N ∈ {list(ml['nominators'])}, s ∈ "
         f"{list(ml['features'])}"),
        *([("pool allocation", _moe_protocol(study.moe_grid))] if study.moe else []),
        ("swept", swept),
        ("regret", "pseudo-regret on the mean rewards, R = R^N + R^R (L2370–2380); relative: "
         "over a uniformly random agent's on the same rounds"),
        ("verdicts", "a trend reproduces when ≥ ⅔ of the groups move beyond two standard "
         "errors in the claimed direction and none against it"),
    ])  # fmt: skip


def _moe_protocol(g: dict[str, Any]) -> str:
    from recdyn.bandits.moe import BATCH_SIZE, STEPS

    return (
        f"multilabel-synthetic-v1 ({g['n_points']:,} points: {g['n_test']:,} held out, the "
        f"rest the training pool); N ∈ {list(g['experts'])}, c ∈ {list(g['per_arm'])}, "
        f"s ∈ {list(g['features'])}, d_e ∈ {list(g['item_dims'])}, {g['seeds']} seeds; "
        f"{g['steps'] or STEPS:,} steps of {BATCH_SIZE:,} (thesis: 50,000 of 4,096); MoE: "
        "Adam, σ² = 0.01 (1 at d_e = 50), the gate on the arm only; random pools: RMSProp, "
        "σ² = 1; learning rate 0.01"
    )
