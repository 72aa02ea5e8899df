"""The worker side of the ``sampling-bias`` study (thesis §2.5): one unit of work — a CV
fold or a held-out fit of one recommender on one dataset — and the held-out uniform set.

Units run in worker processes as :class:`~recdyn.engine.Call`\\ s of :func:`run_unit` with
plain keyword arguments (their hash is the stored unit's stamp, see
:class:`~recdyn.engine.UnitStore`); :mod:`recdyn.studies.sampling_bias` builds them.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

import numpy as np

from recdyn.errors import InvalidParameterError
from recdyn.studies._sampling_bias_protocol import DATASETS, dataset


@lru_cache(maxsize=2)
def heldout_pairs(preset: str, overrides: str, env_seed: int, size: int, reading: str = "thesis"):
    """A uniform sample of ``size`` pairs of the environment that are in none of the three
    datasets of ``reading``, with noisy observed ratings (the same observation model as the
    datasets); the same random stream in every reading."""
    from recdyn import seeding
    from recdyn.interactions import STEP_DTYPE, Interactions

    env, _ = dataset(preset, overrides, "uniform", env_seed)
    taken = np.concatenate(
        [
            data.user.astype(np.int64) * env.n_items + data.item
            for data in (dataset(preset, overrides, s, env_seed, reading)[1] for s in DATASETS)
        ]
    )
    free = np.setdiff1d(np.arange(env.n_users * env.n_items), taken, assume_unique=False)
    if size > len(free):
        raise InvalidParameterError(
            f"heldout_size must be at most {len(free)} (the pairs in none of the datasets); "
            f"got {size}"
        )
    rng = seeding.generator(env_seed, "sampling-bias", "heldout")
    flat = np.sort(rng.choice(free, size=size, replace=False))
    users, items = np.divmod(flat, env.n_items)
    ratings = env.observe(users, items, rng)
    return Interactions(users, items, ratings, np.zeros(size, STEP_DTYPE))


def run_unit(
    *,
    kind: str,
    preset: str,
    overrides: dict[str, Any],
    env_seed: int,
    recommender: str,
    params: dict[str, Any],
    metrics: list[str],
    sampling: str,
    cv_seed: int,
    folds: int = 5,
    fold: int = 0,
    heldout_size: int = 0,
    biased_sampling: str = "thesis",
) -> dict[str, Any]:
    """One unit of work (runs in a worker): ``kind="cv"`` fits on all folds of the dataset
    ``sampling`` but ``fold`` and evaluates on it (:func:`~recdyn.evaluation.
    cross_validation.run_fold`: the same folds and per-fold model seeds for every
    configuration); ``kind="heldout"`` fits on the whole dataset and evaluates on
    :func:`heldout_pairs`. ``biased_sampling`` is the reading of the biased datasets (and
    of the held-out set, which excludes them). Returns the metrics, ``fit_seconds`` and
    ``seconds``."""
    from recdyn import seeding
    from recdyn.evaluation import evaluate, kfold_assignment
    from recdyn.evaluation.cross_validation import FoldJob, run_fold
    from recdyn.recommenders import make

    start = time.perf_counter()
    key = json.dumps(overrides, sort_keys=True)
    env, data = dataset(preset, key, sampling, env_seed, biased_sampling)
    rec = make(recommender)
    if kind == "cv":
        assignment = kfold_assignment(len(data), folds, cv_seed)
        job = FoldJob(
            rec,
            data,
            assignment,
            env.n_users,
            env.n_items,
            tuple(metrics),
            cv_seed,
            env,
            configs=[params],
        )
        row = run_fold(job, 0, fold)
        row.pop("config", None)
    elif kind == "heldout":
        test = heldout_pairs(preset, key, env_seed, heldout_size, biased_sampling)
        rec = rec.clone(**params)
        if "seed" in rec.get_params() and rec.get_params()["seed"] is None:
            derived = seeding.derive(cv_seed, "recommender", "heldout")
            rec.set_params(seed=int(derived.generate_state(1, np.uint32)[0]))
        if rec.requires_environment:
            rec.attach(env)
        t = time.perf_counter()
        rec.fit(data, env.n_users, env.n_items)
        row = {"fit_seconds": time.perf_counter() - t, "n_train": len(data), "n_test": len(test)}
        row.update(evaluate(rec, data, test, metrics))
    else:
        raise InvalidParameterError(f"kind must be 'cv' or 'heldout'; got {kind!r}")
    row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
    row["seconds"] = time.perf_counter() - start
    return row
