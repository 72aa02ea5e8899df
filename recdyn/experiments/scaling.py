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

Several experiments run on one pool and one feed (:func:`~recdyn.experiments.
run_experiments`, as a study runs its environments), a lane each: a free worker takes
the next unit of the first experiment that has one, so one experiment's tail overlaps
the next one's work; :func:`schedule` replays that for a sequence of experiments, and
``one_pool=False`` predicts them run one after the other instead, each on its own pool.

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
from recdyn.experiments.manifest import read_manifest


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


def schedule(units: Units | Sequence[Units], workers: int) -> float:
    """When the last unit ends if ``workers`` workers take them from the feed as the
    executors do (see the module docstring); several experiments (a sequence) share the
    workers as :func:`~recdyn.experiments.run_experiments` runs them, a feed lane each."""
    workers = check_int("workers", workers, low=1)
    parts = [units] if isinstance(units, Units) else list(units)
    # a lane per experiment: (tuning job or None for a task, seconds, time it joined)
    lanes: list[deque[tuple[tuple[int, str] | None, float, float]]] = []
    waiting: dict[tuple[int, str], list[float]] = {}
    for i, part in enumerate(parts):
        lane: deque[tuple[tuple[int, str] | None, float, float]] = deque(
            ((i, t), s, 0.0) for t, s in part.tuning.items()
        )
        for tune_id, seconds in part.tasks:
            if tune_id in part.tuning:
                waiting.setdefault((i, tune_id), []).append(seconds)
            else:
                lane.append((None, seconds, 0.0))
        lanes.append(lane)
    free = [0.0] * workers  # when each worker is next free
    tuning: list[tuple[float, tuple[int, str]]] = []  # (end, tuning job) of jobs started
    end = 0.0
    while any(lanes) or waiting:
        now = heapq.heappop(free)
        while tuning and (tuning[0][0] <= now or not any(lanes)):
            done, job = heapq.heappop(tuning)  # its tasks join its lane when it ends
            lanes[job[0]].extend((None, s, done) for s in waiting.pop(job, []))
        lane = next((q for q in lanes if q), None)
        if lane is None:  # tasks of a tuning job that is not in ``units``: cannot run
            break
        job, seconds, joined = lane.popleft()
        finish = max(now, joined) + seconds
        if job is not None:
            heapq.heappush(tuning, (finish, job))
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


def _dirs(directory: str | Path | Iterable[str | Path]) -> list[str | Path]:
    return [directory] if isinstance(directory, str | Path) else list(directory)


def _walls(units: list[Units], workers: int, one_pool: bool) -> float:
    if one_pool:
        return schedule(units, workers)
    return sum(schedule(u, workers) for u in units)


def predict_wall(
    directory: str | Path | Iterable[str | Path],
    workers: int,
    trials: int | None = None,
    one_pool: bool = True,
) -> float:
    """Predicted wall seconds of the experiment(s) in ``directory`` on ``workers`` workers:
    several directories on one pool and one feed (``one_pool``, as a study runs its
    environments), or one after the other, each on its own pool."""
    return _walls([unit_seconds(d, trials) for d in _dirs(directory)], workers, one_pool)


def measured_wall(directory: str | Path | Iterable[str | Path]) -> float:
    """Wall seconds of every run recorded in the manifest(s) of ``directory``: the length
    of the union of their time spans, so a study resumed or extended three times counts
    its three runs, and experiments that ran together on one pool
    (:func:`~recdyn.experiments.run_experiments`) count their common time once (give all
    their directories). A run that was killed counts until its last manifest update (a
    lower bound)."""
    spans = []
    for d in _dirs(directory):
        for run in read_manifest(d).get("runs", []):
            end = run.get("ended") or run.get("updated")
            if run.get("started") and end:
                spans.append((datetime.fromisoformat(run["started"]), datetime.fromisoformat(end)))
    total, reached = 0.0, None
    for start, end in sorted(spans):
        if reached is not None and start < reached:
            start = reached  # the part already counted
        if end > start:
            total += (end - start).total_seconds()
        reached = end if reached is None else max(reached, end)
    return total


def scaling_table(
    directory: str | Path | Iterable[str | Path],
    workers: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128),
    trials: int | None = None,
    one_pool: bool = True,
) -> pd.DataFrame:
    """Predicted wall time, speed-up and efficiency for each worker count, with the lower
    bound ``max(total / n, longest chain)`` (several directories: see
    :func:`predict_wall`; one after the other, the longest chains add up)."""
    units = [unit_seconds(d, trials) for d in _dirs(directory)]
    total = sum(u.total for u in units)
    chains = [u.longest_chain for u in units]
    longest = max(chains) if one_pool else sum(chains)
    base = _walls(units, 1, one_pool)
    rows = []
    for n in workers:
        wall = _walls(units, n, one_pool)
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
