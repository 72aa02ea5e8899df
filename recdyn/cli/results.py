"""``recdyn results``: an experiment's results, summarised (and optionally as one CSV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recdyn.cli.core import app, console, user_errors


@app.command("results")
def results_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Output of `recdyn run`.")],
    csv: Annotated[Path | None, typer.Option(help="Also write every row to this CSV.")] = None,
) -> None:
    """Load an experiment's results (one row per task and step) and print a summary."""
    from recdyn.experiments.console import print_results

    with user_errors():
        results = print_results(directory, console(), console(stderr=True))
        if csv is not None:
            results.to_csv(csv, index=False)
            console().print(f"wrote {len(results)} rows to {csv}", highlight=False)
