"""Analysis of the ``polarization`` study (seed 004): the numbers
(:mod:`recdyn.studies._polarization_data`), the findings
(:mod:`recdyn.studies._polarization_findings`), the figures
(:mod:`recdyn.studies._polarization_figures`) and the page's text: :func:`analyse`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from recdyn.reporting.formatting import fmt_ci
from recdyn.reporting.page import Definitions, Prose, frame_table
from recdyn.studies._polarization_data import SHORT, PolarizationData, collect, reported
from recdyn.studies._polarization_figures import draw_figures
from recdyn.studies._polarization_findings import findings
from recdyn.studies._polarization_protocol import BY_KEY, POLARIZED
from recdyn.studies.result import StudyResult

__all__ = ["TITLE", "analyse"]

TITLE = "Creators who move: polarization under user–creator dual influence (seed 004)"


def analyse(study: Any, out: Path, results: dict[str, pd.DataFrame]) -> StudyResult:
    """The study's result from each sweep's stored results (``key → load_results``)."""
    settings = {key: study.settings(key) for key in results}
    data = collect(results, settings, study.every, study.n_creators)
    result = StudyResult(study.name, out, title=TITLE)
    result.tables["end_values"] = _end_table(data)
    result.tables["runs"] = data.ends
    result.tables["curves"] = data.curves
    result.findings = findings(data)
    result.figures = draw_figures(data, out)
    result.intro = _intro(study)
    sections: list[tuple[str, list[Any]]] = [("Protocol as run", [_choices(study, data)])]
    secondary = _secondary_table(data)
    if not secondary.empty:
        result.tables["secondary"] = secondary
        note = Prose(
            Markup(
                "<p>The seed gives no result table; these numbers come from secondary notes "
                "on the paper (<code>seeds_methods_digest.md</code> §1.6). Ours: mean ± 95 % "
                "interval over runs at step T.</p>"
            )
        )
        sections.append(("(f) The sources' numbers beside ours", [note, frame_table(secondary)]))
    sections.append(("End values of every setting", [frame_table(result.tables["end_values"])]))
    result.sections = sections
    return result


def _knob(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:g}"


def _end_table(data: PolarizationData) -> pd.DataFrame:
    """One row per (sweep, knob value): each metric at T and the time to polarize, mean ±
    95 % interval, and how many runs polarized."""
    rows = []
    for key in data.sweeps:
        for value in data.values(key):
            hit, runs = data.share_polarized(key, value)
            row: dict[str, Any] = {
                "sweep": BY_KEY[key].title,
                "knob": f"{BY_KEY[key].knob} = {_knob(value)}",
            }
            for metric in SHORT:
                e = data.end(key, value, metric)
                row[metric] = fmt_ci(e["mean"], e["ci"])
            e = data.end(key, value, "t_pol")
            row[f"first step TP ≥ {POLARIZED}"] = fmt_ci(e["mean"], e["ci"]) if hit else "–"
            row["runs polarized"] = f"{hit}/{runs}"
            rows.append(row)
    return pd.DataFrame(rows)


def _secondary_table(data: PolarizationData) -> pd.DataFrame:
    """The sources' TP and CD beside ours (the README's table)."""
    rows = []
    for r, value, tp, cd in reported(data):
        rows.append(
            {
                "setting": r.setting if r.value >= 0 else f"β = 1, k = n = {value:g}",
                "TP (sources)": r.tp,
                "TP (here)": fmt_ci(tp["mean"], tp["ci"]),
                "CD (sources)": r.cd,
                "CD (here)": fmt_ci(cd["mean"], cd["ci"]),
            }
        )
    return pd.DataFrame(rows)


def _intro(study: Any) -> Markup:
    mode = "quick mode (fewer steps and runs)" if study.quick else "full mode"
    return Markup(
        "<p>Seed 004 (Lin et al., NeurIPS 2024): users and creators live on the unit "
        "sphere; a user moves towards the creators it is shown and likes (away from those "
        "it dislikes), a creator towards the average of its audience. The paper proves "
        "that when every creator can be shown to every user the creators <i>polarize</i> "
        "(all at one point, or at two opposite ones: TP = 1), and that top-k truncation "
        "can prevent it. Here each knob moves alone from a base (oracle recommender, "
        "softmax β = 1, η = 0.1): k, β, τ, η, ε, ρ; then k and ρ with a learned "
        "matrix factorisation, and k from real-data embeddings. <b>TP</b>: mean |cos| "
        "between two creators (≈ 0.26 for random directions in d = 10, 1 when polarized); "
        "<b>CD</b>: mean distance between two creators (≈ 1.40 random, ≈ 1.0 at two "
        "opposite poles, 0 at one). This run: {}. Specs: <code>specs/</code>, runs: "
        "<code>runs/</code>.</p>"
    ).format(mode)


def _choices(study: Any, data: PolarizationData) -> Definitions:
    """The protocol as run, the seed's silences included."""
    sweeps = "; ".join(
        f"{key}: {BY_KEY[key].knob} ∈ {{{', '.join(_knob(v) for v in study.values(key))}}}"
        for key in study.sweeps
    )
    return Definitions(
        [
            (
                "world",
                f"dual-influence-v1, m = {study.n_users} users, n = {study.n_creators} "
                f"creators, d = {study.dim} (004 L37), every user shown one creator "
                "per step",
            ),
            (
                "steps, runs",
                f"T = {data.steps} steps; {study.n_runs} runs per setting, each "
                "from its own uniformly drawn world, the same in every sweep",
            ),
            ("base", f"oracle, softmax β = 1, η_u = η_c = {study.eta} (η: our choice)"),
            ("sweeps", sweeps),
            (
                "learned recommender (e)",
                f"mf-als, rank {study.mf_rank}, retrained every "
                f"{study.mf_retrain_every} steps on all ratings",
            ),
            (
                "real-data start (g)",
                f"init = {study.real_init}: users sampled from its MF "
                "embeddings, creators = k-means centroids of its items",
            ),
            (
                "diversity boost",
                "score + ρ·Σ_k p_uk ‖x_i − x_k‖ (one gradient step on RR + "
                "ρ·RD); the paper's Eq. 5 is not recoverable from the seed",
            ),
            (
                "measured",
                f"CD, TP, RD, RR, creator clusters (cosine > 0.999) every "
                f"{study.every} steps; time to polarize: first such step with TP ≥ "
                f"{POLARIZED}",
            ),
        ]
    )
