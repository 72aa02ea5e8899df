"""The self-contained HTML page of a study: findings first, then the figures and tables.

Same rules as ``recdyn report`` (:mod:`recdyn.experiments._html`): inline style, figures as
base64 ``data:`` URIs, every run-supplied text escaped, nothing fetched from a network.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from recdyn.experiments._html import _CSS, _figure, _table, fmt
from recdyn.studies.base import StudyResult

_VERDICT = {True: "✓ reproduced", False: "✗ not reproduced", None: "– not checkable"}


def findings_html(result: StudyResult) -> str:
    rows = [
        [
            escape(f.claim),
            escape(f.source),
            escape(f.expected),
            escape(f.measured),
            _VERDICT[f.reproduced],
        ]
        for f in result.findings
    ]
    return _table(["claim", "source", "source reports", "measured here", "verdict"], rows)


def frame_html(frame: pd.DataFrame, index: bool = False) -> str:
    """A DataFrame as an escaped HTML table; numbers through :func:`fmt`."""
    if index:
        frame = frame.reset_index()
    numeric = {i for i, c in enumerate(frame.columns) if pd.api.types.is_numeric_dtype(frame[c])}
    rows = [
        [fmt(v) if i in numeric else escape(str(v)) for i, v in enumerate(row)]
        for row in frame.itertuples(index=False)
    ]
    return _table([escape(str(c)) for c in frame.columns], rows, numeric)


def render_study_page(
    result: StudyResult,
    *,
    title: str,
    intro_html: str,
    sections: list[tuple[str, str]],
    figures: list[tuple[str, Path]] | None = None,
) -> str:
    """The page: title, intro, the findings table, then ``sections`` (heading, HTML body —
    already escaped) and the ``figures`` (caption, PNG path)."""
    body = [
        '<h2 id="findings">Findings</h2>',
        '<p class="note">Each claim of the source against the numbers measured in this run.</p>',
        findings_html(result),
    ]
    for heading, html in sections:
        body += [f"<h2>{escape(heading)}</h2>", html]
    if figures:
        body += ['<h2 id="figures">Figures</h2>', *(_figure(c, p) for c, p in figures)]
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — recdyn study</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<h1>{escape(title)}</h1>
<p class="meta"><span>recdyn study {escape(result.name)}</span><span>generated {stamp}</span></p>
</header>
{intro_html}
{chr(10).join(body)}
</main>
</body>
</html>
"""


def write_study_page(result: StudyResult, **kwargs) -> Path:
    """Render :func:`render_study_page` into ``result.report``."""
    result.report.write_text(render_study_page(result, **kwargs), encoding="utf-8")
    return result.report
