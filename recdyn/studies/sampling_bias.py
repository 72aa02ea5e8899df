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

Two readings (issue 23): ``readings=("thesis", "reclab")`` evaluates the biased datasets as
the thesis's text defines them and as RecLab's code drew them (``biased_sampling="reclab"``:
the rating term normalised per user, FLIP as ``1 − pdf``, pairs rated afresh; see
:mod:`recdyn.studies._sampling_bias_protocol`). UNIFORM-INIT, its tuning and its CV are
shared; each reading has its own biased datasets, CV units and held-out set (uniform pairs
in none of *that reading's* datasets). Thesis-reading units keep the keys and payloads of a
thesis-only run, so either run reuses the other's units.

Units of work — a (recommender, configuration, fold) of the grid search, a (recommender,
dataset, fold) evaluation, a (recommender, dataset) held-out fit — run on the engine
(``backend="local"`` or ``"ray"``) as :class:`~recdyn.engine.Call`\\ s of :func:`run_unit`
(:mod:`recdyn.studies._sampling_bias_units`); each finished unit is stored in ``units/``
(:class:`~recdyn.engine.UnitStore`, with a hash of its arguments) so a rerun skips it and
``report`` reads them without running anything.
"""

from __future__ import annotations

import time
from numbers import Integral
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval, Names
from recdyn.engine import UnitStore
from recdyn.studies import _sampling_bias_analysis as analysis
from recdyn.studies._sampling_bias_protocol import (
    BIASED,
    DATASETS,
    LABELS,
    PRESET,
    READINGS,
    unit_tag,
)
from recdyn.studies._sampling_bias_units import heldout_pairs, run_unit
from recdyn.studies.base import RunOptions, Study, StudyResult
from recdyn.studies.work import raise_failed_units, stored_units, unit_calls, unit_runner

#: What a report without stored results asks for.
_RERUN = (
    "run it with the same options first (quick, seed, recommenders, folds, heldout_size, readings)"
)

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
    readings : the readings of the biased datasets evaluated: ``"thesis"`` (the thesis's
        text) and/or ``"reclab"`` (RecLab's code); reported side by side.
    """

    name = "sampling-bias"

    def __init__(
        self,
        *,
        recommenders: Annotated[tuple[str, ...], Names(RECOMMENDERS)] = RECOMMENDERS,
        folds: Annotated[int, Interval(Integral, 2, 20)] = 5,
        heldout_size: Annotated[int | None, None, Interval(Integral, 100, None)] = None,
        readings: Annotated[tuple[str, ...], Names(tuple(READINGS))] = tuple(READINGS),
        **inherited: Any,
    ) -> None:
        self.readings = tuple(r for r in READINGS if r in readings)  # in the report's order
        self.overrides = dict(QUICK_OVERRIDES) if self.quick else {}
        if heldout_size is None:  # as many pairs as a dataset
            self.heldout_size = self.overrides.get("n_initial_ratings", 100_000)
        self.params = QUICK_PARAMS if self.quick else FULL_PARAMS
        self.grids = QUICK_GRIDS if self.quick else FULL_GRIDS
        #: (wall seconds, units computed, units reused) of the last execute, if any
        self.last_run: tuple[float, int, int] | None = None
        #: reading → (units missing, units) for the readings :meth:`analyse` left out
        self.incomplete: dict[str, tuple[int, int]] = {}

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

    @staticmethod
    def _reading(reading: str) -> dict[str, Any]:
        """The payload's reading: nothing for the thesis's (the payloads of a thesis-only
        run), ``biased_sampling`` for another."""
        return {} if reading == "thesis" else {"biased_sampling": reading}

    def _cv(
        self, rec: str, params: dict[str, Any], dataset: str, fold: int, reading: str = "thesis"
    ) -> dict[str, Any]:
        return {
            "kind": "cv",
            **self._base(rec, params),
            "sampling": dataset,
            "folds": self.folds,
            "fold": fold,
            "cv_seed": self.seed,
            **self._reading(reading),
        }

    def _heldout(
        self, rec: str, params: dict[str, Any], dataset: str, reading: str
    ) -> dict[str, Any]:
        return {
            "kind": "heldout",
            **self._base(rec, params),
            "sampling": dataset,
            "heldout_size": self.heldout_size,
            "cv_seed": self.seed,
            **self._reading(reading),
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
        RMSE; recommenders whose tuning is incomplete are left out) and :attr:`cv_keys`
        (``(recommender, unit tag)`` → the keys of its CV folds)."""
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

    def shared_units(self) -> dict[str, dict[str, Any]]:
        """With :attr:`best` chosen: UNIFORM-INIT's CV folds, shared by the readings (a
        tuned recommender's is its chosen configuration's tuning run: no unit here)."""
        units = {}
        for rec, params in self.best.items():
            keys = [f"cv--{rec}--uniform--f{f}" for f in range(self.folds)]
            for f, key in enumerate(self.cv_keys.setdefault((rec, "uniform"), keys)):
                if key.startswith("cv--"):
                    units[key] = self._cv(rec, params, "uniform", f)
        return units

    def reading_units(self, reading: str) -> dict[str, dict[str, Any]]:
        """With :attr:`best` chosen: the CV folds on the biased datasets of ``reading`` and
        the held-out fits on its held-out set (one per training dataset)."""
        units = {}
        for rec, params in self.best.items():
            for ds in DATASETS:
                if ds != "uniform":
                    tag = unit_tag(ds, reading)
                    keys = self.cv_keys[(rec, tag)] = [
                        f"cv--{rec}--{tag}--f{f}" for f in range(self.folds)
                    ]
                    for f, key in enumerate(keys):
                        units[key] = self._cv(rec, params, ds, f, reading)
                key = f"heldout--{rec}--{unit_tag(ds, reading)}"
                units[key] = self._heldout(rec, params, ds, reading)
        return units

    def evaluation_units(self) -> dict[str, dict[str, Any]]:
        """With :attr:`best` chosen: :meth:`shared_units` and every reading's
        :meth:`reading_units`."""
        units = self.shared_units()
        for reading in self.readings:
            units.update(self.reading_units(reading))
        return units

    # ------------------------------------------------------------------ run
    def execute(self, out: Path, options: RunOptions) -> None:
        """Tune (the grid-search units), choose, then evaluate — all on one pool, each
        unit stored in ``out/units`` as it ends."""
        start = time.perf_counter()
        tune = self.tuning_units()
        # UNIFORM-INIT's CV once; per reading the biased CVs and three held-out fits
        per_reading = len(BIASED) * self.folds + len(DATASETS)
        n_eval = len(self.recommenders) * (self.folds + len(self.readings) * per_reading)
        total, label = len(tune) + n_eval, "sampling-bias units"
        with unit_runner(out / "units", options, total, label, lock=out) as (runner, bar):
            done = runner.run(unit_calls(run_unit, tune))
            failed: dict[str, str] = dict(runner.failed)
            self.choose(done)
            units = self.evaluation_units()
            if bar is not None:  # recommenders whose tuning failed have no evaluation
                bar.progress.update(bar.task, total=len(tune) + len(units))
            runner.run(unit_calls(run_unit, units))
            failed.update(runner.failed)
        self.last_run = (time.perf_counter() - start, runner.computed, runner.reused)
        raise_failed_units(failed, "the sampling-bias study", out / "units")

    def analyse(self, out: Path) -> StudyResult:
        """The tables, figures and findings from the units stored in ``out/units``: every
        reading whose units are all stored (one that is not is left out and named on the
        page, in :attr:`incomplete`); a recdyn error when the tuning, UNIFORM-INIT's CV or
        every reading is missing a unit."""
        store = UnitStore(out / "units")
        tune = self.tuning_units()
        done = stored_units(store, tune, out, "this study", _RERUN)
        self.choose(done)
        done.update(stored_units(store, self.shared_units(), out, "this study", _RERUN))
        self.incomplete = {}
        reported = []
        for reading in self.readings:
            units = self.reading_units(reading)
            loaded = {key: store.load(key, kwargs) for key, kwargs in units.items()}
            missing = sum(result is None for result in loaded.values())
            if missing:
                self.incomplete[reading] = (missing, len(units))
            else:
                done.update(loaded)
                reported.append(reading)
        if not reported:
            # raises, naming a missing unit
            stored_units(store, self.evaluation_units(), out, "this study", _RERUN)
        return analysis.analyse(self, out, tune, done, tuple(reported))


__all__ = [
    "DATASETS",
    "LABELS",
    "READINGS",
    "RECOMMENDERS",
    "SamplingBiasStudy",
    "heldout_pairs",
    "run_unit",
]
