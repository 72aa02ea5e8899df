"""What every component checker shares: named checks, their failure messages, the global
random state guard, the parameter round trip and a small cache of per-component work.

A *check* is a function ``check_xxx(component, **options) -> None`` decorated with
:func:`check`: whatever goes wrong inside it is raised as a
:class:`~recdyn.errors.CheckError` that names the check and the component, e.g.
``check_policy_exclusions failed for softmax(temperature=0.5): …``, with the
attributes ``check`` (its name) and ``component`` (the component in words). A checker
module per kind (``recdyn.environments.checker``, ``recdyn.recommenders.checker``,
``recdyn.policies.checker``, ``recdyn.metrics.checker``) lists its checks in a generator
``<kind>_checks(component, **options)`` and runs them all in ``check_<kind>``;
:func:`recdyn.testing.parametrize_with_checks` turns them into one pytest item per check.
"""

from __future__ import annotations

import copy
import functools
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from recdyn.errors import CheckError, MissingDependencyError

__all__ = [
    "ContextCache",
    "GlobalRngGuard",
    "check",
    "check_name",
    "check_params_round_trip",
    "describe",
    "raises",
    "require",
    "run_checks",
    "same_params",
]


def describe(component: Any) -> str:
    """The component in words: its registered name (or class name) and parameters, e.g.
    ``softmax(temperature=0.5)``."""
    spec = getattr(component, "spec", None)
    get_params = getattr(component, "get_params", None)
    if spec is None or not callable(get_params):
        return repr(component)
    try:
        params = ", ".join(f"{k}={v!r}" for k, v in get_params().items())
    except Exception:  # a broken get_params must not hide the check that failed
        return f"{spec.name}(…)"
    return f"{spec.name}({params})"


def check(fn: Callable[..., None]) -> Callable[..., None]:
    """Make ``fn(component, **options)`` a named check: a :class:`CheckError` it raises, or
    any other exception from the component, becomes ``CheckError("<check> failed for
    <component>: <what>")`` (the original is chained). A missing optional dependency is
    not a failure and propagates as it is."""

    @functools.wraps(fn)
    def named(component: Any, *args: Any, **options: Any) -> None:
        try:
            fn(component, *args, **options)
        except MissingDependencyError:
            raise
        except CheckError as err:
            if getattr(err, "check", None):  # already named by an inner check
                raise
            raise _failure(fn.__name__, component, str(err)) from None
        except Exception as err:
            what = f"{type(err).__name__}: {err}"
            raise _failure(fn.__name__, component, what) from err

    return named


def _failure(name: str, component: Any, message: str) -> CheckError:
    who = describe(component)
    err = CheckError(f"{name} failed for {who}: {message}")
    err.check, err.component = name, who  # type: ignore[attr-defined]
    return err


def check_name(fn: Callable[..., Any]) -> str:
    """The name of a check, also when its options are bound with ``functools.partial``."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn.__name__


def run_checks(component: Any, checks: Iterable[Callable[[Any], None]]) -> None:
    """Run ``checks`` on ``component`` in order; the first failure propagates."""
    for fn in checks:
        fn(component)


def require(condition: Any, message: str) -> None:
    """Raise :class:`CheckError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckError(message)


def raises(fn: Callable[[], Any], error: type[Exception], what: str) -> None:
    """Require ``fn()`` to raise ``error`` (``what`` names the call in the message)."""
    try:
        fn()
    except error:
        return
    except Exception as err:
        raise CheckError(
            f"{what} raised {type(err).__name__}({err}), not {error.__name__}"
        ) from None
    raise CheckError(f"{what} did not raise {error.__name__}")


def same_params(a: Any, b: Any) -> bool:
    """Equality of hyperparameter values; objects of other types need only the same type
    (``clone`` deep-copies them)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_params, a, b))
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(same_params(a[k], b[k]) for k in a)
        )
    if a is None or isinstance(a, (bool, int, float, complex, str, bytes, np.generic)):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    return type(a) is type(b)


def check_params_round_trip(component: Any) -> None:
    """``get_params`` lists exactly the constructor's parameters; ``clone`` gives an object
    of the same type, registered name and parameters (not the same object);
    ``set_params(**get_params())`` changes nothing; ``repr`` names the class or
    registered name; none of this changes the component."""
    params = component.get_params()
    original = copy.deepcopy(params)
    names = type(component).param_names()
    require(
        list(params) == names,
        f"get_params() keys {list(params)} differ from the constructor's parameters {names}",
    )
    clone = component.clone()
    require(type(clone) is type(component), "clone() returned a different type")
    require(clone is not component, "clone() returned the object itself")
    got = clone.get_params()
    for name in params:
        require(
            name in got and same_params(params[name], got[name]),
            f"clone() changed parameter {name!r}: {params[name]!r} became "
            f"{got.get(name, '<missing>')!r}",
        )
    require(
        clone.spec.name == component.spec.name,
        f"clone() is named {clone.spec.name!r}, not {component.spec.name!r}",
    )
    again = component.clone().set_params(**params).get_params()
    require(same_params(params, again), "set_params(**get_params()) changed the parameters")
    text = repr(component)
    require(
        isinstance(text, str) and (type(component).__name__ in text or component.spec.name in text),
        f"repr() {text!r} names neither the class nor the registered name",
    )
    require(same_params(original, component.get_params()), "the round trip changed the object")


class GlobalRngGuard:
    """Context manager that records whether numpy's or Python's global random state was
    used inside it: ``violation`` is ``None`` or a sentence saying which."""

    violation: str | None = None

    def __enter__(self) -> GlobalRngGuard:
        self._np = np.random.get_state()  # noqa: NPY002 - inspected, not drawn from
        self._py = random.getstate()
        return self

    def __exit__(self, *exc: Any) -> None:
        after = np.random.get_state()  # noqa: NPY002
        if not (np.array_equal(self._np[1], after[1]) and self._np[2:] == after[2:]):
            self.violation = (
                "the global numpy RNG was used; draw from a np.random.Generator made from "
                "the component's seed"
            )
        elif random.getstate() != self._py:
            self.violation = "Python's global `random` module was used"

    def require_untouched(self) -> None:
        require(self.violation is None, self.violation or "")


class ContextCache:
    """The last few contexts built for components (work that several checks share, such as
    a fitted model or a recorded run), keyed by the component's identity, its parameters
    and the check options. A component whose parameters changed gets a new context."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, tuple[Any, dict, Any]] = OrderedDict()

    def get(self, component: Any, options: dict[str, Any], build: Callable[[], Any]) -> Any:
        key = (id(component), tuple(sorted((k, repr(v)) for k, v in options.items())))
        entry = self._entries.get(key)
        params = _params_or_none(component)
        if entry is not None and entry[0] is component and same_params(entry[1], params):
            self._entries.move_to_end(key)
            return entry[2]
        context = build()
        self._entries[key] = (component, copy.deepcopy(params), context)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return context

    def forget(self, component: Any) -> None:
        """Drop every context of ``component`` (``check_<kind>`` does at its end)."""
        for key in [k for k, v in self._entries.items() if v[0] is component]:
            del self._entries[key]


def _params_or_none(component: Any) -> Any:
    try:
        return component.get_params()
    except Exception:
        return None
