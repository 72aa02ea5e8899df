r"""The ``polarization`` study: user–creator dual influence and the polarization of
creators (seed 004, Lin et al., NeurIPS 2024, arXiv 2407.14094).

Seed: ``shared/seeds/004_b5d82ee14eb58be4.txt`` (``004 L…`` below), read with
``shared/research/wave2_scoping.md`` §0, §D and ``seeds_methods_digest.md`` §1.

What runs
---------
``dual-influence-v1`` at the seed's size (m = 100 users, n = 50 creators, d = 10, T = 1000
steps, 004 L37), every user online at every step and shown one creator. The **base**: an
oracle recommender (the true relevance :math:`\langle v_i, u_j\rangle`) through a softmax
of inverse temperature β = 1, η_u = η_c = 0.1 (a choice: the seed gives none). One factor
moves at a time (:data:`~._polarization_protocol.SWEEPS`):

* ``k``: top-k truncation of the softmax, k ∈ {1, 2, 5, 10, 25, n} (k = n: none);
* ``beta``: β ∈ {0 (uniform traffic), 0.5, 1, 3, 10, ∞ (greedy)};
* ``tau``: threshold truncation τ ∈ {0, 0.5, 0.707, 0.9} (nothing shown if none passes);
* ``eta``: both rates η ∈ {0.02, 0.05, 0.1, 0.2};
* ``epsilon``: uniform-traffic mixing ε ∈ {0, 0.01, 0.05, 0.2};
* ``rho``: diversity boosting ρ ∈ {0, 0.5, 1} (:class:`~recdyn.policies.DiversityBoost`);
* ``mf-k``, ``mf-rho``: the k and ρ sweeps with a learned ``mf-als`` (rank 10, retrained
  every 10 steps) in place of the oracle (004 L149: "test … with matrix factorization");
* ``real-k``: the k sweep from the MF embeddings of a real dataset (``init="ml-100k"``;
  needs the dataset under ``RECDYN_DATA_DIR``: the study stops with a clear error
  otherwise).

Each sweep is one experiment (its spec in ``OUT/specs/<sweep>.toml``, its results in
``OUT/runs/<sweep>/``), all on one pool (:func:`recdyn.studies.work.run_plans`),
resumable. Every run draws its own world (``initial_state = "per-trial"``), and run *r* of
every sweep starts from the same world (one seed name, ``world``): the knob values of a
sweep are compared on the same starts. The five seed-004 metrics (CD, TP, RD, RR, creator
clusters; :mod:`recdyn.metrics.polarization`) are measured every ``every`` steps.
``analyse`` turns what is stored into curves, end values, times to polarize, findings and
figures (:mod:`recdyn.studies._polarization_analysis`).
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Annotated, Any

from recdyn.constraints import Interval, Names, Options
from recdyn.errors import InvalidParameterError
from recdyn.studies import _polarization_protocol as protocol
from recdyn.studies.base import RunOptions, Study, StudyResult
from recdyn.studies.work import require_dataset, run_plans, stored_results, write_spec

__all__ = ["PolarizationStudy"]

WORLD = "dual-influence-v1"


class PolarizationStudy(Study):
    """Seed 004: polarization of creators under dual influence, one knob at a time (see
    the module docstring).

    Parameters
    ----------
    quick : the few-minute version: 300 steps and 4 runs per setting (default: 1000 and
        10, the seed's T).
    seed : root seed of every experiment.
    sweeps : which sweeps to run and report (default all: k, beta, tau, eta, epsilon,
        rho, mf-k, mf-rho, real-k).
    steps : steps per run (default 1000; quick 300).
    runs : runs per setting, each from its own world (default 10; quick 4).
    every : the metrics are measured every ``every`` steps (default 5).
    n_users, n_creators, dim : the world's m, n, d (default 100, 50, 10; 004 L37).
    eta : the base η_u = η_c (default 0.1).
    mf_rank, mf_retrain_every : mf-als's rank and retraining interval in mf-k and mf-rho
        (default 10 and 10).
    real_init : the dataset of real-k's initial vectors (ml-100k or ml-latest-small).
    """

    name = "polarization"

    def __init__(
        self,
        *,
        sweeps: Annotated[tuple[str, ...], Names(protocol.SWEEP_KEYS)] = protocol.SWEEP_KEYS,
        steps: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        runs: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        every: Annotated[int, Interval(Integral, 1, None)] = protocol.EVERY,
        n_users: Annotated[int, Interval(Integral, 1, None)] = protocol.USERS,
        n_creators: Annotated[int, Interval(Integral, 2, None)] = protocol.CREATORS,
        dim: Annotated[int, Interval(Integral, 2, None)] = protocol.DIM,
        eta: Annotated[float, Interval(Real, 0, None, closed="right")] = protocol.ETA,
        mf_rank: Annotated[int, Interval(Integral, 1, None)] = protocol.MF_RANK,
        mf_retrain_every: Annotated[int, Interval(Integral, 1, None)] = protocol.MF_RETRAIN_EVERY,
        real_init: Annotated[str, Options(protocol.REAL_INITS)] = protocol.REAL_INITS[0],
        **inherited: Any,
    ) -> None:
        self.sweeps = tuple(k for k in protocol.SWEEP_KEYS if k in sweeps)  # report order
        self.n_steps = steps or (protocol.QUICK_STEPS if self.quick else protocol.STEPS)
        self.n_runs = runs or (protocol.QUICK_RUNS if self.quick else protocol.RUNS)
        if every > self.n_steps:
            raise InvalidParameterError(
                f"every={every} must be at most steps={self.n_steps}: no measurement "
                "would fall inside the run"
            )

    # ------------------------------------------------------------------ specs
    def values(self, key: str) -> tuple[float, ...]:
        """The knob values of sweep ``key`` (the k grid follows n)."""
        return protocol.BY_KEY[key].values or protocol.k_values(self.n_creators)

    def world(self, key: str) -> dict[str, Any]:
        """The world's constructor arguments in sweep ``key`` (the base η)."""
        world: dict[str, Any] = {
            "n_users": self.n_users,
            "n_creators": self.n_creators,
            "dim": self.dim,
            "eta_users": self.eta,
            "eta_creators": self.eta,
        }
        if protocol.BY_KEY[key].real:
            world["init"] = self.real_init
        return world

    def settings(self, key: str) -> dict[tuple[str, str], float]:
        """``(environment label, policy label) → knob value`` of sweep ``key``'s results."""
        sweep = protocol.BY_KEY[key]
        if key == "eta":
            base = protocol.label_of(protocol.policy_entry(sweep, 0))
            return {(protocol.eta_name(v), base): v for v in self.values(key)}
        return {
            (WORLD, protocol.label_of(protocol.policy_entry(sweep, v))): v for v in self.values(key)
        }

    def spec_data(self, key: str) -> dict[str, Any]:
        """The experiment spec of sweep ``key``, as its TOML file holds it."""
        sweep = protocol.BY_KEY[key]
        values = self.values(key)
        world = self.world(key)
        if key == "eta":
            environments = [
                {
                    "preset": WORLD,
                    "name": protocol.eta_name(v),
                    "seed_name": "world",
                    "overrides": {**world, "eta_users": v, "eta_creators": v},
                }
                for v in values
            ]
            policies = [protocol.policy_entry(sweep, 0)]
        else:
            environments = [{"preset": WORLD, "seed_name": "world", "overrides": world}]
            policies = [protocol.policy_entry(sweep, v) for v in values]
        mf = sweep.recommender == "mf-als"
        recommender: dict[str, Any] = {"name": sweep.recommender}
        if mf:
            recommender["params"] = {"n_factors": self.mf_rank}
        metrics = [{"name": m, "params": {"every": self.every}} for m in protocol.METRICS]
        return {
            "experiment": {
                "name": f"polarization-{key}",
                "seed": self.seed,
                "steps": self.n_steps,
                "trials": self.n_runs,
                "k": 1,
                "retrain_every": self.mf_retrain_every if mf else 1,
                "metrics": metrics,
                # every run draws its own world, the same in every sweep (seed name)
                "initial_state": "per-trial",
            },
            "environments": environments,
            "recommenders": [recommender],
            "policies": policies,
        }

    def write_spec(self, key: str, out: Path) -> Path:
        mode = "quick" if self.quick else "full"
        what = f"recdyn study polarization ({mode}): seed 004, {protocol.BY_KEY[key].title}"
        return write_spec(out, key, self.spec_data(key), what)

    # ------------------------------------------------------------------ run / analyse
    def check_data(self) -> None:
        """An error naming the fix when real-k is asked for and its dataset is missing."""
        if "real-k" not in self.sweeps:
            return
        require_dataset(
            self.real_init,
            f"sweep 'real-k' starts {WORLD} from the MF embeddings of {self.real_init}",
            ", or leave real-k out of sweeps",
        )

    def execute(self, out: Path, options: RunOptions) -> None:
        """Every sweep's experiment on one pool (resumable)."""
        from recdyn.experiments import load_spec, make_plan

        self.check_data()
        out.mkdir(parents=True, exist_ok=True)
        show = options.console is not None and options.progress
        say = options.console.print if show else (lambda *a, **k: None)
        plans = {}
        for key in self.sweeps:
            plans[key] = make_plan(load_spec(self.spec_data(key)))
            self.write_spec(key, out)
            say(f"[bold]{key}[/]: {plans[key].describe()}")
        run_plans(plans, out, options, say)

    def analyse(self, out: Path) -> StudyResult:
        """Curves, end values, times to polarize, findings and figures from what ``out``
        holds (a recdyn error naming what is missing)."""
        from recdyn.studies import _polarization_analysis as analysis

        results = {k: stored_results(out / "runs" / k, self.spec_data(k)) for k in self.sweeps}
        return analysis.analyse(self, out, results)
