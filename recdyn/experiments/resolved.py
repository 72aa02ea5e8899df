"""A resume must not mix two models under one task id.

A task's id hashes its *configured* parameters (those written in the spec), not the values
the registry fills in: preset values and constructor defaults. That keeps ids stable
across recdyn versions, but it means that if a default changes between two runs of one
output directory (a new recdyn, an edited preset), the resumed run would finish the
remaining trials of a cell with a different model than the finished ones, and the report
would average them as one.

So workers record every constructor parameter of the environment, recommender and policy
they built (:func:`~recdyn.experiments.runner.resolved_params`: ``recdyn.resolved`` in a task
file's metadata, ``"resolved"`` in a tuning result), and before a resume runs anything,
:func:`check_resume` builds each unfinished cell's environment, recommender and policy as
this recdyn would and compares. A parameter whose value differs raises
:class:`ResolvedParamsChangedError`; parameters only one side knows (added or removed since)
and tuned ones (the tuning grid chooses them) are not compared. Files written before recdyn
recorded these parameters cannot be checked and pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recdyn.experiments.archive import SpecChangedError
from recdyn.experiments.plan import Plan, Task
from recdyn.experiments.result_files import read_resolved
from recdyn.experiments.runner import import_modules, resolved_params
from recdyn.experiments.spec import tuples
from recdyn.experiments.store import Store


class ResolvedParamsChangedError(SpecChangedError):
    """Finished results of a cell were produced with other default or preset values."""


def expected_params(task: Task) -> dict[str, Any] | None:
    """What a worker would record for ``task`` before tuning (``None`` where it cannot be
    built here: a Ray driver without torch, or without the spec's ``imports``)."""
    from recdyn.environments import make as make_environment
    from recdyn.policies import make as make_policy
    from recdyn.recommenders import make as make_recommender

    try:
        import_modules(task.imports)
        env = make_environment(task.preset, **tuples(task.overrides))
        rec = make_recommender(task.recommender, **tuples(task.params))
    except ImportError:  # MissingDependencyError included
        return None
    return resolved_params(env, rec, make_policy(task.policy_name, **tuples(task.policy_params)))


def differences(
    recorded: dict[str, Any], expected: dict[str, Any], tuned: Iterable[str] = ()
) -> list[str]:
    """``"recommender hidden: 600 -> 0"`` for each parameter both sides know whose value
    differs, except the recommender's ``tuned`` ones."""
    out = []
    for part in ("environment", "recommender", "policy"):
        old, new = recorded.get(part, {}), expected.get(part, {})
        skip = set(tuned) if part == "recommender" else set()
        for name in sorted(old.keys() & new.keys() - skip):
            if old[name] != new[name]:
                out.append(f"{part} {name}: {old[name]!r} -> {new[name]!r}")
    return out


def check_resume(
    plan: Plan, store: Store, done: set[str], tuning: dict[str, dict[str, Any]]
) -> None:
    """Raise :class:`ResolvedParamsChangedError` if a cell (environment, recommender and its
    configured parameters, policy) with unfinished tasks has finished tasks or a stored tuning
    result that recorded other parameter values than this recdyn resolves."""
    cells: dict[tuple[str, ...], list[Task]] = {}
    for t in plan.tasks:
        cells.setdefault((t.environment, t.recommender, t.params_json, t.policy), []).append(t)
    for tasks in cells.values():
        finished = [t for t in tasks if t.task_id in done]
        job = tasks[0].tuning
        stored = tuning.get(job.tune_id) if job is not None else None
        if len(finished) == len(tasks) or not (finished or stored):
            continue
        records = [(f"task {t.task_id}", read_resolved(_path(store, t))) for t in finished]
        if stored is not None:
            records.append((f"tuning result {job.tune_id}", stored.get("resolved")))
        records = [(what, r) for what, r in records if r is not None]
        expected = expected_params(tasks[0]) if records else None
        if expected is None:
            continue
        tuned = job.grid if job is not None else ()
        for what, recorded in records:
            changed = differences(recorded, expected, tuned)
            if changed:
                raise ResolvedParamsChangedError(_message(store, tasks[0], what, changed))


def _path(store: Store, task: Task) -> Any:
    return store.tasks.path(task.task_id)


def _message(store: Store, task: Task, what: str, changed: list[str]) -> str:
    versions = sorted(
        {str(run.get("versions", {}).get("recdyn")) for run in store.manifest.get("runs", [])}
        - {"None"}
    )
    wrote = f" (recdyn {', '.join(versions)} ran in it)" if versions else ""
    return (
        f"{store.root}: {task.recommender} on {task.environment} has unfinished tasks, but "
        f"its {what} ran with other values than this recdyn resolves — "
        f"{'; '.join(changed)}. A default or preset value changed since; resuming would "
        "mix two models under one task id. Use --force to move the old results to "
        f"archive/ and start over, --out DIR for a new directory, or the recdyn that "
        f"wrote them{wrote}"
    )
