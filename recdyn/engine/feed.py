"""What an executor takes and reports: the :class:`Feed` of units and its :class:`Event`\\ s."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from recdyn.errors import RecdynError


class UnitError(RecdynError, RuntimeError):
    """A unit of work failed in a worker (its message holds the worker's traceback)."""


@dataclass
class Event:
    """Something an executor reports about the unit of work ``key``.

    ``started`` (with ``worker``), ``step`` (progress inside a unit: ``step`` steps done),
    ``done`` (``result`` holds what the worker returned) or ``failed`` (``error``: the
    message and, for an exception raised by the unit, its traceback; ``exception``: that
    exception itself where it could be brought back, else ``None``).
    """

    kind: Literal["started", "step", "done", "failed"]
    key: str
    result: Any = None
    error: str | None = None
    worker: str | None = None
    step: int = 0
    exception: BaseException | None = None

    def reraise(self, what: str) -> NoReturn:
        """Raise the failure of a ``failed`` event in the driver: the unit's own exception
        where it came back (the worker's traceback as its cause), else a
        :class:`UnitError` saying ``what`` failed."""
        if self.exception is not None:
            raise self.exception from UnitError(f"in the worker: {self.error}")
        raise UnitError(f"{what} failed: {self.error or 'no reason given'}")


class Feed:
    """The units of work ``(key, payload)`` of one executor ``run``, which the driver may
    extend while they run.

    An executor takes units with :meth:`take` as workers free up and stops once the feed
    is closed, empty and nothing is in flight. A plain iterable given to ``run`` becomes
    a closed feed. The driver adds units between the events it receives, e.g. the tasks
    of a tuning job that has just finished, so no worker waits for the slowest tuning job.

    Units wait in *lanes* (``add(..., lane=i)``, default 0), first in, first out within a
    lane; :meth:`take` serves the lowest lane that has a unit. Several experiments on one
    pool use a lane each: they run in order, and a worker that the first has no unit for
    (its tasks wait for a tuning job, or its last tasks are running) takes the next
    one's, so one experiment's slow tail overlaps the next one's work.
    """

    def __init__(self, items: Iterable[tuple[str, Any]] = (), closed: bool = False) -> None:
        self._lanes: dict[int, deque[tuple[str, Any]]] = {0: deque(items)}
        self._lane_of: dict[str, int] = {}
        self.closed = closed
        #: lane → when (epoch seconds) its first unit was taken: when that lane started
        self.opened: dict[int, float] = {}

    @classmethod
    def of(cls, items: Iterable[tuple[str, Any]]) -> Feed:
        return items if isinstance(items, Feed) else cls(items, closed=True)

    def add(self, key: str, payload: Any, lane: int = 0) -> None:
        if self.closed:
            raise RuntimeError("add() to a closed Feed")
        if lane not in self._lanes:
            self._lanes = dict(sorted({**self._lanes, lane: deque()}.items()))
        if lane:
            self._lane_of[key] = lane
        self._lanes[lane].append((key, payload))

    def close(self) -> None:
        """No more units will be added."""
        self.closed = True

    def take(self) -> tuple[str, Any] | None:
        """The next unit, or ``None`` if there is none now."""
        for lane, queue in self._lanes.items():
            if queue:
                self.opened.setdefault(lane, time.time())
                return queue.popleft()
        return None

    def put_back(self, item: tuple[str, Any]) -> None:
        """Return a unit that could not be started to the front of its lane."""
        self._lanes[self._lane_of.get(item[0], 0)].appendleft(item)

    def __len__(self) -> int:
        return sum(map(len, self._lanes.values()))

    @property
    def finished(self) -> bool:
        """Closed and empty: nothing more will come."""
        return self.closed and not len(self)

    def starved(self, in_flight: int) -> None:
        """Raise if the run can never end: open and empty with nothing in flight (the
        driver must add or close between events)."""
        if not in_flight and not len(self) and not self.closed:
            raise RuntimeError("the feed is open and empty with nothing in flight")


__all__ = ["Event", "Feed", "UnitError"]
