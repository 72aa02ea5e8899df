"""``recdyn validate``: check an experiment spec without running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recdyn.cli.core import app, console, user_errors


@app.command("validate")
def validate_command(
    spec: Annotated[Path, typer.Argument(metavar="SPEC", help="Experiment spec (TOML).")],
) -> None:
    """Check an experiment spec without running it and print its task count."""
    from recdyn.experiments import load_spec, make_plan

    with user_errors():
        plan = make_plan(load_spec(spec))
    console().print(f"{spec}: valid — {plan.describe()}", soft_wrap=True)
