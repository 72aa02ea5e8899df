"""One registry idiom for every kind of component, with lazy entry points.

Modelled on Gymnasium's ``EnvSpec`` registration: ``register(name, "package.module:Class",
**preset)`` records *where* the class lives, not the class, so nothing is imported until a
name is used (a model that needs torch costs nothing to register); ``make(name,
**overrides)`` imports the class, checks the override names against its constructor (with
a did-you-mean), builds it from the preset updated by the overrides — the stored preset is
never changed — and records on the object what it is: ``obj.spec.name`` is the registered
name and ``obj.spec.params`` every resolved constructor parameter, so
``registry.make(obj.spec.name, **obj.spec.params)`` builds the same thing again.

Every kind uses it: ``recdyn.environments.environments``, ``recdyn.recommenders.
recommenders``, ``recdyn.policies.policies``, ``recdyn.metrics.online_metrics``,
``recdyn.metrics.offline_metrics``, ``recdyn.studies.studies``, ``recdyn.datasets.
datasets``.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from recdyn.errors import InvalidParameterError, UnknownNameError

T = TypeVar("T")

__all__ = ["Registry", "Spec", "load_entry_point"]


def load_entry_point(entry_point: str | Callable[..., Any]) -> Callable[..., Any]:
    """The object named by ``"package.module:Qualified.name"`` (a callable is returned
    as it is). Import errors propagate: the caller turns them into a useful message."""
    if callable(entry_point):
        return entry_point
    module, sep, attr = str(entry_point).partition(":")
    if not sep or not module or not attr:
        raise InvalidParameterError(
            f"entry point must be 'package.module:Name', got {entry_point!r}"
        )
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Spec:
    """What a registered name stands for — or, on an object (``obj.spec``), what the
    object is.

    name : the registered name (or, for an object built directly, its class name).
    entry_point : ``"package.module:Class"`` (or a callable) that builds it.
    params : the preset's keyword arguments; on an object, every constructor parameter.
    summary : one line for listings (default: the first line of the class docstring).
    """

    name: str
    entry_point: str | Callable[..., Any]
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    summary: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.params, MappingProxyType):
            object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def load(self) -> Callable[..., Any]:
        """The class (or factory) this entry builds, imported on first use."""
        return load_entry_point(self.entry_point)

    @property
    def factory(self) -> Callable[..., Any]:
        return self.load()

    def parameters(self) -> dict[str, Any]:
        """Every constructor parameter with the preset's value (class defaults filled in)."""
        out: dict[str, Any] = {}
        for p in inspect.signature(self.load()).parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is not p.empty:
                out[p.name] = p.default
        out.update(self.params)
        return out

    def to_dict(self) -> dict[str, Any]:
        entry = self.entry_point
        if callable(entry):
            entry = f"{entry.__module__}:{entry.__qualname__}"
        return {"name": self.name, "entry_point": entry, "params": dict(self.params)}


def check_names(name: str, factory: Callable[..., Any], params: Mapping[str, Any], kind: str):
    """Raise :class:`InvalidParameterError` for a key of ``params`` that ``factory`` does
    not take, with a did-you-mean and the valid names."""
    sig = inspect.signature(factory)
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    valid = [p for p in sig.parameters if p != "self"]
    for key in params:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            what = f"{kind} {name!r}" if kind else repr(name)
            raise InvalidParameterError(
                f"{what} has no parameter {key!r}.{hint} Valid parameters: {', '.join(valid)}"
            )


class Registry(Generic[T]):
    """Named entry points of one kind (``"environment"``, ``"recommender"`` …; the kind
    is used in messages)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: dict[str, Spec] = {}

    def register(
        self,
        name: str,
        entry_point: str | Callable[..., T],
        *,
        summary: str = "",
        **params: Any,
    ) -> Spec:
        """Register ``name`` → ``entry_point`` (``"package.module:Class"``, imported when
        the name is first used, or a callable) with preset keyword arguments ``params``."""
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(f"{self.kind} name must be a non-empty string")
        if name in self._specs:
            raise InvalidParameterError(f"{self.kind} {name!r} is already registered")
        spec = Spec(name, entry_point, params, summary)
        self._specs[name] = spec
        return spec

    def spec(self, name: str) -> Spec:
        """The registered entry ``name`` (did-you-mean on a typo)."""
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._specs), n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}.{hint} Registered: {', '.join(self.names())}"
            ) from None

    def load(self, name: str) -> Callable[..., T]:
        """The class registered as ``name``, imported now."""
        return self.spec(name).load()

    def summary(self, name: str) -> str:
        """One line describing ``name``: the registered summary, else the first line of
        its class docstring."""
        spec = self.spec(name)
        if spec.summary:
            return spec.summary
        return (inspect.getdoc(spec.load()) or "").split("\n", 1)[0]

    def make(self, name: str | Spec, **overrides: Any) -> T:
        """Build ``name`` with its preset parameters updated by ``overrides``; the object's
        ``spec`` records the registered name and its resolved parameters."""
        spec = self.spec(name.name if isinstance(name, Spec) else name)
        if isinstance(name, Spec):
            overrides = {**name.params, **overrides}
        factory = spec.load()
        check_names(spec.name, factory, overrides, self.kind)
        obj = factory(**{**spec.params, **overrides})
        if isinstance(getattr(type(obj), "spec", None), property):
            obj.spec = spec
        return obj

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[Spec]:
        return iter(self._specs[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._specs)
