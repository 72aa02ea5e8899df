r"""The ``exposure-audit`` study: what content a fitted recommender pays creators to make,
and who it targets (thesis ch. 5, §5.3, L4060–4185; issue 19 item 6).

Source: Krauth, *The Dynamics of Recommender Systems*, ch. 5
(``shared/seeds/003_a5cce31751248cea.txt``), read with ``shared/research/wave2_scoping.md``
§C.

What runs
---------
For every dataset (ML-100K; Last.fm-2K as a *tag-proxy* audit), rating model (PMF on
centred ratings, NMF), dimension ``d`` and recommender seed, one **embedding unit** tunes
the model by 2-fold 90/10 CV and refits it (L4066–4072). Its user embeddings are the demand
:math:`P_c` of an exposure game (:class:`~recdyn.games.ExposureGame`); for every
temperature τ and producer count n one **equilibrium unit** runs all initialisations of
the simultaneous reparametrised gradient ascent in one batch (L4080–4092,
:func:`~recdyn.games.find_equilibria`), certifies each profile with the second-order
Riemannian test (L4013, L4986–4991) and bounds its ε-gap from below. One **loop unit**
per (τ, seed) lets strategic creators play the game inside a running simulation
(:mod:`recdyn.studies._exposure_dynamic`, our extension). Units are stored in
``OUT/units`` (:class:`~recdyn.engine.UnitStore`): a rerun resumes, ``--report-only``
runs nothing. Grids: :mod:`recdyn.studies._exposure_units` (full: the thesis's d ∈ {3,
50}, τ ∈ {0.01, 0.1, 1}, n ∈ {10, 100}, 5 seeds × 10 initialisations on ML-100K and 3 × 3
on Last.fm, with a 3,000-step cap where the thesis has 50,000; quick: d = 3, τ ∈ {0.1,
1}, n = 10).
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from recdyn import seeding
from recdyn.constraints import Constraint, Interval, Names
from recdyn.engine import UnitStore
from recdyn.studies import _exposure_dynamic as dynamic
from recdyn.studies import _exposure_lastfm as lastfm_audit
from recdyn.studies import _exposure_units as units
from recdyn.studies._feedback_params import PositiveNumbers
from recdyn.studies.base import RunOptions, Study, StudyResult
from recdyn.studies.work import (
    raise_failed_units,
    require_dataset,
    stored_units,
    unit_calls,
    unit_runner,
)

__all__ = ["ExposureAuditStudy"]

#: The audited datasets, their short names in unit keys and what the study needs them for.
DATASETS = (units.DATASET, lastfm_audit.DATASET)
SHORT = {units.DATASET: "ml", lastfm_audit.DATASET: "lfm"}
WHY = {
    units.DATASET: "user embeddings and gender",
    lastfm_audit.DATASET: "the tag-proxy audit: play counts and artist tags",
}
#: What a report without stored results asks for.
_RERUN = "run the study with the same options first (quick, seed, models, dims, taus, …)"


class PositiveIntegers(Constraint):
    """A non-empty list of distinct integers ≥ 1 (JSON on the command line: ``[3, 50]``),
    kept as a sorted tuple."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            return False
        items = list(value)
        return bool(items) and all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in items
        )

    def convert(self, value: Any) -> tuple[int, ...]:
        return tuple(sorted({int(v) for v in value}))

    def describe(self) -> str:
        return "a non-empty list of integers ≥ 1 ([3, 50])"


class ExposureAuditStudy(Study):
    """Thesis ch. 5's pre-deployment audit on ML-100K and Last.fm-2K (see the module
    docstring).

    Parameters
    ----------
    quick : the few-minute version (d = 3, τ ∈ {0.1, 1}, n = 10, 2 seeds × 5
        initialisations on ML-100K, 1 × 3 on Last.fm, 3,000 steps).
    seed : root seed of the recommenders' seeds, the initialisations and the loops.
    datasets : the audited datasets (default both: ml-100k, lastfm-2k).
    models : rating models (default pmf, nmf; L4113).
    dims : embedding dimensions d (default [3, 50]; quick [3]).
    taus : temperatures τ > 0 (default [0.01, 0.1, 1]; quick [0.1, 1]).
    producers : producer counts n (default [10, 100]; quick [10]).
    seeds : ML-100K recommender seeds per setting (default 5; quick 2; L4122).
    inits : gradient-ascent initialisations per ML-100K seed (default 10; quick 5; L4123).
    max_iter : iteration cap (default 3,000, the thesis 50,000, L4126; quick 3,000).
    alpha : step size at n = 10 producers, scaled ∝ n (default 1; see
        :data:`~._exposure_units.ALPHA`).
    loop_seeds : seeds of the creators-in-the-loop comparison per τ (default 3; quick 1;
        0 skips it).
    """

    name = "exposure-audit"

    def __init__(
        self,
        *,
        datasets: Annotated[tuple[str, ...], Names(DATASETS)] = DATASETS,
        models: Annotated[tuple[str, ...], Names(units.MODELS)] = units.MODELS,
        dims: Annotated[tuple[int, ...] | None, None, PositiveIntegers()] = None,
        taus: Annotated[tuple[float, ...] | None, None, PositiveNumbers()] = None,
        producers: Annotated[tuple[int, ...] | None, None, PositiveIntegers()] = None,
        seeds: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        inits: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        max_iter: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        alpha: Annotated[float | None, None, Interval(Real, 0, None, closed="neither")] = None,
        loop_seeds: Annotated[int | None, None, Interval(Integral, 0, None)] = None,
        **inherited: Any,
    ) -> None:
        grid = units.QUICK if self.quick else units.FULL
        self.datasets = tuple(d for d in DATASETS if d in datasets)
        self.models = tuple(m for m in units.MODELS if m in models)
        self.grid: dict[str, Any] = {
            "dims": dims or grid["dims"],
            "taus": taus or grid["taus"],
            "producers": producers or grid["producers"],
            "seeds": seeds or grid["seeds"],
            "inits": inits or grid["inits"],
            "max_iter": max_iter or grid["max_iter"],
            "alpha": alpha or grid["alpha"],
        }
        lastfm = units.LASTFM_QUICK if self.quick else units.LASTFM_FULL
        #: recommender seeds and initialisations per dataset
        self.sizes = {
            units.DATASET: (self.grid["seeds"], self.grid["inits"]),
            lastfm_audit.DATASET: (
                min(lastfm["seeds"], self.grid["seeds"]),
                min(lastfm["inits"], self.grid["inits"]),
            ),
        }
        self.loop_seeds = (1 if self.quick else 3) if loop_seeds is None else loop_seeds
        #: (units computed, units reused) of the last execution
        self.last_run: tuple[int, int] | None = None

    # ------------------------------------------------------------------ units
    def recommender_seed(self, r: int, dataset: str = units.DATASET) -> int:
        """The seed of recommender ``r`` of ``dataset`` (its CV splits and factors)."""
        parts = ("recommender", str(r)) if dataset == units.DATASET else (dataset, str(r))
        seq = seeding.derive(self.seed, "exposure-audit", *parts)
        return int(seq.generate_state(1, np.uint32)[0])

    def embedding_units(self) -> dict[str, dict[str, Any]]:
        """``key → kwargs`` of the embedding units (``emb-<data>-<model>-d<d>-s<r>``):
        :func:`~._exposure_units.run_embedding_unit` for ML-100K,
        :func:`~._exposure_lastfm.run_lastfm_embedding_unit` for Last.fm-2K."""
        out: dict[str, dict[str, Any]] = {}
        for dataset in self.datasets:
            tag = SHORT[dataset]
            for model in self.models:
                for d in self.grid["dims"]:
                    for r in range(self.sizes[dataset][0]):
                        kwargs = {
                            "model": model,
                            "d": d,
                            "seed": self.recommender_seed(r, dataset),
                            "grid": units.TUNING_GRIDS[model],
                        }
                        if dataset == units.DATASET:
                            kwargs["dataset"] = dataset
                        out[f"emb-{tag}-{model}-d{d}-s{r}"] = kwargs
        return out

    def equilibrium_units(self, embeddings: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``key → kwargs`` of :func:`~._exposure_units.run_equilibrium_unit`, one per
        (dataset, model, d, seed, τ, n), from the embedding units' results (``key →
        result``); the costliest first (many producers, low τ), so that two workers end
        together."""
        out = {}
        settings = sorted(
            ((n, tau) for tau in self.grid["taus"] for n in self.grid["producers"]),
            key=lambda nt: (-nt[0], nt[1]),
        )
        for n, tau in settings:
            for key in self.embedding_units():
                dataset = next(d for d in self.datasets if key.startswith(f"emb-{SHORT[d]}-"))
                init = seeding.derive(self.seed, "exposure-audit", "init", key, str(n))
                out[f"eq-{key[4:]}-t{tau:g}-n{n}"] = {
                    "users": embeddings[key]["users"],
                    "tau": float(tau),
                    "n": int(n),
                    "inits": self.sizes[dataset][1],
                    "seed": int(init.generate_state(1, np.uint32)[0]),
                    "max_iter": self.grid["max_iter"],
                    "alpha": units.step_size(self.grid["alpha"], n),
                }
        return out

    def loop_units(self) -> dict[str, dict[str, Any]]:
        """``key → kwargs`` of :func:`~._exposure_dynamic.run_dynamic_unit`, one per
        (τ, loop seed)."""
        out = {}
        for tau in self.grid["taus"]:
            for r in range(self.loop_seeds):
                seq = seeding.derive(self.seed, "exposure-audit", "loop", str(r))
                out[f"loop-t{tau:g}-s{r}"] = {
                    "tau": float(tau),
                    "seed": int(seq.generate_state(1, np.uint32)[0]),
                }
        return out

    # ------------------------------------------------------------------ run / analyse
    def check_data(self) -> None:
        """An error naming the fix when a dataset of the study is not available."""
        for dataset in self.datasets:
            require_dataset(
                dataset,
                f"the exposure audit needs {dataset} ({WHY[dataset]}; or pass datasets="
                f"{[d for d in self.datasets if d != dataset]})",
            )

    def execute(self, out: Path, options: RunOptions) -> None:
        """The embedding and loop units, then the equilibrium units (each stored as it
        ends)."""
        self.check_data()
        out.mkdir(parents=True, exist_ok=True)
        emb = self.embedding_units()
        loops = self.loop_units()
        n_eq = sum(
            self.sizes[d][0] * len(self.models) * len(self.grid["dims"]) for d in self.datasets
        ) * len(self.grid["taus"]) * len(self.grid["producers"])
        store = out / "units"
        total = len(emb) + len(loops) + n_eq
        with unit_runner(store, options, total, "exposure-audit units", lock=out) as (runner, _):
            ml = {k: v for k, v in emb.items() if k.startswith(f"emb-{SHORT[units.DATASET]}-")}
            lfm = {k: v for k, v in emb.items() if k not in ml}
            calls = {
                **unit_calls(units.run_embedding_unit, ml),
                **unit_calls(lastfm_audit.run_lastfm_embedding_unit, lfm),
                **unit_calls(dynamic.run_dynamic_unit, loops),
            }
            done = runner.run(calls)
            failed: dict[str, str] = dict(runner.failed)
            if not any(key in failed for key in emb):
                runner.run(unit_calls(units.run_equilibrium_unit, self.equilibrium_units(done)))
                failed.update(runner.failed)
        self.last_run = (runner.computed, runner.reused)
        raise_failed_units(failed, "the exposure-audit study", store)

    def analyse(self, out: Path) -> StudyResult:
        """Tables, findings, figures and the page from ``out/units`` (a recdyn error
        naming the first missing unit)."""
        from recdyn.studies import _exposure_analysis as analysis

        store = UnitStore(out / "units")
        emb = stored_units(store, self.embedding_units(), out, "this study", _RERUN)
        eq = stored_units(store, self.equilibrium_units(emb), out, "this study", _RERUN)
        loops = stored_units(store, self.loop_units(), out, "this study", _RERUN)
        return analysis.analyse(self, out, emb, eq, loops)
