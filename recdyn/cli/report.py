"""``recdyn report``: figures and one self-contained report.html of an experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recdyn.cli.core import app, console, user_errors


@app.command("report")
def report_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Output of `recdyn run`.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the report. Default: DIR/report.")
    ] = None,
    smooth: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Moving-average window (steps) of the time-series figures; 1 for none. "
            "Default: T // 50 for T steps.",
        ),
    ] = None,
) -> None:
    """Write PNG figures (95% CIs across trials) and one self-contained report.html."""
    from recdyn.experiments.console import reported_warnings
    from recdyn.experiments.report import build_report, console_table

    stdout = console()
    with user_errors(), reported_warnings(console(stderr=True)):
        report = build_report(directory, out, smooth=smooth)
    stdout.print(console_table(report))
    stdout.print(
        f"{len(report.figures)} figures and the report in [bold]{report.path.parent}[/bold]/",
        highlight=False,
    )
    stdout.print(f"open {report.path}", markup=False, highlight=False, soft_wrap=True)
