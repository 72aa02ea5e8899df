"""Baselines of thesis §2.4: Random, TopPop (popularity = mean rating) and the Oracle."""

from __future__ import annotations

from numbers import Real
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval, Seed
from recdyn.errors import InvalidParameterError, NotFittedError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender


class RandomRecommender(Recommender):
    """Scores every item ``Unif(low, high)``, redrawn at every call (thesis: "Random").

    Parameters
    ----------
    low, high : range of the random scores (and predictions), default the 1–5 scale.
    seed : int or None; ``simulate`` derives one from its root seed when ``None``.
    """

    def __init__(
        self,
        *,
        low: Annotated[float, Interval(Real)] = 1.0,
        high: Annotated[float, Interval(Real)] = 5.0,
        seed: Annotated[int | None, None, Seed()] = None,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _check_params(self) -> None:
        if self.high < self.low:
            raise InvalidParameterError(
                f"high must be in [{self.low}, inf] (not below low), got {self.high!r}"
            )

    def _fit(self, data: Interactions) -> None:
        self._rng = np.random.default_rng(self.seed)

    def _partial_fit(self, new: Interactions) -> None:
        pass

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._rng.uniform(self.low, self.high, size=(len(users), self.n_items_))

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._rng.uniform(self.low, self.high, size=len(users))


class TopPop(Recommender):
    r"""Recommends the items with the highest mean rating (thesis §2.4 "TopPop").

    .. math:: \hat r_i = \frac{\sum_{u} r_{ui} + w\,\mu}{n_i + w}

    the item's mean rating shrunk towards the global mean :math:`\mu` with ``prior_weight``
    :math:`w` pseudo-ratings. An item nobody rated scores :math:`\mu`; RecLab gave it the
    mean over all matrix cells including the missing zeros (≈0.2), so new items were never
    shown. Updates are incremental (sums and counts).

    Parameters
    ----------
    prior_weight : w ≥ 0, default 1. ``0`` gives the plain mean (``μ`` for unrated items).
    """

    partial_fit_is_exact = True

    def __init__(self, *, prior_weight: Annotated[float, Interval(Real, 0, None)] = 1.0) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _fit(self, data: Interactions) -> None:
        self._sum = np.zeros(self.n_items_)
        self._count = np.zeros(self.n_items_)
        self._partial_fit(data)

    def _partial_fit(self, new: Interactions) -> None:
        self._sum += np.bincount(new.item, weights=new.rating, minlength=self.n_items_)
        self._count += np.bincount(new.item, minlength=self.n_items_)
        total = self._count.sum()
        mu = self._sum.sum() / total if total else 0.0
        w = self.prior_weight
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (self._sum + w * mu) / (self._count + w)
        self.item_scores_ = np.where(self._count + w > 0, means, mu).astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_scores_, (len(users), self.n_items_))

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.item_scores_[items]


class Oracle(Recommender):
    """Scores items by the environment's noise-free ratings (thesis §2.4 "Oracle").

    Greedy with respect to the *current* true ratings: it does not plan for dynamics. Its
    RMSE is not zero because observed ratings are noisy. ``simulate`` attaches the
    environment; to use it elsewhere pass ``env=``.
    """

    requires_environment = True

    def __init__(self, *, env: Any = None) -> None:
        pass  # any object (or None): stored by the base, read at fit

    def attach(self, env: Any) -> Oracle:
        self.env = env
        return self

    def _fit(self, data: Interactions) -> None:
        if self.env is None:
            raise NotFittedError("Oracle needs an environment: Oracle(env=env) or simulate()")
        if (self.env.n_users, self.env.n_items) != (self.n_users_, self.n_items_):
            raise InvalidParameterError(
                f"Oracle's environment has {self.env.n_users} users × {self.env.n_items} "
                f"items but fit was given {self.n_users_} × {self.n_items_}"
            )

    def _partial_fit(self, new: Interactions) -> None:
        pass

    def _items_added(self, old_n_items: int) -> None:
        pass  # it reads the world, which already holds the new items

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.env.true_ratings(users)

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        uniq, inv = np.unique(users, return_inverse=True)
        uitems, iinv = np.unique(items, return_inverse=True)
        return self.env.true_ratings(uniq, uitems)[inv, iinv]
