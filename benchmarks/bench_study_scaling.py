"""How a study's wall time scales with workers: the schedule model, and a check of it.

The model (:mod:`recdyn.experiments.scaling`) replays the executors' greedy schedule with
the unit times recorded in a run directory. Two uses::

    # predicted wall time of the full study (10 trials) on 1 … 128 workers, from a run
    python benchmarks/bench_study_scaling.py --dirs runs/ovo/runs/topics-dynamic-v1 --trials 10

    # several environments: all on one pool (as the study runs them) and, for comparison,
    # one after the other with a pool each
    python benchmarks/bench_study_scaling.py --dirs runs/ovo/runs/* --trials 10 --workers 2

    # check the model on this machine: the quick offline-vs-online study on topics-dynamic
    # with 1 worker, then 2 (local, and Ray when installed); prediction vs measurement
    python benchmarks/bench_study_scaling.py --measure --repeat 3

With ``--measure``, every repeat runs the study afresh on each backend and worker count;
the table gives the median measured wall time of the runs (from their manifests: task
scheduling and storing, no start-up of the study's analysis), the wall time the model
predicts for 2 workers from the 1-worker run's unit times, and the speed-ups. The exit
status is 0 (a report, not a test).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path


def predicted(dirs: list[str], trials: int | None, workers: list[int]) -> None:
    from recdyn.experiments.scaling import scaling_table

    print(f"predicted from {', '.join(dirs)}" + (f", {trials} trials" if trials else ""))
    pools = [(True, "one pool")] + ([(False, "a pool each, in turn")] if len(dirs) > 1 else [])
    for one_pool, label in pools:
        table = scaling_table(dirs, workers=workers, trials=trials, one_pool=one_pool)
        print(f"{label}:")
        print(f"{'workers':>8} {'wall':>10} {'speed-up':>9} {'efficiency':>10} {'bound':>10}")
        for r in table.itertuples(index=False):
            print(
                f"{r.workers:>8} {r.wall_s / 60:>8.1f} m {r.speedup:>9.2f} "
                f"{r.efficiency:>10.2f} {r.bound_s / 60:>8.1f} m"
            )


def _study_wall(backend: str, workers: int, out: Path) -> tuple[float, Path]:
    from recdyn import studies
    from recdyn.experiments.scaling import measured_wall

    study = studies.make(  # the study's own experiment only (no readings' experiments)
        "offline-vs-online", quick=True, environments=["topics-dynamic-v1"], readings=None
    )
    start = time.perf_counter()
    study.run(out, backend=backend, workers=workers)
    runs = out / "runs" / "topics-dynamic-v1"
    print(f"  {backend} × {workers}: {time.perf_counter() - start:.1f} s incl. analysis")
    return measured_wall(runs), runs


def measure(repeat: int) -> None:
    from recdyn.experiments.scaling import predict_wall

    backends = ["local"] + (["ray"] if importlib.util.find_spec("ray") else [])
    walls: dict[tuple[str, int], list[float]] = {}
    model: dict[str, list[float]] = {b: [] for b in backends}
    for r in range(repeat):
        for backend in backends:
            with tempfile.TemporaryDirectory() as tmp:
                one, runs = _study_wall(backend, 1, Path(tmp) / "w1")
                model[backend].append(predict_wall(runs, 2))
                two, _ = _study_wall(backend, 2, Path(tmp) / "w2")
            walls.setdefault((backend, 1), []).append(one)
            walls.setdefault((backend, 2), []).append(two)
        print(f"repeat {r + 1}/{repeat} done")
    print(f"\nquick offline-vs-online on topics-dynamic, median of {repeat}")
    print(f"{'backend':>8} {'1 worker':>9} {'2 workers':>10} {'speed-up':>9} {'model, 2':>9}")
    for b in backends:
        one, two = statistics.median(walls[b, 1]), statistics.median(walls[b, 2])
        print(
            f"{b:>8} {one:>7.1f} s {two:>8.1f} s {one / two:>9.2f} "
            f"{statistics.median(model[b]):>7.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dirs", nargs="*", default=[], help="experiment run directories")
    parser.add_argument("--trials", type=int, default=None, help="extrapolate to N trials")
    parser.add_argument("--workers", default="1,2,4,8,16,32,64,128")
    parser.add_argument("--measure", action="store_true", help="run the model check")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.dirs:
        predicted(args.dirs, args.trials, [int(w) for w in args.workers.split(",")])
    if args.measure:
        measure(args.repeat)
    if not args.dirs and not args.measure:
        parser.error("give --dirs DIR ... and/or --measure")


if __name__ == "__main__":
    main()
