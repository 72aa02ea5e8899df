"""A small generic registry of named factories with preset parameters.

Modelled on ``gymnasium.envs.registration``: ``register(name, factory, **defaults)``, then
``make(name, **overrides)``. ``make`` validates the override names against the preset and
the factory signature, never mutates the stored preset (RecLab's did), and suggests close
names on a typo.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from recdyn.errors import InvalidParameterError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Spec:
    """A registered entry: its name, factory, preset parameters and one-line summary."""

    name: str
    factory: Callable[..., Any]
    params: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    summary: str = ""

    def parameters(self) -> dict[str, Any]:
        """All constructor parameters with the preset's values (factory defaults filled in)."""
        out: dict[str, Any] = {}
        for p in inspect.signature(self.factory).parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty:
                out[p.name] = p.default
        out.update(self.params)
        return out


class Registry(Generic[T]):
    """Named factories; ``kind`` ("environment", "recommender" …) is used in messages."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: dict[str, Spec] = {}

    def register(
        self, name: str, factory: Callable[..., T], *, summary: str = "", **params: Any
    ) -> Spec:
        if name in self._specs:
            raise InvalidParameterError(f"{self.kind} {name!r} is already registered")
        self.check_parameters(name, factory, params)
        doc = summary or (inspect.getdoc(factory) or "").split("\n", 1)[0]
        spec = Spec(name, factory, MappingProxyType(dict(params)), doc)
        self._specs[name] = spec
        return spec

    def spec(self, name: str) -> Spec:
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._specs), n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{hint} Registered: {', '.join(sorted(self._specs))}"
            ) from None

    def make(self, name: str, **overrides: Any) -> T:
        """Build ``name`` with its preset parameters, updated by ``overrides``."""
        spec = self.spec(name)
        self.check_parameters(name, spec.factory, overrides)
        return spec.factory(**{**spec.params, **overrides})

    def check_parameters(self, name: str, factory: Callable[..., Any], params: dict) -> None:
        """Raise :class:`InvalidParameterError` for a key of ``params`` that ``factory``
        does not take (a lazy factory taking ``**params`` calls it with the real class)."""
        sig = inspect.signature(factory)
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            return
        valid = [p for p in sig.parameters if p not in ("self",)]
        for key in params:
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InvalidParameterError(
                    f"{self.kind} {name!r} has no parameter {key!r}.{hint} "
                    f"Valid parameters: {', '.join(valid)}"
                )

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[Spec]:
        return iter(self._specs[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._specs)
