"""The executors that run experiments live in :mod:`recdyn.engine` (one engine for every
parallel unit of work in recdyn); their names stay importable from here."""

from recdyn.engine import BACKENDS, THREAD_VARS, Event, Feed, LocalPool, make_pool

__all__ = ["BACKENDS", "THREAD_VARS", "Event", "Feed", "LocalPool", "make_pool"]
