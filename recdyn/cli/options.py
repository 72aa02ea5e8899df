"""Options that several commands share (``recdyn run`` and ``recdyn study``)."""

from __future__ import annotations

from typing import Annotated

import typer

Backend = Annotated[str, typer.Option(metavar="NAME", help="local (worker processes) or ray.")]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers", "-w", help="Worker processes (default: all cores; ignored with --address)."
    ),
]
Address = Annotated[
    str | None,
    typer.Option(metavar="ADDR", help="Join this Ray cluster (--backend ray), e.g. auto."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")]
