"""Iterations per second of the batched exposure-game solver (issue 19, item 2).

Times simultaneous reparametrised gradient ascent (``recdyn.games``) on ``R`` profiles at
once — one array computation, :func:`recdyn.games.gradient_ascent` — against a
straightforward per-profile Python loop that takes the same step for one profile after the
other. Reported: profile-iterations per second (``R × steps / seconds``), the median of
``--repeats`` timings, for m = 943 users (ML-100K's), and (n, d) = (100, 50) and (10, 3)
(the thesis's grid corners, L4113–4115), τ = 0.1. The step count is fixed (``tol = 0``
never stops a run early), so both arms do identical work.

Running::

    python benchmarks/bench_games.py --threads 1 --json /tmp/bench_games.json

The exit status is 0 (a report, not a test). Times are wall-clock: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from benchlib import add_threads_option, machine_info, write_json

from recdyn.engine.workers import pin_threads
from recdyn.games import ExposureGame, gradient_ascent
from recdyn.games.solver import ascent_step

CASES = [(943, 100, 50), (943, 10, 3)]


def loop_solver(game: ExposureGame, theta0: np.ndarray, steps: int, alpha: float) -> np.ndarray:
    """The per-profile baseline: the same ascent, one profile ``[n, d]`` at a time."""
    out = np.empty_like(theta0)
    for r in range(len(theta0)):
        theta = theta0[r].copy()
        for _ in range(steps):
            step, _ = ascent_step(game.users, theta, game.tau, alpha)
            theta += step
        out[r] = theta
    return out


def bench_case(m: int, n: int, d: int, runs: int, steps: int, repeats: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    game = ExposureGame(rng.standard_normal((m, d)) / np.sqrt(d), 0.1)
    theta0 = rng.standard_normal((runs, n, d))
    batched, looped = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        res = gradient_ascent(game, theta0, alpha=0.1, max_iter=steps, tol=0.0)
        batched.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref = loop_solver(game, theta0, steps, 0.1)
        looped.append(time.perf_counter() - t)
    ref /= np.linalg.norm(ref, axis=-1, keepdims=True)
    assert np.allclose(res.strategies, ref, atol=1e-8), "batched and looped solvers disagree"
    b, lo = statistics.median(batched), statistics.median(looped)
    return {
        "m": m,
        "n": n,
        "d": d,
        "runs": runs,
        "steps": steps,
        "batched_it_per_s": runs * steps / b,
        "loop_it_per_s": runs * steps / lo,
        "speedup": lo / b,
        "batched_s": batched,
        "loop_s": looped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="profiles per batch (5 seeds × 10)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the results here")
    add_threads_option(parser)
    args = parser.parse_args()
    pin_threads(args.threads)
    rows = [bench_case(m, n, d, args.runs, args.steps, args.repeats) for m, n, d in CASES]
    print(f"{'m':>5} {'n':>4} {'d':>3}  {'batched it/s':>13} {'loop it/s':>11} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['m']:>5} {r['n']:>4} {r['d']:>3}  {r['batched_it_per_s']:>13,.0f} "
            f"{r['loop_it_per_s']:>11,.0f} {r['speedup']:>5.1f}x"
        )
    if args.json:
        write_json(args.json, {"machine": machine_info(threads=args.threads), "cases": rows})


if __name__ == "__main__":
    main()
