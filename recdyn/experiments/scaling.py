"""How long an experiment takes on more workers: a schedule model fed with measured times.

Both executors take units from one feed: first the tuning jobs, then the tasks whose
tuning result exists, and each remaining task as soon as its tuning job finishes; a free
worker takes the next unit in the feed (local processes and Ray alike). Given the seconds
every unit took (recorded in the manifest and the tuning files), :func:`schedule` replays
that greedy list schedule on ``n`` workers and returns when the last unit ends.

Greedy list scheduling is within a factor 2 − 1/n of the best possible schedule (Graham,
"Bounds on multiprocessing timing anomalies", 1969), and never below two bounds that
limit any cluster: ``total / n`` and the longest chain (a tuning job plus the longest of
its tasks). So an experiment scales with the number of cores until ``total / n`` reaches
its longest chain (one trial of the slowest recommender after its tuning); past that,
more cores only idle.

The model leaves out what the unit times do not contain: starting workers (or a Ray
instance), shipping results, and contention (times measured with other processes on the
same cores are longer than on a dedicated core). :func:`measured_wall` gives the real
wall time of the runs recorded in a directory, to compare with ``predict_wall(dir, n)``
for the ``n`` those runs used.
"""

from __future__ import annotations

import heapq
import json
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from recdyn._validation import check_int
from recdyn.errors import InvalidParameterError
from recdyn.experiments.store import read_manifest


@dataclass
class Units:
    """Measured seconds of an experiment's units, in plan order: ``tuning`` maps tuning
    job ids to seconds, ``tasks`` lists ``(tuning job id or None, seconds)``."""

    tuning: dict[str, float] = field(default_factory=dict)
    tasks: list[tuple[str | None, float]] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(self.tuning.values()) + sum(s for _, s in self.tasks)

    @property
    def longest_chain(self) -> float:
        return (
            max((self.tuning.get(t, 0.0) if t else 0.0) + s for t, s in self.tasks)
            if self.tasks
            else max(self.tuning.values(), default=0.0)
        )


def schedule(units: Units, workers: int) -> float:
    """When the last unit ends if ``workers`` workers take them from the feed as the
    executors do (see the module docstring)."""
    workers = check_int("workers", workers, low=1)
    # the feed: (tuning job id or None for a task, seconds, time it joined the feed)
    feed: deque[tuple[str | None, float, float]] = deque(
        (t, s, 0.0) for t, s in units.tuning.items()
    )
    waiting: dict[str, list[float]] = {}
    for tune_id, seconds in units.tasks:
        if tune_id in units.tuning:
            waiting.setdefault(tune_id, []).append(seconds)
        else:
            feed.append((None, seconds, 0.0))
    free = [0.0] * workers  # when each worker is next free
    tuning: list[tuple[float, str]] = []  # (end, tuning job) of jobs started
    end = 0.0
    while feed or waiting:
        now = heapq.heappop(free)
        while tuning and (tuning[0][0] <= now or not feed):
            done, tune_id = heapq.heappop(tuning)  # its tasks join the feed when it ends
            feed.extend((None, s, done) for s in waiting.pop(tune_id, []))
        if not feed:  # tasks of a tuning job that is not in ``units``: cannot run
            break
        tune_id, seconds, joined = feed.popleft()
        finish = max(now, joined) + seconds
        if tune_id is not None:
            heapq.heappush(tuning, (finish, tune_id))
        heapq.heappush(free, finish)
        end = max(end, finish)
    return end


def unit_seconds(directory: str | Path, trials: int | None = None) -> Units:
    """Measured seconds of the tuning jobs and the finished tasks of ``directory``.

    ``trials`` extrapolates to another number of trials: every task group (the same
    environment, recommender, parameters and policy) is given ``trials`` tasks of its
    mean measured time, so a 2-trial run predicts the 10-trial study.
    """
    root = Path(directory)
    manifest = read_manifest(root)
    tasks = pd.DataFrame(manifest["tasks"].values())
    if tasks.empty or tasks["seconds"].isna().all():
        raise InvalidParameterError(f"{root} holds no finished task to time")
    units = Units()
    for tune_id in tasks["tune_id"].dropna().unique():
        path = root / "tuning" / f"{tune_id}.json"
        if path.exists():
            units.tuning[tune_id] = float(json.loads(path.read_text()).get("seconds") or 0.0)
    tasks = tasks.sort_values("index")
    tasks = tasks[tasks["seconds"].notna()]
    if trials is None:
        units.tasks = [(_id(t), float(s)) for t, s in zip(tasks["tune_id"], tasks["seconds"])]
        return units
    trials = check_int("trials", trials, low=1)
    keys = ["environment", "recommender", "params", "policy"]
    for _, group in tasks.groupby(keys, sort=False):
        seconds = float(group["seconds"].astype(float).mean())
        units.tasks += [(_id(group["tune_id"].iloc[0]), seconds)] * trials
    return units


def _id(tune_id: object) -> str | None:
    return tune_id if isinstance(tune_id, str) else None


def predict_wall(
    directory: str | Path | Iterable[str | Path], workers: int, trials: int | None = None
) -> float:
    """Predicted wall seconds of the experiment(s) in ``directory`` on ``workers`` workers
    (several directories run one after the other, as a study runs its environments)."""
    dirs = [directory] if isinstance(directory, str | Path) else list(directory)
    return sum(schedule(unit_seconds(d, trials), workers) for d in dirs)


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
    """Predicted wall time, speed-up and efficiency for each worker count, with the lower
    bound ``max(total / n, longest chain)``."""
    dirs = [directory] if isinstance(directory, str | Path) else list(directory)
    units = [unit_seconds(d, trials) for d in dirs]
    total = sum(u.total for u in units)
    longest = sum(u.longest_chain for u in units)
    base = sum(schedule(u, 1) for u in units)
    rows = []
    for n in workers:
        wall = sum(schedule(u, n) for u in units)
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
