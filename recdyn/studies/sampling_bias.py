"""The ``sampling-bias`` study: offline metrics on uniform vs MNAR-biased samples (thesis
§2.5, Figs. 2.3 and 2.4).

Protocol (Krauth 2022, §2.5; RecLab ``experiments/sampling``)
--------------------------------------------------------------
1. Three offline datasets of ``topics-static-v1`` (1000 users × 1700 items, 100,000 pairs
   each, sampled without replacement): UNIFORM-INIT (uniform pairs), ML-100K-INIT
   (:math:`P(u,i) \\propto \\mathrm{Beta}(\\tilde r(u,i); 3.61, 2.57)\\,
   \\mathrm{Beta}(\\tilde k(u); 0.70, 1.83)`, favouring high ratings and a few heavy users)
   and ML-100K-INIT-FLIP (rating term at :math:`1 - \\tilde r`, favouring low ratings);
   see :func:`recdyn.environments.sampling.initial_pairs`. The three come from the same
   environment seed, so they sample the *same* preferences (checked in the report).
2. Every recommender is tuned on UNIFORM-INIT by grid search on the mean 5-fold CV RMSE;
   the chosen hyperparameters are used on all three datasets.
3. nDCG@20 (the thesis's linear-gain nDCG over each user's held-out items) and RMSE are
   averaged over 5 folds on each dataset; biased vs uniform is plotted with a linear fit.
4. Held-out check: each model is trained on a whole dataset and evaluated on one shared
   uniform sample of pairs of the same environment that is in none of the three datasets.

Units of work — a (recommender, configuration, fold) of the grid search, a (recommender,
dataset, fold) evaluation, a (recommender, dataset) held-out fit — run on the engine
(``backend="local"`` or ``"ray"``) as :class:`~recdyn.engine.Call`\\ s of :func:`run_unit`;
each finished unit is stored in ``units/`` (:class:`~recdyn.engine.UnitStore`, with a hash
of its arguments) so a rerun skips it and ``report`` reads them without running anything.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from functools import lru_cache
from numbers import Integral
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from recdyn._progress import advance, progress_bar
from recdyn.constraints import Interval, Names
from recdyn.engine import Call, DirectoryLock, UnitRunner, UnitStore
from recdyn.errors import InvalidParameterError, RecdynError
from recdyn.studies import _sampling_bias_analysis as analysis
from recdyn.studies._sampling_bias_protocol import DATASETS, LABELS, PRESET
from recdyn.studies._sampling_bias_protocol import dataset as _dataset
from recdyn.studies.base import RunOptions, Study, StudyResult

RECOMMENDERS = tuple(LABELS)
METRICS = ("rmse", "ndcg@20")

#: fixed hyperparameters (full mode): the thesis's "performance-dependent" choices.
FULL_PARAMS: dict[str, dict[str, Any]] = {
    "mf-sgd": {"n_factors": 20},
    "bayes-mf": {"rank": 20, "n_iter": 200},
}
#: grids searched on UNIFORM-INIT (full mode), trimmed from the thesis's (digest §3.2):
#: k-NN k (thesis linspace(10, 1001, 10); recdyn's baseline-centred k-NN prefers small k,
#: so the grid reaches down to 5); SGD MF reg around the thesis's fixed 0.07 and lr (up to
#: 0.03: smaller rates were best at the edge); LibFM MCMC init_stdev 0.1 vs 1.0; AutoRec and
#: LLORMA regularisation. CF-NADE used fixed parameters in the thesis; EASE is not tuned on
#: RMSE (its scores are not ratings).
FULL_GRIDS: dict[str, dict[str, list[Any]]] = {
    "item-knn": {"k": [5, 10, 20, 40, 120, 250]},
    "user-knn": {"k": [5, 10, 20, 40, 120, 250]},
    "mf-sgd": {"reg": [0.04, 0.07, 0.1, 0.15], "lr": [0.005, 0.01, 0.015, 0.03]},
    "bayes-mf": {"init_std": [0.1, 1.0]},
    "autorec": {"reg": [30.0, 100.0, 300.0]},
    "llorma": {"reg": [0.02, 0.08]},
}
#: quick mode: a 400 × 680 environment with 16,000 pairs (density 5.9 %, as the thesis's
#: 100k / 1.7M), small neural models and two-value grids.
QUICK_OVERRIDES = {"n_users": 400, "n_items": 680, "n_initial_ratings": 16_000}
QUICK_PARAMS: dict[str, dict[str, Any]] = {
    "mf-sgd": {"n_factors": 20},
    "bayes-mf": {"rank": 10, "n_iter": 50},
    "autorec": {"hidden": 64, "n_epochs": 20},
    "cf-nade": {"hidden": 32, "n_epochs": 5},
    "llorma": {"n_anchor": 8, "n_epochs": 5, "pre_epochs": 5},
}
QUICK_GRIDS: dict[str, dict[str, list[Any]]] = {
    "item-knn": {"k": [20, 80]},
    "user-knn": {"k": [20, 80]},
    "mf-sgd": {"reg": [0.05, 0.1]},
}


class SamplingBiasStudy(Study):
    """Thesis §2.5: are offline nDCG@20 / RMSE rankings stable under MNAR sampling?

    Parameters
    ----------
    quick : the few-minute version (400 × 680 environment, 16k pairs per dataset, small
        neural models, two-value grids); default: thesis sizes (1000 × 1700, 100k pairs).
    seed : root seed: the environment (shared by the three datasets), the folds and
        the models' seeds.
    recommenders : only these recommenders (default: the 11 of thesis §2.4).
    folds : k of the k-fold cross-validation (default 5, as the thesis).
    heldout_size : pairs in the held-out uniform set (default: as many as a dataset).
    """

    name = "sampling-bias"

    def __init__(
        self,
        *,
        recommenders: Annotated[tuple[str, ...], Names(RECOMMENDERS)] = RECOMMENDERS,
        folds: Annotated[int, Interval(Integral, 2, 20)] = 5,
        heldout_size: Annotated[int | None, None, Interval(Integral, 100, None)] = None,
        **inherited: Any,
    ) -> None:
        self.overrides = dict(QUICK_OVERRIDES) if self.quick else {}
        if heldout_size is None:  # as many pairs as a dataset
            self.heldout_size = self.overrides.get("n_initial_ratings", 100_000)
        self.params = QUICK_PARAMS if self.quick else FULL_PARAMS
        self.grids = QUICK_GRIDS if self.quick else FULL_GRIDS
        #: (wall seconds, units computed, units reused) of the last execute, if any
        self.last_run: tuple[float, int, int] | None = None

    # ------------------------------------------------------------------ units
    def _base(self, rec: str, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "preset": PRESET,
            "overrides": self.overrides,
            "env_seed": self.seed,
            "recommender": rec,
            "params": params,
            "metrics": list(METRICS),
        }

    def configs(self, rec: str) -> list[dict[str, Any]]:
        """Every configuration searched for ``rec`` (fixed parameters ∪ a grid point)."""
        grid = self.grids.get(rec)
        fixed = dict(self.params.get(rec, {}))
        if not grid:
            return [fixed]
        from recdyn.evaluation import expand_grid
        from recdyn.recommenders import make

        return [{**fixed, **c} for c in expand_grid(make(rec, **fixed), grid)]

    def _cv(self, rec: str, params: dict[str, Any], dataset: str, fold: int) -> dict[str, Any]:
        return {
            "kind": "cv",
            **self._base(rec, params),
            "sampling": dataset,
            "folds": self.folds,
            "fold": fold,
            "cv_seed": self.seed,
        }

    def _heldout(self, rec: str, params: dict[str, Any], dataset: str) -> dict[str, Any]:
        return {
            "kind": "heldout",
            **self._base(rec, params),
            "sampling": dataset,
            "heldout_size": self.heldout_size,
            "cv_seed": self.seed,
        }

    def tuning_units(self) -> dict[str, dict[str, Any]]:
        """The grid search on UNIFORM-INIT: one CV fold of one configuration per unit."""
        return {
            f"tune--{rec}--c{c}--f{f}": self._cv(rec, params, "uniform", f)
            for rec in self.recommenders
            if len(configs := self.configs(rec)) > 1
            for c, params in enumerate(configs)
            for f in range(self.folds)
        }

    def choose(self, done: dict[str, Any]) -> None:
        """Set :attr:`best` (each recommender's configuration with the lowest mean CV
        RMSE; recommenders whose tuning is incomplete are left out) and :attr:`cv_keys`."""
        self.best: dict[str, dict[str, Any]] = {}
        self.cv_keys: dict[tuple[str, str], list[str]] = {}
        for rec in self.recommenders:
            configs = self.configs(rec)
            if len(configs) == 1:
                self.best[rec] = configs[0]
                continue
            keys = [
                [f"tune--{rec}--c{c}--f{f}" for f in range(self.folds)] for c in range(len(configs))
            ]
            if any(k not in done for ks in keys for k in ks):
                continue
            scores = [np.mean([done[k]["rmse"] for k in ks]) for ks in keys]
            best = int(np.nanargmin(scores))
            self.best[rec] = configs[best]
            # the uniform CV of the chosen configuration is its tuning run
            self.cv_keys[(rec, "uniform")] = keys[best]

    def evaluation_units(self) -> dict[str, dict[str, Any]]:
        """With :attr:`best` chosen: the CV folds on each dataset and the held-out fits."""
        units = {}
        for rec, params in self.best.items():
            for ds in DATASETS:
                if (rec, ds) not in self.cv_keys:
                    self.cv_keys[(rec, ds)] = []
                    for f in range(self.folds):
                        units[key := f"cv--{rec}--{ds}--f{f}"] = self._cv(rec, params, ds, f)
                        self.cv_keys[(rec, ds)].append(key)
                units[f"heldout--{rec}--{ds}"] = self._heldout(rec, params, ds)
        return units

    # ------------------------------------------------------------------ run
    def execute(self, out: Path, options: RunOptions) -> None:
        """Tune (the grid-search units), choose, then evaluate — all on one pool, each
        unit stored in ``out/units`` as it ends."""
        start = time.perf_counter()
        tune = self.tuning_units()
        n_eval = len(self.recommenders) * (len(DATASETS) * (self.folds + 1))
        with ExitStack() as stack:
            stack.enter_context(DirectoryLock(out))
            bar = progress_bar(
                options.progress,
                len(tune) + n_eval,
                "sampling-bias units",
                options.console,
                start=False,
            )
            if bar is not None:
                stack.enter_context(bar[0])
            runner = stack.enter_context(
                UnitRunner(
                    UnitStore(out / "units"),
                    options.backend,
                    options.workers,
                    options.address,
                    advance=lambda n: advance(bar, n),
                )
            )
            done = runner.run(_calls(tune))
            failed: dict[str, str] = dict(runner.failed)
            self.choose(done)
            units = self.evaluation_units()
            if bar is not None:  # recommenders whose tuning failed have no evaluation
                bar[0].update(bar[1], total=len(tune) + len(units))
            runner.run(_calls(units))
            failed.update(runner.failed)
        self.last_run = (time.perf_counter() - start, runner.computed, runner.reused)
        if failed:
            lines = "; ".join(f"{k}: {v.splitlines()[0]}" for k, v in sorted(failed.items())[:5])
            raise RecdynError(
                f"{len(failed)} unit(s) of the sampling-bias study failed ({lines}); finished "
                f"units are saved in {out / 'units'}: fix the cause and run again to resume"
            )

    def analyse(self, out: Path) -> StudyResult:
        """The tables, figures and findings from the units stored in ``out/units``."""
        store = UnitStore(out / "units")
        tune = self.tuning_units()
        done = _stored(store, tune, out)
        self.choose(done)
        done.update(_stored(store, self.evaluation_units(), out))
        return analysis.analyse(self, out, tune, done)


def _stored(store: UnitStore, units: dict[str, dict[str, Any]], out: Path) -> dict[str, Any]:
    """The stored results of ``units``; a recdyn error when one is missing."""
    done = {key: store.load(key, kwargs) for key, kwargs in units.items()}
    missing = [key for key, result in done.items() if result is None]
    if missing:
        raise InvalidParameterError(
            f"{out} holds no result for {len(missing)} unit(s) of this study (first: "
            f"{missing[0]}); run it with the same options first (quick, seed, recommenders, "
            "folds, heldout_size)"
        )
    return done


def _calls(units: dict[str, dict[str, Any]]) -> dict[str, Call]:
    """The units (key → keyword arguments of :func:`run_unit`) as engine calls."""
    return {key: Call(f"{__name__}:run_unit", kwargs) for key, kwargs in units.items()}


# ---------------------------------------------------------------------- worker side
@lru_cache(maxsize=2)
def heldout_pairs(preset: str, overrides: str, env_seed: int, size: int):
    """A uniform sample of ``size`` pairs of the environment that are in none of the three
    datasets, with noisy observed ratings (the same observation model as the datasets)."""
    from recdyn import seeding
    from recdyn.interactions import STEP_DTYPE, Interactions

    env, _ = _dataset(preset, overrides, "uniform", env_seed)
    taken = np.concatenate(
        [
            data.user.astype(np.int64) * env.n_items + data.item
            for data in (_dataset(preset, overrides, s, env_seed)[1] for s in DATASETS)
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
) -> dict[str, Any]:
    """One unit of work (runs in a worker): ``kind="cv"`` fits on all folds of the dataset
    ``sampling`` but ``fold`` and evaluates on it (:func:`~recdyn.evaluation.
    cross_validation.run_fold`: the same folds and per-fold model seeds for every
    configuration); ``kind="heldout"`` fits on the whole dataset and evaluates on
    :func:`heldout_pairs`. Returns the metrics, ``fit_seconds`` and ``seconds``."""
    from recdyn import seeding
    from recdyn.evaluation import evaluate, kfold_assignment
    from recdyn.evaluation.cross_validation import FoldJob, run_fold
    from recdyn.recommenders import make

    start = time.perf_counter()
    key = json.dumps(overrides, sort_keys=True)
    env, data = _dataset(preset, key, sampling, env_seed)
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
        test = heldout_pairs(preset, key, env_seed, heldout_size)
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


__all__ = ["DATASETS", "LABELS", "RECOMMENDERS", "SamplingBiasStudy", "run_unit"]
