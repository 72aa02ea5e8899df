"""Grid search over hyperparameters by k-fold cross-validation (thesis ch. 2 protocol:
pick the configuration with the lowest mean 5-fold CV RMSE on the initial dataset) or by
repeated random holdouts (thesis ch. 5: two 90/10 splits)."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn.environments.base import Environment
from recdyn.errors import InvalidParameterError
from recdyn.evaluation.cross_validation import (
    FoldJob,
    check_environment_needs,
    lower_is_better,
    resolve_data,
    resolve_recommender,
    run_jobs,
    split_assignment,
)
from recdyn.interactions import Interactions
from recdyn.metrics.offline_registry import make_offline_metric
from recdyn.recommenders.base import Recommender


@dataclass(frozen=True)
class GridSearchResult:
    """Result of :func:`grid_search`.

    results : one row per configuration, in grid order: the parameter values, then
        ``mean_<metric>`` and ``std_<metric>`` (over folds) for every metric, ``fit_seconds``
        and ``rank`` (1 = best by ``metric``).
    folds : one row per (configuration, fold) with every metric.
    best_params : the winning configuration (only the searched parameters).
    best_score : its mean ``metric``. metric : the selection metric.
    """

    results: pd.DataFrame
    folds: pd.DataFrame
    best_params: dict[str, Any]
    best_score: float
    metric: str

    def best_recommender(self, recommender: Recommender | str) -> Recommender:
        """An unfitted clone of ``recommender`` with :attr:`best_params` applied."""
        return resolve_recommender(recommender).clone(**self.best_params)


def expand_grid(
    recommender: Recommender, param_grid: Mapping[str, Sequence[Any]]
) -> list[dict[str, Any]]:
    """All combinations of ``param_grid`` (keys in the given order, last key fastest),
    each checked by building the recommender so a bad value fails before any fitting."""
    if not isinstance(param_grid, Mapping) or not param_grid:
        raise InvalidParameterError(
            f"param_grid must be a non-empty dict of parameter -> list of values, "
            f"got {param_grid!r}"
        )
    valid = recommender.get_params()
    grid: dict[str, list[Any]] = {}
    for key, values in param_grid.items():
        if key not in valid:
            close = difflib.get_close_matches(str(key), list(valid), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(
                f"{type(recommender).__name__} has no parameter {key!r}.{hint} "
                f"Valid: {', '.join(valid)}"
            )
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            values = [values]
        values = list(values.tolist() if isinstance(values, np.ndarray) else values)
        if not values:
            raise InvalidParameterError(f"param_grid[{key!r}] is empty; give at least one value")
        grid[key] = values
    configs = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    for config in configs:
        recommender.clone(**config)
    return configs


def grid_search(
    recommender: Recommender | str,
    param_grid: Mapping[str, Sequence[Any]],
    data: Interactions | Environment | str,
    n_users: int | None = None,
    n_items: int | None = None,
    *,
    folds: int = 5,
    metric: str = "rmse",
    metrics: Sequence[str] | None = None,
    seed: seeding.SeedLike = 0,
    n_jobs: int = 1,
    progress: bool = False,
    relevant_min_rating: float | None = None,
    test_fraction: float | None = None,
) -> GridSearchResult:
    """Cross-validate every configuration of ``param_grid`` and pick the best by the mean
    of ``metric`` over folds (lowest for ``rmse``/``mae``, highest otherwise; ties go to the
    first configuration in grid order).

    Every configuration is evaluated on the same folds, and a model whose ``seed`` is
    ``None`` gets the same per-fold seed in every configuration, so differences between
    configurations are not seed noise. Folds × configurations run in parallel when
    ``n_jobs > 1`` with identical results.

    Parameters
    ----------
    recommender : registered name (``"toppop"``) or a :class:`Recommender` whose other
        hyperparameters are kept.
    param_grid : ``{"parameter": [values, ...]}``, e.g. ``{"prior_weight": [0, 1, 10]}``.
    data : ``Interactions``, or an environment / preset name (its initial data under
        ``seed``, the thesis's tuning set).
    n_users, n_items : id ranges (default: the environment's, or ``1 + max id``).
    folds : k of k-fold (default 5), or the number of holdouts with ``test_fraction``.
    test_fraction : ``None`` (k-fold), or a fraction in (0, 1): ``folds`` independent
        random holdouts of that share of the pairs (the thesis's ch. 5 "two-fold 90/10
        split cross-validation" is ``folds=2, test_fraction=0.1``).
    metric : selection metric (default ``"rmse"``);
        ``metrics`` : extra metrics to report (names of :data:`recdyn.metrics.offline_metrics`).
    seed : fold assignment and derived model seeds. n_jobs : worker processes (``-1``: all).
    progress : show a progress bar over configurations × folds.
    """
    rec = resolve_recommender(recommender)
    make_offline_metric(metric)
    all_metrics = tuple(dict.fromkeys([metric, *(metrics or ())]))
    for m in all_metrics:
        make_offline_metric(m)
    configs = expand_grid(rec, param_grid)
    data, n_users, n_items, env = resolve_data(data, n_users, n_items, seed)
    check_environment_needs(rec, env)
    fold = split_assignment(len(data), folds, test_fraction, seed)
    folds = len(fold) if fold.ndim == 2 else int(folds)
    job = FoldJob(
        rec, data, fold, n_users, n_items, all_metrics, seed, env, relevant_min_rating, configs
    )
    tasks = [(c, f) for c in range(len(configs)) for f in range(folds)]
    label = f"grid search {type(rec).__name__}"
    per_fold = pd.DataFrame(run_jobs(job, tasks, n_jobs, progress, label))

    grouped = per_fold.groupby("config", sort=True)
    results = pd.DataFrame(configs)
    for m in all_metrics:
        results[f"mean_{m}"] = grouped[m].mean().to_numpy()
        results[f"std_{m}"] = grouped[m].std(ddof=1).to_numpy()
    results["fit_seconds"] = grouped["fit_seconds"].mean().to_numpy()
    score = results[f"mean_{metric}"].to_numpy(dtype=float)
    if np.isnan(score).all():
        raise InvalidParameterError(
            f"metric {metric!r} is undefined (NaN) for every configuration of "
            f"{type(rec).__name__}"
            + (
                "; it does not predict ratings, choose a ranking metric such as 'ndcg@20'"
                if not rec.predicts_ratings
                else ""
            )
        )
    signed = score if lower_is_better(metric) else -score
    signed = np.where(np.isnan(signed), np.inf, signed)
    results["rank"] = pd.Series(signed).rank(method="min").astype(int).to_numpy()
    best = int(np.argmin(signed))
    per_fold.insert(1, "params", [repr(configs[c]) for c in per_fold["config"]])
    return GridSearchResult(results, per_fold, dict(configs[best]), float(score[best]), metric)
