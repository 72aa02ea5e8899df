"""Offline evaluation: metrics of a fitted recommender on held-out pairs, and k-fold
cross-validation, whose folds (and grid configurations) run in parallel on the executors
of :mod:`recdyn.engine` with results that do not depend on the number of workers."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn._progress import advance, progress_bar
from recdyn._validation import check_int
from recdyn.engine.pools import make_pool
from recdyn.environments.base import Environment
from recdyn.errors import InvalidParameterError
from recdyn.evaluation.splits import kfold_assignment, shuffle_split_masks
from recdyn.interactions import Interactions
from recdyn.metrics import offline
from recdyn.metrics.offline_registry import make_offline_metric
from recdyn.recommenders.base import Recommender


def lower_is_better(metric: str) -> bool:
    """Whether smaller values of ``metric`` are better (the error metrics)."""
    return make_offline_metric(metric).lower_is_better


def evaluate(
    recommender: Recommender,
    train: Interactions,
    test: Interactions,
    metrics: Sequence[str] = ("rmse", "ndcg@20"),
    relevant_min_rating: float | None = None,
) -> dict[str, float]:
    """Metrics of a recommender already fitted on ``train``, on the held-out ``test`` pairs.

    ``metrics`` are names of :data:`recdyn.metrics.offline_metrics` (``"rmse"``,
    ``"ndcg@20"`` …, see :func:`~recdyn.metrics.make_offline_metric`). Rating metrics use
    ``predict`` on the test pairs (NaN for models that do not predict ratings); ``ndcg@K``
    is the thesis's offline nDCG (:func:`~recdyn.metrics.ndcg_rating_ranking`); top-N
    metrics score every item for each test user, remove the user's training items and count
    the test items (with rating ≥ ``relevant_min_rating`` if given) as relevant.
    """
    resolved = {m: make_offline_metric(m) for m in metrics}
    out = {m: float("nan") for m in metrics}
    if not len(test):
        return out
    kinds = {metric.kind for metric in resolved.values()}
    pred = recommender.predict(test.user, test.item) if kinds & {"rating", "ranking"} else None
    topn = {}
    for m, metric in resolved.items():
        if metric.kind == "rating" and recommender.predicts_ratings:
            out[m] = metric.of_ratings(test.rating, pred)
        elif metric.kind == "ranking":
            out[m] = metric.of_ranking(test.user, test.rating, pred)
        elif metric.kind == "topn":
            topn[m] = metric
    if topn:
        out.update(_topn_metrics(recommender, train, test, topn, relevant_min_rating))
    return out


def _topn_metrics(rec, train, test, topn, min_rating) -> dict[str, float]:
    """Each top-N metric over the test users, scoring them in batches of ~4M scores."""
    n_users, n_items = rec.n_users_, rec.n_items_
    relevant = offline.relevance_matrix(test, n_users, n_items, min_rating)
    seen = train.to_csr(n_users, n_items, values=np.ones(len(train), bool))
    users = np.unique(test.user)
    batches: dict[str, list[Any]] = {m: [] for m in topn}
    size = max(1, (1 << 22) // n_items)
    for lo in range(0, len(users), size):
        u = users[lo : lo + size]
        scores = rec.score(u)
        for m, metric in topn.items():
            batches[m].append(metric.of_batch(scores, relevant[u], seen[u]))
    return {m: metric.combine(batches[m], n_items) for m, metric in topn.items()}


# ----------------------------------------------------------------------------- data
def resolve_data(
    data: Interactions | Environment | str,
    n_users: int | None,
    n_items: int | None,
    seed: seeding.SeedLike,
) -> tuple[Interactions, int, int, Environment | None]:
    """``(interactions, n_users, n_items, env)`` from an Interactions record or from an
    environment (object or preset name), whose initial data under ``seed`` is exactly what
    ``simulate(..., seed=seed)`` starts from (the thesis tunes on the initial dataset)."""
    env = None
    if isinstance(data, str):
        from recdyn.environments.presets import make

        data = make(data)
    if isinstance(data, Environment):
        env = data
        data = env.reset(seed=seeding.derive(seed, "environment"))
        n_users = env.n_users if n_users is None else n_users
        n_items = env.n_items if n_items is None else n_items
    if not isinstance(data, Interactions):
        raise InvalidParameterError(
            f"data must be recdyn.Interactions, an Environment or a preset name, got "
            f"{type(data).__name__}"
        )
    n_users = data.n_users_seen if n_users is None else check_int("n_users", n_users, low=1)
    n_items = data.n_items_seen if n_items is None else check_int("n_items", n_items, low=1)
    data.check_shape(n_users, n_items)
    return data, n_users, n_items, env


def resolve_recommender(recommender: Recommender | str) -> Recommender:
    if isinstance(recommender, str):
        from recdyn.recommenders.registry import make

        recommender = make(recommender)
    if not isinstance(recommender, Recommender):
        raise InvalidParameterError(
            f"recommender must be a Recommender or a registered name, got {recommender!r}"
        )
    return recommender


# ----------------------------------------------------------------------------- tasks
def check_environment_needs(recommender: Recommender, env: Environment | None) -> None:
    """Fail early when a model that reads the ground truth (the Oracle) has no environment."""
    if recommender.requires_environment and env is None:
        raise InvalidParameterError(
            f"{type(recommender).__name__} reads the environment's true ratings: pass an "
            "Environment (or a preset name) as data instead of Interactions"
        )


@dataclass
class FoldJob:
    """Everything a worker needs, sent once per worker process. ``fold``: the fold id of
    each pair (k-fold), or boolean test masks ``[n_splits, n]`` (repeated holdouts)."""

    recommender: Recommender
    data: Interactions
    fold: np.ndarray
    n_users: int
    n_items: int
    metrics: tuple[str, ...]
    seed: Any
    env: Environment | None = None
    relevant_min_rating: float | None = None
    configs: list[dict[str, Any]] = field(default_factory=lambda: [{}])


def run_fold(job: FoldJob, config: int, fold: int) -> dict[str, Any]:
    """Fit a clone with ``job.configs[config]`` on all folds but ``fold``; evaluate on it.

    A model whose ``seed`` is ``None`` gets one derived from ``(job.seed, fold)``: the same
    for every configuration (common random numbers) and for any number of workers.
    """
    params = dict(job.configs[config])
    rec = job.recommender.clone(**params)
    if "seed" in rec.get_params() and rec.get_params()["seed"] is None:
        derived = seeding.derive(job.seed, "recommender", f"fold-{fold}")
        rec.set_params(seed=int(derived.generate_state(1, np.uint32)[0]))
    if rec.requires_environment:
        check_environment_needs(rec, job.env)
        rec.attach(job.env)
    test_mask = job.fold[fold] if job.fold.ndim == 2 else job.fold == fold
    train, test = job.data.select(~test_mask), job.data.select(test_mask)
    start = time.perf_counter()
    rec.fit(train, job.n_users, job.n_items)
    fit_seconds = time.perf_counter() - start
    row: dict[str, Any] = {"config": config, "fold": fold}
    row.update(evaluate(rec, train, test, job.metrics, job.relevant_min_rating))
    row.update(fit_seconds=fit_seconds, n_train=len(train), n_test=len(test))
    return row


def run_fold_unit(job: FoldJob, unit: tuple[int, int], report: Callable | None = None) -> dict:
    """What a worker runs for the unit ``(config, fold)``: :func:`run_fold`. ``job`` is
    bound with :func:`functools.partial`, so it travels once per worker, not per unit."""
    return run_fold(job, *unit)


def run_jobs(
    job: FoldJob,
    tasks: list[tuple[int, int]],
    n_jobs: int,
    progress: bool = False,
    label: str = "cross-validation",
    backend: str = "local",
) -> list[dict[str, Any]]:
    """Run ``run_fold(job, config, fold)`` for each task, in task order.

    ``n_jobs > 1`` runs them on ``n_jobs`` workers of ``backend`` (:mod:`recdyn.engine`:
    spawned processes, one thread each, or Ray); results are the same as with
    ``n_jobs = 1`` because every task derives its seed from its own ``(config, fold)``,
    not from the order in which tasks finish (floating-point sums inside multi-threaded
    BLAS may still differ in the last bits between one and many threads). A task that
    raises stops the run with its exception. A recommender class defined in a script
    needs the script's ``if __name__ == "__main__":`` guard, as with any use of
    multiprocessing.
    """
    n_jobs = check_int("n_jobs", n_jobs, low=-1)
    if n_jobs == 0:
        raise InvalidParameterError("n_jobs must be a positive number of processes or -1 (all)")
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    bar = progress_bar(progress, len(tasks), label)
    try:
        if n_jobs == 1 or len(tasks) <= 1:
            for i, (config, fold) in enumerate(tasks):
                results[i] = run_fold(job, config, fold)
                advance(bar)
        else:
            fn = functools.partial(run_fold_unit, job)
            with make_pool(backend, min(n_jobs, len(tasks)), fn=fn) as pool:
                for ev in pool.run((str(i), task) for i, task in enumerate(tasks)):
                    if ev.kind == "failed":
                        config, fold = tasks[int(ev.key)]
                        ev.reraise(f"{label}, configuration {config}, fold {fold}")
                    if ev.kind == "done":
                        results[int(ev.key)] = ev.result
                        advance(bar)
    finally:
        if bar is not None:
            bar[0].stop()
    return [r for r in results if r is not None]


def split_assignment(
    n: int, folds: int, test_fraction: float | None, seed: seeding.SeedLike
) -> np.ndarray:
    """What :class:`FoldJob` reads: k-fold ids (``test_fraction=None``) or the test masks
    of ``folds`` independent random holdouts of ``test_fraction`` of the ``n`` pairs."""
    if test_fraction is None:
        return kfold_assignment(n, check_int("folds", folds, low=2), seed)
    return shuffle_split_masks(n, check_int("folds", folds, low=1), test_fraction, seed)


# ----------------------------------------------------------------------------- public
def cross_validate(
    recommender: Recommender | str,
    data: Interactions | Environment | str,
    n_users: int | None = None,
    n_items: int | None = None,
    *,
    folds: int = 5,
    metrics: Sequence[str] = ("rmse", "ndcg@20"),
    seed: seeding.SeedLike = 0,
    n_jobs: int = 1,
    progress: bool = False,
    relevant_min_rating: float | None = None,
    test_fraction: float | None = None,
) -> pd.DataFrame:
    """k-fold cross-validation of a recommender (thesis ch. 2: 5-fold RMSE and nDCG@20).

    The pairs of ``data`` are dealt into ``folds`` folds (:func:`kfold_assignment` under
    ``seed``); for each fold a fresh clone is fitted on the others and evaluated on it.

    Parameters
    ----------
    recommender : a :class:`Recommender` (cloned, never fitted in place) or registered name.
    data : an ``Interactions`` record, or an environment / preset name whose initial data
        under ``seed`` is used (and attached to models that need it, e.g. the Oracle).
    n_users, n_items : id ranges (default: from the environment, or ``1 + max id``).
    folds : k of k-fold (default 5), or the number of holdouts with ``test_fraction``.
    test_fraction : ``None`` (k-fold), or a fraction in (0, 1): ``folds`` independent
        random holdouts of that share of the pairs (:func:`~recdyn.evaluation.splits.
        shuffle_split_masks`; the thesis's ch. 5 "two-fold 90/10" is ``folds=2,
        test_fraction=0.1``).
    metrics : names of offline metrics (``"rmse"``, ``"ndcg@20"`` …).
    n_jobs : worker processes (``-1``: all CPUs).
    progress : show a progress bar.

    Returns
    -------
    DataFrame indexed by ``fold`` (``0..folds-1`` and ``"mean"``) with one column per metric
    plus ``fit_seconds``, ``n_train``, ``n_test``.
    """
    rec = resolve_recommender(recommender)
    metrics = tuple(metrics)
    for m in metrics:
        make_offline_metric(m)
    data, n_users, n_items, env = resolve_data(data, n_users, n_items, seed)
    check_environment_needs(rec, env)
    fold = split_assignment(len(data), folds, test_fraction, seed)
    folds = len(fold) if fold.ndim == 2 else int(folds)
    job = FoldJob(rec, data, fold, n_users, n_items, metrics, seed, env, relevant_min_rating)
    rows = run_jobs(job, [(0, f) for f in range(folds)], n_jobs, progress)
    table = pd.DataFrame(rows).drop(columns="config").set_index("fold").astype(float)
    table.loc["mean"] = table.mean()
    return table
