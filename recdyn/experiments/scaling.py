"""How long an experiment takes on more workers: a schedule model fed with measured times.

Both executors run an experiment in two phases, the tuning jobs and then the tasks, and in
each phase a free worker takes the next unit in plan order (local processes and Ray alike).
Given the seconds every unit took (recorded in the manifest and the tuning files),
:func:`predict_wall` replays that greedy list schedule on ``n`` workers::

    wall(n) = makespan(tuning jobs, n) + makespan(tasks, n)

Greedy list scheduling is within a factor 2 − 1/n of the best possible schedule (Graham,
"Bounds on multiprocessing timing anomalies", 1969), and never below the two bounds that
limit any cluster: ``total / n`` and the longest single unit. So an experiment scales
with the number of cores until ``total / n`` reaches its longest task (one trial of the
slowest recommender); past that, more cores only idle.

The model leaves out what the unit times do not contain: starting workers (or a Ray
instance), shipping results, and contention (times measured with other processes on the
same cores are longer than on a dedicated core). :func:`measured_wall` gives the real
wall time of the runs recorded in a directory, to compare with ``predict_wall(dir, n)``
for the ``n`` those runs used.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from recdyn._validation import check_int
from recdyn.errors import InvalidParameterError
from recdyn.experiments.store import read_manifest


def makespan(durations: Sequence[float], workers: int) -> float:
    """Finish time of ``durations`` run in order, each on the first worker to be free."""
    workers = check_int("workers", workers, low=1)
    free = [0.0] * min(workers, max(len(durations), 1))
    for d in durations:
        heapq.heapreplace(free, free[0] + float(d))
    return max(free)


def unit_seconds(directory: str | Path, trials: int | None = None) -> dict[str, list[float]]:
    """Measured seconds of the tuning jobs and the finished tasks of ``directory``, in plan
    order: ``{"tuning": [...], "tasks": [...]}``.

    ``trials`` extrapolates to another number of trials: every task group (the same
    environment, recommender, parameters and policy) is given ``trials`` tasks of its
    mean measured time, so a 2-trial run predicts the 10-trial study.
    """
    root = Path(directory)
    manifest = read_manifest(root)
    tasks = pd.DataFrame(manifest["tasks"].values())
    if tasks.empty or tasks["seconds"].isna().all():
        raise InvalidParameterError(f"{root} holds no finished task to time")
    tuning = []
    for tune_id in tasks["tune_id"].dropna().unique():
        path = root / "tuning" / f"{tune_id}.json"
        if path.exists():
            tuning.append(float(json.loads(path.read_text()).get("seconds") or 0.0))
    tasks = tasks.sort_values("index")
    if trials is None:
        seconds = tasks["seconds"].dropna().astype(float).tolist()
    else:
        trials = check_int("trials", trials, low=1)
        keys = ["environment", "recommender", "params", "policy"]
        means = tasks.groupby(keys, sort=False)["seconds"].mean().dropna()
        seconds = [float(s) for s in means for _ in range(trials)]
    return {"tuning": tuning, "tasks": seconds}


def predict_wall(
    directory: str | Path | Iterable[str | Path], workers: int, trials: int | None = None
) -> float:
    """Predicted wall seconds of the experiment(s) in ``directory`` on ``workers`` workers
    (several directories run one after the other, as a study runs its environments)."""
    dirs = [directory] if isinstance(directory, str | Path) else list(directory)
    total = 0.0
    for d in dirs:
        units = unit_seconds(d, trials)
        total += makespan(units["tuning"], workers) + makespan(units["tasks"], workers)
    return total


def measured_wall(directory: str | Path) -> float:
    """Wall seconds of every run recorded in the manifest of ``directory`` (summed: a
    study resumed or extended three times counts its three runs). A run that was killed
    counts until its last manifest update (a lower bound)."""
    total = 0.0
    for run in read_manifest(directory).get("runs", []):
        end = run.get("ended") or run.get("updated")
        if run.get("started") and end:
            start = datetime.fromisoformat(run["started"])
            total += (datetime.fromisoformat(end) - start).total_seconds()
    return total


def scaling_table(
    directory: str | Path | Iterable[str | Path],
    workers: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128),
    trials: int | None = None,
) -> pd.DataFrame:
    """Predicted wall time, speed-up and efficiency for each worker count, with the two
    lower bounds (``total / n`` and the longest tuning job plus the longest task)."""
    dirs = [directory] if isinstance(directory, str | Path) else list(directory)
    units = [unit_seconds(d, trials) for d in dirs]
    total = sum(sum(u["tuning"]) + sum(u["tasks"]) for u in units)
    longest = sum(max(u["tuning"], default=0.0) + max(u["tasks"], default=0.0) for u in units)
    base = predict_wall(dirs, 1, trials)
    rows = []
    for n in workers:
        wall = predict_wall(dirs, n, trials)
        rows.append(
            {
                "workers": n,
                "wall_s": wall,
                "speedup": base / wall,
                "efficiency": base / wall / n,
                "bound_s": max(total / n, longest),
            }
        )
    return pd.DataFrame(rows)
