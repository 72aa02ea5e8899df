"""``recdyn study``: list the built-in studies with their options, or run one (results,
figures, findings, report.html) or report what a run stored (``--report-only``).

Options shared by every study are declared here; each study's own come from its declared
parameters (:mod:`recdyn.cli.study_options`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recdyn.cli.core import app, console, interruptible, user_errors
from recdyn.cli.formatting import description, fmt
from recdyn.cli.options import Address, Backend, Quiet, Workers
from recdyn.cli.study_options import StudyOption, parse_study_args, study_options
from recdyn.constraints import Names


@app.command(
    "study",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def study_command(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME [STUDY OPTIONS]",
            help="Study to run; omit to list the built-in studies and their own options "
            "(e.g. --environments A,B --trials 10 for offline-vs-online).",
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes: a few minutes on 2 cores.")
    ] = False,
    backend: Backend = "local",
    workers: Workers = None,
    address: Address = None,
    seed: Annotated[int, typer.Option(help="Root seed of the study.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (resumable). Default: runs/<name>[-quick]."),
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option(
            "--report-only",
            help="Run nothing: write the tables, figures, findings and report.html from the "
            "results already in --out (with the same study options as the run; safe while "
            "another run is still adding results).",
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Run a built-in study of the thesis (results, figures, findings, report.html)."""
    from recdyn.experiments.console import reported_warnings
    from recdyn.studies import studies

    stdout, err = console(), console(stderr=True)
    if name is None:
        stdout.print(_studies_table())
        return
    with user_errors():
        cls = studies.load(name)
        study = studies.make(name, quick=quick, seed=seed, **parse_study_args(cls, ctx.args))
        directory = out if out is not None else Path("runs") / (name + ("-quick" if quick else ""))
        with interruptible("finished work is saved"), reported_warnings(err):
            if report_only:
                result = study.report(directory)
            else:
                result = study.run(
                    directory,
                    backend=backend,
                    workers=workers,
                    address=address,
                    progress=not quiet,
                    console=err,
                )
    if not quiet:
        table = Table("claim", "measured", "verdict", box=None)
        verdict = {True: "[green]reproduced[/]", False: "[red]not reproduced[/]", None: "–"}
        for f in result.findings:
            table.add_row(f.claim, f.measured, verdict[f.reproduced])
        stdout.print(table)
        stdout.print(f"open {result.report}", markup=False, highlight=False, soft_wrap=True)


def _studies_table() -> Table:
    """Each study, what it reproduces and its own options (with their defaults)."""
    from recdyn.studies import studies

    table = Table("study", "what it reproduces", "its own options", box=None)
    for spec in studies:
        lines = []
        for o in study_options(spec.load()):
            default = "all" if _every_name(o) else fmt(o.default)
            value = "" if o.is_flag else f" {o.metavar}"
            lines.append(f"{o.flag}{value} (default {default}): {o.help}")
        table.add_row(spec.name, description(spec), "\n".join(lines))
    return table


def _every_name(option: StudyOption) -> bool:
    """A list-of-names option whose default is every valid name."""
    names = [c.options for c in option.constraints if isinstance(c, Names)]
    return bool(names) and tuple(option.default) == tuple(names[0])
