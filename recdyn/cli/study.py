"""``recdyn study``: list the built-in studies, or run one (results, figures, findings,
report.html).

The options are written out here for now; they will come from each study's declared
parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from recdyn.cli.assignments import parse_names
from recdyn.cli.core import app, console, interruptible, user_errors
from recdyn.cli.formatting import description
from recdyn.cli.options import Address, Backend, Quiet, Workers
from recdyn.errors import InvalidParameterError


@app.command("study")
def study_command(
    name: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="Study to run; omit to list the built-in studies."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes: a few minutes on 2 cores.")
    ] = False,
    backend: Backend = "local",
    workers: Workers = None,
    address: Address = None,
    seed: Annotated[int, typer.Option(help="Root seed of the study.")] = 0,
    environments: Annotated[
        str | None,
        typer.Option(metavar="A,B", help="Only these environments (offline-vs-online)."),
    ] = None,
    recommenders: Annotated[
        str | None, typer.Option(metavar="A,B", help="Only these recommenders.")
    ] = None,
    trials: Annotated[
        str | None,
        typer.Option(
            metavar="N|ENV=N,…",
            help="Trials per environment (offline-vs-online): one number, or per "
            "environment, e.g. topics-dynamic-v1=10,topics-static-v1=2. A run with more "
            "trials than a finished one keeps its tasks and runs only the new ones.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output directory (resumable). Default: runs/<name>[-quick]."),
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option(
            "--report-only",
            help="Run nothing: report the results already in --out, each environment with "
            "the trials every recommender has finished (offline-vs-online; safe while "
            "another run is growing an environment).",
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Run a built-in study of the thesis (results, figures, findings, report.html)."""
    from recdyn.experiments.console import reported_warnings
    from recdyn.studies import studies

    stdout, err = console(), console(stderr=True)
    if name is None:
        table = Table("study", "what it reproduces", box=None)
        for spec in studies:
            table.add_row(spec.name, description(spec))
        stdout.print(table)
        return
    with user_errors():
        params: dict[str, Any] = {}
        if environments is not None:
            params["environments"] = parse_names(environments, "--environments")
        if recommenders is not None:
            params["recommenders"] = parse_names(recommenders, "--recommenders")
        if trials is not None:
            params["trials"] = _trials_option(trials)
        study = studies.make(name, quick=quick, seed=seed, **params)
        directory = out if out is not None else Path("runs") / (name + ("-quick" if quick else ""))
        if report_only and not hasattr(study, "report"):
            raise InvalidParameterError(f"--report-only: study {name!r} has no separate report")
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


def _trials_option(text: str) -> int | dict[str, int]:
    """``"10"`` → 10; ``"a=10,b=2"`` → ``{"a": 10, "b": 2}``."""
    try:
        if "=" not in text:
            return int(text)
        pairs = (item.split("=") for item in text.split(",") if item.strip())
        return {env.strip(): int(n) for env, n in pairs}
    except ValueError:
        raise InvalidParameterError(
            f"--trials must be a number or ENV=N pairs separated by commas; got {text!r}"
        ) from None
