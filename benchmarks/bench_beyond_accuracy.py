"""What the beyond-accuracy online metrics cost per step (issue 21, item 6).

Runs :func:`recdyn.simulate` in a 1000-user × 1700-item topics world (``topics-dynamic-v1``,
200 users per step, slates of ``k`` = 10) with every metric of issue 21 and times each
metric's call inside the loop (a subclass that times ``value``), beside the step's own
``seconds`` (the loop without the metrics' time). The first step is reported apart: the
popularity and calibration metrics read the world's rated pairs once there. Target: each
metric ≤ 10 % of a step.

Running::

    python benchmarks/bench_beyond_accuracy.py --json /tmp/bench_beyond.json
    python benchmarks/bench_beyond_accuracy.py --recommenders toppop mf-als --steps 20

The exit status is 0 whether or not targets are met (a report, not a test). Times are
wall-clock: run on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from benchlib import machine_info, write_json

import recdyn
from recdyn.metrics import online_metrics

BEYOND = "recdyn.metrics.beyond_online:"
METRICS = tuple(s.name for s in online_metrics if str(s.entry_point).startswith(BEYOND))
TARGET_SHARE = 0.10


def timed(name: str, spent: dict[str, list[float]]) -> Any:
    """The registered metric ``name`` as a subclass that appends each call's seconds to
    ``spent[name]`` (clones keep the subclass and the registered name)."""
    base = online_metrics.make(name)
    cls = type(base)

    def value(self: Any, ctx: Any) -> float:
        start = time.perf_counter()
        out = cls.value(self, ctx)
        spent[name].append(time.perf_counter() - start)
        return out

    sub = type(f"Timed{cls.__name__}", (cls,), {"value": value, "__module__": __name__})
    metric = sub(**base.get_params())
    metric.__dict__["_registered_as"] = name
    return metric


def run(recommender: str, steps: int, k: int) -> dict[str, Any]:
    spent: dict[str, list[float]] = {name: [] for name in METRICS}
    metrics = [timed(name, spent) for name in METRICS]
    trajectory = recdyn.simulate(
        "topics-dynamic-v1", recommender, "greedy", steps=steps, k=k, seed=0, metrics=metrics
    )
    seconds = trajectory.metrics["seconds"].to_numpy()
    total = np.sum([spent[name] for name in METRICS], axis=0)
    loop = seconds - total  # the step without the metrics
    step_ms = 1e3 * statistics.median(loop[1:])
    out: dict[str, Any] = {"recommender": recommender, "step_ms": step_ms, "metrics": {}}
    print(f"{recommender}: step without metrics {step_ms:.2f} ms (median of steps 2–{steps})")
    for name in METRICS:
        first, rest = 1e3 * spent[name][0], 1e3 * statistics.median(spent[name][1:])
        share = rest / step_ms
        out["metrics"][name] = {"first_ms": first, "ms": rest, "share": share}
        flag = "ok" if share <= TARGET_SHARE else "OVER"
        print(
            f"  {name:18s} {rest:7.3f} ms ({100 * share:5.1f} %, {flag}); first step {first:.2f} ms"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recommenders", nargs="+", default=["toppop", "mf-als"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"machine": machine_info(), "runs": []}
    for rec in args.recommenders:
        result["runs"].append(run(rec, args.steps, args.k))
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
