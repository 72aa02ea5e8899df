"""How a built-in study hands its work to the engine and reads it back: experiment specs
written beside the results, experiment plans run on one pool, units of work as engine
calls, and stored unit results loaded with a clear error when one is missing.

Shared by the studies (:mod:`recdyn.studies.offline_vs_online`,
:mod:`recdyn.studies.sampling_bias`, :mod:`recdyn.studies.feedback_loops`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from recdyn._progress import Bar, advance, progress_bar
from recdyn.engine import Call, DirectoryLock, UnitRunner, UnitStore
from recdyn.errors import InvalidParameterError, RecdynError
from recdyn.experiments.spec import dump_toml
from recdyn.studies.base import RunOptions

__all__ = [
    "raise_failed_units",
    "require_dataset",
    "run_plans",
    "stored_results",
    "stored_units",
    "unit_calls",
    "unit_runner",
    "write_spec",
]


def write_spec(out: Path, name: str, data: dict[str, Any], what: str) -> Path:
    """Write the experiment spec ``data`` to ``out/specs/<name>.toml``, headed by a comment
    that says ``what`` it is and how to run it alone; return the path."""
    path = out / "specs" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    head = f"# {what}.\n#   recdyn run {path.name} --out runs/{name}\n"
    path.write_text(head + dump_toml(data), encoding="utf-8")
    return path


def run_plans(
    plans: Mapping[str, Any], out: Path, options: RunOptions, say: Callable[..., None]
) -> list[Any]:
    """Run experiment plans (name → :class:`~recdyn.experiments.Plan`) on one pool
    (:func:`~recdyn.experiments.run_experiments`), each in ``out/runs/<name>`` (resumable
    and extendable): one plan's slow tail overlaps the next one's work. ``say`` gets a line
    per plan and the total time. Raises :class:`RecdynError` naming the first failed task
    (after every other task has run); re-running retries only the failed ones."""
    from recdyn.experiments import run_experiments

    start = time.perf_counter()
    results = run_experiments(
        [(plan, out / "runs" / name) for name, plan in plans.items()],
        backend=options.backend,
        workers=options.workers,
        address=options.address,
        extend=True,
        progress=options.progress,
        console=options.console,
    )
    for name, res in zip(plans, results):
        say(
            f"{name}: {res.completed} tasks run, {res.skipped} already done, "
            f"{len(res.failed)} failed"
        )
    say(f"all experiments: {time.perf_counter() - start:.0f} s")
    failed = [(name, res) for name, res in zip(plans, results) if res.failed]
    if failed:
        name, res = failed[0]
        raise RecdynError(
            f"{len(res.failed)} tasks of {name} failed; first: "
            f"{next(iter(res.failed.values()))}. Re-run to retry them."
        )
    return results


def unit_calls(
    function: Callable[..., Any], units: Mapping[str, dict[str, Any]]
) -> dict[str, Call]:
    """The units (key → keyword arguments of the module-level ``function``) as engine
    calls, which workers import by name."""
    target = f"{function.__module__}:{function.__name__}"
    return {key: Call(target, kwargs) for key, kwargs in units.items()}


@contextmanager
def unit_runner(
    store: Path, options: RunOptions, total: int, label: str, lock: Path | None = None
) -> Iterator[tuple[UnitRunner, Bar | None]]:
    """A :class:`~recdyn.engine.UnitRunner` storing in ``store``, on ``options``'s backend,
    with a progress bar of ``total`` units (``None`` when progress is off), while holding
    the lock of ``lock`` (default: ``store``) so that two runs never write one directory."""
    with ExitStack() as stack:
        stack.enter_context(DirectoryLock(store if lock is None else lock))
        bar = progress_bar(options.progress, total, label, options.console, start=False)
        if bar is not None:
            stack.enter_context(bar.progress)
        runner = stack.enter_context(
            UnitRunner(
                UnitStore(store),
                options.backend,
                options.workers,
                options.address,
                advance=lambda n: advance(bar, n),
            )
        )
        yield runner, bar


def raise_failed_units(failed: Mapping[str, str], what: str, store: Path) -> None:
    """A :class:`RecdynError` naming the first failed unit (key → its error), if any."""
    if failed:
        key, error = sorted(failed.items())[0]
        raise RecdynError(
            f"{len(failed)} unit(s) of {what} failed (first: {key}: {error.splitlines()[0]}); "
            f"finished units are saved in {store}: fix the cause and run again to resume"
        )


def stored_units(
    store: UnitStore, units: Mapping[str, dict[str, Any]], where: Path, what: str, hint: str
) -> dict[str, Any]:
    """The stored results of ``units`` (key → keyword arguments); an
    :class:`InvalidParameterError` naming the first missing unit otherwise: "``where``
    holds no result for N unit(s) of ``what`` (first: key); ``hint``"."""
    done = {key: store.load(key, kwargs) for key, kwargs in units.items()}
    missing = [key for key, result in done.items() if result is None]
    if missing:
        raise InvalidParameterError(
            f"{where} holds no result for {len(missing)} unit(s) of {what} (first: "
            f"{missing[0]}); {hint}"
        )
    return done


def stored_results(root: Path, spec: dict[str, Any]) -> Any:
    """The results (:func:`~recdyn.experiments.load_results`) of the experiment ``spec``
    (its data, as :func:`write_spec` writes it) run into ``root``; an
    :class:`InvalidParameterError` when ``root`` holds none or another spec's (other
    quick, seed, sizes or parameters)."""
    from recdyn.experiments import load_results, load_spec, make_plan, read_manifest

    if not (root / "manifest.json").exists():
        raise InvalidParameterError(
            f"{root} holds no results; run the study (with these options) first"
        )
    if make_plan(load_spec(spec)).spec_hash != read_manifest(root)["spec_hash"]:
        raise InvalidParameterError(
            f"{root} holds another run than this one (other quick, seed, sizes or "
            "parameters); report it with the options it was run with"
        )
    return load_results(root)


def require_dataset(name: str, why: str, fix: str = "") -> None:
    """An :class:`InvalidParameterError` naming the fix when the dataset ``name`` is not
    available locally (nothing is downloaded): "``why``, which is not available: … — set
    RECDYN_DATA_DIR to a folder holding it``fix``"."""
    from recdyn.datasets import DatasetError, load

    try:
        load(name, download=False)
    except DatasetError as err:
        raise InvalidParameterError(
            f"{why}, which is not available: {str(err).splitlines()[0]} — set "
            f"RECDYN_DATA_DIR to a folder holding it{fix}"
        ) from None
