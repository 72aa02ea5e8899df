"""``recdyn recommenders``: the registered recommenders and their hyperparameters."""

from __future__ import annotations

from rich.table import Table

from recdyn.cli.core import app, console
from recdyn.cli.formatting import description, fmt
from recdyn.recommenders import recommenders


@app.command("recommenders")
def list_recommenders() -> None:
    """List the registered recommenders and their hyperparameters (with defaults)."""
    table = Table(title="Recommenders (simulate -r NAME --param KEY=VALUE)", title_justify="left")
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("what it does", ratio=3)
    table.add_column("hyperparameters (default)", ratio=2)
    for spec in recommenders:
        internal = {"env"} if getattr(spec.factory, "requires_environment", False) else set()
        params = {k: v for k, v in spec.parameters().items() if k not in internal}
        hyper = "\n".join(f"{k}={fmt(v)}" for k, v in params.items()) or "—"
        table.add_row(spec.name, description(spec), hyper)
    console().print(table)
