"""One parameter base for every component: :class:`Parametrized`.

Modelled on scikit-learn's ``BaseEstimator``: hyperparameters are keyword arguments of the
constructor, stored as attributes of the same name, read back by :meth:`~Parametrized.
get_params`, changed by :meth:`~Parametrized.set_params` and copied by
:meth:`~Parametrized.clone`; ``repr`` shows them. Each parameter is declared once, in the
constructor's signature: its type, its valid domain (``typing.Annotated`` metadata, the
declarative constraints of scikit-learn's ``_parameter_constraints``) and its default::

    class TopPop(Recommender):
        def __init__(
            self, *, prior_weight: Annotated[float, Interval(Real, 0, None)] = 1.0
        ) -> None:
            pass  # prior_weight is checked, converted and stored by the base

A value is valid when one constraint of the metadata accepts it (``None`` in the metadata
accepts ``None``); the first that does converts it (an ``Interval(Integral, …)`` gives an
``int``, ``Interval(Real, …)`` a ``float``, :class:`Pair` a tuple). Every constructor of a
subclass is wrapped: its arguments are checked and converted, stored as attributes of the
same name and :meth:`Parametrized._check_params` (checks that tie parameters together)
runs, all *before* the constructor body, which only adds what is specific to the class.
A constructor that takes ``**inherited`` takes its nearest base's parameters too (after
its own positional ones, before its own keyword-only ones); ``default_overrides`` gives
inherited parameters new defaults. A parameter that a subclass lists again without
metadata keeps the domain its base declared. The same declarations let
:meth:`Parametrized.validate_params` check a parameter set without building anything
(what experiment specs do).
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, get_args, get_origin

from recdyn.constraints import Constraint, check_value
from recdyn.errors import InvalidParameterError

__all__ = ["Parametrized"]


class _FullSignature:
    """``cls.__signature__``: the class's constructor parameters — its own and, when its
    ``__init__`` takes ``**inherited``, its base's — with ``default_overrides`` applied.
    Computed on first use (annotations may name things defined after the class)."""

    def __get__(self, obj: Any, owner: type) -> inspect.Signature:
        cached = owner.__dict__.get("_full_signature")
        if cached is None:
            cached = _compose_signature(owner)
            type.__setattr__(owner, "_full_signature", cached)
        return cached


def _parametrized_base(cls: type) -> type | None:
    """The nearest base class that has a constructor signature of its own."""
    for base in cls.__mro__[1:]:
        if isinstance(getattr(base, "__signature__", None), inspect.Signature):
            return base
    return None


def _body(cls: type) -> Any:
    """The constructor body of ``cls`` itself (unwrapped), or ``None``."""
    init = cls.__dict__.get("__init__")
    return inspect.unwrap(init) if init is not None else None


def _compose_signature(cls: type) -> inspect.Signature:
    base = _parametrized_base(cls)
    inherited = list(base.__signature__.parameters.values()) if base is not None else []
    body = _body(cls)
    if body is None:
        params = inherited
    else:
        own = [
            p
            for name, p in inspect.signature(body, eval_str=True).parameters.items()
            if name != "self"
        ]
        takes_base = any(p.kind == p.VAR_KEYWORD for p in own)
        own = [p for p in own if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        names = {p.name for p in own}
        extra = [
            p.replace(kind=p.KEYWORD_ONLY)
            for p in (inherited if takes_base else [])
            if p.name not in names
        ]
        positional = [p for p in own if p.kind != p.KEYWORD_ONLY]
        params = positional + extra + [p for p in own if p.kind == p.KEYWORD_ONLY]
    overrides = cls.__dict__.get("default_overrides", {})
    unknown = set(overrides) - {p.name for p in params}
    if unknown:
        raise TypeError(f"{cls.__name__}.default_overrides names no parameter: {unknown}")
    params = [p.replace(default=overrides[p.name]) if p.name in overrides else p for p in params]
    return inspect.Signature(params)


def _declared(annotation: Any) -> list[Any] | None:
    """The constraints in an ``Annotated[T, constraint, …]`` annotation (``None`` in the
    metadata allows ``None``), or ``None`` when the annotation declares none."""
    if get_origin(annotation) is not Annotated:
        return None
    found = [m for m in get_args(annotation)[1:] if m is None or isinstance(m, Constraint)]
    return found or None


class Parametrized:
    """Base of components with constructor hyperparameters (see the module docstring).

    ``spec`` says what the object is: the name it was registered under (set by the
    registry's ``make``, else the class name), the import path of its class and every
    constructor parameter.
    """

    __signature__ = _FullSignature()
    #: new defaults for inherited parameters, e.g. ``{"n_users": 943}``
    default_overrides: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_checks_parameters", False):
            return
        body_params = inspect.signature(init).parameters
        passes_all = any(p.kind == p.VAR_KEYWORD for p in body_params.values())
        body_names = [n for n in body_params if n != "self"]

        @functools.wraps(init)
        def checked_init(self: Any, *args: Any, **params: Any) -> None:
            if self.__dict__.get("_initialising"):  # a body calling super().__init__
                init(self, **params)
                return
            full = type(self).__signature__
            if args:  # positional hyperparameters, where a constructor allows them
                params = dict(full.bind_partial(*args, **params).arguments)
            # type(self): a subclass that inherits this __init__ is named in errors and
            # its own declarations and default overrides apply
            params = type(self).validate_params({**type(self).param_defaults(), **params})
            for name, value in params.items():
                setattr(self, name, value)
            self._check_params()
            self.__dict__["_initialising"] = True
            try:
                init(self, **(params if passes_all else {n: params[n] for n in body_names}))
            finally:
                del self.__dict__["_initialising"]

        checked_init._checks_parameters = True  # type: ignore[attr-defined]
        cls.__init__ = checked_init  # type: ignore[method-assign]

    def _check_params(self) -> None:
        """Checks that tie several parameters together (the parameters are stored when it
        runs; raise :class:`InvalidParameterError` naming them). Default: none."""

    # ------------------------------------------------------------------ declarations
    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor's keyword parameters, in signature order."""
        return list(cls.__signature__.parameters)

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Constructor defaults (parameters without a default are left out)."""
        return {
            name: p.default
            for name, p in cls.__signature__.parameters.items()
            if p.default is not p.empty
        }

    @classmethod
    def parameter_constraints(cls) -> dict[str, list[Any]]:
        """Each parameter's declared constraints: the ``Annotated`` metadata of its
        annotation — in this class's signature, else in the nearest base's that declares
        it (a subclass may list a base's parameter again without repeating its domain)."""
        cached = cls.__dict__.get("_declared_constraints")
        if cached is None:
            names = cls.param_names()
            cached = {}
            for klass in reversed(cls.__mro__):
                if not issubclass(klass, Parametrized):
                    continue
                for name, p in klass.__signature__.parameters.items():
                    declared = _declared(p.annotation)
                    if declared is not None and name in names:
                        cached[name] = declared
            type.__setattr__(cls, "_declared_constraints", cached)
        return dict(cached)

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` checked against the declarations and converted, without building
        the object: an unknown name (with a did-you-mean) or a value outside its
        declared domain raises :class:`InvalidParameterError`."""
        names = cls.param_names()
        for key in params:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InvalidParameterError(
                    f"{cls.__name__} has no parameter {key!r}.{hint} "
                    f"Valid parameters: {', '.join(names)}"
                )
        constraints = cls.parameter_constraints()
        return {
            key: check_value(key, value, constraints[key]) if key in constraints else value
            for key, value in params.items()
        }

    # ------------------------------------------------------------------ instances
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, read back from the attributes of the same name."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any):
        """Return ``self`` with hyperparameters changed (checked as the constructor does:
        the object is rebuilt with the new values and every attribute its constructor set
        is taken over — also the fields behind a parameter that is a property, such as an
        environment's ``n_items``; what was fitted or reset since is kept)."""
        self.validate_params(params)
        fresh = type(self)(**{**self.get_params(), **params})
        self.__dict__.update(fresh.__dict__)
        return self

    def clone(self, **params: Any):
        """A new, unfitted object with the same hyperparameters (updated by ``params``)
        and the same registered name."""
        fresh = type(self)(**{**copy.deepcopy(self.get_params()), **params})
        registered = self.__dict__.get("_registered_as")
        if registered is not None:
            fresh.__dict__["_registered_as"] = registered
        return fresh

    @property
    def spec(self):
        """A :class:`recdyn.registry.Spec`: registered name (or the class name), the
        class's import path and every constructor parameter's current value."""
        from recdyn.registry import Spec

        name = self.__dict__.get("_registered_as") or type(self).__name__
        entry = f"{type(self).__module__}:{type(self).__qualname__}"
        return Spec(name, entry, self.get_params())

    @spec.setter
    def spec(self, value: Any) -> None:
        # what the registry's make() records: the name the object was registered under
        self.__dict__["_registered_as"] = value.name

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
