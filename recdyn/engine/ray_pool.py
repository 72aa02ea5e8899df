"""The Ray executor: the same units of work as Ray tasks, locally or on a cluster.

Each unit is a Ray task (``num_cpus=1``) running ``fn(payload, None)`` (default
:func:`recdyn.engine.units.run_unit`), and the driver stores each result as it arrives.

On a cluster (``address``):

* **What is shipped**: only data. A payload is a plain-data unit (an experiment task:
  names, parameters, seeds — a few hundred bytes); the function is put into Ray's object
  store once per run and each node fetches it once. Every node needs the same recdyn (and
  the modules of a spec's ``imports``) installed; nothing else (environments are simulated
  from the task's seeds, no data files are read).
* **Where results go**: a worker returns its result (an experiment task: its Parquet
  files as bytes, a few kB) through Ray's object store; only the driver writes them, into
  the output directory on the driver's machine. Workers never touch that directory, so no
  shared filesystem is needed. At most twice the cluster's CPUs are in flight, so results
  do not pile up in the object store while the driver writes.
* **Node or worker loss**: Ray re-executes a unit whose worker process or node died, up to
  ``max_retries`` times, on any node (same payload, same seeds, so the same numbers); after
  that the unit is reported failed and runs again on the next run. An exception raised by
  the unit itself is not retried (it would fail the same way) and is reported with its
  message. Losing the driver (or the head node) ends the run: every result already
  stored is kept, and re-running the same command resumes from them.
* **One thread per unit**: the ``runtime_env`` of the job sets :data:`THREAD_VARS` to 1 on
  every node's workers.

Without ``address`` a local Ray instance is started (:func:`start_local`) with
:data:`THREAD_VARS` set in the environment the Ray processes inherit, instead of a
``runtime_env``: the workers Ray starts with the instance can then run the units (a job
``runtime_env`` would make Ray start new workers for them, ~1–2 s of CPU each at the
start of every run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from recdyn.engine.feed import Event, Feed
from recdyn.engine.units import run_unit
from recdyn.engine.workers import THREAD_VARS, single_threaded_env, worker_name
from recdyn.errors import MissingDependencyError

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


def _remote_execute(fn: Callable[..., Any], payload: Any) -> tuple[Any, str]:
    return fn(payload, None), worker_name()


class RayPool:
    """Run units of work as Ray tasks: ``fn(payload, None)`` (default
    :func:`~recdyn.engine.units.run_unit`).

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
        fn: Callable[..., Any] = run_unit,
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
        self._fn = ray.put(fn)  # shipped once, not with every unit
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
                pending[self._remote.remote(self._fn, item[1])] = item[0]

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
                        error = f"{type(cause).__name__}: {cause}"
                        yield Event("failed", key, error=error, exception=cause)
                    except ray.exceptions.RayError as err:  # worker or node lost, retries spent
                        error = f"{type(err).__name__} after {self.max_retries} retries: {err}"
                        yield Event("failed", key, error=error)
                    else:
                        yield Event("done", key, result=result, worker=worker)
                submit()
        finally:
            for ref in pending:  # interrupted: do not leave work running on the cluster
                ray.cancel(ref, force=True)


__all__ = ["RayPool", "start_local"]
