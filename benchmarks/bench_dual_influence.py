"""One step of a large ``dual-influence-v1`` world (issue 18 item 6: ≤ 20 ms for 10⁴ users
× 10³ creators, d = 10, everyone online).

``world step``: ``env.step`` alone on random top-1 slates (the world's own cost: ratings,
both synchronous updates, the online draw), median of ``--steps`` steps after 3 untimed
ones. ``oracle step``: ``online_users`` + ``true_ratings`` of every user × creator +
``argmax`` + ``env.step`` — the loop of an oracle with a greedy policy, without
``simulate``'s bookkeeping. Running::

    python benchmarks/bench_dual_influence.py [--users 10000 --creators 1000 --json out.json]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchlib import machine_info, write_json

import recdyn


def _median_ms(times: list[float]) -> float:
    return float(np.median(times) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--creators", type=int, default=1_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json")
    args = parser.parse_args()
    env = recdyn.make("dual-influence-v1", n_users=args.users, n_creators=args.creators)
    env.reset(0)
    rng = np.random.default_rng(0)
    world, oracle = [], []
    for t in range(args.steps + 3):
        slates = rng.integers(0, args.creators, size=len(env.online_users()))
        start = time.perf_counter()
        env.step(slates)
        if t >= 3:
            world.append(time.perf_counter() - start)
    for _ in range(max(3, args.steps // 2)):
        start = time.perf_counter()
        users = env.online_users()
        env.step(env.true_ratings(users).argmax(axis=1))
        oracle.append(time.perf_counter() - start)
    result = {
        "users": args.users,
        "creators": args.creators,
        "world_step_ms": _median_ms(world),
        "oracle_step_ms": _median_ms(oracle),
        "machine": machine_info(),
    }
    print(
        f"{args.users:,} users × {args.creators:,} creators: world step "
        f"{result['world_step_ms']:.2f} ms (target ≤ 20), oracle + greedy step "
        f"{result['oracle_step_ms']:.2f} ms (medians)"
    )
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
