"""The local executor: a pool of spawned worker processes, one unit per process at a time.

Unlike :class:`concurrent.futures.ProcessPoolExecutor`, whose whole pool breaks when one
worker dies, each worker here has its own pipe, so the driver knows which unit a dead
worker held: that unit is retried (``max_retries`` times, then reported failed) on a fresh
worker and every other unit carries on. An exception raised by a unit is not retried (it
would fail again the same way); it is reported with its traceback, and the exception
itself comes back with the event where it can be pickled.

The function a pool runs (``fn``) is sent to each worker once, when the worker starts:
what it holds (e.g. the data of a cross-validation, bound with :func:`functools.partial`)
does not travel with every unit.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from recdyn.engine.feed import Event, Feed
from recdyn.engine.units import run_unit
from recdyn.engine.workers import main_hidden, needs_main, one_thread, single_threaded_env

_PROGRESS_INTERVAL = 0.2  # seconds between step reports from a worker
_DEPTH = 2  # units of work handed to a worker at a time


def _read_into(conn: Connection, inbox: queue.SimpleQueue) -> None:
    """Move every message from ``conn`` to ``inbox`` as it arrives (``None`` at the end)."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            message = None
        inbox.put(message)
        if message is None:
            return


def _worker_main(conn: Connection, fn: Callable[..., Any]) -> None:
    """Loop of a worker process: receive ``(key, payload)``, send back the outcome.

    A thread reads the pipe all the time: the driver hands a worker its next unit while
    the current one runs, and a unit and a result that each exceed the pipe's buffer
    (≈ 64 KB) would otherwise deadlock — the worker blocked sending its result, the driver
    blocked sending the next unit, neither reading."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what Ctrl-C stops
    one_thread()
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_into, args=(conn, inbox), daemon=True).start()
    while True:
        message = inbox.get()
        if message is None:
            return
        key, payload = message
        last = time.monotonic()

        def report(step: int, key: str = key) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= _PROGRESS_INTERVAL:
                last = now
                conn.send(("step", key, step))

        try:
            outcome: tuple[Any, ...] = ("done", key, fn(payload, report))
        except Exception as err:
            text = f"{type(err).__name__}: {err}"
            outcome = ("error", key, text, traceback.format_exc(), _transferable(err))
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return
        except Exception as err:  # the result could not be pickled
            conn.send(("error", key, f"result not transferable: {err}", "", None))


def _transferable(err: BaseException) -> BaseException | None:
    """``err`` if it survives a trip through a pipe, else ``None``: it pickles, and the
    driver can rebuild it as unpickling does, ``type(err)(*err.args)``."""
    try:
        pickle.dumps(err)
        type(err)(*err.args)
    except Exception:
        return None
    return err


class _Worker:
    def __init__(self, ctx: Any, fn: Callable[..., Any], slot: int, main: bool) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        with single_threaded_env(), main_hidden(main):
            self.process = ctx.Process(
                target=_worker_main, args=(child, fn), daemon=True, name=f"recdyn-worker-{slot}"
            )
            self.process.start()
        child.close()
        self.name = f"{os.uname().nodename}:{self.process.pid}"

    def stop(self, kill: bool = False) -> None:
        """End an idle worker (SIGTERM: it holds no work, and a clean interpreter exit
        only costs time), or any worker with SIGKILL."""
        if self.process.is_alive():
            self.process.kill() if kill else self.process.terminate()
        self.process.join(timeout=5)
        self.conn.close()


class LocalPool:
    """``workers`` spawned processes running ``fn(payload, report)`` (default
    :func:`~recdyn.engine.units.run_unit`: ``payload.run(report)``).

    Use as a context manager; :meth:`run` may be called several times (the processes are
    kept between calls) and yields :class:`Event` objects as results arrive.
    """

    backend = "local"

    def __init__(
        self, workers: int, fn: Callable[..., Any] = run_unit, max_retries: int = 1
    ) -> None:
        self.workers = max(1, int(workers))
        self.fn = fn
        self.max_retries = max_retries
        self._ctx = multiprocessing.get_context("spawn")
        self._main = needs_main(fn)
        self._slots: list[_Worker | None] = [None] * self.workers

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    def close(self, kill: bool = False) -> None:
        for i, worker in enumerate(self._slots):
            if worker is not None:
                worker.stop(kill=kill)
                self._slots[i] = None

    def _worker(self, slot: int) -> _Worker:
        worker = self._slots[slot]
        if worker is None or not worker.process.is_alive():
            if worker is not None:
                worker.stop(kill=True)
            worker = self._slots[slot] = _Worker(self._ctx, self.fn, slot, self._main)
        return worker

    def run(self, items: Iterable[tuple[str, Any]] | Feed) -> Iterator[Event]:
        """Run every ``(key, payload)`` (a :class:`Feed` may grow while it runs); yield
        events until all are done or failed.

        Each worker holds up to :data:`_DEPTH` units (one running, the next waiting in its
        pipe), so it does not sit idle while the driver stores the previous result.
        """
        queue = Feed.of(items)
        attempts: dict[str, int] = {}
        inflight: list[deque[tuple[str, Any]]] = [deque() for _ in range(self.workers)]
        try:
            while not queue.finished or any(inflight):
                queue.starved(sum(map(len, inflight)))
                # idle workers first, then a second unit each: few units never share one
                for depth, slot in itertools.product(range(1, _DEPTH + 1), range(self.workers)):
                    if not len(queue) or len(inflight[slot]) >= depth:
                        continue
                    worker = self._worker(slot)
                    item = queue.take()
                    assert item is not None
                    try:
                        worker.conn.send(item)
                    except (BrokenPipeError, OSError):
                        queue.put_back(item)  # died idle: a fresh one next round
                        continue
                    inflight[slot].append(item)
                    if len(inflight[slot]) == 1:
                        yield Event("started", item[0], worker=worker.name)
                live = [w for s, w in enumerate(self._slots) if w is not None and inflight[s]]
                wait([w.conn for w in live] + [w.process.sentinel for w in live], 1.0)
                for slot in range(self.workers):
                    if inflight[slot]:
                        yield from self._collect(slot, inflight[slot], queue, attempts)
        except BaseException:
            self.close(kill=True)  # interrupted or abandoned: in-flight work is lost
            raise

    def _collect(
        self,
        slot: int,
        inflight: deque[tuple[str, Any]],
        queue: Feed,
        attempts: dict[str, int],
    ) -> Iterator[Event]:
        worker = self._slots[slot]
        assert worker is not None
        broken = False
        try:
            while inflight and worker.conn.poll():
                kind, key, *rest = worker.conn.recv()
                if kind == "step":
                    yield Event("step", key, step=rest[0], worker=worker.name)
                    continue
                inflight.popleft()
                if kind == "done":
                    yield Event("done", key, result=rest[0], worker=worker.name)
                else:
                    text, trace, exception = rest
                    error = text + (f"\n{trace}" if trace else "")
                    yield Event("failed", key, error=error, worker=worker.name, exception=exception)
                if inflight:
                    yield Event("started", inflight[0][0], worker=worker.name)
        except (EOFError, OSError, ValueError, TypeError, AttributeError):
            broken = True  # died while sending: the message is incomplete
        if inflight and (broken or not worker.process.is_alive()):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            worker.stop(kill=True)
            self._slots[slot] = None
            (key, payload), *waiting = inflight
            inflight.clear()
            for item in reversed(waiting):  # never started: no attempt used
                queue.put_back(item)
            attempts[key] = attempts.get(key, 0) + 1
            if attempts[key] <= self.max_retries:
                queue.put_back((key, payload))
            else:
                yield Event(
                    "failed",
                    key,
                    error=f"worker {worker.name} died (exit code {code}) "
                    f"after {attempts[key]} attempt(s)",
                    worker=worker.name,
                )


__all__ = ["LocalPool"]
