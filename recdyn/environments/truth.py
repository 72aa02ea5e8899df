"""The ground truth of a world: noise-free ratings, whole or as much of them as a step
needs — what the Oracle ranks by and regret is measured against."""

from __future__ import annotations

from typing import Any

import numpy as np

from recdyn._arrays import push_down
from recdyn._validation import check_ids
from recdyn.errors import InvalidParameterError
from recdyn.interactions import RATING_DTYPE

__all__ = ["TRUTH_BLOCK_CELLS", "GroundTruth"]

#: True ratings computed at once by :meth:`GroundTruth.truth_of_step` (2^24 cells: 64 MB
#: of float32); the worlds of the thesis's studies fit in one block.
TRUTH_BLOCK_CELLS = 2**24


class GroundTruth:
    """The ground-truth part of :class:`~recdyn.environments.base.Environment` (a mixin:
    it calls the world's ``_true_matrix`` / ``_true_pairs`` hooks and reads its rated
    pairs).

    A world whose users' best allowed item can be found without scoring every item (the
    topics worlds: the best topic that still has an unrated item) overrides
    :meth:`_best_true`; a world whose ``_true_pairs`` gives bit for bit the values of
    ``_true_matrix`` sets ``pairs_match_matrix = True`` (true of every world that does not
    override ``_true_matrix``)."""

    #: ``_true_pairs`` equals ``_true_matrix`` bit for bit (``None``: only where
    #: ``_true_matrix`` is the base's, built from ``_true_pairs``).
    pairs_match_matrix: bool | None = None

    def true_ratings(self, users: Any = None, items: Any = None) -> np.ndarray:
        """Noise-free ratings ``[len(users), len(items)]`` (float32) in the current state.

        This is the expected rating *before* the observation map (noise, clipping to
        ``rating_range``, rounding), the ground truth that the Oracle ranks by and regret is
        measured against. ``None`` means all users / all items.
        """
        self._require_reset()
        users = (
            np.arange(self.n_users) if users is None else check_ids("users", users, self.n_users)
        )
        items = (
            np.arange(self._n_items) if items is None else check_ids("items", items, self._n_items)
        )
        if users.ndim != 1 or items.ndim != 1:
            raise InvalidParameterError("users and items must be 1-D id arrays")
        return self._true_matrix(users, items).astype(RATING_DTYPE, copy=False)

    def truth_of_step(
        self, users: Any, slates: Any, *, exclude_rated: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""What regret needs of the truth at a step, without the dense
        ``[users × items]`` matrix: ``best[j] = max_{i ∉ R_u} μ_{u i}`` for ``u =
        users[j]`` (:math:`R_u` the items ``u`` has rated; every item when not
        ``exclude_rated``) and ``shown[j, s] = μ_{u, slates[j, s]}`` (NaN for an empty
        slot, ``-1``); both float32, the values of :meth:`true_ratings`.

        Computed by blocks of :data:`TRUTH_BLOCK_CELLS` true ratings, or — where the world
        knows its best allowed item directly (:meth:`_best_true`) — in O(users × slate)."""
        self._require_reset()
        users = check_ids("users", users, self.n_users)
        slates = np.asarray(slates, dtype=np.int64)
        if slates.ndim == 1:
            slates = slates[:, None]
        if users.ndim != 1 or slates.shape[0] != len(users):
            raise InvalidParameterError(
                f"slates must have one row per user ({len(users)}), got shape {slates.shape}"
            )
        shown = np.full(slates.shape, np.nan, RATING_DTYPE)
        valid = slates >= 0
        best = self._best_true(users, exclude_rated)
        if best is not None and self._pairs_exact():
            owner = np.broadcast_to(users[:, None], slates.shape)[valid]
            shown[valid] = self._true_pairs(owner, slates[valid]).astype(RATING_DTYPE)
            return best.astype(RATING_DTYPE, copy=False), shown
        best = np.empty(len(users), RATING_DTYPE)
        everything = np.arange(self._n_items)
        rows = max(1, TRUTH_BLOCK_CELLS // max(self._n_items, 1))
        for lo in range(0, len(users), rows):
            block = users[lo : lo + rows]
            truth = self._true_matrix(block, everything).astype(RATING_DTYPE, copy=False)
            allowed = push_down(truth, self._rated.mask(block)) if exclude_rated else truth
            best[lo : lo + rows] = allowed.max(axis=1)
            part = slates[lo : lo + rows]
            ok = valid[lo : lo + rows]
            picked = np.take_along_axis(truth, np.where(ok, part, 0), axis=1)
            shown[lo : lo + rows] = np.where(ok, picked, np.nan)
        return best, shown

    def _best_true(self, users: np.ndarray, exclude_rated: bool) -> np.ndarray | None:
        """``max`` of the truth over each user's allowed items, if the world can say
        without scoring every item (float32 or float64; equal to the blocked maximum after
        a cast to float32); ``None``: it cannot (the default)."""
        return None

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Noise-free ratings ``[len(users), len(items)]``, float64 (default: every pair
        through ``_true_pairs``; worlds override it with a matrix product)."""
        u = np.repeat(users, len(items))
        i = np.tile(items, len(users))
        return self._true_pairs(u, i).reshape(len(users), len(items))

    def _pairs_exact(self) -> bool:
        if self.pairs_match_matrix is not None:
            return bool(self.pairs_match_matrix)
        return type(self)._true_matrix is GroundTruth._true_matrix
