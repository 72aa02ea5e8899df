"""Domains of hyperparameters: the constraints that ``Annotated`` signatures declare.

Modelled on scikit-learn's parameter constraints: a value is valid when one constraint of
a parameter's list accepts it, and the first that does converts it (an ``Interval`` of
integers gives an ``int``, of reals a ``float``, :class:`Pair` a tuple …); ``None`` in the
list allows ``None``. :func:`check_value` applies a list; :mod:`recdyn.params` reads the
lists off constructor signatures.
"""

from __future__ import annotations

import difflib
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from recdyn.errors import InvalidParameterError

__all__ = [
    "Boolean",
    "Constraint",
    "InstanceOf",
    "Interval",
    "MappingOf",
    "Names",
    "Options",
    "Pair",
    "Seed",
    "Truthy",
    "check_value",
]


class Constraint(ABC):
    """A domain of valid values for one parameter."""

    @abstractmethod
    def accepts(self, value: Any) -> bool:
        """Whether ``value`` lies in the domain."""

    def convert(self, value: Any) -> Any:
        """The value as the component stores it (called only on accepted values)."""
        return value

    @abstractmethod
    def describe(self) -> str:
        """The domain in words, completing "must be …"."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.describe()}>"


class Interval(Constraint):
    """Numbers of ``kind`` (``numbers.Integral`` or ``numbers.Real``) in an interval.

    ``closed``: ``"both"`` (default), ``"left"``, ``"right"`` or ``"neither"``; ``None``
    bounds are infinite. Booleans, NaN and infinities are never accepted.
    """

    def __init__(
        self,
        kind: type,
        low: float | None = None,
        high: float | None = None,
        closed: str = "both",
    ) -> None:
        if kind not in (numbers.Integral, numbers.Real):
            raise TypeError("Interval kind must be numbers.Integral or numbers.Real")
        if closed not in ("both", "left", "right", "neither"):
            raise TypeError(f"closed must be both, left, right or neither; got {closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if not math.isfinite(value):
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return low_ok and high_ok

    def convert(self, value: Any) -> Any:
        return int(value) if self.kind is numbers.Integral else float(value)

    def describe(self) -> str:
        what = "an integer" if self.kind is numbers.Integral else "a real number"
        if self.low is None and self.high is None:
            return what
        lo = "[" if self.closed in ("both", "left") and self.low is not None else "("
        hi = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        a = "-inf" if self.low is None else _number(self.low)
        b = "inf" if self.high is None else _number(self.high)
        return f"{what} in {lo}{a}, {b}{hi}"


class Pair(Constraint):
    """A pair of real numbers, each in ``[low, high]``; a single number is used for both."""

    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        self._item = Interval(numbers.Real, low, high)

    def accepts(self, value: Any) -> bool:
        if self._item.accepts(value):
            return True
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            return False
        items = list(value)
        return len(items) == 2 and all(self._item.accepts(v) for v in items)

    def convert(self, value: Any) -> tuple[float, float]:
        if self._item.accepts(value):
            return (float(value), float(value))
        a, b = value
        return (float(a), float(b))

    def describe(self) -> str:
        return f"a number or a pair of numbers, each {self._item.describe()[2:]}"


class Options(Constraint):
    """One of a fixed set of values (usually strings)."""

    def __init__(self, options: Iterable[Any]) -> None:
        self.options = tuple(options)

    def accepts(self, value: Any) -> bool:
        try:
            return any(value == o and _same_kind(value, o) for o in self.options)
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.options))


def _same_kind(value: Any, option: Any) -> bool:
    """``value`` has ``option``'s type (so ``True`` is not the option ``1``); a string
    option also takes ``str`` subclasses such as ``numpy.str_``."""
    if isinstance(option, str):
        return isinstance(value, str)
    return type(value) is type(option)


class Boolean(Constraint):
    """``True`` or ``False`` (numpy booleans too)."""

    def accepts(self, value: Any) -> bool:
        # numpy's boolean scalar is ``numpy.bool_`` (numpy 1) or ``numpy.bool`` (numpy 2)
        kind = type(value)
        return isinstance(value, bool) or (
            kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool")
        )

    def convert(self, value: Any) -> bool:
        return bool(value)

    def describe(self) -> str:
        return "True or False"


class Truthy(Boolean):
    """Any value with a truth value, stored as ``bool(value)`` (``clip=0`` is ``False``):
    the domain of flags that were always coerced rather than checked. New parameters
    should use :class:`Boolean`."""

    def accepts(self, value: Any) -> bool:
        try:
            bool(value)
        except Exception:  # e.g. a numpy array of several elements
            return False
        return True

    def describe(self) -> str:
        return "a value with a truth value (True or False)"


class InstanceOf(Constraint):
    """An instance of ``cls`` (kept as it is)."""

    def __init__(self, cls: type | tuple[type, ...], what: str | None = None) -> None:
        self.cls = cls
        self.what = what

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.cls)

    def describe(self) -> str:
        if self.what:
            return self.what
        names = self.cls if isinstance(self.cls, tuple) else (self.cls,)
        return "an instance of " + " or ".join(c.__name__ for c in names)


class Names(Constraint):
    """A non-empty list of distinct names, each one of ``options`` (kept as a tuple, in the
    given order, duplicates dropped)."""

    def __init__(self, options: Iterable[str]) -> None:
        self.options = tuple(options)

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            return False
        items = list(value)
        return bool(items) and all(isinstance(v, str) and v in self.options for v in items)

    def convert(self, value: Any) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    def describe(self) -> str:
        return "a non-empty list of names among " + ", ".join(self.options)

    def why_not(self, value: Any) -> str | None:
        """For a list with unknown names: which, with a did-you-mean."""
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            return None
        unknown = [v for v in value if v not in self.options]
        if not unknown:
            return None
        close = difflib.get_close_matches(str(unknown[0]), self.options, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return f"unknown {', '.join(map(repr, unknown))}.{hint} valid: {', '.join(self.options)}"


class MappingOf(Constraint):
    """A mapping from names among ``keys`` to values accepted by ``values`` (a dict)."""

    def __init__(self, keys: Iterable[str], values: Constraint) -> None:
        self.keys = tuple(keys)
        self.values = values

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping) and all(
            k in self.keys and self.values.accepts(v) for k, v in value.items()
        )

    def convert(self, value: Any) -> dict[str, Any]:
        return {k: self.values.convert(v) for k, v in value.items()}

    def describe(self) -> str:
        return f"a mapping of names among {', '.join(self.keys)} to {self.values.describe()}"


class Seed(Interval):
    """A non-negative integer seed (``None`` is added separately where allowed)."""

    def __init__(self) -> None:
        super().__init__(numbers.Integral, 0, None)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def _describe(constraints: list[Any]) -> str:
    parts = ["None" if c is None else c.describe() for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def check_value(name: str, value: Any, constraints: list[Any]) -> Any:
    """``value`` converted by the first constraint that accepts it (``None`` in the list
    accepts ``None``); else :class:`InvalidParameterError` naming ``name`` and the domain."""
    for c in constraints:
        if c is None:
            if value is None:
                return None
        elif c.accepts(value):
            return c.convert(value)
    for c in constraints:
        reason = getattr(c, "why_not", lambda v: None)(value)
        if reason:
            raise InvalidParameterError(f"{name}: {reason}")
    raise InvalidParameterError(f"{name} must be {_describe(constraints)}, got {value!r}")
