"""The ``recdyn`` Typer application, its consoles and its one way of reporting errors.

Every :class:`~recdyn.errors.RecdynError` (a bad name, a parameter out of range …) is
reported as one line ``error: <message>`` on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

import recdyn
from recdyn.errors import RecdynError

#: Width of the tables written to a pipe or a file (a terminal uses its own width;
#: ``COLUMNS`` set in the environment wins over both).
PIPE_WIDTH = 200

app = typer.Typer(
    name="recdyn",
    help="recdyn — simulate the long-term dynamics of recommender systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) without syntax highlighting.

    Built per call so that test runners that swap ``sys.stdout``/``sys.stderr`` are
    honoured. Not a terminal (a pipe, a file): tables get :data:`PIPE_WIDTH` columns
    instead of rich's 80, so that they are not squeezed.
    """
    out = Console(stderr=stderr, highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(stderr=stderr, highlight=False, width=PIPE_WIDTH)
    return out


def print_error(message: str) -> None:
    """``error: <message>`` in red on stderr, never wrapped."""
    console(stderr=True).print(Text(f"error: {message}", style="red"), soft_wrap=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a :class:`RecdynError` into ``error: <message>`` (red, stderr) and exit 2."""
    try:
        yield
    except RecdynError as err:
        print_error(str(err))
        raise typer.Exit(code=2) from None


@contextmanager
def interruptible(saved: str) -> Iterator[None]:
    """Ctrl-C: say what is ``saved`` and how to resume, and exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        console(stderr=True).print(
            f"interrupted: {saved}; run the same command to resume", highlight=False
        )
        raise typer.Exit(130) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recdyn {recdyn.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """recdyn — simulate the long-term dynamics of recommender systems.

    Run `recdyn envs` to see the environment presets, `recdyn recommenders` for the
    models, and `recdyn simulate ENV` to run the recommend → observe → retrain loop.
    """
