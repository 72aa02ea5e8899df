"""Overhead of the experiment machinery: ``recdyn run`` vs a hand-written process pool.

A spec of ``--tasks`` (default 200) tiny tasks — ``topics-dynamic-v1`` at 60 users × 80
items (600 initial ratings, 12 users per step), ``--steps`` steps (default 20), recommenders
toppop, baseline, mf-sgd (8 factors) and item-knn, ``tasks / 4`` trials — is run three
ways, each end to end (process start-up included), ``--repeat`` times (median reported):

* **hand loop**: ``workers`` spawned processes (one BLAS thread each), each calling
  ``recdyn.simulate`` in a loop over its share of the tasks (dealt round robin), with the
  same seeds; nothing is written. This is the floor: what a study costs without recdyn's
  planning, progress reporting, result transfer, Parquet files and manifest.
* **local**: ``run_experiment(spec, out, backend="local", workers=workers)`` into a fresh
  directory.
* **ray**: ``run_experiment(..., backend="ray", workers=workers)``, which starts a local
  Ray instance with ``workers`` CPUs and shuts it down after the run.
* **ray, already running**: the same after
  ``recdyn.engine.ray_pool.start_local(workers)`` in this process — Ray
  started as ``run_experiment`` starts it, with its first workers up — as on a cluster,
  where Ray is up before the study starts; that start and the ``ray.shutdown`` after the
  run are not timed.

Targets: local ≤ 1.10 × hand loop; ray (already running) ≤ 1.3 × local.

Running::

    python benchmarks/bench_experiments.py                       # 200 tasks, all cores
    python benchmarks/bench_experiments.py --workers 2 --json /tmp/bench_experiments.json
    python benchmarks/bench_experiments.py --no-ray --tasks 40   # smoke test

Wall-clock times: run on a quiet machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from math import nan
from pathlib import Path
from typing import Any

SPEC = """
[experiment]
name = "bench"
seed = 0
steps = {steps}
trials = {trials}

[[environments]]
preset = "topics-dynamic-v1"
overrides = {{ n_users = 60, n_items = 80, n_initial_ratings = 600, users_per_step = 12 }}

[[recommenders]]
name = "toppop"

[[recommenders]]
name = "baseline"

[[recommenders]]
name = "mf-sgd"
params = {{ n_factors = 8, n_epochs = 10 }}

[[recommenders]]
name = "item-knn"
"""


def _simulate_chunk(tasks: list[Any]) -> float:
    """Worker of the hand loop: ``simulate`` each task, return the busy seconds."""
    from recdyn.environments import make as make_environment
    from recdyn.experiments.spec import tuples
    from recdyn.policies import make as make_policy
    from recdyn.recommenders import make as make_recommender
    from recdyn.simulation import simulate

    start = time.perf_counter()
    for t in tasks:
        simulate(
            make_environment(t.preset, **tuples(t.overrides)),
            make_recommender(t.recommender, **tuples(t.params)),
            make_policy(t.policy_name, **tuples(t.policy_params)),
            steps=t.steps,
            seed=t.seed,
            k=t.k,
            retrain_every=t.retrain_every,
            metrics=t.metrics,
            env_seed=(t.env_init, t.env_dynamics),
        )
    return time.perf_counter() - start


def _cpu() -> float:
    """CPU seconds of this process and of its finished (joined) child processes."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def hand_loop(plan: Any, workers: int) -> tuple[float, float]:
    """(wall, CPU) seconds."""
    from recdyn.engine.workers import single_threaded_env

    chunks = [list(plan.tasks[i::workers]) for i in range(workers)]
    start, cpu = time.perf_counter(), _cpu()
    with single_threaded_env():
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(workers) as pool:
            pool.map(_simulate_chunk, chunks, chunksize=1)
    return time.perf_counter() - start, _cpu() - cpu


def recdyn_run(plan: Any, workers: int, backend: str) -> tuple[float, float]:
    """(wall, CPU) seconds; the CPU of Ray's workers is not counted (not our children)."""
    from recdyn.experiments import run_experiment

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), _cpu()
        result = run_experiment(plan, Path(tmp) / "out", backend=backend, workers=workers)
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    assert result.ok and result.completed == len(plan.tasks), result.failed
    return seconds, cpu


def _tree_cpu() -> float | None:
    """CPU seconds of this process and all its descendants, alive or reaped by one of them
    (Linux ``/proc``; ``None`` elsewhere). Ray's processes descend from the process that
    started Ray, so this counts the raylet, the GCS and the workers."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        ticks[int(entry.name)] = sum(int(x) for x in fields[11:15])  # (c)utime, (c)stime
    total, stack = 0, [os.getpid()]
    while stack:
        pid = stack.pop()
        total += ticks.get(pid, 0)
        stack += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def ray_running(plan: Any, workers: int) -> tuple[float, float]:
    """(wall, CPU) seconds; CPU of every Ray process (Linux), else NaN."""
    import ray

    from recdyn.engine.ray_pool import start_local

    start_local(workers)  # as run_experiment starts it, but untimed
    try:
        before = _tree_cpu()
        seconds, _ = recdyn_run(plan, workers, "ray")
        after = _tree_cpu()
        return seconds, (after - before) if after is not None and before is not None else nan
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from recdyn.experiments import load_spec, make_plan
    from recdyn.experiments.spec import parse_toml

    trials = max(1, args.tasks // 4)
    plan = make_plan(load_spec(parse_toml(SPEC.format(steps=args.steps, trials=trials))))
    print(
        f"{len(plan.tasks)} tasks × {args.steps} steps, {args.workers} workers · "
        f"{platform.processor() or platform.machine()} {os.cpu_count()} cores · "
        f"load average {os.getloadavg()[0]:.2f} · python {sys.version.split()[0]}"
    )
    runs: dict[str, list[tuple[float, float]]] = {"hand loop": [], "local": []}
    if not args.no_ray:
        runs.update({"ray": [], "ray running": []})
    for _ in range(args.repeat):  # interleaved, so that a change of load hits every variant
        runs["hand loop"].append(hand_loop(plan, args.workers))
        runs["local"].append(recdyn_run(plan, args.workers, "local"))
        if not args.no_ray:
            runs["ray"].append(recdyn_run(plan, args.workers, "ray"))
            runs["ray running"].append(ray_running(plan, args.workers))
    wall = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    rows = [
        ("hand loop (simulate per core)", "hand loop", "hand loop", ""),
        ("recdyn run --backend local", "local", "hand loop", "≤ 1.10"),
    ]
    if not args.no_ray:
        rows += [
            ("recdyn run --backend ray", "ray", "local", "(vs local)"),
            ("  … Ray already running", "ray running", "local", "≤ 1.30 (vs local)"),
        ]
    print(f"\n{'':32}{'wall s':>8}{'ratio':>7}{'CPU s':>8}{'ratio':>7}  target")
    for name, key, ref, target in rows:
        c = f"{cpu[key]:8.2f}{cpu[key] / cpu[ref]:7.3f}" if key != "ray" else ""
        print(f"{name:32}{wall[key]:8.2f}{wall[key] / wall[ref]:7.3f}{c:15}  {target}")
    print(
        "\nCPU: this process + its worker processes; with Ray already running, every Ray "
        "process too (Linux; not counted when this run starts Ray)"
    )
    if args.json:
        out = {
            "tasks": len(plan.tasks),
            "steps": args.steps,
            "workers": args.workers,
            "load_average": os.getloadavg()[0],
            "runs_wall_cpu": runs,
            "median_wall": wall,
            "median_cpu": cpu,
        }
        args.json.write_text(json.dumps(out, indent=2))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
