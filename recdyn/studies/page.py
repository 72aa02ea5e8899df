"""The page of a study on the shared skeleton (:mod:`recdyn.reporting.page`): the intro,
the findings (each claim of the source against this run's numbers, with its verdict),
then the study's sections and figures."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from recdyn.reporting import page
from recdyn.reporting.page import Cell, Page, Section, Table
from recdyn.studies.result import StudyResult

#: verdict → text and CSS class of its cell.
VERDICTS = {
    True: ("✓ reproduced", "yes"),
    False: ("✗ not reproduced", "no"),
    None: ("– not checkable", "na"),
}


def _verdict(reproduced: bool | None) -> Cell:
    text, css = VERDICTS[reproduced]
    return Cell(text, css=css)


def findings_table(result: StudyResult) -> Table:
    """One row per finding: claim, source, what the source reports, what was measured
    here, and the verdict."""
    rows = [
        [f.claim, f.source, f.expected, f.measured, _verdict(f.reproduced)] for f in result.findings
    ]
    return Table(["claim", "source", "source reports", "measured here", "verdict"], rows)


def study_page(result: StudyResult) -> Page:
    """The page: title, the result's intro (HTML written with ``Markup.format``), the
    findings, then its sections (heading, blocks of :mod:`recdyn.reporting.page`) and its
    figures (caption, PNG path)."""
    counts = {v: sum(f.reproduced is v for f in result.findings) for v in VERDICTS}
    summary = (
        f"{len(result.findings)} findings: {counts[True]} reproduced, "
        f"{counts[False]} not reproduced, {counts[None]} not checkable"
    )
    body = [
        Section(
            "Findings",
            [findings_table(result)],
            "findings",
            "Each claim of the source against the numbers measured in this run.",
        )
    ]
    body += [Section(heading, blocks) for heading, blocks in result.sections]
    if result.figures:
        figures = [page.figure(c, p) for c, p in result.figures]
        body.append(Section("Figures", figures, "figures"))
    meta = [f"recdyn study {result.name}", summary, page.generated()]
    intro = [page.Prose(Markup(result.intro))] if result.intro else []
    return Page(result.title, "recdyn study", meta, body, intro=intro)


def write_study_page(result: StudyResult) -> Path:
    """Write :func:`study_page` into ``result.report``."""
    return page.write(study_page(result), result.report)
