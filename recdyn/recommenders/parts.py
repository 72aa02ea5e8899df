"""Recommenders built from other recommenders (:mod:`recdyn.recommenders.two_stage`): the
declarative constraints of their parts — a registered name, a ``{"name", "params"}``
mapping or a :class:`~recdyn.recommenders.base.Recommender` (cloned) — and of item pool
ids, and how a part is built and named in errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Integral
from typing import Any

import numpy as np

from recdyn.constraints import Constraint
from recdyn.errors import InvalidParameterError, RecdynError, UnknownNameError
from recdyn.recommenders.base import Recommender

__all__ = ["PoolIds", "RecommenderPart", "build_part", "part_label"]

_PART_KEYS = ("name", "params")


def _registered() -> Any:
    from recdyn.recommenders.registry import recommenders

    return recommenders


class RecommenderPart(Constraint):
    """A recommender given as a registered name, a ``{"name": …, "params": {…}}`` mapping
    or a :class:`Recommender` instance; ``many``: a non-empty list of them (a single one is
    taken as a list of one)."""

    def __init__(self, many: bool) -> None:
        self.many = many

    @staticmethod
    def _one(value: Any) -> bool:
        if isinstance(value, Recommender):
            return True
        if isinstance(value, str):
            return value in _registered()
        if isinstance(value, Mapping):
            return (
                set(value) <= set(_PART_KEYS)
                and isinstance(value.get("name"), str)
                and value["name"] in _registered()
                and isinstance(value.get("params", {}), Mapping)
            )
        return False

    def _items(self, value: Any) -> list[Any] | None:
        if not self.many or isinstance(value, (str, Mapping, Recommender)):
            return [value]
        if isinstance(value, (bytes, np.ndarray)) or not isinstance(value, Iterable):
            return None
        return list(value)

    def accepts(self, value: Any) -> bool:
        items = self._items(value)
        return bool(items) and all(map(self._one, items))

    def convert(self, value: Any) -> Any:
        items = [
            {"name": v["name"], "params": dict(v.get("params", {}))}
            if isinstance(v, Mapping)
            else v
            for v in self._items(value) or []
        ]
        return tuple(items) if self.many else items[0]

    def describe(self) -> str:
        one = 'a registered recommender name, a {"name": …, "params": {…}} mapping or a Recommender'
        return f"a non-empty list, each {one}" if self.many else one

    def why_not(self, value: Any) -> str | None:
        items = self._items(value)
        if items is None:
            return None
        if not items:
            return "must list at least one recommender (N ≥ 1), got an empty list"
        for i, v in enumerate(items):
            where = f"[{i}]" if self.many else ""
            if isinstance(v, Mapping):
                extra = sorted(set(map(str, v)) - set(_PART_KEYS))
                if extra or not isinstance(v.get("name"), str):
                    return (
                        f"{where} {dict(v)!r} must be a mapping with keys name and "
                        f"(optionally) params{f'; unknown {extra}' if extra else ''}"
                    ).lstrip()
                if not isinstance(v.get("params", {}), Mapping):
                    return f"{where} params must be a mapping, got {v['params']!r}".lstrip()
                v = v["name"]
            if isinstance(v, str) and v not in _registered():
                try:
                    _registered().spec(v)
                except UnknownNameError as err:
                    return f"{where} {err}".lstrip()
        return None


class PoolIds(Constraint):
    """A non-empty 1-D array of integer pool ids, one per item (stored as int64)."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes, Mapping)):
            return False
        if not isinstance(value, (np.ndarray, list, tuple)):
            return False
        arr = np.asarray(value)
        if arr.ndim != 1 or arr.size == 0:
            return False
        if arr.dtype == object:
            return all(isinstance(v, Integral) and not isinstance(v, bool) for v in arr)
        return np.issubdtype(arr.dtype, np.integer)

    def convert(self, value: Any) -> np.ndarray:
        arr = np.array(value, dtype=np.int64)
        arr.setflags(write=False)
        return arr

    def describe(self) -> str:
        return "a 1-D array of integer pool ids (one per item)"


def part_label(part: Any) -> str:
    if isinstance(part, str):
        return repr(part)
    if isinstance(part, Mapping):
        return repr(part["name"])
    name = part.__dict__.get("_registered_as")
    return repr(name) if name else type(part).__name__


def build_part(part: Any, where: str) -> Recommender:
    """An unfitted recommender from a name, a mapping or an instance (cloned)."""
    if isinstance(part, Recommender):
        return part.clone()
    name, params = (part, {}) if isinstance(part, str) else (part["name"], part["params"])
    try:
        return _registered().make(name, **params)
    except RecdynError as err:
        raise InvalidParameterError(f"{where} ({name!r}): {err}") from None


