"""How ``Environment.reset`` draws the initial ratings: which pairs (uniform or biased
sampling, :func:`recdyn.environments.sampling.initial_pairs`) and how they are rated (the
initial state's observation, the biased sample's own noisy ratings, or — RecLab's reading,
``initial_dynamics`` — one at a time with the dynamics running)."""

from __future__ import annotations

import numpy as np

from recdyn._memory import require_memory
from recdyn.environments import sampling
from recdyn.interactions import STEP_DTYPE, Interactions

__all__ = ["InitialRatings"]


class InitialRatings:
    """The initial-data part of :class:`~recdyn.environments.base.Environment` (a mixin:
    it reads the environment's parameters and calls its observation and dynamics hooks)."""

    #: Bytes per initial rating while it is drawn and rated (the pair draw, its sort and
    #: divmod, the rating with its noise, the Interactions' columns).
    BYTES_PER_INITIAL_RATING = 80
    #: Bytes per (user, item) cell of the dense matrices biased initial sampling builds
    #: (the noisy ratings, their scaled copy, the log-weights: float64).
    BYTES_PER_BIASED_CELL = 32

    def _require_reset_memory(self) -> None:
        """:class:`~recdyn.errors.InsufficientMemoryError` before ``reset`` allocates what
        would not fit: the rated-pairs bits (``n_users × n_items / 8`` bytes), the initial
        ratings, and — for ``ml100k-init`` sampling — dense ``n_users × n_items`` matrices."""
        cells = self.n_users * self._n_items
        parts = {
            "the rated-pairs table (1 bit per user × item)": (
                self.n_users * ((self._n_items + 7) // 8 + 8),
                "n_users or n_items",
            ),
            "the initial ratings": (
                self.n_initial_ratings * self.BYTES_PER_INITIAL_RATING,
                "n_initial_ratings",
            ),
        }
        if self.initial_sampling != "uniform" and self.n_initial_ratings:
            parts[f"{self.initial_sampling} sampling's dense user × item weights"] = (
                cells * self.BYTES_PER_BIASED_CELL,
                "initial_sampling ('uniform' needs no dense matrix) or n_users × n_items",
            )
        require_memory(
            f"{self.spec.name}.reset() ({self.n_users:,} users × {self._n_items:,} items)", parts
        )

    def _initial_data(self, rng: np.random.Generator) -> Interactions:
        n = self.n_initial_ratings
        noisy = None
        if self.initial_sampling != "uniform" and n:
            noisy = self._observe_matrix(rng)
        flat = sampling.initial_pairs(
            self.initial_sampling,
            self.n_users,
            self._n_items,
            n,
            rng,
            noisy,
            self.rating_range,
            self.biased_sampling,
        )
        flat = np.sort(flat)
        users, items = np.divmod(flat, self._n_items)
        if self.initial_dynamics:
            ratings = self._rate_in_sequence(users, items, rng)
        elif noisy is not None and self.biased_sampling == "thesis":
            ratings = noisy.ravel()[flat]
        else:
            ratings = self._observe(users, items, rng)
        return Interactions(users, items, ratings, np.zeros(len(flat), STEP_DTYPE))

    def _rate_in_sequence(
        self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Initial ratings given one at a time, each followed by its dynamics
        (:meth:`_consume`), in a random order: RecLab's ``reset``, which rated every
        initial pair through the same function as an online rating. A user's ratings are
        sequential; different users' are independent, so round ``j`` rates every user's
        ``j``-th pair at once."""
        order = rng.permutation(len(users))
        u = users[order]
        by_user = np.argsort(u, kind="stable")
        counts = np.bincount(u, minlength=self.n_users)
        starts = np.cumsum(counts) - counts
        round_of = np.empty(len(u), np.int64)
        round_of[by_user] = np.arange(len(u)) - starts[u[by_user]]
        ratings = np.empty(len(u))
        by_round = np.argsort(round_of, kind="stable")
        ends = np.cumsum(np.bincount(round_of))
        for lo, hi in zip(np.concatenate([[0], ends[:-1]]), ends):
            pick = order[by_round[lo:hi]]
            ratings[pick] = self._observe(users[pick], items[pick], rng)
            self._consume(users[pick], items[pick], rng)
        return ratings
