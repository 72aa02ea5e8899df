"""``KEY=VALUE`` options (``--set``, ``--param``, ``--policy-param``, ``--grid``) and
comma-separated lists, parsed into Python values."""

from __future__ import annotations

import json
from typing import Any

from recdyn.errors import InvalidParameterError


def parse_assignments(items: list[str] | None, option: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}`` (values parsed as JSON when possible)."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise InvalidParameterError(
                f"{option} expects KEY=VALUE with KEY a parameter name, got {item!r}"
            )
        out[key] = parse_value(raw.strip())
    return out


def parse_value(raw: str) -> Any:
    """``raw`` read as JSON when it parses (arrays become tuples), else the string itself."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return _tuples(value)


def parse_grid(items: list[str], option: str) -> dict[str, list[Any]]:
    """``["k=10,50", "shrinkage=[0, 100]"]`` → ``{"k": [10, 50], "shrinkage": [0, 100]}``."""
    grid = {}
    for key, values in parse_assignments(items, option).items():
        raw = values if isinstance(values, tuple) else (values,)
        if isinstance(values, str):
            raw = tuple(parse_value(v.strip()) for v in values.split(","))
        grid[key] = list(raw)
    return grid


def parse_names(text: str, option: str) -> list[str]:
    """``"a, b"`` → ``["a", "b"]``; at least one name."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidParameterError(f"{option} needs comma-separated names; got {text!r}")
    return names


def _tuples(value: Any) -> Any:
    # JSON arrays become tuples: pair-valued parameters (ranges, probabilities) are tuples.
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value
