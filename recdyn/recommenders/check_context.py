"""The data and fitted models that the recommender checks share (see
:mod:`recdyn.recommenders.checker`): synthetic ratings, their halves, and clones fitted on
all of them and on the first half, each made once, on first use."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recdyn.checking import same_params
from recdyn.environments.presets import make as make_environment
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender

__all__ = ["RATING_RANGE", "Context", "Fitted", "synthetic_ratings"]

RATING_RANGE = (1.0, 5.0)


def synthetic_ratings(n_users: int = 30, n_items: int = 40, seed: int = 0) -> Interactions:
    """Small low-rank 1–5 ratings (about 30% dense, shuffled rows) in which the last 4
    users and the last 5 items have no ratings (cold start)."""
    rng = np.random.default_rng(seed)
    n_u, n_i = n_users - 4, n_items - 5
    p, q = rng.normal(size=(n_u, 3)), rng.normal(size=(n_i, 3))
    true = 3.0 + 0.8 * (p @ q.T) + rng.normal(0.0, 0.3, size=(n_u, n_i))
    mask = rng.random((n_u, n_i)) < 0.3
    mask[np.arange(n_u)[:, None], rng.integers(0, n_i, size=(n_u, 3))] = True
    users, items = np.nonzero(mask)
    ratings = np.clip(np.round(true[users, items]), *RATING_RANGE)
    order = rng.permutation(len(users))
    return Interactions(users[order], items[order], ratings[order])


@dataclass
class Fitted:
    """A fitted clone and what was seen when it was fitted: its first ``score(all users)``
    and then its predictions of the first 10 ratings (kept, as a random model redraws)."""

    model: Recommender
    scores: np.ndarray
    predictions: np.ndarray
    returned_self: bool = True
    params_kept: bool = True
    data_kept: bool = True
    frame_kept: bool = True


class Context:
    """Synthetic ratings for ``rec`` and clones of it fitted on them (``seed=7`` where the
    model takes a seed; Oracle-like models get a small attached environment)."""

    def __init__(
        self,
        rec: Recommender,
        *,
        seed: int = 0,
        partial_fit_rtol: float = 1e-4,
        n_users: int = 30,
        n_items: int = 40,
    ) -> None:
        self.rec = rec
        self.n_users, self.n_items = n_users, n_items
        self.data = synthetic_ratings(n_users, n_items, seed)
        half = len(self.data) // 2
        self.first = self.data.select(np.arange(half))
        self.second = self.data.select(np.arange(half, len(self.data)))
        self.users = np.arange(n_users)
        self.rtol = partial_fit_rtol
        self.env = None
        if rec.requires_environment:
            self.env = make_environment(
                "topics-static-v1",
                n_users=n_users,
                n_items=n_items,
                n_topics=4,
                users_per_step=5,
                n_initial_ratings=0,
            )
            self.env.reset(seed=seed)
        self.has_seed = "seed" in rec.get_params()

    def fresh(self) -> Recommender:
        """An unfitted clone (attached to the environment if it needs one)."""
        rec = self.rec.clone(**({"seed": 7} if self.has_seed else {}))
        if rec.requires_environment:
            rec.attach(self.env)
        return rec

    def fit(self, data: Interactions | None = None) -> Recommender:
        """A fresh clone fitted on ``data`` (default: all the ratings)."""
        return self.fresh().fit(self.data if data is None else data, self.n_users, self.n_items)

    def _record(self, model: Recommender) -> Fitted:
        scores = model.score(self.users)
        scores = scores.copy() if isinstance(scores, np.ndarray) else scores
        predictions = model.predict(self.data.user[:10], self.data.item[:10])
        return Fitted(model, scores, predictions)

    @functools.cached_property
    def fitted(self) -> Fitted:
        """A clone fitted on all the ratings, given as ``Interactions`` backed by a
        DataFrame; records whether ``fit`` returned self and kept its inputs."""
        df = pd.DataFrame(
            {"user": self.data.user, "item": self.data.item, "rating": self.data.rating}
        )
        data = Interactions.from_pandas(df)
        snapshot = df.copy()
        model = self.fresh()
        before = copy.deepcopy(model.get_params())
        out = model.fit(data, self.n_users, self.n_items)
        record = self._record(model)
        record.returned_self = out is model
        record.params_kept = same_params(before, model.get_params())
        record.data_kept = data.to_pandas()[list(df.columns)].equals(snapshot)
        record.frame_kept = df.equals(snapshot)
        return record

    @functools.cached_property
    def fitted_first(self) -> Fitted:
        """A clone fitted on the first half of the ratings."""
        return self._record(self.fit(self.first))

    def discard(self, name: str) -> None:
        """Forget a shared model that a check may have changed."""
        self.__dict__.pop(name, None)
