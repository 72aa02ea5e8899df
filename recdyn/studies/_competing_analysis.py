"""Analysis of the ``competing-objectives`` study (seeds 000–001): each claim module's
frame, findings, figures and protocol rows on one page."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
from markupsafe import Markup

from recdyn.reporting.page import Definitions, figure, frame_table
from recdyn.studies.result import StudyResult

__all__ = ["TITLE", "analyse"]

TITLE = "Competing objectives over time: calibration, embedding size, position bias, trade-offs"

#: claim → (its letter in issue 21, the page's heading)
HEADINGS = {
    "calibration": ("a", "Calibration restores secondary interests"),
    "embedding": ("b", "Small embeddings drive popularity bias"),
    "position": ("c", "Position bias and the position tower"),
    "tradeoffs": ("d", "Each re-ranker's trade-offs, at the start and after T steps"),
}


def _seconds(result: Any) -> float:
    """A unit's compute time: its ``seconds``, else the sum of the ``seconds`` of the runs
    or rows it lists."""
    if isinstance(result, dict):
        if "seconds" in result:
            return float(result["seconds"])
        return sum(_seconds(v) for v in result.values() if isinstance(v, list))
    if isinstance(result, list):
        return sum(_seconds(v) for v in result if isinstance(v, dict))
    return 0.0


def analyse(
    study: Any, out: Path, results: dict[str, dict[str, Any]], modules: dict[str, ModuleType]
) -> StudyResult:
    """The study's result from its stored units (claim → key → result), each claim judged
    by its module (claim → module)."""
    result = StudyResult(study.name, out, title=TITLE)
    protocol, sections, costs = [], [], []
    for claim, units in results.items():
        module = modules[claim]
        letter, heading = HEADINGS[claim]
        frame = module.frame(units)
        result.tables[claim] = frame
        found = module.findings(frame)
        result.findings += [replace(f, claim=f"({letter}) {f.claim}") for f in found]
        protocol += [(f"({letter}) {what}", how) for what, how in module.protocol(
            study.grid(claim))]  # fmt: skip
        shown = [figure(caption, path) for caption, path in module.figures(frame, out)]
        sections.append((f"({letter}) {heading}", shown))
        costs += [{"claim": claim, "unit": key, "seconds": round(_seconds(r), 1)}
                  for key, r in units.items()]  # fmt: skip
    cost = pd.DataFrame(costs, columns=["claim", "unit", "seconds"])
    result.tables["costs"] = cost
    reproduced = sum(f.reproduced is True for f in result.findings)
    checked = sum(f.reproduced is not None for f in result.findings)
    result.intro = Markup(
        "<p>The seeds' claims about competing objectives, tested where the truth is known: "
        "offline on ML-100K and inside the loop in simulated worlds. The seeds give no "
        "numbers, so each verdict applies a rule stated beside it before the run. <b>{} of {} "
        "checkable claims reproduce</b> ({} findings in all). Units took {:,.0f} s of compute "
        "({}).</p>"
    ).format(reproduced, checked, len(result.findings), cost["seconds"].sum(),
             "quick size" if study.quick else "full size")  # fmt: skip
    summary = cost.groupby("claim", sort=False)["seconds"].agg(["size", "sum", "max"])
    summary = summary.round(0).reset_index()
    summary.columns = ["claim", "units", "seconds", "longest unit"]
    result.sections = [
        ("Protocol as run", [Definitions(protocol)]),
        *sections,
        ("Cost", [frame_table(summary)]),
    ]
    return result
