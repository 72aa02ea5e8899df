"""Tuned recommender embeddings for audits (thesis ch. 5, L4066–4072): tune a factor
model by "two-fold 90/10 split cross-validation", refit it on all the data and hand over
its user and item embeddings."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recdyn import seeding
from recdyn.environments.base import Environment
from recdyn.errors import InvalidParameterError
from recdyn.evaluation.cross_validation import resolve_data, resolve_recommender
from recdyn.evaluation.tuning import GridSearchResult, grid_search
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.factors import FactorEmbeddings


@dataclass(frozen=True)
class TunedEmbeddings:
    """Result of :func:`tune_embeddings`.

    model : the recommender with :attr:`best_params`, fitted on all the data.
    best_params : the winning grid point. search : the full :class:`GridSearchResult`
    (``search.results`` has ``mean_rmse`` per grid point). fit_seconds : the final refit.
    """

    model: Recommender
    best_params: dict[str, Any]
    search: GridSearchResult
    fit_seconds: float

    @property
    def user_factors(self) -> np.ndarray:
        """The user embeddings, read-only float32 ``[n_users, d]`` (the thesis's
        :math:`c_j`, whose empirical distribution is the demand :math:`P_c`)."""
        return self.model.user_factors_

    @property
    def item_factors(self) -> np.ndarray:
        """The item embeddings, read-only float32 ``[n_items, d]`` (the audit's baseline
        producer strategies)."""
        return self.model.item_factors_


def tune_embeddings(
    recommender: Recommender | str,
    data: Interactions | Environment | str,
    param_grid: Mapping[str, Sequence[Any]],
    n_users: int | None = None,
    n_items: int | None = None,
    *,
    seed: seeding.SeedLike = 0,
    folds: int = 2,
    test_fraction: float = 0.1,
    metric: str = "rmse",
    n_jobs: int = 1,
    progress: bool = False,
) -> TunedEmbeddings:
    """Tune a factor model as the thesis's ch. 5 audit does and refit it on everything.

    "To select regularization and learning rate, we performed a two-fold 90/10 split
    cross-validation separately on each dataset. The tuned recommenders were then fit on
    the full dataset, and the resulting user embeddings … were used" (L4068–4072): every
    point of ``param_grid`` is fitted on the 90 % and scored on the 10 % of ``folds``
    independent random splits (:func:`~recdyn.evaluation.splits.shuffle_split_masks`,
    the same splits for every point), the point with the lowest mean validation ``metric``
    wins (:func:`~recdyn.evaluation.grid_search` with ``test_fraction``), and the model
    with that point is fitted on all of ``data``.

    Parameters
    ----------
    recommender : a model with embeddings (:class:`~recdyn.recommenders.factors.
        FactorEmbeddings`: ``"pmf"``, ``"nmf"``, ``"mf-als"`` …) or its registered name;
        its parameters outside the grid are kept.
    data : ``Interactions``, or an environment / preset name (its initial data under
        ``seed``). n_users, n_items : id ranges (default: the environment's or the data's).
    param_grid : ``{"parameter": [values, ...]}``, e.g. ``{"reg": [0.03, 0.1, 0.3]}``.
    seed : the splits, and the model's seed when it has ``seed=None``.
    folds, test_fraction : the number of holdouts (2) and their test share (0.1).
    metric : selection metric (default ``"rmse"``). n_jobs, progress : as ``grid_search``.
    """
    rec = resolve_recommender(recommender)
    if not isinstance(rec, FactorEmbeddings):
        raise InvalidParameterError(
            f"recommender must be a model with embeddings (pmf, nmf, mf-als, mf-sgd, gmf, "
            f"bayes-mf, hpf), got {type(rec).__name__}"
        )
    if "seed" in rec.get_params() and rec.get_params()["seed"] is None:
        derived = seeding.derive(seed, "recommender", "embeddings")
        rec = rec.clone(seed=int(derived.generate_state(1, np.uint32)[0]))
    data, n_users, n_items, _ = resolve_data(data, n_users, n_items, seed)
    search = grid_search(
        rec,
        param_grid,
        data,
        n_users,
        n_items,
        folds=folds,
        test_fraction=test_fraction,
        metric=metric,
        seed=seed,
        n_jobs=n_jobs,
        progress=progress,
    )
    model = search.best_recommender(rec)
    start = time.perf_counter()
    model.fit(data, n_users, n_items)
    return TunedEmbeddings(model, search.best_params, search, time.perf_counter() - start)
