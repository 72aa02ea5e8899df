r"""The ``competing-objectives`` study: what happens over time when accuracy, diversity,
calibration, popularity and position compete without their own objective (seeds 000–001;
issue 21 item 5).

Sources: seeds ``000_d65f775f39bbe57d.txt`` and ``001_007d7f05b12aa67b.txt`` (qualitative:
they give no numbers), read with ``shared/research/wave2_scoping.md`` §E and
``shared/research/seeds_methods_digest.md``. The study tests their claims in worlds where
the truth is known, offline and inside the loop, one module per claim:

(a) calibration (:mod:`recdyn.studies._competing_calibration`): accuracy-ranked lists crowd
    out users' secondary interests; calibrated re-ranking (Steck 2018) restores them at a
    small accuracy cost — offline on ML-100K genres and over time in a topic world;
(b) embedding dimension (:mod:`recdyn.studies._competing_embedding`): a small MF dimension
    drives popularity bias, offline and then inside the loop, where it compounds;
(c) position bias (:mod:`recdyn.studies._competing_position`): without a position tower the
    loop amplifies its own past rankings, and the tower damps it;
(d) trade-offs (:mod:`recdyn.studies._competing_tradeoffs`): each re-ranker's accuracy
    against diversity, calibration and popularity, at the start and after T steps.

Each module gives its grids (``FULL``, ``QUICK``), its units and a pure ``run_unit``, and
turns the stored results into a frame, findings with verdicts, figures and protocol rows.
Every unit is stored in ``OUT/units`` as it ends (:class:`~recdyn.engine.UnitStore`): a
rerun resumes, ``--report-only`` runs nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

from recdyn.constraints import Names
from recdyn.engine import UnitStore
from recdyn.studies.base import RunOptions, Study, StudyResult
from recdyn.studies.work import (
    raise_failed_units,
    require_dataset,
    stored_units,
    unit_calls,
    unit_runner,
)

__all__ = ["CLAIMS", "CompetingObjectivesStudy", "claim_module"]

#: claim → the module that runs and judges it (imported when used)
CLAIMS: dict[str, str] = {
    "calibration": "recdyn.studies._competing_calibration",
    "embedding": "recdyn.studies._competing_embedding",
    "position": "recdyn.studies._competing_position",
    "tradeoffs": "recdyn.studies._competing_tradeoffs",
}
#: the claims that read ML-100K (offline parts)
NEEDS_ML100K = ("calibration", "embedding")
#: the claims that train a torch model
NEEDS_TORCH = ("position",)

_RERUN = "run the study with the same options first (quick, seed, claims)"


def claim_module(claim: str) -> ModuleType:
    """The module of ``claim`` (one of :data:`CLAIMS`)."""
    return importlib.import_module(CLAIMS[claim])


class CompetingObjectivesStudy(Study):
    """Seeds 000–001's competing objectives over time (see the module docstring).

    Parameters
    ----------
    quick : the few-minute version (smaller worlds, fewer steps, settings and seeds).
    seed : root seed of every unit (worlds, splits, recommenders, policies).
    claims : which claims to run, a subset of ``calibration``, ``embedding``, ``position``,
        ``tradeoffs`` (default: all four).

    ``study.grids[claim] = {...}`` replaces a claim's QUICK / FULL grid (the keys its module
    documents): the tests run grids smaller than quick this way.
    """

    name = "competing-objectives"

    def __init__(
        self,
        *,
        claims: Annotated[tuple[str, ...], Names(tuple(CLAIMS))] = tuple(CLAIMS),
        **inherited: Any,
    ) -> None:
        #: claim → a grid replacing its QUICK / FULL one
        self.grids: dict[str, dict[str, Any]] = {}
        #: (units computed, units reused) of the last execution
        self.last_run: tuple[int, int] | None = None

    def grid(self, claim: str) -> dict[str, Any]:
        """The grid ``claim`` runs at (the override, else its QUICK or FULL grid)."""
        if claim in self.grids:
            return dict(self.grids[claim])
        module = claim_module(claim)
        return dict(module.QUICK if self.quick else module.FULL)

    def units(self, claim: str) -> dict[str, dict[str, Any]]:
        """``key → kwargs`` of the claim's ``run_unit``."""
        return claim_module(claim).units(self.grid(claim), self.seed)

    # ------------------------------------------------------------------ run / analyse
    def check_data(self) -> None:
        """An error naming the fix when a dependency of a chosen claim is missing."""
        for claim in self.claims:
            if claim in NEEDS_ML100K:
                require_dataset(
                    "ml-100k", f"the competing-objectives claim '{claim}' needs ml-100k",
                    f" (or leave '{claim}' out of --claims)",
                )  # fmt: skip
            if claim in NEEDS_TORCH:
                from recdyn.recommenders.neural.runtime import require_torch

                require_torch(f"the competing-objectives claim '{claim}' (or leave it out)")

    def execute(self, out: Path, options: RunOptions) -> None:
        """Every chosen claim's units (each stored as it ends)."""
        self.check_data()
        out.mkdir(parents=True, exist_ok=True)
        calls = {}
        for claim in self.claims:
            calls.update(unit_calls(claim_module(claim).run_unit, self.units(claim)))
        store = out / "units"
        with unit_runner(store, options, len(calls), "competing-objectives units", lock=out) as (
            runner,
            _,
        ):
            runner.run(calls)
        self.last_run = (runner.computed, runner.reused)
        raise_failed_units(runner.failed, "the competing-objectives study", store)

    def analyse(self, out: Path) -> StudyResult:
        """Tables, findings, figures and the page from ``out/units`` (a recdyn error
        naming the first missing unit)."""
        from recdyn.studies import _competing_analysis as analysis

        store = UnitStore(out / "units")
        results = {
            claim: stored_units(store, self.units(claim), out, "this study", _RERUN)
            for claim in self.claims
        }
        return analysis.analyse(self, out, results, {c: claim_module(c) for c in results})
