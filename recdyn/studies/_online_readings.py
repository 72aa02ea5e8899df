"""The experiments that set the ``offline-vs-online`` study's two readings of
topics-dynamic side by side (issue 23).

Two claims of thesis §2.6 depend on where recdyn's worlds follow the thesis's text and
RecLab's code (which made the thesis's figures) did something else: "TopPop ≫ Random
online on topics-dynamic" (Fig. 2.5) and "TopPop pushes topics above 4.5" (Fig. 2.7).
RecLab's ``reset`` drifted preferences while it generated the initial ratings, so the
topics with most items rose before the online phase began (``reclab_compat=True``, see
:class:`recdyn.environments.base.Environment`). The study reports both readings, and
how much the claims move with the initial state, with these experiments beside its
environments' (each one spec with its own ``OUT/runs/<name>/``, all on the study's pool):

``topics-dynamic-v1-reclab``
    RecLab's reading on the shared initial state: topics-dynamic with
    ``reclab_compat = true``, the same ``seed_name`` as topics-dynamic (so the same draw
    of preferences and topics, and the same online users), steps, trials and seed.
``topics-dynamic-v1-states``, ``topics-dynamic-v1-reclab-states``
    Each reading with ``initial_state = "per-trial"``: every trial its own initial state,
    the same draw in both readings (same ``seed_name``), as many trials as topics-dynamic.

They run only the recommenders the claims compare (Random, TopPop, Oracle, as far as the
study runs them) and no tuning: the claims use the online mean rating only, and these
recommenders have nothing to tune (a spec without ``[tuning]`` runs them with the same
parameters and seeds; it only leaves out their offline metrics). The thesis reading on the
shared state is the study's own topics-dynamic experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recdyn.studies._online_protocol import READING_RECOMMENDERS

#: The environment whose claims depend on the reading.
READING_ENVIRONMENT = "topics-dynamic-v1"
#: How each reading is named in the findings and on the page.
READING_TITLES = {"thesis": "thesis text", "reclab": "RecLab code"}


@dataclass(frozen=True)
class ReadingRun:
    """One experiment of a reading: ``name`` (its directory under ``OUT/runs`` and its
    environment label), ``reading`` (``"thesis"`` / ``"reclab"``) and ``initial_state``
    (``"shared"`` / ``"per-trial"``)."""

    name: str
    reading: str
    initial_state: str

    @property
    def title(self) -> str:
        return READING_TITLES[self.reading]


def reading_runs(study: Any) -> list[ReadingRun]:
    """The experiments ``study`` runs for its ``readings``: none unless topics-dynamic is
    among its environments and Random and TopPop among its recommenders."""
    if READING_ENVIRONMENT not in study.environments:
        return []
    if not {"random", "toppop"} <= set(study.recommenders):
        return []
    runs = []
    for reading in study.readings or ():
        stem = READING_ENVIRONMENT if reading == "thesis" else f"{READING_ENVIRONMENT}-{reading}"
        if reading != "thesis":  # the thesis reading's shared state: the study's own run
            runs.append(ReadingRun(stem, reading, "shared"))
        runs.append(ReadingRun(f"{stem}-states", reading, "per-trial"))
    return runs


def reading_spec(study: Any, run: ReadingRun) -> dict[str, Any]:
    """The spec of ``run``, as the dict its TOML file holds: ``study``'s topics-dynamic
    spec with the reading's overrides, the run's initial states, its name, the claims'
    recommenders and no tuning."""
    data = study.spec_data(READING_ENVIRONMENT)
    env = data["environments"][0]
    env["name"] = run.name
    if run.reading == "reclab":
        env["overrides"] = {**env.get("overrides", {}), "reclab_compat": True}
    data["experiment"]["name"] = f"offline-vs-online-{run.name}"
    data["experiment"]["initial_state"] = run.initial_state
    data["recommenders"] = [r for r in data["recommenders"] if r["name"] in READING_RECOMMENDERS]
    del data["tuning"]
    return data


def describe(run: ReadingRun) -> str:
    """One line for the spec file's head and the progress display."""
    states = (
        "the shared initial state"
        if run.initial_state == "shared"
        else "one initial state per trial"
    )
    return f"{READING_ENVIRONMENT}, {run.title} reading, {states}"


__all__ = [
    "READING_ENVIRONMENT",
    "READING_TITLES",
    "ReadingRun",
    "describe",
    "reading_runs",
    "reading_spec",
]
