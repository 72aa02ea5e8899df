"""Run keyed units of work that a :class:`~recdyn.engine.unit_store.UnitStore` has not
finished, and store each result as it arrives: the driver of a study's units."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import Any

from recdyn.engine.pools import Pool, default_workers, make_pool
from recdyn.engine.unit_store import UnitStore
from recdyn.engine.units import Call


class UnitRunner:
    """Runs :class:`~recdyn.engine.units.Call` units on one pool, resumably.

    :meth:`run` loads the units whose stored result was made with the same arguments
    (:meth:`UnitStore.load`), sends the others to the pool and saves each result the
    moment it comes back, so a run that is killed loses only the units in flight. The
    pool (``backend``, ``workers``, ``address``: see :func:`~recdyn.engine.pools.make_pool`)
    starts at the first unit that has to run and serves every later :meth:`run` until
    the runner is closed (use it as a context manager). ``advance(n)`` is called as
    units finish or are found finished (progress bars).
    """

    def __init__(
        self,
        store: UnitStore,
        backend: str = "local",
        workers: int | None = None,
        address: str | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.backend, self.address = backend, address
        self.workers = default_workers(workers)
        self.advance = advance or (lambda n: None)
        self.computed = self.reused = 0
        #: key → error of the units that failed in the last :meth:`run`
        self.failed: dict[str, str] = {}
        self._stack = ExitStack()
        self._pool: Pool | None = None

    @property
    def pool(self) -> Pool | None:
        """The pool, once a unit had to run (``None`` while every unit was stored)."""
        return self._pool

    def __enter__(self) -> UnitRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.__exit__(*exc)

    def run(self, units: Mapping[str, Call]) -> dict[str, Any]:
        """The results of ``units`` (key → unit), stored ones and computed ones; units
        that failed are left out and listed in :attr:`failed`."""
        self.failed = {}
        done: dict[str, Any] = {}
        todo: dict[str, Call] = {}
        for key, unit in units.items():
            stored = self.store.load(key, unit.kwargs)
            if stored is None:
                todo[key] = unit
            else:
                done[key] = stored
        self.reused += len(done)
        self.advance(len(done))
        if not todo:
            return done
        if self._pool is None:
            pool = make_pool(self.backend, min(self.workers, len(todo)), self.address)
            self._pool = self._stack.enter_context(pool)
        for ev in self._pool.run(todo.items()):
            if ev.kind == "done":
                self.store.save(ev.key, todo[ev.key].kwargs, ev.result)
                done[ev.key] = ev.result
                self.computed += 1
            elif ev.kind == "failed":
                self.failed[ev.key] = ev.error or "failed"
            else:
                continue
            self.advance(1)
        return done


__all__ = ["UnitRunner"]
