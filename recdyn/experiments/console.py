"""Terminal output of a run: its progress bars and its summary table.

The summary gives, per environment × recommender config × policy, each metric's mean
over the run as mean ± 95% CI across trials — the ``run_<m>`` and ``offline_<m>``
quantities of :func:`recdyn.reporting.results.trial_summary` (Student-t intervals,
:mod:`recdyn.reporting.stats`), one number of decimals per column.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from recdyn._progress import progress_columns
from recdyn.reporting.formatting import fmt_ci_column
from recdyn.reporting.labels import OFFLINE_PREFIX
from recdyn.reporting.results import CONFIG_KEYS, trial_summary, trial_table


def wide_summary(results: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per configuration (:data:`~recdyn.reporting.results.CONFIG_KEYS`) with
    ``trials`` and, per metric ``m`` (online, then offline), the text ``mean ± ci`` of
    its mean over the run; and the metric names, in column order."""
    summary = trial_summary(trial_table(results))
    summary = summary[~summary["quantity"].str.startswith("final_")].copy()
    summary["metric"] = summary["quantity"].str.removeprefix("run_")
    summary["text"] = ""
    for _, part in summary.groupby("metric", sort=False):
        summary.loc[part.index, "text"] = fmt_ci_column(list(part["mean"]), list(part["ci"]))
    metrics = list(dict.fromkeys(summary["metric"]))
    metrics = [m for m in metrics if not m.startswith(OFFLINE_PREFIX)] + [
        m for m in metrics if m.startswith(OFFLINE_PREFIX)
    ]
    wide = summary.pivot_table(
        index=[*CONFIG_KEYS, "trials"], columns="metric", values="text", aggfunc="first",
        sort=False,
    )  # fmt: skip
    return wide.reset_index(), metrics


def summary_console_table(
    results: pd.DataFrame, title: str = "", width: int | None = None
) -> Table:
    """The :func:`wide_summary` of a run as a terminal table (``mean ± ci`` per metric,
    the CI on a second line)."""
    summary, metrics = wide_summary(results)
    # params only where one recommender runs with several configurations
    per_rec = summary.groupby(["environment", "recommender", "policy"])["params"].nunique()
    show_params = bool(len(summary)) and bool((per_rec > 1).any())
    show_policy = bool(len(summary)) and summary["policy"].nunique() > 1
    table = Table(title=title or None, title_justify="left")
    # keep names on one line when the table still fits in ``width``; fold them otherwise
    widest = {c: int(summary[c].str.len().max()) if len(summary) else 0 for c in CONFIG_KEYS}
    names = min(widest["environment"], 20) + min(widest["recommender"], 12)
    fits = width is None or names + 10 * len(metrics) + 12 <= width
    for col, most in (("environment", 20), ("recommender", 12)):
        table.add_column(
            col, style="cyan", overflow="fold", min_width=min(widest[col], most) if fits else None
        )
    if show_params:
        table.add_column("params")
    if show_policy:
        table.add_column("policy")
    table.add_column("n", justify="right")
    for m in metrics:
        table.add_column(m.replace("_", " "), justify="right", overflow="fold")
    for r in summary.to_dict("records"):
        cells = [r["environment"], r["recommender"]]
        if show_params:
            cells.append(r["params"])
        if show_policy:
            cells.append(r["policy"])
        cells.append(str(r["trials"]))
        cells += [str(r.get(m, "—")).replace(" ± ", "\n±") for m in metrics]
        table.add_row(*cells)
    return table


class RunProgress:
    """Progress bars of a run: tuning jobs, tasks, and steps inside the running tasks.

    ``steps``: the steps of every task, or a mapping task key → its steps (a run of
    several experiments)."""

    def __init__(
        self,
        enabled: bool,
        n_tuning: int,
        n_tasks: int,
        steps: int | dict[str, int],
        console: Console | None,
    ) -> None:
        self.steps = steps if isinstance(steps, dict) else None
        self._each = steps if isinstance(steps, int) else 0
        total = n_tasks * self._each if self.steps is None else sum(self.steps.values())
        self._done_steps: dict[str, int] = {}
        console = console or Console(stderr=True)
        self.progress = Progress(
            *progress_columns(status=True, label="{task.description:>7}"),
            console=console,
            disable=not (enabled and console.is_terminal),
        )
        self._tune = (
            self.progress.add_task("tuning", total=n_tuning, status="") if n_tuning else None
        )
        self._tasks = self.progress.add_task("tasks", total=n_tasks, status="")
        self._steps = self.progress.add_task("steps", total=total, status="")
        self._failed = 0

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def tuned(self, failed: bool = False) -> None:
        if self._tune is not None:
            self.progress.advance(self._tune)

    def step(self, key: str, step: int) -> None:
        before = self._done_steps.get(key, 0)
        if step > before:
            self._done_steps[key] = step
            self.progress.advance(self._steps, step - before)

    def started(self, key: str) -> None:
        before = self._done_steps.pop(key, 0)  # a retried task starts again from 0
        if before:
            self.progress.advance(self._steps, -before)

    def finished(self, key: str, label: str, failed: bool = False) -> None:
        self.step(key, self._each if self.steps is None else self.steps.get(key, 0))
        self._done_steps.pop(key, None)
        self._failed += failed
        status = f"[red]{self._failed} failed[/red] · " if self._failed else ""
        self.progress.update(self._tasks, advance=1, status=f"{status}{label}")


@contextmanager
def reported_warnings(console: Console) -> Iterator[None]:
    """Print :class:`CorruptResultWarning`\\ s as ``warning: …`` lines (not tracebacks)."""
    from recdyn.experiments.store import CorruptResultWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorruptResultWarning)
        try:
            yield
        finally:
            for w in caught:
                if issubclass(w.category, CorruptResultWarning):
                    console.print(Text(f"warning: {w.message}", style="yellow"), soft_wrap=True)
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def print_results(directory: str | Path, console: Console, err: Console) -> pd.DataFrame:
    """Load an experiment directory, print its summary table; return the results."""
    from recdyn.experiments.store import load_results, read_manifest

    with reported_warnings(err):
        results = load_results(directory)
    manifest = read_manifest(directory)
    tasks = manifest.get("tasks", {})
    failed = sum(1 for t in tasks.values() if t.get("status") == "failed")
    name = manifest.get("spec", {}).get("experiment", {}).get("name", "")
    n_done = results["task_id"].nunique() if len(results) else 0
    title = f"{name}: {n_done}/{len(tasks)} tasks finished" + (
        f", {failed} failed" if failed else ""
    )
    if len(results):
        steps = manifest.get("spec", {}).get("experiment", {}).get("steps", "?")
        title += f" · mean over {steps} steps, ± 95% CI across the n trials"
        console.print(summary_console_table(results, title, console.width))
    else:
        console.print(title)
    return results
