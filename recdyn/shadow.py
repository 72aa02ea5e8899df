r"""The shadow-uniform arm: train on uniformly drawn, never-recommended pairs (thesis
Definition 1, L1903–1918; the "Uniform" competitor, L1948–1955).

Definition 1 measures the effect of feedback at step :math:`t` on a metric :math:`M` as

.. math:: M(R_t) - M(\hat R_t),

where :math:`R_t` are the ratings of the recommendations of a model trained on its own
recommendations' ratings (``training="feedback"``), and :math:`\hat R_t` those of the
recommendations of the same model trained on the "shadow" data set
:math:`\{(\tilde A_1, \tilde R_1), \ldots, (\tilde A_{t-1}, \tilde R_{t-1})\}` that a
*random recommender* :math:`\tilde A` would have collected (``training="uniform"``). In the
shadow run recommendations, the world's dynamics and the online metrics still follow the
model's scores; only what it learns from differs. :class:`UniformShadow` is that random
recommender, run alongside the real loop without touching the world:

* **Who.** A random recommender serves the users who arrive, so at step :math:`t` every
  online user draws one shadow pair, and the pairs of the users who rated something at
  :math:`t` are kept: the shadow data grow by exactly as many ratings per step, and per
  user, as the recommendations produced (a user whose candidates are exhausted gives
  none; ``simulate`` records the shortfall). Only *which items* are rated differs between
  the arms — the selection that Definition 1 isolates — not who rates.
* **Never recommended.** A pair counts as recommended once the item has been in the
  user's slate at any step so far, the current step's slate included (shown, whether or
  not consumed): the exposure of a pair is what the feedback loop selects, and another
  user's exposure to the item does not make the pair less random. The candidates of user
  :math:`u` are the items never shown to :math:`u`, not in the initial data, not drawn
  for :math:`u`'s shadow data before (the random recommender does not repeat a pair, as
  the real loop does not by default), and not held out (:mod:`recdyn.heldout`).
* **Already rated?** No: the world rates a pair only in its initial data or after showing
  it, and both are excluded; shadow ratings do not change the world, so a shadow pair is
  never one the world (or the shadow data) already holds.
* **Which ratings.** A candidate is rated by the world's observation model
  (:meth:`~recdyn.environments.Environment.observe`: noise, clipping, rounding) in the
  state of the step's start — the state the real ratings of the step are drawn in —
  without changing the world or its streams.
* **Randomness** comes from the named stream ``training`` of the run's seed (candidates
  and their noise), so the world's ``environment/dynamics`` stream and the ``policy``
  stream see the same draws as in a feedback run while the scores agree; a feedback run
  never creates the stream, and its numbers are those of before the option existed.

The shadow ratings carry no propensity (they are a uniform sample).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recdyn import seeding
from recdyn.environments.base import Environment
from recdyn.interactions import Interactions

__all__ = ["TRAINING_MODES", "UniformShadow"]

#: What ``simulate(training=…)`` trains the recommender on.
TRAINING_MODES = ("feedback", "uniform")


class UniformShadow:
    """The random recommender of the shadow arm (see the module docstring).

    ``blocked`` (bool ``[n_users, n_items]``) marks the pairs that can no longer be drawn:
    the initial data, the held-out pairs, every pair shown so far and every pair drawn.
    """

    def __init__(self, env: Environment, initial: Interactions, held_out: Any, seed: Any) -> None:
        self.rng = seeding.generator(seed, "training")
        self.blocked = np.zeros((env.n_users, env.n_items), bool)
        self.blocked[initial.user, initial.item] = True
        if held_out is not None:
            self.blocked[held_out.users, held_out.items] = True
        self.shortfall = 0

    def candidates(self, env: Environment, users: np.ndarray, slates: np.ndarray) -> Interactions:
        """One candidate pair per online user (``users``, sorted) who has one, rated in
        the world's current state; ``slates`` (this step's) count as recommended."""
        if env.n_items > self.blocked.shape[1]:  # items arrived
            self.blocked = np.pad(self.blocked, ((0, 0), (0, env.n_items - self.blocked.shape[1])))
        shown = slates >= 0  # -1: an empty slot shows nothing
        self.blocked[np.broadcast_to(users[:, None], slates.shape)[shown], slates[shown]] = True
        allowed = ~self.blocked[users]
        counts = allowed.sum(axis=1)
        # the r-th allowed item of each row, r uniform in [0, count)
        r = np.floor(self.rng.random(len(users)) * counts).astype(np.int64)
        items = np.argmax(np.cumsum(allowed, axis=1) > r[:, None], axis=1)
        has = counts > 0
        u, i = users[has], items[has]
        return Interactions(u, i, env.observe(u, i, self.rng))

    def keep(self, candidates: Interactions, new: Interactions, step: int) -> Interactions:
        """The candidates of the users who rated something at ``step`` (``new``): the
        step's shadow training data, marked as drawn."""
        raters = np.unique(new.user)
        kept = np.isin(candidates.user, raters)
        self.shortfall += len(raters) - int(kept.sum())
        u, i = candidates.user[kept], candidates.item[kept]
        self.blocked[u, i] = True
        return Interactions(u, i, candidates.rating[kept], np.full(len(u), step))
