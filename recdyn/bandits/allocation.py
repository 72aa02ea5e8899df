r"""Item pools and feature subsets of the nominators (thesis L3512–3523, ``get_random_pools``
and ``get_random_features`` of the thesis's ``run.py``).

* Pools: the arms are randomly permuted and cut into ``N`` pools of :math:`\lfloor |A|/N
  \rfloor` arms; the :math:`|A| - N\lfloor |A|/N\rfloor` arms left over go one each to the
  first nominators — a random partition with sizes that differ by at most one.
* Features: the ``d`` features are randomly permuted and cut into ``N`` sets of
  :math:`s' = \min(s, \lfloor d/N\rfloor)`; when :math:`s' < s`, each nominator gets
  :math:`s - s'` more, uniformly without replacement from the :math:`d - s'` it lacks.
  Overlaps are thus as small as ``s`` allows.

Explicit pools and feature sets are checked here: an :class:`InvalidParameterError` names
the argument when a pool is empty (a nominator with no candidate), names an arm the world
does not have, or when the pools leave arms uncovered (:math:`\bigcup_n A_n = A`, L2361),
and when a feature set has the wrong size or names a feature the world does not have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recdyn.errors import InvalidParameterError

__all__ = ["check_features", "check_pools", "pad_pools", "random_features", "random_pools"]


def random_pools(rng: np.random.Generator, n_arms: int, n_pools: int) -> list[np.ndarray]:
    """A random partition of ``range(n_arms)`` into ``n_pools`` pools (module doc)."""
    if n_pools > n_arms:
        raise InvalidParameterError(
            f"n_nominators={n_pools} exceeds the world's {n_arms} arms: some nominator "
            "would have an empty pool (an empty candidate set)"
        )
    perm = rng.permutation(n_arms)
    size = n_arms // n_pools
    pools = [perm[n * size : (n + 1) * size] for n in range(n_pools)]
    for n, arm in enumerate(perm[n_pools * size :]):
        pools[n] = np.append(pools[n], arm)
    return [np.sort(p) for p in pools]


def random_features(rng: np.random.Generator, dim: int, n_sets: int, size: int) -> np.ndarray:
    """``[n_sets, size]`` feature indices, each row sorted (module doc)."""
    if size > dim:
        raise InvalidParameterError(f"n_features={size} exceeds the world's dim={dim}")
    perm = rng.permutation(dim)
    first = min(size, dim // n_sets)
    out = np.empty((n_sets, size), dtype=np.int64)
    for n in range(n_sets):
        own = perm[n * first : (n + 1) * first]
        if first < size:
            rest = np.setdiff1d(np.arange(dim), own)
            own = np.concatenate([own, rng.choice(rest, size - first, replace=False)])
        out[n] = np.sort(own)
    return out


def check_pools(pools: Sequence[Sequence[int]], n_arms: int) -> list[np.ndarray]:
    """Explicit pools as sorted unique int arrays (module doc for what is refused)."""
    out = []
    for n, pool in enumerate(pools):
        arr = np.unique(np.asarray(pool, dtype=np.int64))
        if len(arr) == 0:
            raise InvalidParameterError(
                f"pools[{n}] is empty: every nominator needs at least one arm (an empty "
                "candidate set)"
            )
        bad = arr[(arr < 0) | (arr >= n_arms)]
        if len(bad):
            raise InvalidParameterError(
                f"pools[{n}] claims arm {int(bad[0])}, but the world's arms are 0 … {n_arms - 1}"
            )
        out.append(arr)
    missing = np.setdiff1d(np.arange(n_arms), np.concatenate(out))
    if len(missing):
        raise InvalidParameterError(
            f"pools do not cover the arms: {len(missing)} of {n_arms} arms are in no pool "
            f"(first {missing[:5].tolist()}); the pools' union must be all arms"
        )
    return out


def check_features(features: Sequence[Sequence[int]], n_sets: int, size: int, dim: int):
    """Explicit feature sets as an int array ``[n_sets, size]``."""
    if len(features) != n_sets:
        raise InvalidParameterError(
            f"features must give {n_sets} feature sets (one per nominator), got {len(features)}"
        )
    out = np.empty((n_sets, size), dtype=np.int64)
    for n, subset in enumerate(features):
        arr = np.asarray(subset, dtype=np.int64)
        if arr.ndim != 1 or len(arr) != size or len(np.unique(arr)) != size:
            raise InvalidParameterError(
                f"features[{n}] must be {size} distinct feature indices (n_features), got "
                f"{list(subset)!r}"
            )
        if arr.min() < 0 or arr.max() >= dim:
            raise InvalidParameterError(
                f"features[{n}] names a feature outside 0 … {dim - 1}: {list(subset)!r}"
            )
        out[n] = arr
    return out


def pad_pools(pools: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pools as ``[N, m]`` arm ids (padded by each pool's first arm) and a ``[N, m]`` mask."""
    m = max(len(p) for p in pools)
    arms = np.empty((len(pools), m), dtype=np.int64)
    mask = np.zeros((len(pools), m), dtype=bool)
    for n, p in enumerate(pools):
        arms[n, : len(p)], arms[n, len(p) :] = p, p[0]
        mask[n, : len(p)] = True
    return arms, mask
