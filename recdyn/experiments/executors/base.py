"""What every executor shares: the events it reports and the one-thread worker setting."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

#: Thread-pool sizes of BLAS/OpenMP/numba, read when those libraries load: each worker
#: runs one task on one core, so parallelism comes from the tasks (and results do not
#: depend on how a library splits its sums between threads).
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


@dataclass
class Event:
    """Something an executor reports about the unit of work ``key``.

    ``started`` (with ``worker``), ``step`` (progress inside a task: ``step`` steps done),
    ``done`` (``result`` holds what the worker returned) or ``failed`` (``error``).
    """

    kind: Literal["started", "step", "done", "failed"]
    key: str
    result: Any = None
    error: str | None = None
    worker: str | None = None
    step: int = 0


class Feed:
    """The units of work ``(key, payload)`` of one executor ``run``, which the driver may
    extend while they run.

    An executor takes units with :meth:`take` as workers free up and stops once the feed
    is closed, empty and nothing is in flight. A plain iterable given to ``run`` becomes
    a closed feed. The driver adds units between the events it receives, e.g. the tasks
    of a tuning job that has just finished, so no worker waits for the slowest tuning job.
    """

    def __init__(self, items: Iterable[tuple[str, Any]] = (), closed: bool = False) -> None:
        self._queue: deque[tuple[str, Any]] = deque(items)
        self.closed = closed

    @classmethod
    def of(cls, items: Iterable[tuple[str, Any]]) -> Feed:
        return items if isinstance(items, Feed) else cls(items, closed=True)

    def add(self, key: str, payload: Any) -> None:
        if self.closed:
            raise RuntimeError("add() to a closed Feed")
        self._queue.append((key, payload))

    def close(self) -> None:
        """No more units will be added."""
        self.closed = True

    def take(self) -> tuple[str, Any] | None:
        """The next unit, or ``None`` if there is none now."""
        return self._queue.popleft() if self._queue else None

    def put_back(self, item: tuple[str, Any]) -> None:
        """Return a unit that could not be started to the front of the feed."""
        self._queue.appendleft(item)

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def finished(self) -> bool:
        """Closed and empty: nothing more will come."""
        return self.closed and not self._queue

    def starved(self, in_flight: int) -> None:
        """Raise if the run can never end: open and empty with nothing in flight (the
        driver must add or close between events)."""
        if not in_flight and not self._queue and not self.closed:
            raise RuntimeError("the feed is open and empty with nothing in flight")


@contextmanager
def single_threaded_env() -> Iterator[None]:
    """Set :data:`THREAD_VARS` to 1 while worker processes start (they inherit them)."""
    saved = {var: os.environ.get(var) for var in THREAD_VARS}
    os.environ.update({var: "1" for var in THREAD_VARS})
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
