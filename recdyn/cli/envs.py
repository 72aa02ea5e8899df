"""``recdyn envs``: the registered environment presets, their sizes and parameters."""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from recdyn.cli.core import app, console
from recdyn.cli.formatting import description, fmt
from recdyn.environments import environments

#: Parameters shown in their own column.
SIZE_KEYS = ("n_users", "n_items", "users_per_step", "n_initial_ratings")


@app.command("envs")
def list_environments(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show every parameter, not only the preset's.")
    ] = False,
) -> None:
    """List the registered environment presets.

    Shows each preset's size and the parameters it sets away from its class defaults.
    """
    table = Table(
        title="Environment presets",
        caption="recdyn.make(NAME, **overrides) · recdyn simulate NAME --set KEY=VALUE",
        title_justify="left",
        caption_justify="left",
        show_lines=True,
    )
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("size", no_wrap=True)
    table.add_column("what it models; " + ("all parameters" if verbose else "preset parameters"))
    for spec in environments:
        params = spec.parameters()
        defaults = _class_defaults(spec.factory)
        if params["n_items"] is None or params["users_per_step"] is None:
            built = environments.make(spec.name)  # sizes that follow others (dual-influence)
            sizes = {"n_items": built.n_items, "users_per_step": built.users_per_step}
            params = {**params, **sizes}
        size = (
            f"{fmt(params['n_users'])} × {fmt(params['n_items'])}\n"
            f"{fmt(params['users_per_step'])} users/step\n"
            f"{fmt(params['n_initial_ratings'])} initial"
        )
        shown = []
        for key, value in params.items():
            if key in SIZE_KEYS:
                continue
            changed = key in spec.params and _differs(value, defaults.get(key, object()))
            if verbose or changed:
                shown.append(Text(f"{key}={fmt(value)}", style="green" if changed else "dim"))
        cell = Text(description(spec))
        if verbose:
            cell.append(f"\n{_factory_name(spec.factory)}", style="dim italic")
        if shown:
            cell.append("\n")
            cell.append(Text("  " if verbose else "\n").join(shown))
        table.add_row(spec.name, size, cell)
    console().print(table)


def _class_defaults(factory: Any) -> dict[str, Any]:
    """The default of each keyword parameter of ``factory`` (``{}`` when unknown)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}


def _factory_name(factory: Any) -> str:
    """``Class`` of a class, or of a lazy ``"package.module:Class"`` entry point."""
    return getattr(factory, "__name__", None) or str(factory).rsplit(":", 1)[-1]


def _differs(a: Any, b: Any) -> bool:
    try:
        return bool(a != b)
    except (TypeError, ValueError):  # e.g. arrays
        return True
