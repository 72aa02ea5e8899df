"""What feedback-loop correction costs (issue 17, item 8).

**Overhead of propensities and weights (default).** One ``recdyn.simulate`` per setting,
with ``mf-als`` through a softmax policy, timing inside the real loop what exists only to
log propensities and to weight the training data:

* ``arrival``: the environment's arrival probabilities (``Environment.online_probabilities``);
* ``joint``: the joint propensity ``q = ρ_t(u) · π_t(i | u)`` of each new rating
  (``recdyn.simulate``'s propensity step);
* ``inclusion``: the slate inclusion probabilities of a softmax slate with ``k > 1``
  (the policy's inclusion step; ``k = 1`` needs none);
* ``weights``: the per-rating training weights at every retrain (``mf-als``'s call to
  ``recdyn.recommenders.weighting.rating_weights``: CAFL, SNIPS, …).

Each is wrapped by a timer for the run (the wrapper adds ~1 µs per call) and its total is
divided by the total of the steps' ``seconds``: the share of a step. Target: ≤ 5 %.

Settings: the study's own (``beta-rank-cafl-v1`` and ``ml100k-v1``, one user per step,
retrain every 10 steps, rank 20, λ = 0.1, softmax at temperature 1, CAFL weights) as a
bare loop (no metrics: the smallest step, where the overhead weighs most) and as the
study runs it (held-out RMSE and nDCG@20 on 100,000 pairs and homogenization every 100
steps; the step's ``seconds`` include them), and a busier world (``topics-dynamic-v1``:
200 users per step, 100,000 initial ratings, slates of ``k = 10``, SNIPS weights, retrain
every step).

**Studies (``--studies``).** Wall time of ``recdyn study feedback-loops`` runs in a
temporary directory, each as its own process on ``--workers`` workers: ``quick`` (target
≤ 3 min), ``table`` (Table 3.1 at thesis size, ``--parts table``: ≤ 10 min) and ``full``
(everything at thesis size: ≤ 3 h; hours — run it alone).

Running::

    python benchmarks/bench_feedback.py --json /tmp/bench_feedback.json
    python benchmarks/bench_feedback.py --studies quick,table
    python benchmarks/bench_feedback.py --quick        # small worlds, few steps (smoke test)

The exit status is 0 whether or not targets are met (a report, not a test). Times are
wall-clock: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from benchlib import add_threads_option, machine_info, time_study, write_json

from recdyn.engine.workers import pin_threads, threads_note

OVERHEAD_TARGET = 0.05
STUDY_TARGETS_S = {"quick": 180.0, "table": 600.0, "full": 3 * 3600.0}
STUDY_ARGS = {"quick": ["--quick"], "table": ["--parts", "table"], "full": []}


@dataclass(frozen=True)
class Setting:
    """One simulation whose overhead is measured."""

    world: str
    steps: int
    k: int
    retrain_every: int
    weighting: Any
    overrides: dict[str, Any] = field(default_factory=dict)
    #: as the study runs it: held-out pairs evaluated every 100 steps, homogenization
    #: (both sets) and the mean rating; else a bare loop (no metrics).
    as_in_study: bool = False


SETTINGS = (
    Setting("beta-rank-cafl-v1", 2000, 1, 10, "cafl"),
    Setting("beta-rank-cafl-v1", 2000, 1, 10, "cafl", as_in_study=True),
    Setting("ml100k-v1", 2000, 1, 10, "cafl"),
    Setting("ml100k-v1", 2000, 1, 10, "cafl", as_in_study=True),
    Setting("topics-dynamic-v1", 30, 10, 1, "snips"),
)
QUICK_SETTINGS = (
    Setting("beta-rank-cafl-v1", 300, 1, 10, "cafl", {"n_users": 200, "n_items": 340}),
    Setting("beta-rank-cafl-v1", 300, 1, 10, "cafl", {"n_users": 200, "n_items": 340}, True),
    Setting(
        "topics-dynamic-v1",
        5,
        10,
        1,
        "snips",
        {"n_users": 200, "n_items": 340, "n_initial_ratings": 4000, "users_per_step": 40},
    ),
)


class Timers:
    """Total seconds spent in wrapped callables, by label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    @contextlib.contextmanager
    def wrap(self, owner: Any, attribute: str, label: str) -> Iterator[None]:
        original = getattr(owner, attribute)
        self.seconds.setdefault(label, 0.0)
        self.calls.setdefault(label, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        setattr(owner, attribute, timed)
        try:
            yield
        finally:
            setattr(owner, attribute, original)


def bench_overhead(setting: Setting) -> dict[str, Any]:
    """One simulate run of ``setting`` with the propensity and weight steps timed."""
    import recdyn
    import recdyn.simulation as simulation_module
    from recdyn.environments.base import Environment
    from recdyn.heldout import HeldOut
    from recdyn.policies import stochastic
    from recdyn.recommenders import mf_als

    env = recdyn.make(setting.world, **setting.overrides)
    rec = recdyn.recommenders.make("mf-als", n_factors=20, reg=0.1, weighting=setting.weighting)
    policy = recdyn.policies.make("softmax", temperature=1.0)
    metrics: tuple[Any, ...] = ()
    heldout = None
    if setting.as_in_study:
        every = {"every": 100, "max_users": 500}
        metrics = (
            "mean_rating",
            recdyn.metrics.online_metrics.make("homogenization", **every),
            recdyn.metrics.online_metrics.make("homogenization_cumulative", **every),
        )
        heldout = HeldOut(every=100)
    timers = Timers()
    with contextlib.ExitStack() as stack:
        stack.enter_context(timers.wrap(Environment, "online_probabilities", "arrival"))
        stack.enter_context(timers.wrap(simulation_module, "_with_propensities", "joint"))
        stack.enter_context(timers.wrap(stochastic, "_threshold_inclusion", "inclusion"))
        stack.enter_context(timers.wrap(mf_als, "rating_weights", "weights"))
        wall = time.perf_counter()
        traj = recdyn.simulate(
            env,
            rec,
            policy=policy,
            steps=setting.steps,
            seed=0,
            k=setting.k,
            retrain_every=setting.retrain_every,
            metrics=metrics,
            heldout=heldout,
        )
        wall = time.perf_counter() - wall
    step_seconds = [float(s) for s in traj.metrics["seconds"]]
    total = sum(step_seconds)
    shares = {label: s / total for label, s in timers.seconds.items()}
    return {
        "world": setting.world,
        "overrides": setting.overrides,
        "steps": setting.steps,
        "k": setting.k,
        "retrain_every": setting.retrain_every,
        "weighting": setting.weighting,
        "as_in_study": setting.as_in_study,
        "users_per_step": env.users_per_step,
        "n_ratings_end": int(traj.metrics["n_ratings"].iloc[-1]),
        "median_step_s": statistics.median(step_seconds),
        "steps_total_s": total,
        "wall_s": wall,
        "component_s": timers.seconds,
        "component_calls": timers.calls,
        "component_share": shares,
        "overhead_share": sum(shares.values()),
    }


def bench_study(part: str, workers: int) -> dict[str, Any]:
    """Wall time of one ``recdyn study feedback-loops`` run (its own process)."""
    r = time_study("feedback-loops", STUDY_ARGS[part], workers)
    return {"part": part, **r, **({} if "error" in r else {"target_s": STUDY_TARGETS_S[part]})}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small worlds, few steps")
    ap.add_argument(
        "--studies",
        default="",
        help="comma-separated study runs to time: quick, table, full (default: none)",
    )
    ap.add_argument("--workers", "-w", type=int, default=2, help="workers for --studies")
    ap.add_argument("--json", help="write the results here")
    add_threads_option(ap)
    args = ap.parse_args(argv)
    pin_threads(args.threads)
    parts = [p for p in args.studies.split(",") if p]
    unknown = sorted(set(parts) - set(STUDY_ARGS))
    if unknown:
        ap.error(f"--studies: unknown {unknown}; valid: {', '.join(STUDY_ARGS)}")
    print(f"# load average {os.getloadavg()[0]:.2f}; {threads_note()}", file=sys.stderr)

    overhead = []
    print(f"{'world':<20} {'loop':<6} {'k':>3} {'weighting':<9} {'step ms':>8}  share of a step")
    for setting in QUICK_SETTINGS if args.quick else SETTINGS:
        r = bench_overhead(setting)
        overhead.append(r)
        parts_text = ", ".join(f"{k} {v:.2%}" for k, v in r["component_share"].items())
        verdict = "✓" if r["overhead_share"] <= OVERHEAD_TARGET else "✗"
        print(
            f"{r['world']:<20} {'study' if r['as_in_study'] else 'bare':<6} {r['k']:>3} "
            f"{r['weighting']:<9} {r['median_step_s'] * 1e3:>8.2f}"
            f"  {r['overhead_share']:.2%} {verdict} ({parts_text})"
        )
    studies = []
    for part in parts:
        r = bench_study(part, args.workers)
        studies.append(r)
        if "error" in r:
            print(f"study {part}: failed: {r['error']}")
        else:
            verdict = "✓" if r["wall_s"] <= r["target_s"] else "✗"
            print(f"study {part}: {r['wall_s']:.0f} s (target ≤ {r['target_s']:.0f} s) {verdict}")
    if args.json:
        write_json(
            args.json,
            {"machine": machine_info(), "overhead": overhead, "studies": studies},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
