"""Analysis of the ``offline-vs-online`` study (thesis §2.6): :func:`collect` the runs
(:mod:`recdyn.studies._online_data`) and the two readings of topics-dynamic
(:mod:`recdyn.studies._online_reading_data`), judge the :func:`findings`
(:mod:`recdyn.studies._online_findings`), draw the figures
(:mod:`recdyn.studies._online_figures`) and write the page's text: :func:`analyse`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from recdyn.reporting.page import frame_table
from recdyn.studies import _online_figures
from recdyn.studies._online_data import Data, collect
from recdyn.studies._online_findings import findings
from recdyn.studies._online_protocol import READINGS
from recdyn.studies._online_reading_data import Readings, collect_readings
from recdyn.studies._online_reading_page import HEADING, reading_blocks
from recdyn.studies._online_readings import READING_TITLES, reading_runs
from recdyn.studies.result import StudyResult

__all__ = ["Data", "Readings", "analyse", "collect", "findings"]


def _trials_text(trials: dict[str, int]) -> str:
    """``"10"`` when every environment has 10 trials, else ``"10 (topics-dynamic-v1), 2 (…)"``."""
    if len(set(trials.values())) == 1:
        return str(next(iter(trials.values())))
    return ", ".join(f"{n} ({env})" for env, n in trials.items())


def analyse(
    out: Path, plans: dict[str, Any], study: Any, reading_plans: dict[Any, Any]
) -> StudyResult:
    """The study's result from the runs of ``plans`` (its environments) and
    ``reading_plans`` (those of its readings that ``out`` holds) in ``out``: tables,
    findings, figures (drawn into ``out``) and the page's text."""
    data = collect(out, plans, study)
    runs = reading_runs(study)
    readings = collect_readings(out, plans, reading_plans, runs, study.readings or ())
    tables = {**data.tables, **readings.tables}
    result = StudyResult(study.name, out, title=TITLE, tables=tables)
    result.findings = findings(data, study, readings)
    result.figures = _online_figures.draw(data, out, readings)
    trials = {e: plan.spec.experiment.trials for e, plan in plans.items()}
    result.intro = _intro(study, trials, bool(runs))
    result.sections = _sections(data, readings if runs else None)
    return result


TITLE = "Offline metrics vs online performance (thesis §2.6)"


def _intro(study: Any, trials: dict[str, int], with_readings: bool) -> Markup:
    mode = "quick mode (small sizes, few trials)" if study.quick else "full mode (thesis sizes)"
    readings = Markup("")
    if with_readings:
        reported = {"thesis", *(study.readings or ())}
        readings = Markup(
            " The claims on TopPop depend on how topics-dynamic is read where RecLab's code "
            "differs from the thesis's text; they are reported in each reading ({}), on the "
            "shared initial state and on one initial state per trial "
            "(section <i>Thesis text vs RecLab code</i> below)."
        ).format(", ".join(READING_TITLES[r] for r in READINGS if r in reported))
    return Markup(
        "<p>Thesis §2.6 (Krauth et al. 2020, <i>Do offline metrics predict online "
        "performance in recommender systems?</i>): each recommender is tuned by 5-fold CV "
        "grid search on RMSE over the initial uniformly sampled ratings, then run online "
        "(greedy top-1 of unrated items, retrained every step); offline nDCG@20 and RMSE "
        "are set against the online mean rating. This run: {}, environments {}; trials {}. "
        "Specs: <code>specs/</code>, results: <code>runs/</code>.{}</p>"
    ).format(mode, ", ".join(study.environments), _trials_text(trials), readings)


def _sections(data: Data, readings: Readings | None) -> list[tuple[str, list[Any]]]:
    sections = [  # the readings first: the findings' first rows are theirs
        *([(HEADING, reading_blocks(readings))] if readings is not None else []),
        (
            "Recommenders: offline metrics, online mean rating and ranks",
            [frame_table(data.cells)],
        ),
        ("Spearman ρ per environment (Fig. 2.8)", [frame_table(data.correlations)]),
        ("Wall time per recommender (seconds, one worker)", [frame_table(data.timing)]),
        (
            "Predicted wall time of the full trials on n workers (schedule model fed with "
            "this run's task times; recdyn.experiments.scaling)",
            [frame_table(data.scaling)],
        ),
    ]
    if data.llorma is not None:
        llorma = pd.DataFrame([data.llorma])
        sections.append(("LLORMA trained on all initial ratings", [frame_table(llorma)]))
    return sections
