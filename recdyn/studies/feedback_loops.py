"""The ``feedback-loops`` study: feedback loops measured and corrected (thesis ch. 3, §3.4:
Figs. 3.2–3.4 and Table 3.1).

Thesis: ``shared/seeds/003_a5cce31751248cea.txt`` (``L…`` below), read with
``shared/research/wave2_scoping.md`` §A.

Figs. 3.2–3.4 (L1930–2033)
--------------------------
In each world of :data:`~._feedback_protocol.FIGURE_WORLDS` (``beta-rank-cafl-v1``,
``ml100k-v1``), matrix factorisation by ALS (``mf-als``, L1943) recommends one item to the
one user online at each step through a softmax policy (which logs the propensities CAFL
needs), in three arms (L1948–1955): **Feedback** retrains on the ratings of its own
recommendations, **Uniform** on as many uniformly drawn, never-recommended pairs (the
shadow arm of Definition 1, ``training="uniform"``), **CAFL** on its own recommendations
weighted by Corollary 1 (``weighting="cafl"``, L1742–1777, its pool N leaving out the
held-out pairs). Every ``evaluate_every`` steps the model is scored on held-out pairs that
are never recommended (RMSE, nDCG@20; 100,000 pairs, L1959–1985) and homogenization is
measured (mean pairwise Jaccard of users' recommended sets minus the oracle's, L2002–2033;
both readings of "the set", current top-10 and cumulative). 10 runs (L1945), each with its
own world draw; 95 % Student-t intervals. The thesis leaves T, the retraining interval,
ALS's rank and λ and the policy unstated: they are parameters here, with the defaults of
the scoping (T = 20,000 steps, every 10, rank 20, λ = 0.1, softmax at temperature 1).

Each (world, training mode) is one experiment of :mod:`recdyn.experiments` (its spec is
written to ``OUT/specs/<name>.toml``, its results to ``OUT/runs/<name>/``): the Feedback
and CAFL arms share the ``feedback`` experiment, the Uniform arm is the ``uniform`` one.
Feedback and Uniform of one run share every seed (the same world, arrivals, policy
stream and held-out pairs: Definition 1's paired comparison); CAFL shares the world and
arrivals. All experiments run on one pool (:func:`recdyn.experiments.run_experiments`),
resumably.

Table 3.1 (L2036–2136)
----------------------
On the Pan/Chaney benchmark world (``table_world``: 3000 users × 1000 items, every user
rates one item per step for 30 steps, drawn with weight 10 among a score's top 100 and 1
elsewhere), a weighted GMF (``gmf``) is trained on each user's first 20 ratings and
tested on 20 further uniformly drawn unobserved pairs per user, with the corrections
Naive, Pop (inverse item popularity), PF (inverse exposure propensities of a Poisson
factorisation, ``hpf``) and CAFL; 10 repeats (L2113). Pan et al.'s own correction cannot
be run (:data:`~._feedback_protocol.CORRECTIONS`). GMF's settings are Pan et al.'s in the
thesis, which it does not state: recdyn's ``gmf`` defaults are used, and Naive and CAFL are
refitted with other L2 penalties (``sensitivity_regs``) on the same repeats. Each (repeat,
correction[, penalty]) is one unit of work (:mod:`recdyn.studies._feedback_table`) stored
in ``OUT/table/``.

``analyse`` turns what is stored into the figures, Table 3.1 beside the thesis's numbers
and the findings (:mod:`recdyn.studies._feedback_analysis`).
"""

from __future__ import annotations

import time
from numbers import Integral, Real
from pathlib import Path
from typing import Annotated, Any

from recdyn.constraints import Interval, Names, Options
from recdyn.engine import UnitStore
from recdyn.errors import InvalidParameterError
from recdyn.studies import _feedback_protocol as protocol
from recdyn.studies._feedback_params import (
    EnvironmentName,
    EnvironmentNames,
    PositiveNumbers,
    WorldOverrides,
)
from recdyn.studies._feedback_table import run_table_unit
from recdyn.studies.base import RunOptions, Study, StudyResult
from recdyn.studies.work import (
    raise_failed_units,
    run_plans,
    stored_results,
    stored_units,
    unit_calls,
    unit_runner,
    write_spec,
)

#: What a report without stored results asks for.
_RERUN = "run the study with the same options first"

PARTS = ("figures", "table")


class FeedbackLoopsStudy(Study):
    """Thesis ch. 3 (Figs. 3.2–3.4, Table 3.1): Feedback vs Uniform vs CAFL over time, and
    GMF's error on the Pan/Chaney benchmark under four corrections.

    Parameters
    ----------
    quick : the few-minute version: worlds at 1/5 of their users and items, 2,000 steps,
        5 runs and 5 repeats of Table 3.1 (600 × 200 world); default: thesis sizes.
    seed : root seed of every experiment and unit.
    parts : what to run and report: ``figures`` (Figs. 3.2–3.4), ``table`` (Table 3.1).
    worlds : the worlds of Figs. 3.2–3.4 (registered environments; default beta-rank-cafl-v1
        and ml100k-v1).
    table_world : the world of Table 3.1 (default pan-chaney-v1).
    overrides : constructor overrides per world (JSON: {"world": {"n_users": 200}}),
        replacing the quick mode's for the worlds it names.
    runs : runs per arm and world (default 10; quick 5).
    steps : online steps per run, one user per step (default 20,000; quick 2,000).
    retrain_every : steps between retrainings (default 10).
    rank : ALS rank (default 20).
    reg : ALS regularisation λ (default 0.1).
    temperature : softmax temperature of the policy (default 1).
    heldout_pairs : held-out pairs per run (default min(100,000, 10 % of the free pairs)).
    evaluate_every : steps between held-out and homogenization evaluations (default 100).
    repeats : repeats of Table 3.1 (default 10; quick 5).
    table_cafl : how CAFL weighs the Pan/Chaney ratings, where every user rates at every
        step: cafl-per-user (default) or cafl (one pool of all pairs).
    sensitivity_regs : GMF penalties λ of Table 3.1's sensitivity rows, Naive and CAFL
        refitted with each (JSON list; default [0.03, 0.5, 2]; none: no such rows).
    """

    name = "feedback-loops"

    def __init__(
        self,
        *,
        parts: Annotated[tuple[str, ...], Names(PARTS)] = PARTS,
        worlds: Annotated[tuple[str, ...], EnvironmentNames()] = protocol.FIGURE_WORLDS,
        table_world: Annotated[str, EnvironmentName()] = protocol.TABLE_WORLD,
        overrides: Annotated[dict[str, dict[str, Any]] | None, None, WorldOverrides()] = None,
        runs: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        steps: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        retrain_every: Annotated[int, Interval(Integral, 1, None)] = protocol.RETRAIN_EVERY,
        rank: Annotated[int, Interval(Integral, 1, None)] = protocol.RANK,
        reg: Annotated[float, Interval(Real, 0, None, closed="neither")] = protocol.REG,
        temperature: Annotated[
            float, Interval(Real, 0, None, closed="neither")
        ] = protocol.TEMPERATURE,
        heldout_pairs: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        evaluate_every: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        repeats: Annotated[int | None, None, Interval(Integral, 2, None)] = None,
        table_cafl: Annotated[str, Options(protocol.TABLE_CAFL)] = protocol.TABLE_CAFL[0],
        sensitivity_regs: Annotated[
            tuple[float, ...] | None, None, PositiveNumbers()
        ] = protocol.SENSITIVITY_REGS,
        **inherited: Any,
    ) -> None:
        self.parts = tuple(p for p in PARTS if p in parts)  # in the report's order
        unknown = [w for w in (overrides or {}) if w not in (*self.worlds, self.table_world)]
        if unknown:
            raise InvalidParameterError(
                f"overrides names worlds the study does not use: {', '.join(map(repr, unknown))}"
                f"; its worlds: {', '.join((*self.worlds, self.table_world))}"
            )
        self.n_runs = runs or (protocol.QUICK_RUNS if self.quick else protocol.RUNS)
        self.n_steps = steps or (protocol.QUICK_STEPS if self.quick else protocol.STEPS)
        self.every = evaluate_every or (
            protocol.QUICK_EVALUATE_EVERY if self.quick else protocol.EVALUATE_EVERY
        )
        self.n_repeats = repeats or (protocol.QUICK_REPEATS if self.quick else protocol.REPEATS)
        if self.every > self.n_steps:
            raise InvalidParameterError(
                f"evaluate_every={self.every} must be at most steps={self.n_steps}: no "
                "evaluation would fall inside the run"
            )
        #: (wall seconds, units computed, units reused) of the last Table 3.1 execution
        self.last_table_run: tuple[float, int, int] | None = None

    # ------------------------------------------------------------------ worlds
    def world_overrides(self, world: str) -> dict[str, Any]:
        """Constructor overrides of ``world``: ``overrides[world]``, else the quick
        mode's (:data:`~._feedback_protocol.QUICK_OVERRIDES`), else none."""
        if self.overrides and world in self.overrides:
            return dict(self.overrides[world])
        if not self.quick:
            return {}
        if world == self.table_world:
            return dict(protocol.QUICK_TABLE_OVERRIDES)
        return dict(protocol.QUICK_OVERRIDES.get(world, {}))

    def heldout_size(self, world: str) -> int:
        """Held-out pairs of ``world``: ``heldout_pairs``, else min(100,000, 10 % of the
        pairs outside the initial data) — explicit, so CAFL's pool N can leave them out."""
        from recdyn.environments import environments

        env = environments.make(world, **self.world_overrides(world))
        initial = int(env.get_params().get("n_initial_ratings", 0) or 0)
        free = env.n_users * env.n_items - initial
        if self.heldout_pairs is not None:
            return self.heldout_pairs  # the spec check names a size the world cannot hold
        return max(1, min(protocol.HELDOUT_PAIRS, int(protocol.HELDOUT_FRACTION * free)))

    # ------------------------------------------------------------------ Figs. 3.2–3.4
    def experiment_names(self) -> dict[str, tuple[str, str]]:
        """``name → (world, training)`` of every experiment of the figures."""
        return {
            f"{world}-{training}": (world, training)
            for world in self.worlds
            for training in protocol.TRAININGS
        }

    def spec_data(self, world: str, training: str) -> dict[str, Any]:
        """The experiment spec of one (world, training mode), as its TOML file holds it."""
        n_pairs = self.heldout_size(world)
        als = {"n_factors": self.rank, "reg": self.reg}
        recommenders = [{"name": "mf-als", "params": als}]
        if training == "feedback":
            cafl = {"name": "cafl", "held_out": n_pairs}
            recommenders.append({"name": "mf-als", "params": {**als, "weighting": cafl}})
        every = self.every
        homogenization = {"every": every, "max_users": protocol.HOMOGENIZATION_USERS}
        env: dict[str, Any] = {"preset": world}
        if self.world_overrides(world):
            env["overrides"] = self.world_overrides(world)
        return {
            "experiment": {
                "name": f"feedback-loops-{world}-{training}",
                "seed": self.seed,
                "steps": self.n_steps,
                "trials": self.n_runs,
                "k": 1,
                "retrain_every": self.retrain_every,
                "metrics": [
                    "mean_rating",
                    {"name": "homogenization", "params": homogenization},
                    {"name": "homogenization_cumulative", "params": homogenization},
                ],
                # every run draws its own world (beta-rank's topics, the noise)
                "initial_state": "per-trial",
                "training": training,
                "heldout": {
                    "n_pairs": n_pairs,
                    "every": every,
                    "metrics": list(protocol.HELDOUT_METRICS),
                },
            },
            "environments": [env],
            "recommenders": recommenders,
            "policies": [{"name": "softmax", "params": {"temperature": self.temperature}}],
        }

    def write_spec(self, name: str, out: Path) -> Path:
        world, training = self.experiment_names()[name]
        mode = "quick" if self.quick else "full"
        what = (
            f"recdyn study feedback-loops ({mode}): thesis Figs. 3.2-3.4, {world}, "
            f"training = {training}"
        )
        return write_spec(out, name, self.spec_data(world, training), what)

    def _run_figures(self, out: Path, options: RunOptions, say: Any) -> None:
        from recdyn.experiments import load_spec, make_plan

        plans = {}
        for name, (world, training) in self.experiment_names().items():
            plans[name] = make_plan(load_spec(self.spec_data(world, training)))
            self.write_spec(name, out)
            say(f"[bold]{name}[/]: {plans[name].describe()}")
        run_plans(plans, out, options, say)

    # ------------------------------------------------------------------ Table 3.1
    def table_units(self) -> dict[str, dict[str, Any]]:
        """One unit per (repeat, correction) of Table 3.1: keyword arguments of
        :func:`~recdyn.studies._feedback_table.run_table_unit`."""
        return {
            f"table--r{r}--{c}": {
                "world": self.table_world,
                "overrides": self.world_overrides(self.table_world),
                "seed": self.seed,
                "repeat": r,
                "correction": c,
                "cafl": self.table_cafl,
            }
            for r in range(self.n_repeats)
            for c in protocol.CORRECTION_KEYS
        }

    def sensitivity_units(self) -> dict[str, dict[str, Any]]:
        """Naive and CAFL refitted with each GMF penalty of ``sensitivity_regs``, on the
        same repeats: Table 3.1's dependence on a setting the thesis does not state."""
        main = self.table_units()
        return {
            f"sensitivity--reg{reg:g}--r{r}--{c}": {
                **main[f"table--r{r}--{c}"],
                "gmf": {"reg": reg},
            }
            for reg in self.sensitivity_regs or ()
            for r in range(self.n_repeats)
            for c in protocol.SENSITIVITY_CORRECTIONS
        }

    def _run_table(self, out: Path, options: RunOptions) -> None:
        start = time.perf_counter()
        # repeat by repeat: a worker's cached repeat (``benchmark``) serves its next units
        units = dict(
            sorted(
                {**self.table_units(), **self.sensitivity_units()}.items(),
                key=lambda kv: kv[1]["repeat"],
            )
        )
        with unit_runner(out / "table", options, len(units), "Table 3.1 units") as (runner, _):
            runner.run(unit_calls(run_table_unit, units))
        self.last_table_run = (time.perf_counter() - start, runner.computed, runner.reused)
        raise_failed_units(runner.failed, "Table 3.1", out / "table")

    # ------------------------------------------------------------------ run / analyse
    def execute(self, out: Path, options: RunOptions) -> None:
        """Table 3.1's units, then the figures' experiments (each resumable)."""
        out.mkdir(parents=True, exist_ok=True)
        show = options.console is not None and options.progress
        say = options.console.print if show else (lambda *a, **k: None)
        if "table" in self.parts:
            self._run_table(out, options)
        if "figures" in self.parts:
            self._run_figures(out, options, say)

    def analyse(self, out: Path) -> StudyResult:
        """Figures, Table 3.1 and the findings from what ``out`` holds (a recdyn error
        naming what is missing)."""
        from recdyn.studies import _feedback_analysis as analysis

        figures = {}
        if "figures" in self.parts:
            figures = {name: self._stored(out, name) for name in self.experiment_names()}
        table = sensitivity = None
        if "table" in self.parts:
            store = UnitStore(out / "table")
            table = stored_units(store, self.table_units(), out / "table", "Table 3.1", _RERUN)
            sensitivity = stored_units(
                store, self.sensitivity_units(), out / "table", "Table 3.1", _RERUN
            )
        return analysis.analyse(self, out, figures, table, sensitivity)

    def _stored(self, out: Path, name: str) -> Any:
        """The results of experiment ``name``; an error when it is missing or another
        study's."""
        return stored_results(out / "runs" / name, self.spec_data(*self.experiment_names()[name]))


__all__ = ["PARTS", "FeedbackLoopsStudy", "run_table_unit"]
