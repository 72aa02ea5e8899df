"""The one execution engine: every parallel unit of work in recdyn runs here.

Experiment tasks and tuning jobs (:mod:`recdyn.experiments`), cross-validation folds and
grid points (:mod:`recdyn.evaluation`) and the units of a study (:mod:`recdyn.studies`)
are units of work ``(key, payload)`` fed to one executor (:class:`LocalPool`: spawned
processes; :class:`~recdyn.engine.ray_pool.RayPool`: Ray, locally or on a cluster),
which reports :class:`Event`\\ s as they finish; a :class:`Feed` may grow while it runs.
Workers run one thread each and are set up in one place (:mod:`.workers`). Results are
stored by the driver, never by workers, through a :class:`UnitStore`: atomic, verified,
resumable (:mod:`.unit_store`); a directory is written by one run at a time
(:class:`DirectoryLock`).
"""

from recdyn.engine.feed import Event, Feed, UnitError
from recdyn.engine.local import LocalPool
from recdyn.engine.lock import DirectoryBusyError, DirectoryLock
from recdyn.engine.pools import BACKENDS, Pool, check_backend, default_workers, make_pool
from recdyn.engine.resumable import UnitRunner
from recdyn.engine.unit_store import UnitStore, atomic_write, payload_hash
from recdyn.engine.units import Call, run_unit
from recdyn.engine.workers import THREAD_VARS, single_threaded_env, worker_name

__all__ = [
    "BACKENDS",
    "THREAD_VARS",
    "Call",
    "DirectoryBusyError",
    "DirectoryLock",
    "Event",
    "Feed",
    "LocalPool",
    "Pool",
    "UnitError",
    "UnitRunner",
    "UnitStore",
    "atomic_write",
    "check_backend",
    "default_workers",
    "make_pool",
    "payload_hash",
    "run_unit",
    "single_threaded_env",
    "worker_name",
]
