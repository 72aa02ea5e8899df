"""How every worker process is set up: one thread per worker, a name, and a ``__main__``
that spawned children do not run again.

Defined once here for every executor (:class:`~recdyn.engine.local.LocalPool`,
:class:`~recdyn.engine.ray_pool.RayPool`) and everything that runs on them: experiment
tasks and tuning jobs, cross-validation folds and grid points, the units of a study.
"""

from __future__ import annotations

import os
import pickle
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Thread-pool sizes of BLAS/OpenMP/numba, read when those libraries load: each worker
#: runs one unit on one core, so parallelism comes from the units (and results do not
#: depend on how a library splits its sums between threads).
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def worker_name() -> str:
    """``host:pid`` of this process, as results and manifests record their worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def one_thread() -> None:
    """Set :data:`THREAD_VARS` to 1 in this process (a worker, before it imports numpy's
    BLAS, numba or torch; they are inherited from the driver too, see below)."""
    os.environ.update({var: "1" for var in THREAD_VARS})


@contextmanager
def single_threaded_env() -> Iterator[None]:
    """Set :data:`THREAD_VARS` to 1 while worker processes start: they inherit them, and
    BLAS/OpenMP/numba read them when they load, before any code of ours runs there. This
    process's environment is restored afterwards."""
    saved = {var: os.environ.get(var) for var in THREAD_VARS}
    one_thread()
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def pin_threads(n: int | None) -> None:
    """Re-run this script (:func:`os.execv`) with :data:`THREAD_VARS` set to ``n`` unless
    they already are (or ``n`` is ``None``): the libraries read them when they load, so a
    running process cannot change its own (benchmarks that time one thread count)."""
    if n is None or all(os.environ.get(v) == str(n) for v in THREAD_VARS):
        return
    os.environ.update({v: str(n) for v in THREAD_VARS})
    os.execv(sys.executable, [sys.executable, *sys.argv])


def threads_note() -> str:
    """``"OMP_NUM_THREADS=1, …"``: the :data:`THREAD_VARS` set here, or ``"default threads"``."""
    chosen = {v: os.environ[v] for v in THREAD_VARS if v in os.environ}
    return ", ".join(f"{k}={v}" for k, v in chosen.items()) or "default threads"


def needs_main(obj: Any) -> bool:
    """Whether unpickling ``obj`` in another process imports ``__main__`` (a function or
    class defined in the script that runs)."""
    try:
        return b"__main__" in pickle.dumps(obj)
    except Exception:  # not picklable: starting the worker will say so
        return getattr(obj, "__module__", "") == "__main__"


@contextmanager
def main_hidden(needed: bool = False) -> Iterator[None]:
    """Hide the parent's ``__main__`` from :mod:`multiprocessing` while spawned workers
    start, unless ``needed``.

    A spawned child re-imports the parent's ``__main__``: a script without an
    ``if __name__ == "__main__":`` guard would run again (and can hang the pool), and
    ``python -m recdyn`` would run the CLI again. Workers need nothing from it unless
    what they run is defined there (:func:`needs_main`).
    """
    main = sys.modules.get("__main__")
    if needed or main is None:
        yield
        return
    saved = {a: main.__dict__[a] for a in ("__file__", "__spec__") if a in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)
        if "__spec__" not in saved:
            del main.__spec__


__all__ = [
    "THREAD_VARS",
    "main_hidden",
    "needs_main",
    "one_thread",
    "pin_threads",
    "single_threaded_env",
    "threads_note",
    "worker_name",
]
