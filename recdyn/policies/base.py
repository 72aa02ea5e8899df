"""The :class:`Policy` contract: turn scores into slates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from recdyn._arrays import push_down
from recdyn._validation import check_int
from recdyn.errors import InvalidParameterError
from recdyn.params import Parametrized


@dataclass(frozen=True)
class Selection:
    """Slates chosen by a policy.

    slates : int64 ``[n_users, k]``, best first.
    propensities : float ``[n_users, k]`` — the probability that the policy shows each
        slate item — for stochastic policies; ``None`` for deterministic ones.
    inclusion : float ``[n_users, k]`` or ``None`` — what :func:`recdyn.simulate` logs as
        the policy's probability of showing each item, where ``propensities`` are not
        inclusion probabilities (Plackett–Luce factors of softmax slates with ``k > 1``;
        see :class:`~recdyn.policies.SoftmaxPolicy`); ``None``: ``propensities`` are.
    """

    slates: np.ndarray
    propensities: np.ndarray | None = None
    inclusion: np.ndarray | None = None


class Policy(Parametrized, ABC):
    """Chooses ``k`` items per user from a score matrix.

    ``exclude`` (bool ``[n_users, n_items]``) marks items that must not be shown, normally
    those the user already rated. A user with fewer than ``k`` allowed items gets the
    allowed ones first, then excluded ones (so slates always have ``k`` distinct items).
    """

    def select(
        self,
        scores: Any,
        k: int = 1,
        exclude: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> Selection:
        scores = np.asarray(scores)
        if scores.ndim != 2 or not np.issubdtype(scores.dtype, np.number):
            raise InvalidParameterError(
                f"scores must be a numeric [n_users, n_items] array, got shape {scores.shape}"
            )
        k = check_int("k", k, low=1, high=scores.shape[1])
        if exclude is not None:
            exclude = np.asarray(exclude, dtype=bool)
            if exclude.shape != scores.shape:
                raise InvalidParameterError(
                    f"exclude must have the scores' shape {scores.shape}, got {exclude.shape}"
                )
        if rng is None:
            rng = np.random.default_rng()
        return self._select(scores, k, exclude, rng)

    @abstractmethod
    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection: ...


def top_k(
    scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
) -> np.ndarray:
    """Indices of the ``k`` best items per row, best first, ties broken uniformly at random.

    Excluded items rank below every allowed item (a user with fewer than ``k`` allowed
    items gets excluded ones, in random order, in the last slots); NaN scores rank last.
    ``argmax``/``argpartition`` do the work in O(n_items) per row; only rows with a tie
    that matters (more items share the k-th score than fit, or equal scores inside the
    slate) take a second O(n_items) pass with random keys, so tie-breaking is exact and
    reproducible under ``rng``.
    """
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    s = scores
    if not np.isfinite(s.min()):  # NaN or -inf: below every finite score, above excluded ones
        s = np.where(np.isnan(s) | np.isneginf(s), np.finfo(s.dtype).min / 2, s)
    if exclude is not None:
        s = push_down(s, exclude)
    n, m = s.shape
    rows = np.arange(n)
    if k == 1:
        part = np.argmax(s, axis=1)[:, None]
        best = s[rows, part[:, 0]]
        s = s.copy() if s is scores else s
        s[rows, part[:, 0]] = -np.inf
        tied = s.max(axis=1) == best
        s[rows, part[:, 0]] = best
    else:
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < m else np.tile(np.arange(m), (n, 1))
        top = np.take_along_axis(s, part, axis=1)
        part = np.take_along_axis(part, np.argsort(-top, axis=1, kind="stable"), axis=1)
        top = np.take_along_axis(s, part, axis=1)
        tied = ((s >= top[:, -1:]).sum(axis=1) > k) | (np.diff(top, axis=1) == 0).any(axis=1)
    if exclude is not None:
        tied |= exclude[rows, part[:, -1]]
    tied = np.flatnonzero(tied | ~np.isfinite(s[rows, part[:, -1]]))
    if len(tied):
        part[tied] = _break_ties(s[tied], part[tied, -1], k, rng)
    return part


def _break_ties(s: np.ndarray, kth_index: np.ndarray, k: int, rng: np.random.Generator):
    """Top-k of rows with ties: every item above the k-th score, then a uniformly random
    subset of the items tied with it; within the slate, by score then at random."""
    rows = np.arange(len(s))
    kth = s[rows, kth_index][:, None]
    noise = rng.random(s.shape)
    key = np.where(s > kth, 2.0, np.where(s == kth, noise, -1.0))
    if k == 1:
        chosen = np.argmax(key, axis=1)[:, None]
    else:
        chosen = np.argpartition(-key, k - 1, axis=1)[:, :k]
    order = np.lexsort(
        (-np.take_along_axis(noise, chosen, axis=1), -np.take_along_axis(s, chosen, axis=1)),
        axis=1,
    )
    return np.take_along_axis(chosen, order, axis=1)
