"""The ``offline-vs-online`` page's section on its two readings of topics-dynamic
(issue 23): what differs, TopPop's lead over Random in each reading on the shared initial
state, and per initial state (the numbers: :mod:`recdyn.studies._online_reading_data`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from recdyn.reporting.formatting import fmt_ci
from recdyn.reporting.page import Prose, Table, Text
from recdyn.studies._online_protocol import PUSHED, READINGS
from recdyn.studies._online_reading_data import Readings
from recdyn.studies._online_readings import READING_TITLES

HEADING = "Thesis text vs RecLab code: TopPop's lead on topics-dynamic (issue 23)"

INTRO = Markup(
    "<p>RecLab's code, which made the thesis's figures, differs from the thesis's text in "
    "how topics-dynamic starts: its <code>reset</code> rated every initial pair through "
    "the online rating function, so preferences drifted while the initial ratings (100k "
    "at thesis size) were generated and the topics with most items rose before the online "
    "phase. recdyn "
    "follows the text by default (<b>thesis text</b>); <code>reclab_compat = true</code> "
    "does what the code did (<b>RecLab code</b>: drift during the initial data, and "
    "RecLab's drift rule). Only the claims on TopPop depend on it; both are reported "
    "below and in the findings, side by side. Random, TopPop and Oracle only; the "
    "measure is TopPop − Random as a share of Oracle − Random (mean rating over the "
    "run).</p>"
)


def reading_blocks(readings: Readings) -> list[Any]:
    """The section's blocks: the intro, the shared-state table, the per-state table and
    a note on the experiments ``out`` does not hold."""
    blocks: list[Any] = [Prose(INTRO)]
    if len(readings.shared):
        blocks.append(
            Text(
                "On the shared initial state (the thesis's protocol: the trials share one "
                "initial state and differ in the online dynamics)",
                "heading",
            )
        )
        blocks.append(shared_table(readings.shared))
    if len(readings.states):
        blocks.append(
            Text(
                "Over initial states: each trial its own initial state, the same draw in "
                "both readings (one trial per state, so no CI)",
                "heading",
            )
        )
        blocks.append(states_table(readings.states, readings.shared))
    if readings.missing:
        blocks.append(
            Prose(
                Markup(
                    "<p>Not in this directory (a run with fewer <code>--readings</code>, or "
                    "from before there were readings): {}. Running the study again with "
                    "<code>--readings {}</code> adds them (Random, TopPop and Oracle only).</p>"
                ).format(", ".join(readings.missing), ",".join(readings.asked))
            )
        )
    return blocks


def shared_table(shared: pd.DataFrame) -> Table:
    """One row per reading: TopPop, Random, Oracle (mean rating ± 95% CI across trials),
    the gap, its share of Oracle − Random and the topics TopPop pushed (trial 0)."""
    rows = []
    for r in shared.itertuples(index=False):
        rows.append(
            [
                r.reading,
                r.experiment,
                str(r.trials),
                fmt_ci(r.toppop, r.toppop_ci, 3),
                fmt_ci(r.random, r.random_ci, 3),
                fmt_ci(r.oracle, r.oracle_ci, 3),
                f"{r.gap:+.3f}",
                _pct(r.share),
                _count(r.pushed_topics),
            ]
        )
    columns = [
        "reading",
        "experiment (runs/…)",
        "trials",
        "TopPop",
        "Random",
        "Oracle",
        "TopPop − Random",
        "% of Oracle − Random",
        f"topics > {PUSHED} (TopPop, trial 0)",
    ]
    return Table(columns, rows, numeric=set(range(2, 9)))


def states_table(states: pd.DataFrame, shared: pd.DataFrame) -> Table:
    """One row per initial state, a pair of columns per reading (TopPop − Random as % of
    Oracle − Random; topics TopPop pushed above 4.5), then mean, min and max over the
    states and, for comparison, the shared state's numbers."""
    titles = [READING_TITLES[r] for r in READINGS if READING_TITLES[r] in set(states["reading"])]
    by = {t: states[states["reading"] == t].set_index("initial_state") for t in titles}
    index = sorted(set().union(*(set(p.index) for p in by.values())))
    rows: list[list[str]] = []
    for state in index:
        row = [f"state {state}"]
        for t in titles:
            if state in by[t].index:
                row += [_pct(by[t].at[state, "share"]), _count(by[t].at[state, "pushed_topics"])]
            else:
                row += ["–", "–"]
        rows.append(row)
    for name, fn in (("mean", np.mean), ("min", np.min), ("max", np.max)):
        row = [name]
        for t in titles:
            share, pushed = by[t]["share"].to_numpy(float), by[t]["pushed_topics"].to_numpy(int)
            row += [_pct(fn(share)), f"{fn(pushed):.1f}" if name == "mean" else str(fn(pushed))]
        rows.append(row)
    if len(shared):
        row = ["shared state (mean over its trials)"]
        for t in titles:
            hit = shared[shared["reading"] == t]
            row += (
                [_pct(hit["share"].iloc[0]), _count(hit["pushed_topics"].iloc[0])]
                if len(hit)
                else ["–", "–"]
            )
        rows.append(row)
    columns = ["initial state"]
    for _ in titles:
        columns += ["% of Oracle − Random", f"topics > {PUSHED}"]
    groups = [("", 1)] + [(t, 2) for t in titles]
    return Table(columns, rows, numeric=set(range(1, len(columns))), groups=groups)


def _pct(x: Any) -> str:
    return f"{float(x):.1%}" if np.isfinite(x) else "–"


def _count(x: Any) -> str:
    return str(int(x)) if np.isfinite(x) else "–"


__all__ = ["HEADING", "reading_blocks", "shared_table", "states_table"]
