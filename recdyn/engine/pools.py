"""Choosing an executor: :func:`make_pool` for a backend name and a number of workers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from recdyn._validation import check_int
from recdyn.engine.feed import Event, Feed
from recdyn.engine.local import LocalPool
from recdyn.engine.units import run_unit
from recdyn.errors import InvalidParameterError

#: Names of the executors: spawned local processes, or Ray (local instance or cluster).
BACKENDS = ("local", "ray")


class Pool(Protocol):
    """What every executor offers (:class:`LocalPool`, :class:`~.ray_pool.RayPool`)."""

    backend: str
    workers: int

    def run(self, items: Iterable[tuple[str, Any]] | Feed) -> Iterator[Event]: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


def check_backend(backend: str, address: str | None = None) -> None:
    """Refuse an unknown backend, and an ``address`` without the Ray backend."""
    if backend not in BACKENDS:
        raise InvalidParameterError(
            f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    if address and backend != "ray":
        raise InvalidParameterError("--address joins a Ray cluster; add --backend ray")


def default_workers(workers: int | None) -> int:
    """``workers``, checked; ``None`` means one per core."""
    return check_int("workers", (os.cpu_count() or 1) if workers is None else workers, low=1)


def make_pool(
    backend: str,
    workers: int,
    address: str | None = None,
    max_retries: int = 1,
    fn: Callable[..., Any] = run_unit,
) -> Pool:
    """A :class:`LocalPool` or a :class:`~.ray_pool.RayPool` running ``fn(payload,
    report)`` (default :func:`~recdyn.engine.units.run_unit`) on ``workers`` workers."""
    check_backend(backend, address)
    if backend == "ray":
        from recdyn.engine.ray_pool import RayPool

        return RayPool(workers, address=address, max_retries=max_retries, fn=fn)
    return LocalPool(workers, fn=fn, max_retries=max_retries)


__all__ = ["BACKENDS", "Pool", "check_backend", "default_workers", "make_pool"]
