"""How policies rank: a float64 ranking key with excluded items below every allowed one,
and the inclusion probability of the filler items a short slate takes from the excluded."""

from __future__ import annotations

import numpy as np

__all__ = ["fill_propensity", "ranking_key"]

_LOWEST = -np.finfo(np.float64).max


def ranking_key(scores: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
    """A float64 copy of ``scores`` for ranking: excluded items ``-inf``, below every allowed
    item; NaN and ``-inf`` scores of allowed items become the lowest finite value (they rank
    last among allowed items, as in :func:`~recdyn.policies.top_k`, and tie with each other),
    ``+inf`` the highest. Allowed items are exactly the finite entries.
    """
    key = np.array(scores, dtype=np.float64)
    key[np.isnan(key) | (key == -np.inf)] = _LOWEST
    key[key == np.inf] = -_LOWEST
    if exclude is not None:
        key[exclude] = -np.inf
    return key


def fill_propensity(n_allowed: np.ndarray, k: int, n_items: int) -> np.ndarray:
    """Inclusion probability of a filler item for a user with ``n_allowed < k``: the
    ``k - n_allowed`` free slots take excluded items uniformly at random."""
    n_excl = np.maximum(n_items - n_allowed, 1)
    return (k - n_allowed) / n_excl
