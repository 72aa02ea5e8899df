r"""The ``two-stage`` study: how the nominators and the ranker of a two-stage recommender
interact, and how the catalogue should be split among the nominators (thesis ch. 4;
issue 20 item 7).

Source: Krauth, *The Dynamics of Recommender Systems*, ch. 4
(``shared/seeds/003_a5cce31751248cea.txt``, L2300–3620), read with
``shared/research/wave2_scoping.md`` §B.

What runs
---------
1. The hyperparameter sweeps of Tables 4.1 and 4.3 (their selections were lost in the
   text's extraction: rerun, and the figures use our selections).
2. Fig. 4.3's synthetic panels — regret at T against d/s for every architecture, by d, by
   N and by |A| — and Fig. 4.4's multi-label panels — relative regret against d/s by N,
   and the nominator / ranker split of the regret — with the selected hyperparameters
   (:mod:`recdyn.studies._two_stage_plan` lists the grids and where they are smaller
   than the thesis's).
3. Fig. 4.5: a learned pool allocation (a Gaussian mixture of experts) against random
   pools, P@5 and R@5 offline (:mod:`recdyn.studies._two_stage_moe`).

Every unit is stored in ``OUT/units`` as it ends (:class:`~recdyn.engine.UnitStore`): a
rerun resumes, ``--report-only`` runs nothing.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path
from typing import Annotated, Any

from recdyn.constraints import Boolean, Interval
from recdyn.engine import UnitStore
from recdyn.studies import _two_stage_moe as allocation
from recdyn.studies import _two_stage_plan as plan
from recdyn.studies import _two_stage_units as units
from recdyn.studies.base import RunOptions, Study, StudyResult
from recdyn.studies.work import (
    raise_failed_units,
    require_dataset,
    stored_units,
    unit_calls,
    unit_runner,
)

__all__ = ["TwoStageStudy"]

_RERUN = "run the study with the same options first (quick, seed, seeds, rounds, moe, …)"


class TwoStageStudy(Study):
    """Thesis ch. 4's two-stage bandit experiments and learned pool allocation (see the
    module docstring).

    Parameters
    ----------
    quick : the few-minute version (fewer seeds, rounds and settings; no Last.fm).
    seed : root seed of the run seeds, pools, feature subsets and the MoE fits.
    lastfm : include the Last.fm-2K multi-label proxy (full only; needs RECDYN_DATA_DIR).
    moe : include Fig. 4.5's pool-allocation fits (needs torch).
    seeds : run seeds of the bandit units (default: full 30 synthetic and 10 multi-label,
        quick 5 and 5).
    rounds : rounds T of the bandit units (default: full 1,000 synthetic and 2,000
        multi-label, quick 300).
    moe_steps : optimisation steps per pool-allocation fit (default: full the library's
        :data:`~recdyn.bandits.moe.STEPS`, quick 2,000).
    """

    name = "two-stage"

    def __init__(
        self,
        *,
        lastfm: Annotated[bool, Boolean()] = True,
        moe: Annotated[bool, Boolean()] = True,
        seeds: Annotated[int | None, None, Interval(Integral, 2, None)] = None,
        rounds: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        moe_steps: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        **inherited: Any,
    ) -> None:
        self.grid = plan.sized(plan.QUICK if self.quick else plan.FULL, seeds, rounds)
        self.moe_grid = dict(allocation.QUICK if self.quick else allocation.FULL)
        if moe_steps is not None:
            self.moe_grid["steps"] = moe_steps
        #: (units computed, units reused) of the last execution
        self.last_run: tuple[int, int] | None = None

    @property
    def uses_lastfm(self) -> bool:
        return bool(self.lastfm and self.grid["lastfm"])

    # ------------------------------------------------------------------ units
    def sweep_units(self) -> dict[str, dict[str, Any]]:
        return plan.sweep_units(self.grid, self.seed)

    def moe_units(self) -> dict[str, dict[str, Any]]:
        return allocation.moe_units(self.moe_grid, self.seed) if self.moe else {}

    def panel_units(self, sweeps: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The figures' units, with the hyperparameters the sweeps (``key → result``)
        selected."""
        hyper = {
            "linear": units.select(sweeps["sweep-linear"]["rows"]),
            "multilabel": units.select(sweeps["sweep-multilabel"]["rows"]),
        }
        return plan.panel_units(self.grid, self.seed, hyper, self.uses_lastfm)

    # ------------------------------------------------------------------ run / analyse
    def check_data(self) -> None:
        """An error naming the fix when a dependency of the study is missing."""
        if self.uses_lastfm:
            require_dataset(
                "lastfm-2k", "the two-stage study's Last.fm proxy needs lastfm-2k",
                " (or pass --lastfm false)",
            )
        if self.moe:
            from recdyn.recommenders.neural.runtime import require_torch

            require_torch("the two-stage study's mixture of experts (or pass --moe false)")

    def execute(self, out: Path, options: RunOptions) -> None:
        """The sweeps and the MoE fits, then the panels (each unit stored as it ends)."""
        self.check_data()
        out.mkdir(parents=True, exist_ok=True)
        sweeps, fits = self.sweep_units(), self.moe_units()
        n_panels = len(plan.panel_units(self.grid, self.seed, _ANY_HYPER, self.uses_lastfm))
        store = out / "units"
        total = len(sweeps) + len(fits) + n_panels
        with unit_runner(store, options, total, "two-stage units", lock=out) as (runner, _):
            done = runner.run({
                **unit_calls(units.run_sweep_unit, sweeps),
                **unit_calls(allocation.run_moe_unit, fits),
            })  # fmt: skip
            failed: dict[str, str] = dict(runner.failed)
            if not any(key in failed for key in sweeps):
                runner.run(unit_calls(units.run_panel_unit, self.panel_units(done)))
                failed.update(runner.failed)
        self.last_run = (runner.computed, runner.reused)
        raise_failed_units(failed, "the two-stage study", store)

    def analyse(self, out: Path) -> StudyResult:
        """Tables, findings, figures and the page from ``out/units`` (a recdyn error
        naming the first missing unit)."""
        from recdyn.studies import _two_stage_analysis as analysis

        store = UnitStore(out / "units")
        sweeps = stored_units(store, self.sweep_units(), out, "this study", _RERUN)
        panels = stored_units(store, self.panel_units(sweeps), out, "this study", _RERUN)
        fits = stored_units(store, self.moe_units(), out, "this study", _RERUN)
        return analysis.analyse(self, out, sweeps, panels, fits)


#: placeholder selections, to count the panel units before the sweeps have run
_ANY_HYPER: dict[str, dict[str, dict[str, float]]] = {"linear": {}, "multilabel": {}}

