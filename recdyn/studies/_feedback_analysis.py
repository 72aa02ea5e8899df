"""Analysis of the ``feedback-loops`` study (thesis ch. 3, §3.4): the figures' data
(:mod:`recdyn.studies._feedback_data`) and Table 3.1's (:mod:`recdyn.studies.
_feedback_table_data`), the findings (:mod:`recdyn.studies._feedback_findings`), the
figures (:mod:`recdyn.studies._feedback_figures`) and the page's text: :func:`analyse`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from recdyn.reporting.formatting import fmt_ci
from recdyn.reporting.page import Definitions, Prose, frame_table
from recdyn.studies._feedback_data import METRICS, FigureData, collect
from recdyn.studies._feedback_figures import draw_figures, draw_table
from recdyn.studies._feedback_findings import figure_findings, table_findings
from recdyn.studies._feedback_table_data import TableData, collect_table
from recdyn.studies.result import StudyResult

__all__ = ["TITLE", "analyse"]

TITLE = "Feedback loops measured and corrected (thesis ch. 3, Figs. 3.2–3.4, Table 3.1)"


def analyse(
    study: Any,
    out: Path,
    figures: dict[str, pd.DataFrame],
    table: dict[str, dict[str, Any]] | None,
    sensitivity: dict[str, dict[str, Any]] | None = None,
) -> StudyResult:
    """The study's result from the figures' experiments (``name → results``) and Table
    3.1's units and sensitivity units (``None`` when not run): tables, findings, figures
    and text."""
    result = StudyResult(study.name, out, title=TITLE)
    data = collect(figures, study.experiment_names()) if figures else None
    rows = collect_table(table, sensitivity) if table else None
    if data is not None:
        result.tables.update(_figure_tables(data))
        result.findings += figure_findings(data)
        result.figures += draw_figures(data, out)
    if rows is not None:
        result.tables["table3_1"] = rows.table()
        result.tables["table3_1_units"] = rows.units
        if rows.sensitivity_table() is not None:
            result.tables["table3_1_sensitivity"] = rows.sensitivity_table()
        result.findings += table_findings(rows)
        result.figures.append(draw_table(rows, out))
    result.intro = _intro(study)
    result.sections = _sections(study, data, rows)
    return result


def _figure_tables(data: FigureData) -> dict[str, pd.DataFrame]:
    titles = {m: METRICS[m].title for m in METRICS}
    summary = data.summary.assign(metric=data.summary["metric"].map(titles))
    effects = data.effects.assign(metric=data.effects["metric"].map(titles))
    curves = data.curves.assign(metric=data.curves["metric"].map(titles))
    return {"arms": summary, "effects": effects, "curves": curves}


def _arms_table(data: FigureData) -> pd.DataFrame:
    """One row per (world, arm): each metric's run average and final value, mean ± CI."""
    rows = []
    for (world, arm), part in data.summary.groupby(["world", "arm"], sort=False):
        row: dict[str, Any] = {"world": world, "arm": arm, "runs": int(part["n"].min())}
        for r in part.itertuples(index=False):
            name = {"heldout_rmse": "RMSE", "heldout_ndcg@20": "nDCG@20"}.get(
                r.metric, "H (current)" if r.metric == "homogenization" else "H (cumulative)"
            )
            row[f"{name} average"] = fmt_ci(r.average, r.average_ci)
            row[f"{name} final"] = fmt_ci(r.final, r.final_ci)
        rows.append(row)
    return pd.DataFrame(rows)


def _effects_table(data: FigureData) -> pd.DataFrame:
    e = data.effects
    return pd.DataFrame(
        {
            "world": e["world"],
            "metric": e["metric"].map({m: METRICS[m].title for m in METRICS}),
            "difference of run averages": e["comparison"],
            "mean ± 95 % CI": [fmt_ci(m, c) for m, c in zip(e["mean"], e["ci"])],
            "runs": e["n"],
        }
    )


def _intro(study: Any) -> Markup:
    mode = "quick mode (small worlds, few steps and runs)" if study.quick else "full mode"
    return Markup(
        "<p>Thesis ch. 3 (§3.4): does a recommender that learns from its own "
        "recommendations learn a biased model, and does CAFL (causal adjustment for "
        "feedback loops, Corollary 1) correct it? Figs. 3.2–3.4 run matrix factorisation "
        "(ALS) in three arms — <b>Feedback</b> (trained on its own recommendations), "
        "<b>Uniform</b> (trained on as many uniformly drawn, never-recommended pairs: the "
        "shadow arm) and <b>CAFL</b> (its own recommendations, CAFL-weighted) — and score "
        "each on held-out pairs that are never recommended. Table 3.1 trains a weighted GMF "
        "on the Pan/Chaney benchmark with four corrections. This run: {}; parts: {}. "
        "Specs: <code>specs/</code>, runs: <code>runs/</code>, Table 3.1 units: "
        "<code>table/</code>.</p>"
    ).format(mode, ", ".join(study.parts))


def _choices(study: Any) -> Definitions:
    """The protocol as run, the thesis's unstated defaults included."""
    items = [("parts", ", ".join(study.parts))]
    if "figures" in study.parts:
        sizes = "; ".join(
            f"{w}: {study.world_overrides(w) or 'as registered'}, {study.heldout_size(w):,} "
            "held-out pairs"
            for w in study.worlds
        )
        items += [
            ("worlds (Figs. 3.2–3.4)", sizes),
            ("runs per arm", str(study.n_runs)),
            ("steps (one user per step, k = 1)", f"{study.n_steps:,} (thesis: unstated)"),
            ("retrain every", f"{study.retrain_every} steps (unstated)"),
            ("model", f"mf-als, rank {study.rank}, λ = {study.reg} (unstated)"),
            ("policy", f"softmax, temperature {study.temperature} (unstated)"),
            (
                "evaluations",
                f"every {study.every} steps: held-out RMSE and nDCG@20, homogenization "
                "(500 users per evaluation, current top-10 and cumulative)",
            ),
            ("CAFL", "Corollary 1 weights; N = UI minus the held-out pairs (L1742–1777)"),
        ]
    if "table" in study.parts:
        sizes = study.world_overrides(study.table_world) or "as registered"
        items += [
            ("world (Table 3.1)", f"{study.table_world}: {sizes}"),
            ("repeats", str(study.n_repeats)),
            ("CAFL in Table 3.1", study.table_cafl),
        ]
    return Definitions(items)


def _sections(
    study: Any, data: FigureData | None, rows: TableData | None
) -> list[tuple[str, list[Any]]]:
    sections: list[tuple[str, list[Any]]] = [("Protocol as run", [_choices(study)])]
    if rows is not None:
        note = Prose(
            Markup(
                "<p>Ratings on {}. MSE and MAE are mean ± 95 % interval over repeats; the "
                "thesis's ± is not defined in the text. <i>MSE / Naive</i> compares the "
                "rows without the rating scale, which the thesis does not state.</p>"
            ).format(rows.scale_text())
        )
        blocks = [note, frame_table(rows.table())]
        sens = rows.sensitivity_table()
        if sens is not None:
            blocks += [
                Prose(
                    Markup(
                        "<p><b>Sensitivity to GMF's penalty λ.</b> The thesis uses Pan et "
                        "al.'s GMF settings, which it does not state (L2109–2110); the table "
                        "above uses recdyn's gmf default. Naive and CAFL refitted on the same "
                        "repeats with other λ:</p>"
                    )
                ),
                frame_table(sens),
            ]
        sections.append(("Table 3.1: corrections on the Pan/Chaney benchmark", blocks))
    if data is not None:
        sections += [
            ("Arms: run averages and final values", [frame_table(_arms_table(data))]),
            ("Paired differences between arms", [frame_table(_effects_table(data))]),
        ]
    return sections
