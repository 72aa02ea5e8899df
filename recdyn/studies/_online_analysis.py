"""Analysis of the ``offline-vs-online`` study (thesis §2.6): :func:`collect` the runs
(:mod:`recdyn.studies._online_data`), judge the :func:`findings`
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
from recdyn.studies.result import StudyResult

__all__ = ["Data", "analyse", "collect", "findings"]


def _trials_text(trials: dict[str, int]) -> str:
    """``"10"`` when every environment has 10 trials, else ``"10 (topics-dynamic-v1), 2 (…)"``."""
    if len(set(trials.values())) == 1:
        return str(next(iter(trials.values())))
    return ", ".join(f"{n} ({env})" for env, n in trials.items())


def analyse(out: Path, plans: dict[str, Any], study: Any) -> StudyResult:
    """The study's result from the runs of ``plans`` in ``out``: tables, findings,
    figures (drawn into ``out``) and the page's text."""
    data = collect(out, plans, study)
    result = StudyResult(study.name, out, title=TITLE, tables=dict(data.tables))
    result.findings = findings(data, study)
    result.figures = _online_figures.draw(data, out)
    result.intro = _intro(study, {e: plan.spec.experiment.trials for e, plan in plans.items()})
    result.sections = _sections(data)
    return result


TITLE = "Offline metrics vs online performance (thesis §2.6)"


def _intro(study: Any, trials: dict[str, int]) -> Markup:
    mode = "quick mode (small sizes, few trials)" if study.quick else "full mode (thesis sizes)"
    return Markup(
        "<p>Thesis §2.6 (Krauth et al. 2020, <i>Do offline metrics predict online "
        "performance in recommender systems?</i>): each recommender is tuned by 5-fold CV "
        "grid search on RMSE over the initial uniformly sampled ratings, then run online "
        "(greedy top-1 of unrated items, retrained every step); offline nDCG@20 and RMSE "
        "are set against the online mean rating. This run: {}, environments {}; trials {}. "
        "Specs: <code>specs/</code>, results: <code>runs/</code>.</p>"
    ).format(mode, ", ".join(study.environments), _trials_text(trials))


def _sections(data: Data) -> list[tuple[str, list[Any]]]:
    sections = [
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
