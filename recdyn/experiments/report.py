"""Report of an experiment run: statistics across trials, PNG figures, one HTML page.

``write_report(results_dir)`` reads a results directory written by ``recdyn run``
(``manifest.json`` and ``tasks/<task_id>.parquet``) and writes, under ``<results_dir>/report``:

* ``over_time_<metric>.png`` — each online metric against the step, one panel per
  environment: the mean across trials with its 95% confidence band, or each trial's own
  line when a configuration has fewer than five trials;
* ``offline_vs_online_<metric>.png`` — when offline metrics were measured, offline metric
  against mean online rating per recommender with the Spearman rank correlation
  (thesis Figs. 2.1 and 2.8);
* ``final_step.png`` — final-step means with their 95% CIs (or each trial);
* ``report.html`` — those figures embedded, the summary and correlation tables, the spec
  and the run's manifest, in one file that needs no server and no network.

The statistics are those of :mod:`recdyn.reporting.results` (Student-t intervals across
the trials of a configuration); bands are cut to each metric's valid range, the mean
rating's to the environment's rating scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from recdyn.errors import InvalidParameterError
from recdyn.experiments.report_page import report_page
from recdyn.experiments.store import load_results, read_manifest
from recdyn.reporting import figures, page, plots
from recdyn.reporting.formatting import fmt_ci_column, fmt_rho
from recdyn.reporting.labels import OFFLINE_PREFIX, metric_title, rating_scale
from recdyn.reporting.results import (
    CONFIG_KEYS,
    offline_metric_columns,
    offline_online_points,
    online_metric_columns,
    rank_correlations,
    run_smooth,
    trial_series,
    trial_summary,
    trial_table,
    with_labels,
)

_REQUIRED = ("step", "task_id", *CONFIG_KEYS, "trial")


def load_run(results_dir: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """The manifest and all finished tasks' rows (:func:`~recdyn.experiments.load_results`)
    of a results directory written by ``recdyn run``.

    Raises :class:`~recdyn.errors.InvalidParameterError` naming the directory when it is
    not such a directory or no task has finished yet.
    """
    root = Path(results_dir)
    expected = (
        "expected the output directory of `recdyn run`: manifest.json and one "
        "tasks/<task_id>.parquet per finished task"
    )
    if not root.is_dir():
        raise InvalidParameterError(f"no results in {str(root)!r}: no such directory; {expected}")
    if not (root / "manifest.json").is_file():
        raise InvalidParameterError(f"no results in {str(root)!r}: no manifest.json; {expected}")
    manifest = read_manifest(root)
    results = load_results(root)
    if results.empty:
        n = len(manifest.get("tasks") or ())
        raise InvalidParameterError(
            f"no results in {str(root)!r} yet: none of its {n} tasks has a finished task "
            f"file in tasks/; {expected}"
        )
    missing = [c for c in _REQUIRED if c not in results.columns]
    if missing:
        raise InvalidParameterError(
            f"results in {str(root)!r} lack the columns {missing}; {expected}, with "
            f"the columns {list(_REQUIRED)} and one column per metric"
        )
    return manifest, results


def rating_scales(manifest: dict[str, Any]) -> dict[str, tuple[float, float] | None]:
    """Environment label → its rating scale, from the spec's ``[[environments]]``."""
    spec = manifest.get("spec")
    entries = (spec.get("environments") or []) if isinstance(spec, dict) else []
    out = {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("preset"):
            label = entry.get("name") or entry["preset"]
            out[label] = rating_scale(entry["preset"], entry.get("overrides"))
    return out


@dataclass
class Report:
    """What :func:`build_report` wrote and the tables it computed."""

    path: Path
    figures: list[Path]
    summary: pd.DataFrame
    correlations: pd.DataFrame
    manifest: dict[str, Any]
    online_metrics: list[str] = field(default_factory=list)


def primary_metric(metrics: list[str]) -> str:
    """The online metric the offline metrics are set against: ``mean_rating`` if measured."""
    return "mean_rating" if "mean_rating" in metrics else metrics[0]


def build_report(
    results_dir: str | Path, out: str | Path | None = None, *, smooth: int | None = None
) -> Report:
    """Compute the statistics, draw the figures and write ``report.html``; see the module
    docstring. ``out`` defaults to ``<results_dir>/report``; ``smooth`` is the moving-
    average window of the time series (default
    :func:`~recdyn.reporting.results.default_smooth`, ``1`` for none)."""
    integer = isinstance(smooth, (int, np.integer)) and not isinstance(smooth, bool)
    if smooth is not None and (not integer or smooth < 1):
        raise InvalidParameterError(f"smooth must be an integer >= 1 (1: none), got {smooth!r}")
    root = Path(results_dir)
    manifest, results = load_run(root)
    out_dir = Path(out) if out is not None else root / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    window = run_smooth(results) if smooth is None else int(smooth)

    results = with_labels(results)
    results = results.sort_values(["environment", "label", "trial", "step"], kind="stable")
    metrics = online_metric_columns(results)
    if not metrics:
        raise InvalidParameterError(
            f"results in {str(root)!r} have no online metric column (such as mean_rating)"
        )
    palette = figures.styles(results[["label", "base", "policy"]].drop_duplicates())
    scales = rating_scales(manifest)
    trials = trial_table(results)
    summary = trial_summary(trials)
    primary = primary_metric(metrics)
    correlations = rank_correlations(summary, primary)

    written: list[tuple[str, str, Path]] = []
    for metric in metrics:
        path = out_dir / f"over_time_{_slug(metric)}.png"
        series = trial_series(results, metric, window)
        plots.plot_over_time(series, metric, path, palette, window, scales)
        written.append(("over_time", f"{metric_title(metric)} over time", path))
    for offline in offline_metric_columns(results):
        points = offline_online_points(summary, offline, primary)
        if points.empty:
            continue
        rho = correlations[correlations["offline"] == offline]
        path = out_dir / f"offline_vs_online_{_slug(offline.removeprefix(OFFLINE_PREFIX))}.png"
        plots.plot_offline_vs_online(points, offline, primary, rho, path, palette, trials, scales)
        title = f"{metric_title(offline)} vs online {metric_title(primary)}"
        written.append(("offline_vs_online", title, path))
    final = summary[summary["quantity"].str.startswith("final_")].assign(
        metric=lambda f: f["quantity"].str.removeprefix("final_")
    )
    path = plots.plot_final(final, metrics, out_dir / "final_step.png", palette, trials, scales)
    written.append(("final", "final step", path))

    html = report_page(
        manifest=manifest,
        results_dir=root,
        summary=summary,
        correlations=correlations,
        metrics=metrics,
        figures=[(kind, page.figure(caption, p)) for kind, caption, p in written],
        smooth=window,
        n_rows=len(results),
    )
    html_path = page.write(html, out_dir / "report.html")
    return Report(html_path, [p for *_, p in written], summary, correlations, manifest, metrics)


def write_report(
    results_dir: str | Path, out: str | Path | None = None, *, smooth: int | None = None
) -> Path:
    """Write the figures and ``report.html`` of a results directory; return the page's
    path. See :func:`build_report`."""
    return build_report(results_dir, out, smooth=smooth).path


def console_table(report: Report) -> Table:
    """A short terminal table of a report: the primary online metric (``mean_rating`` when
    measured) over the run and at the final step, and each offline metric's Spearman ρ
    with it, per environment and recommender."""
    primary = primary_metric(report.online_metrics)
    s = report.summary
    table = Table(title=f"{primary} (mean ± 95% CI across trials)", title_justify="left")
    for name in ("environment", "recommender", "trials", "over run", "final step"):
        right = name in ("trials", "over run", "final step")
        table.add_column(name, justify="right" if right else "left", no_wrap=True)
    text = {}
    for q in ("run", "final"):
        part = s[s["quantity"] == f"{q}_{primary}"]
        keys = zip(part["environment"], part["label"])
        text[q] = dict(zip(keys, fmt_ci_column(list(part["mean"]), list(part["ci"]))))
    rows = s[s["quantity"] == f"run_{primary}"]
    for env, label, trials in rows[["environment", "label", "trials"]].itertuples(index=False):
        table.add_row(
            env, label, str(int(trials)), text["run"][env, label], text["final"][env, label]
        )
    rho = report.correlations.dropna(subset=["rho"])
    if not rho.empty:
        table.caption = "Spearman ρ with offline metrics: " + "; ".join(
            f"{r.environment} {r.offline.removeprefix(OFFLINE_PREFIX)} {fmt_rho(r.rho)}"
            for r in rho.itertuples(index=False)
        )
        table.caption_justify = "left"
    return table


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
