r"""The ``exposure-audit`` study: what content a fitted recommender pays creators to make,
and who it targets (thesis ch. 5, §5.3, L4060–4185; issue 19 item 6).

Source: Krauth, *The Dynamics of Recommender Systems*, ch. 5
(``shared/seeds/003_a5cce31751248cea.txt``), read with ``shared/research/wave2_scoping.md``
§C.

What runs
---------
For every rating model (PMF on centred ratings, NMF), dimension ``d`` and recommender seed,
one **embedding unit** tunes the model by 2-fold 90/10 CV on ML-100K and refits it
(L4066–4072). Its user embeddings are the demand :math:`P_c` of an exposure game
(:class:`~recdyn.games.ExposureGame`); for every temperature τ and producer count n one
**equilibrium unit** runs all initialisations of the simultaneous reparametrised gradient
ascent in one batch (L4080–4092, :func:`~recdyn.games.find_equilibria`) and certifies each
profile with the second-order Riemannian test (L4013, L4986–4991). Units are stored in
``OUT/units`` (:class:`~recdyn.engine.UnitStore`): a rerun resumes, ``--report-only``
runs nothing. Grid (L4113–4124): full d ∈ {3, 50}, τ ∈ {0.01, 0.1, 1}, n ∈ {10, 100},
5 seeds × 10 initialisations, 50,000 steps; quick d = 3, τ ∈ {0.1, 1}, n = 10, 2 seeds × 5
initialisations, 5,000 steps (:mod:`recdyn.studies._exposure_units`).

Not built yet: Last.fm-2K's tag-proxy audit, strategic creators inside the loop and the
full-grid benchmark (issue 19, items 6–8).
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from recdyn import seeding
from recdyn.constraints import Constraint, Interval, Names
from recdyn.engine import UnitStore
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
    """Thesis ch. 5's pre-deployment audit on ML-100K (see the module docstring).

    Parameters
    ----------
    quick : the few-minute version (d = 3, τ ∈ {0.1, 1}, n = 10, 2 seeds × 5
        initialisations, 5,000 steps, α = 1).
    seed : root seed of the recommenders' seeds and the initialisations.
    models : rating models (default pmf, nmf; L4113).
    dims : embedding dimensions d (default [3, 50]; quick [3]).
    taus : temperatures τ > 0 (default [0.01, 0.1, 1]; quick [0.1, 1]).
    producers : producer counts n (default [10, 100]; quick [10]).
    seeds : recommender seeds per setting (default 5; quick 2; L4122).
    inits : gradient-ascent initialisations per seed (default 10; quick 5; L4123).
    max_iter : iteration cap (default 50,000, L4126; quick 5,000).
    alpha : step size (default 0.1, L4985; quick 1).
    """

    name = "exposure-audit"

    def __init__(
        self,
        *,
        models: Annotated[tuple[str, ...], Names(units.MODELS)] = units.MODELS,
        dims: Annotated[tuple[int, ...] | None, None, PositiveIntegers()] = None,
        taus: Annotated[tuple[float, ...] | None, None, PositiveNumbers()] = None,
        producers: Annotated[tuple[int, ...] | None, None, PositiveIntegers()] = None,
        seeds: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        inits: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        max_iter: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        alpha: Annotated[float | None, None, Interval(Real, 0, None, closed="neither")] = None,
        **inherited: Any,
    ) -> None:
        grid = units.QUICK if self.quick else units.FULL
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
        #: (units computed, units reused) of the last execution
        self.last_run: tuple[int, int] | None = None

    # ------------------------------------------------------------------ units
    def recommender_seed(self, r: int) -> int:
        """The seed of recommender ``r`` (its CV splits and initial factors)."""
        seq = seeding.derive(self.seed, "exposure-audit", "recommender", str(r))
        return int(seq.generate_state(1, np.uint32)[0])

    def embedding_units(self) -> dict[str, dict[str, Any]]:
        """``key → kwargs`` of :func:`~._exposure_units.run_embedding_unit`, one per
        (model, d, seed)."""
        return {
            f"emb-{model}-d{d}-s{r}": {
                "dataset": units.DATASET,
                "model": model,
                "d": d,
                "seed": self.recommender_seed(r),
                "grid": units.TUNING_GRIDS[model],
            }
            for model in self.models
            for d in self.grid["dims"]
            for r in range(self.grid["seeds"])
        }

    def equilibrium_units(self, embeddings: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``key → kwargs`` of :func:`~._exposure_units.run_equilibrium_unit`, one per
        (model, d, seed, τ, n), from the embedding units' results (``key → result``)."""
        out = {}
        for key in self.embedding_units():
            for tau in self.grid["taus"]:
                for n in self.grid["producers"]:
                    init = seeding.derive(self.seed, "exposure-audit", "init", key, str(n))
                    out[f"eq-{key[4:]}-t{tau:g}-n{n}"] = {
                        "users": embeddings[key]["users"],
                        "tau": float(tau),
                        "n": int(n),
                        "inits": self.grid["inits"],
                        "seed": int(init.generate_state(1, np.uint32)[0]),
                        "max_iter": self.grid["max_iter"],
                        "alpha": float(self.grid["alpha"]),
                    }
        return out

    # ------------------------------------------------------------------ run / analyse
    def check_data(self) -> None:
        """An error naming the fix when ML-100K is not available."""
        require_dataset(
            units.DATASET,
            f"the exposure audit needs {units.DATASET} (user embeddings and gender)",
        )

    def execute(self, out: Path, options: RunOptions) -> None:
        """The embedding units, then the equilibrium units (each stored as it ends)."""
        self.check_data()
        out.mkdir(parents=True, exist_ok=True)
        emb = self.embedding_units()
        n_eq = len(emb) * len(self.grid["taus"]) * len(self.grid["producers"])
        store = out / "units"
        with unit_runner(store, options, len(emb) + n_eq, "exposure-audit units", lock=out) as (
            runner,
            _,
        ):
            done = runner.run(unit_calls(units.run_embedding_unit, emb))
            failed: dict[str, str] = dict(runner.failed)
            if not failed:
                eq = self.equilibrium_units(done)
                runner.run(unit_calls(units.run_equilibrium_unit, eq))
                failed.update(runner.failed)
        self.last_run = (runner.computed, runner.reused)
        raise_failed_units(failed, "the exposure-audit study", store)

    def analyse(self, out: Path) -> StudyResult:
        """Tables, findings, a figure and the page from ``out/units`` (a recdyn error
        naming the first missing unit)."""
        from recdyn.studies import _exposure_analysis as analysis

        store = UnitStore(out / "units")
        emb = stored_units(store, self.embedding_units(), out, "this study", _RERUN)
        eq = stored_units(store, self.equilibrium_units(emb), out, "this study", _RERUN)
        return analysis.analyse(self, out, emb, eq)
