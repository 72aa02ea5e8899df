"""Greedy selection: the ``k`` highest-scoring allowed items."""

from __future__ import annotations

from typing import Any

import numpy as np

from recdyn.policies.base import Policy, Selection, check_scores, top_k
from recdyn.policies.ranking import ranking_key


class GreedyPolicy(Policy):
    r"""Show the ``k`` items with the highest scores, best first (thesis §2.6 protocol).

    Never shows an excluded item while an allowed one remains; ties are broken uniformly
    at random (RecLab shuffled candidates with the global RNG). Deterministic apart from
    ties, so no propensities are reported; :meth:`probabilities` gives the first slot's
    distribution, :math:`p_{ui} = \mathbb 1\{i \in \arg\max_j s_{uj}\} / |\arg\max_j s_{uj}|`.
    """

    sparse_exclude = True

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray:
        """One-hot on each row's best allowed item, split equally between tied best items
        (NaN and ``-inf`` scores rank last, as in :func:`~recdyn.policies.top_k`); uniform
        over every item in a row where nothing is allowed (the fill-in draws at random)."""
        scores, exclude = check_scores(scores, exclude)
        key = ranking_key(scores, exclude)
        none = ~np.isfinite(key).any(axis=1)
        key[none] = 0.0
        best = key == key.max(axis=1, keepdims=True)
        return best / best.sum(axis=1, keepdims=True)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        return Selection(top_k(scores, k, exclude, rng))
