"""The domains of the ``feedback-loops`` study's world parameters: registered environment
names, looked up when a value is checked (so worlds registered after import — or by a
module a spec imports — are valid), and per-world constructor overrides.

They subclass :class:`~recdyn.constraints.Names` and :class:`~recdyn.constraints.Options`,
so ``recdyn study feedback-loops --worlds a,b --table-world c`` reads them as those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recdyn.constraints import Constraint, Names, Options

__all__ = ["EnvironmentName", "EnvironmentNames", "PositiveNumbers", "WorldOverrides"]


def _registered() -> tuple[str, ...]:
    from recdyn.environments import environments

    return tuple(environments.names())


class EnvironmentNames(Names):
    """A non-empty list of distinct registered environment names."""

    def __init__(self) -> None:
        pass  # the options are the registry's at the time of the check

    @property
    def options(self) -> tuple[str, ...]:  # type: ignore[override]
        return _registered()


class EnvironmentName(Options):
    """One registered environment name."""

    def __init__(self) -> None:
        pass

    @property
    def options(self) -> tuple[str, ...]:  # type: ignore[override]
        return _registered()

    def why_not(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        import difflib

        close = difflib.get_close_matches(value, self.options, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"{value!r} is not a registered environment.{hint} valid: " + ", ".join(self.options)


class WorldOverrides(Constraint):
    """A mapping ``world name → {constructor argument: value}`` (JSON on the command
    line); the names and arguments are checked when the worlds are built."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, Mapping) and all(isinstance(a, str) for a in v)
            for k, v in value.items()
        )

    def convert(self, value: Any) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in value.items()}

    def describe(self) -> str:
        return 'a mapping of world names to constructor overrides ({"world": {"n_users": 200}})'


class PositiveNumbers(Constraint):
    """A non-empty list of distinct positive numbers (JSON on the command line:
    ``[0.5, 2]``), kept as a sorted tuple of floats."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            return False
        items = list(value)
        return bool(items) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < float("inf")
            for v in items
        )

    def convert(self, value: Any) -> tuple[float, ...]:
        return tuple(sorted({float(v) for v in value}))

    def describe(self) -> str:
        return "a non-empty list of positive numbers ([0.5, 2])"
