"""``recdyn run``: every task of an experiment spec, resumable, then a summary table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from recdyn.cli.core import app, console, interruptible, user_errors
from recdyn.cli.options import Address, Backend, Quiet, Workers


@app.command("run")
def run_command(
    spec: Annotated[Path, typer.Argument(metavar="SPEC", help="Experiment spec (TOML).")],
    backend: Backend = "local",
    workers: Workers = None,
    address: Address = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory. Default: runs/<experiment name>.")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume/--force",
            help="--resume (default) skips finished tasks; --force moves earlier results "
            "to OUT/archive/ and starts over (needed after the spec changed).",
        ),
    ] = True,
    extend: Annotated[
        bool,
        typer.Option(
            "--extend",
            help="After a spec change, keep the finished tasks it leaves unchanged (e.g. "
            "more trials or recommenders) and run only the new ones.",
        ),
    ] = False,
    max_retries: Annotated[
        int, typer.Option(help="Re-runs of a task whose worker process or node died.")
    ] = 1,
    quiet: Quiet = False,
) -> None:
    """Run every task of an experiment spec (resumable); print a summary table."""
    from recdyn.experiments import load_spec, make_plan, run_experiment
    from recdyn.experiments.console import print_results, reported_warnings

    stdout, err = console(), console(stderr=True)
    with user_errors():
        plan = make_plan(load_spec(spec))
        if not quiet:
            stdout.print(f"{plan.spec.experiment.name}: {plan.describe()}", soft_wrap=True)
        with interruptible("finished tasks are saved"), reported_warnings(err):
            result = run_experiment(
                plan,
                out,
                backend=backend,
                workers=workers,
                address=address,
                force=not resume,
                extend=extend,
                max_retries=max_retries,
                progress=not quiet,
                console=err,
            )
    if not quiet:
        print_results(result.directory, stdout, err)
        stdout.print(
            f"{result.completed} tasks run now, {result.skipped} already done, "
            f"{len(result.failed)} failed → {result.directory}",
            highlight=False,
        )
    for task_id, error in list(result.failed.items())[:5]:
        err.print(Text(f"failed {task_id}: {error.splitlines()[0]}", style="red"), soft_wrap=True)
    if result.failed:
        raise typer.Exit(1)
