"""Registered weightings — ``recdyn.debias.weightings.make("cafl", held_out=1000)`` — and
how a recommender's ``weighting=`` parameter names one in plain data.

A weighting is named by plain data, so it fits a TOML spec and a stored result:
``"cafl"`` (a registered name), ``{name = "clipped-ips", cap = 5.0}`` (a name with
parameters) — or given as a :class:`~recdyn.debias.Weighting` object in Python.
:func:`resolve_weighting` builds the object; :class:`WeightingSpec` is the parameter
domain that accepts these forms (did-you-mean on an unknown name).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from recdyn.constraints import Constraint
from recdyn.debias.base import Weighting
from recdyn.errors import InvalidParameterError
from recdyn.registry import Registry

__all__ = ["WeightingSpec", "make", "resolve_weighting", "weightings"]

weightings: Registry[Weighting] = Registry("weighting")


def make(name: str, **params: Any) -> Weighting:
    """Build the weighting registered as ``name``."""
    return weightings.make(name, **params)


weightings.register("naive", "recdyn.debias.ips:Naive")
weightings.register("ips", "recdyn.debias.ips:InversePropensity")
weightings.register("clipped-ips", "recdyn.debias.ips:ClippedIPS")
weightings.register("snips", "recdyn.debias.ips:SelfNormalizedIPS")
weightings.register("pop", "recdyn.debias.ips:InversePopularity")
weightings.register("cafl", "recdyn.debias.cafl:CAFL")
weightings.register("cafl-per-user", "recdyn.debias.cafl:CAFLPerUser")


def resolve_weighting(value: Any) -> Weighting:
    """The :class:`Weighting` that ``value`` names: a registered name, a mapping
    ``{"name": name, **params}`` or a weighting object (returned as it is)."""
    if isinstance(value, Weighting):
        return value
    if isinstance(value, str):
        return weightings.make(value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        params = {k: v for k, v in value.items() if k != "name"}
        return weightings.make(value["name"], **params)
    raise InvalidParameterError(
        f"weighting must be a registered name ({', '.join(weightings.names())}), a mapping "
        f"{{'name': name, **params}} or a Weighting, got {value!r}"
    )


class WeightingSpec(Constraint):
    """A registered weighting's name, a mapping ``{"name": …, **params}`` whose parameters
    the weighting accepts, or a :class:`Weighting` object (kept as given: plain data
    stays plain data in ``get_params`` and specs)."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, Weighting):
            return True
        if isinstance(value, str):
            return value in weightings
        if isinstance(value, Mapping) and value.get("name") in weightings:
            try:
                resolve_weighting(value)
            except InvalidParameterError:
                return False
            return True
        return False

    def convert(self, value: Any) -> Any:
        return dict(value) if isinstance(value, Mapping) else value

    def describe(self) -> str:
        return (
            f"a registered weighting ({', '.join(map(repr, weightings.names()))}), a "
            "mapping {'name': …, **params} or a recdyn.debias.Weighting"
        )

    def why_not(self, value: Any) -> str | None:
        """For a string or mapping that names no registered weighting, or gives it bad
        parameters: which, with a did-you-mean."""
        name = value.get("name") if isinstance(value, Mapping) else value
        if not isinstance(name, str):
            return None
        if name in weightings:
            try:
                resolve_weighting(value)
            except InvalidParameterError as err:
                return str(err)
            return None
        close = difflib.get_close_matches(name, weightings.names(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"unknown weighting {name!r}.{hint} Valid: {self.describe()}"
