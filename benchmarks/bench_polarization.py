"""What the ``polarization`` study costs (issue 18, item 6).

**The full sweep** (``--study full``, default): wall time of ``recdyn study polarization``
(every sweep: 9 experiments, 390 runs of 1000 steps) in a temporary directory, as its own
process on ``--workers`` workers. Target: ≤ 2 min on 2 cores. ``--study quick`` times the
quick mode, ``--study none`` skips it.

**One step of a large world**: ``dual-influence-v1`` with 10⁴ users × 10³ creators (d = 10,
everyone online) inside :func:`recdyn.simulate` — the oracle's scores of every user ×
creator, a softmax (β = 1) draw, the world's synchronous update and the loop's
bookkeeping — as the median of the steps' ``seconds`` (after 2 untimed steps): with the
softmax, with a greedy policy (argmax, no draw), and with the softmax and CD and TP (the
creator metrics, O(n²d); RD costs O(m n²) and is not meant for this size). Target:
≤ 20 ms. ``benchmarks/bench_dual_influence.py`` times ``env.step`` alone.

Running::

    python benchmarks/bench_polarization.py --json /tmp/bench_polarization.json
    python benchmarks/bench_polarization.py --study none      # the large step only

The exit status is 0 whether or not targets are met (a report, not a test). Times are
wall-clock: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from benchlib import machine_info, time_study, write_json

import recdyn

STUDY_TARGET_S = {"full": 120.0, "quick": 60.0}
STEP_TARGET_MS = 20.0


def study_time(mode: str, workers: int) -> dict[str, Any]:
    """Wall time of one ``recdyn study polarization`` run in a fresh directory."""
    r = time_study("polarization", ["--quick"] if mode == "quick" else [], workers)
    return {"mode": mode, **r, **({} if "error" in r else {"target_s": STUDY_TARGET_S[mode]})}


def time_step(users: int, creators: int, steps: int, policy: str, metrics: list[str]) -> float:
    """Median seconds of one ``simulate`` step (after 2 untimed) of the large world."""
    env = recdyn.make("dual-influence-v1", n_users=users, n_creators=creators)
    trajectory = recdyn.simulate(
        env,
        recdyn.recommenders.make("oracle"),
        recdyn.policies.make(policy),
        steps=steps + 2,
        metrics=metrics,
        seed=0,
    )
    return statistics.median(trajectory.metrics["seconds"].iloc[2:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", choices=("full", "quick", "none"), default="full")
    ap.add_argument("--workers", "-w", type=int, default=2)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--creators", type=int, default=1_000)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"machine": machine_info()}
    cd_tp = ["creator_diversity", "polarization"]
    for policy, metrics in (("softmax", []), ("greedy", []), ("softmax", cd_tp)):
        ms = 1e3 * time_step(args.users, args.creators, args.steps, policy, metrics)
        label = policy + (" + CD, TP" if metrics else "")
        result[f"step_ms_{label.replace(' + CD, TP', '_cd_tp')}"] = ms
        print(
            f"{args.users:,} users × {args.creators:,} creators, simulate step (oracle, "
            f"{label}): {ms:.1f} ms (target ≤ {STEP_TARGET_MS:g})"
        )
    if args.study != "none":
        study = study_time(args.study, args.workers)
        result["study"] = study
        if "error" in study:
            print(f"study {args.study}: failed: {study['error']}")
        else:
            print(
                f"recdyn study polarization ({args.study}, {args.workers} workers): "
                f"{study['wall_s']:.0f} s (target ≤ {study['target_s']:.0f})"
            )
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
