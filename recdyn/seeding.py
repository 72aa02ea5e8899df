"""Seeds: one root seed, independent named streams of :class:`numpy.random.Generator`.

recdyn never touches the global numpy RNG. A root seed (an ``int``, or a
:class:`numpy.random.SeedSequence`) is turned into child sequences by *name*, so the stream
an environment or a recommender gets does not depend on the order in which other streams
were created, on the worker that runs a task, or on how many tasks run at once::

    root ──┬─ "environment" ─┬─ "init"      initial state and initial ratings
           │                 └─ "dynamics"  online users, noise, preference changes
           ├─ "recommender"                 model initialisation, SGD order …
           ├─ "policy"                      exploration, tie-breaking
           ├─ "training"                    the shadow-uniform arm's pairs and their noise
           │                                (``simulate(training="uniform")``, recdyn.shadow)
           ├─ "heldout" ── "observe"/<step>  held-out pairs (recdyn.heldout); their noisy
           │                                ratings at each evaluation (truth="observed")
           └─ "metrics" ── <metric>/<step>  a sampling metric's draws at a step (e.g.
                                            homogenization's users)

A run creates only the streams its options use, so adding one leaves every other stream —
and a default run's numbers — unchanged.

This is what RecLab intended with its ``(init_seed, dynamics_seed)`` pair; an environment
still accepts such a pair to keep the initial state fixed while the dynamics vary.
"""

from __future__ import annotations

import numbers
import zlib

import numpy as np

from recdyn.errors import InvalidParameterError

SeedLike = int | np.random.SeedSequence | None


def as_seed_sequence(seed: SeedLike, name: str = "seed") -> np.random.SeedSequence:
    """Return ``seed`` as a :class:`~numpy.random.SeedSequence` (fresh entropy for ``None``)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidParameterError(
            f"{name} must be a non-negative integer, a numpy SeedSequence or None; got {seed!r}"
        )
    return np.random.SeedSequence(int(seed))


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def derive(seed: SeedLike, *names: str) -> np.random.SeedSequence:
    """Child sequence of ``seed`` reached by the path ``names`` (stable, order-free)."""
    seq = as_seed_sequence(seed)
    for name in names:
        seq = np.random.SeedSequence(
            seq.entropy, spawn_key=(*seq.spawn_key, _key(name)), pool_size=seq.pool_size
        )
    return seq


def generator(seed: SeedLike, *names: str) -> np.random.Generator:
    """A PCG64 generator for the stream ``names`` under ``seed``."""
    return np.random.Generator(np.random.PCG64(derive(seed, *names)))


def environment_streams(
    seed: SeedLike | tuple[SeedLike, SeedLike],
) -> tuple[np.random.Generator, np.random.Generator]:
    """The (initialisation, dynamics) generators of an environment.

    ``seed`` is either one seed, from which both streams are derived, or a pair
    ``(init_seed, dynamics_seed)`` — RecLab's convention for trials that share the initial
    state and initial ratings but differ in the online dynamics.
    """
    if isinstance(seed, tuple):
        if len(seed) != 2:
            raise InvalidParameterError(
                f"seed must be an int or a pair (init_seed, dynamics_seed); got {seed!r}"
            )
        return generator(seed[0], "init"), generator(seed[1], "dynamics")
    root = as_seed_sequence(seed)
    return generator(root, "init"), generator(root, "dynamics")
