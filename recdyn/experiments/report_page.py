"""The page of ``recdyn report``: the sections of one run on the shared page skeleton
(:mod:`recdyn.reporting.page`) — summary, offline vs online, figures, the run and its
spec."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from recdyn.experiments.spec import dump_toml
from recdyn.reporting.formatting import fmt, fmt_ci_column, fmt_column, fmt_rho
from recdyn.reporting.labels import OFFLINE_PREFIX
from recdyn.reporting.page import (
    Cell,
    Definitions,
    Figure,
    GroupRow,
    Page,
    Section,
    Table,
    Text,
    generated,
)
from recdyn.reporting.results import params_text
from recdyn.reporting.stats import MIN_BAND_TRIALS

CI_NOTE = Markup(
    "Mean ± 95% confidence interval across trials (independent seeds): "
    "x̄ ± t<sub>0.975, n−1</sub>·s/√n; the mean alone where fewer than two trials have a "
    "value or all trials agree. “Over run”: each trial’s mean over all steps; “final "
    "step”: its value at the last step. Each column has one number of decimals: two "
    "significant digits of its median CI."
)
RHO_NOTE = (
    "Spearman rank correlation across recommenders, per environment, between the offline "
    "metric and the online metric’s mean over the run (thesis Figs. 2.1, 2.8). For error "
    "metrics (RMSE, MAE), a negative ρ means the offline ranking agrees with the online "
    "one. Undefined with fewer than 3 recommenders; p exact up to 8 recommenders."
)


def tuned_params(manifest: dict[str, Any]) -> dict[tuple[str, ...], str]:
    """``(environment, recommender, params, policy)`` → the hyperparameters tuning chose
    (from the manifest's task entries), ``"varies"`` where trials disagree."""
    tasks = manifest.get("tasks") or {}
    found: dict[tuple[str, ...], set[str]] = {}
    for t in tasks.values() if isinstance(tasks, dict) else tasks:
        if isinstance(t, dict) and t.get("tuned_params"):
            key = tuple(str(t.get(k)) for k in ("environment", "recommender", "params", "policy"))
            text = ", ".join(f"{k}={json.dumps(v)}" for k, v in t["tuned_params"].items())
            found.setdefault(key, set()).add(text)
    return {k: v.pop() if len(v) == 1 else "varies" for k, v in found.items()}


def summary_block(
    summary: pd.DataFrame, metrics: list[str], tuned: dict[tuple[str, ...], str] | None = None
) -> Table:
    """Environment × recommender × policy table: each online metric's mean over the run
    and at the final step, the offline metrics, all as mean ± 95% CI across trials, one
    number of decimals per column. Environments are row groups; hyperparameters (fixed,
    and those tuning chose) sit under the recommender's name."""
    tuned = tuned or {}
    keys = ["environment", "recommender", "params", "policy", "label"]
    offline = [q for q in dict.fromkeys(summary["quantity"]) if q.startswith(OFFLINE_PREFIX)]
    quantities = [q for m in metrics for q in (f"run_{m}", f"final_{m}")] + offline
    text = summary.copy()
    text["text"] = ""
    for _, part in summary.groupby("quantity", sort=False):
        text.loc[part.index, "text"] = fmt_ci_column(list(part["mean"]), list(part["ci"]))
    wide = text.pivot_table(
        index=[*keys, "trials"], columns="quantity", values="text", aggfunc="first", sort=False
    )
    columns = ["recommender", "policy", "trials"]
    columns += [name for _ in metrics for name in ("over run", "final step")]
    columns += [q.removeprefix(OFFLINE_PREFIX) for q in offline]
    groups = [("", 3), *((m.replace("_", " "), 2) for m in metrics)]
    groups += [("offline", len(offline))] if offline else []
    rows: list[Any] = []
    previous = None
    for index, row in wide.sort_index(level=["environment", "label"]).iterrows():
        env, rec, params, policy, _label, trials = index
        if env != previous:
            rows.append(GroupRow(str(env)))
            previous = env
        subs = [] if params in ("{}", "", None) else [params_text(params)]
        chosen = tuned.get((str(env), str(rec), str(params), str(policy)))
        if chosen:
            subs.append(f"tuned: {chosen}")
        cells = [Cell(str(rec), tuple(subs)), str(policy), str(int(trials))]
        rows.append(cells + [str(row.get(q, "—")) for q in quantities])
    return Table(columns, rows, set(range(2, len(columns))), groups)


def correlations_block(correlations: pd.DataFrame) -> Table:
    """One row per environment and offline metric: Spearman ρ, p and the recommenders."""
    rows = [
        [
            str(r.environment),
            str(r.offline).removeprefix(OFFLINE_PREFIX),
            str(r.online).removeprefix("run_") + " (mean over run)",
            fmt_rho(r.rho),
            p,
            str(int(r.n)),
        ]
        for r, p in zip(correlations.itertuples(index=False), fmt_column(list(correlations["p"])))
    ]
    head = ["environment", "offline metric", "online metric", "Spearman ρ", "p-value"]
    return Table([*head, "recommenders"], rows, {3, 4, 5})


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _seconds_between(start: Any, end: Any) -> float | None:
    try:
        return (
            datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))
        ).total_seconds()
    except (ValueError, TypeError):
        return None


def wall_time(manifest: dict[str, Any]) -> str:
    """Time spent running: the sum over runs (resumes) when recorded, else created → updated."""
    runs = [r for r in manifest.get("runs") or [] if isinstance(r, dict) and r.get("ended")]
    spans = [_seconds_between(r.get("started"), r.get("ended")) for r in runs]
    if runs and None not in spans:
        return f"{sum(spans):,.1f} s in {len(runs)} run{'s' if len(runs) != 1 else ''}"
    span = _seconds_between(manifest.get("created"), manifest.get("updated"))
    return "—" if span is None else f"{span:,.1f} s (created → updated)"


def run_blocks(manifest: dict[str, Any], results_dir: Path, n_rows: int) -> list[Any]:
    """Facts of the run (directory, hash, times, tasks, host), its runs (resumes) and the
    version of every library it recorded — ``not installed`` where one was missing."""
    tasks = manifest.get("tasks") or []
    entries = list(tasks.values()) if isinstance(tasks, dict) else list(tasks)
    status = Counter(str(t.get("status", "?")) for t in entries)
    seconds = [float(t["seconds"]) for t in entries if isinstance(t.get("seconds"), (int, float))]
    workers = {str(t.get("worker")) for t in entries if t.get("worker") is not None}
    per_task = f"{fmt(sum(seconds))} s in all, {fmt(sum(seconds) / len(seconds))} s per task"
    items: list[tuple[str, Any]] = [
        ("results directory", str(results_dir)),
        ("spec hash", Markup("<code>{}</code>").format(manifest.get("spec_hash", "—"))),
        ("created", str(manifest.get("created", "—"))),
        ("updated", str(manifest.get("updated", "—"))),
        ("wall clock", wall_time(manifest)),
        ("tasks", ", ".join(f"{n} {s}" for s, n in sorted(status.items())) or "—"),
        ("task compute time", per_task if seconds else "—"),
        ("workers", str(len(workers)) if workers else "—"),
        ("result rows", fmt(n_rows)),
    ]
    for key in ("host", "python", "platform"):
        value = manifest.get(key)
        if isinstance(value, dict):
            items += [(f"{key} {k}", _plain(v)) for k, v in value.items()]
        elif value is not None:
            items.append((key, str(value)))
    blocks: list[Any] = [Definitions(items)]
    runs = [r for r in manifest.get("runs") or [] if isinstance(r, dict)]
    if runs:
        keys = ["started", "ended", "backend", "workers", "completed", "skipped", "failed"]
        rows = [[_plain(r.get(k, "—")) for k in keys] for r in runs]
        blocks += [Text("Runs", "heading"), Table(keys, rows, {3, 4, 5, 6})]
    versions = manifest.get("versions") or {}
    if isinstance(versions, dict) and versions:
        rows = [[str(k), "not installed" if v is None else _plain(v)] for k, v in versions.items()]
        blocks += [Text("Versions", "heading"), Table(["package", "version"], rows)]
    return blocks


def spec_text(spec: Any) -> str:
    """The spec as TOML (as JSON when TOML cannot hold it)."""
    if isinstance(spec, dict):
        try:
            return dump_toml(spec)
        except TypeError:
            pass
    return json.dumps(spec, indent=2, default=str)


def report_page(
    *,
    manifest: dict[str, Any],
    results_dir: Path,
    summary: pd.DataFrame,
    correlations: pd.DataFrame,
    metrics: list[str],
    figures: list[tuple[str, Figure]],
    smooth: int,
    n_rows: int,
) -> Page:
    """The page of one run; ``figures`` are ``(kind, figure)`` with kind ``over_time``,
    ``offline_vs_online`` or ``final``."""
    spec = manifest.get("spec") or {}
    name = (spec.get("experiment") or {}).get("name") if isinstance(spec, dict) else None
    n_env = summary["environment"].nunique()
    n_conf = summary.groupby(["environment", "label"]).ngroups
    trials = summary.drop_duplicates(["environment", "label"])["trials"]
    lo, hi = int(trials.min()), int(trials.max())
    meta = [
        f"{n_env} environment{'s' if n_env != 1 else ''}",
        f"{n_conf} configuration{'s' if n_conf != 1 else ''}",
        f"{lo}–{hi} trials each" if lo != hi else f"{lo} trial{'s' if lo != 1 else ''} each",
        generated(),
    ]
    shown = {kind: [f for k, f in figures if k == kind] for kind in dict(figures)}
    sections = [
        Section(
            "Summary",
            [summary_block(summary, metrics, tuned_params(manifest))],
            "summary",
            CI_NOTE,
        )
    ]
    if not correlations.empty:
        blocks = [correlations_block(correlations), *shown.get("offline_vs_online", [])]
        sections.append(Section("Offline vs online", blocks, "offline", RHO_NOTE))
    smoothing = (
        f" Each trial is smoothed by a centred moving average over {smooth} steps."
        if smooth > 1
        else ""
    )
    trial_note = (
        f"Lines: mean across trials; bands: 95% CI, cut to the metric’s valid range. With "
        f"fewer than {MIN_BAND_TRIALS} trials a configuration shows each trial as a thin "
        f"line under its mean instead of a band.{smoothing}"
    )
    sections += [
        Section("Over time", shown.get("over_time", []), "time", trial_note),
        Section("Final step", shown.get("final", []), "final"),
        Section("Run", run_blocks(manifest, results_dir, n_rows), "run"),
        Section("Spec", [Text(spec_text(spec))], "spec"),
    ]
    return Page(str(name or results_dir.name), "recdyn report", meta, sections)
