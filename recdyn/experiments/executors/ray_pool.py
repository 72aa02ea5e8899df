"""The Ray executor: the same units of work as Ray tasks, locally or on a cluster.

Each unit is a Ray task (``num_cpus=1``) running :func:`recdyn.experiments.runner.execute`
on its payload, and the driver writes each result to the store as it arrives.

On a cluster (``address``):

* **What is shipped**: only data. A payload is the plain-data
  :class:`~recdyn.experiments.plan.Task` (names, parameters, seeds — a few hundred bytes),
  with its tuning result and the spec hash; the function is shipped by reference
  (``recdyn.experiments.runner.execute``), not by value. Every node therefore needs the
  same recdyn (and the modules of the spec's ``imports``) installed; nothing else (the
  environments are simulated from the task's seeds, no data files are read).
* **Where results go**: a worker returns its task's Parquet files as bytes (a few kB,
  through Ray's object store); only the driver writes them, into the output directory on
  the driver's machine. Workers never touch that directory, so no shared filesystem is
  needed. At most twice the cluster's CPUs are in flight, so results do not pile up in the
  object store while the driver writes.
* **Node or worker loss**: Ray re-executes a task whose worker process or node died, up to
  ``max_retries`` times, on any node (same payload, same seeds, so the same numbers); after
  that the task is reported failed and runs again on the next ``recdyn run``. An exception
  raised by the task itself is not retried (it would fail the same way) and is reported
  with its message. Losing the driver (or the head node) ends the run: every task whose
  file was written is kept, and re-running the same command resumes from them.
* **One thread per task**: the ``runtime_env`` of the job sets :data:`THREAD_VARS` to 1 on
  every node's workers.

Without ``address`` a local Ray instance is started (:func:`start_local`) with
:data:`THREAD_VARS` set in the environment the Ray processes inherit, instead of a
``runtime_env``: the workers Ray starts with the instance can then run the tasks (a job
``runtime_env`` would make Ray start new workers for them, ~1–2 s of CPU each at the
start of every run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from recdyn.errors import MissingDependencyError
from recdyn.experiments.executors.base import THREAD_VARS, Event, Feed, single_threaded_env
from recdyn.experiments.runner import execute, worker_name

#: ``ray.init`` options of every instance recdyn starts or joins.
_INIT_OPTIONS: dict[str, Any] = dict(
    include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False
)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("--backend ray needs Ray: pip install 'recdyn[ray]'") from None
    return ray


def start_local(workers: int) -> None:
    """Start a local Ray instance with ``workers`` CPUs in this process, as
    :class:`RayPool` does when Ray is not running and no ``address`` is given.

    :data:`THREAD_VARS` are 1 while Ray's processes start, so the raylet and every worker
    it starts (including the ones started with the instance) run one BLAS/OpenMP/numba
    thread; this process's environment is restored afterwards.
    """
    ray = _import_ray()
    with single_threaded_env():
        ray.init(num_cpus=max(1, int(workers)), **_INIT_OPTIONS)


def _remote_execute(fn: Callable[[Any], Any], payload: Any) -> tuple[Any, str]:
    return fn(payload), worker_name()


class RayPool:
    """Run units of work as Ray tasks: ``fn(payload)`` (default
    :func:`~recdyn.experiments.runner.execute`).

    ``address`` joins a running cluster (``"auto"``, ``"ray://host:10001"`` …); without it
    a local Ray instance with ``workers`` CPUs is started (:func:`start_local`) and shut
    down on :meth:`close`. If Ray is already initialised in this process, it is used as it
    is and left running (then one BLAS thread per worker is up to how it was started;
    :func:`start_local` does it).
    """

    backend = "ray"

    def __init__(
        self,
        workers: int,
        address: str | None = None,
        max_retries: int = 1,
        fn: Callable[[Any], Any] = execute,
    ) -> None:
        ray = self._ray = _import_ray()
        self.max_retries = max_retries
        self.fn = fn
        self._owns = not ray.is_initialized()
        if self._owns:
            if address:
                env = {"env_vars": {var: "1" for var in THREAD_VARS}}
                ray.init(address=address, runtime_env=env, **_INIT_OPTIONS)
            else:
                start_local(workers)
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries)(_remote_execute)
        self.workers = max(1, int(ray.cluster_resources().get("CPU", workers)))

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
            self._owns = False

    def run(self, items: Iterable[tuple[str, Any]] | Feed) -> Iterator[Event]:
        """Submit ``(key, payload)`` units (at most twice the cluster's CPUs in flight, so
        results do not pile up in the object store; a :class:`Feed` may grow while it
        runs) and yield events as they finish."""
        ray = self._ray
        from ray.exceptions import RayTaskError

        todo = Feed.of(items)
        pending: dict[Any, str] = {}

        def submit() -> None:
            while len(pending) < 2 * self.workers:
                item = todo.take()
                if item is None:
                    return
                pending[self._remote.remote(self.fn, item[1])] = item[0]

        try:
            submit()
            while pending or not todo.finished:
                todo.starved(len(pending))
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                for ref in ready:
                    key = pending.pop(ref)
                    try:
                        result, worker = ray.get(ref)
                    except RayTaskError as err:
                        cause = getattr(err, "cause", None) or err
                        yield Event("failed", key, error=f"{type(cause).__name__}: {cause}")
                    except ray.exceptions.RayError as err:  # worker or node lost, retries spent
                        error = f"{type(err).__name__} after {self.max_retries} retries: {err}"
                        yield Event("failed", key, error=error)
                    else:
                        yield Event("done", key, result=result, worker=worker)
                submit()
        finally:
            for ref in pending:  # interrupted: do not leave work running on the cluster
                ray.cancel(ref, force=True)
