"""Rounds per second of the batched bandit learners (issue 20, item 8).

Runs each learner (LinUCB, Greedy, policy gradient) and a two-stage system (N = 5
nominators on s = 10 of d = 20 features, LinUCB ranker) on the synthetic linear world at
the thesis's Fig. 4.3 size (|A| = 100 or ``--arms``, d = 20) for ``--rounds`` rounds,
all ``--seeds`` seeds in one batch (:func:`recdyn.bandits.run_bandit`), against the same
seeds run one at a time. Reported per learner: rounds per second of the batch (every
seed advances one round), seed-rounds per second in both arms, and the batching speed-up —
medians of ``--repeats``
timings taken side by side.

Running::

    python benchmarks/bench_bandits.py --json /tmp/bench_bandits.json
    # Table 4.2's largest |A|:
    python benchmarks/bench_bandits.py --arms 10000 --rounds 100 --repeats 1

The exit status is 0 (a report, not a test). Times are wall-clock: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from benchlib import machine_info, write_json

from recdyn import bandits


def systems() -> dict[str, Any]:
    """The timed systems, by label."""
    return {
        "linucb": bandits.SingleStage(bandits.LinUCB()),
        "greedy": bandits.SingleStage(bandits.Greedy()),
        "policy-gradient": bandits.SingleStage(bandits.PolicyGradient()),
        "two-stage N=5, s=10": bandits.TwoStage(
            bandits.LinUCB(), bandits.LinUCB(), n_nominators=5, n_features=10
        ),
    }


def seconds(world: Any, system: Any, rounds: int, seeds: list[int], batched: bool) -> float:
    """Wall seconds of running ``seeds`` in one batch, or one ``run_bandit`` per seed."""
    start = time.perf_counter()
    if batched:
        bandits.run_bandit(world, system, rounds, seeds)
    else:
        for s in seeds:
            bandits.run_bandit(world, system, rounds, [s])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--arms", type=int, default=100, help="|A| (thesis: 10 … 10,000)")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    world = bandits.make("linear-v1", n_arms=args.arms, dim=20)
    seeds = list(range(args.seeds))
    rows = []
    for label, system in systems().items():
        batched, looped = [], []
        for _ in range(args.repeats):  # side by side, so that both see the same machine
            batched.append(seconds(world, system, args.rounds, seeds, batched=True))
            looped.append(seconds(world, system, args.rounds, seeds, batched=False))
        b, loop = statistics.median(batched), statistics.median(looped)
        row = {
            "system": label,
            "rounds_per_s": args.rounds / b,
            "seed_rounds_per_s_batched": args.rounds * len(seeds) / b,
            "seed_rounds_per_s_one_at_a_time": args.rounds * len(seeds) / loop,
            "speedup": loop / b,
        }
        rows.append(row)
        print(
            f"{label:22s} {row['rounds_per_s']:8.0f} rounds/s  "
            f"{row['seed_rounds_per_s_batched']:9.0f} seed-rounds/s batched, "
            f"{row['seed_rounds_per_s_one_at_a_time']:8.0f} one seed at a time "
            f"({row['speedup']:.1f}×)"
        )
    if args.json:
        write_json(args.json, {"machine": machine_info(), "args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
