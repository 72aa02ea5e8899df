"""Analysis of the ``sampling-bias`` study (thesis §2.5): the tables
(:mod:`recdyn.studies._sampling_bias_tables`), the figures
(:mod:`recdyn.studies._sampling_bias_figures`), the findings
(:mod:`recdyn.studies._sampling_bias_findings`) and the text of ``report.html`` — for every
reading of the biased datasets that was run (thesis text, RecLab code), side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from markupsafe import Markup

from recdyn.reporting.page import Cell, Prose, Table, frame_table
from recdyn.studies import _sampling_bias_tables as tables
from recdyn.studies._sampling_bias_figures import plot_biased_vs_uniform, plot_heldout
from recdyn.studies._sampling_bias_findings import findings
from recdyn.studies._sampling_bias_protocol import BIASED, DATASETS, LABELS, PRESET, READINGS
from recdyn.studies.page import VERDICTS
from recdyn.studies.result import Finding, StudyResult

Units = dict[str, dict[str, Any]]


# ---------------------------------------------------------------------- the analysis
def analyse(
    study: Any, out: Path, tune: Units, done: Units, readings: tuple[str, ...]
) -> StudyResult:
    """The study's result (tables, figures drawn into ``out``, findings, the page's text)
    from the unit results of ``readings`` (those whose units are all stored)."""
    result = StudyResult(study.name, out, title="Sampling bias and offline metrics (thesis §2.5)")
    labels = [LABELS[r] for r in study.best]
    offline = tables.offline_table(study, done, readings)
    wide = tables.wide_tables(offline, labels, readings)
    fits, fits_frame = tables.fit_table(wide)
    heldout = tables.heldout_table(study, done, wide)
    held_wide = tables.heldout_wide(heldout, labels)
    result.tables.update(
        datasets=tables.dataset_table(study, readings),
        tuning=tables.tuning_table(study, done),
        offline=offline,
        fits=fits_frame,
        heldout=heldout,
        timing=tables.timing_table(study, tune, done),
    )
    panels = [(k, DATASETS[k]) for k in BIASED]
    figures = [
        plot_biased_vs_uniform(
            [(READINGS[r], wide[r][metric], fits[r][metric]) for r in readings],
            metric,
            panels,
            out / f"fig2_{n}_{metric[:4].lower()}.png",
            f"{metric} on biased vs uniform samples ({study.folds}-fold means; thesis Fig. 2.{n})",
        )
        for n, metric in ((3, "nDCG@20"), (4, "RMSE"))
    ]
    held_rows = [(READINGS[r], held_wide[r]) for r in readings]
    heldout_path = out / "heldout_ndcg.png"
    figures.append(plot_heldout(held_rows, list(DATASETS.items()), heldout_path, "nDCG@20"))
    result.figures = list(zip(_captions(readings), figures))
    result.findings = findings(wide, fits, held_wide, study.folds)
    _page(study, result, readings)
    return result


# ---------------------------------------------------------------------- page
def _captions(readings: tuple[str, ...]) -> list[str]:
    """The figures' captions; with two readings, which row is which."""
    rows = ""
    if len(readings) > 1:
        rows = (
            " Rows: "
            + "; ".join(
                f"{where} the biased datasets as the {READINGS[r]} defines them"
                for where, r in zip(("top,", "bottom,"), readings)
            )
            + " (same axes)."
        )
    return [
        "Reproduces thesis Figure 2.3: nDCG@20 on ML-100K-INIT (left) and ML-100K-INIT-FLIP "
        "(right) against UNIFORM-INIT; linear fit in red." + rows,
        "Reproduces thesis Figure 2.4: RMSE on ML-100K-INIT (left) and ML-100K-INIT-FLIP "
        "(right) against UNIFORM-INIT; linear fit in red." + rows,
        "The held-out check of thesis §2.5 (no figure in the thesis): nDCG@20 on held-out "
        "uniform pairs of models trained on each dataset"
        + (", one panel per reading (each its own held-out set)." if len(readings) > 1 else "."),
    ]


READINGS_TEXT = Markup(
    "<p>The biased datasets are drawn from the same environment state in two readings of "
    "thesis §2.5; UNIFORM-INIT, the tuning on it and its CV are the same in both "
    "(<code>reading = both</code> in the tables).</p><ul>"
    "<li><b>thesis text</b> (<code>reading = thesis</code>): "
    "P(u, i) ∝ Beta(r̃; 3.61, 2.57) · Beta(k̃; 0.70, 1.83) over the noisy rating r̃ of every "
    "pair and a random user rank k̃; FLIP puts 1 − r̃ in the rating term (the rating "
    "distribution mirrored about 3); the pairs keep the noisy ratings they were chosen "
    "by.</li>"
    "<li><b>RecLab code</b> (<code>reading = reclab</code>; RecLab's "
    "<code>experiment.sample_ratings</code>, which made the thesis's figures; the world "
    'option <code>biased_sampling="reclab"</code>): the rating term is the Beta density '
    "on the 0–6 scale normalised over each user's items, so a user's share of the pairs "
    "follows the user term alone; FLIP is 1 − that density, weights in [0.65, 1] — close "
    "to uniform in the rating, not a mirror image; the chosen pairs are rated afresh (new "
    "noise).</li></ul>"
    "<p>Every claim is judged in each reading with the same criteria. Each reading has its "
    "own held-out set (uniform pairs in none of its datasets).</p>"
)


def glance_table(findings: list[Finding], readings: tuple[str, ...]) -> Table:
    """One row per claim, one verdict column per reading (the findings hold each claim's
    readings' rows next to each other, in ``readings`` order)."""
    rows = []
    for group in zip(*[iter(findings)] * len(readings)):
        claim = group[0].claim.rsplit(" (", 1)[0]  # without "(thesis text)"
        cells = [VERDICTS[f.reproduced] for f in group]
        rows.append([claim, *(Cell(text, css=css) for text, css in cells)])
    return Table(["claim", *(READINGS[r] for r in readings)], rows)


FITS_NOTE = Markup(
    "<p>Per metric and biased dataset (a row per reading): the least-squares line of the "
    "biased metric against UNIFORM-INIT's across recommenders, Spearman ρ, both also "
    "without the Oracle, and the mean difference (intercepts and p-values in "
    "<code>fits.csv</code>).</p>"
)


def _page(study: Any, result: StudyResult, readings: tuple[str, ...]) -> None:
    """The page's intro and sections."""
    mode = "quick" if study.quick else "full (thesis sizes)"
    size = study.overrides or {"n_users": 1000, "n_items": 1700, "n_initial_ratings": 100_000}
    intro = Markup(
        "<p>Thesis §2.5: three offline datasets of <code>{preset}</code> ({size}) sampled "
        "uniformly (UNIFORM-INIT), towards high ratings and heavy users (ML-100K-INIT) and "
        "towards low ratings (ML-100K-INIT-FLIP, as the thesis's text defines it), from the "
        "same environment state. Each "
        "recommender is tuned by {folds}-fold CV grid search on RMSE on UNIFORM-INIT; "
        "nDCG@20 (linear gain, each user's held-out items) and RMSE are {folds}-fold means "
        "on each dataset with those hyperparameters. EASE has no RMSE (its scores are not "
        "ratings). Readings of the biased datasets: {readings}{missing}{where}. Mode: {mode}, "
        "seed {seed}. {run}</p>"
    ).format(
        preset=PRESET,
        size=json.dumps(size),
        folds=study.folds,
        readings=", ".join(READINGS[r] for r in readings),
        missing=_missing_text(study.incomplete),
        where=" (see Datasets; the verdicts side by side after the findings)"
        if len(readings) > 1
        else "",
        mode=mode,
        seed=study.seed,
        run=_run_text(study.last_run),
    )
    held_note = Markup(
        "<p>Each model trained on a whole dataset, evaluated on the same {:,} uniformly "
        "sampled pairs that are in none of the three datasets (of its reading). Users hold "
        "more items there than in a CV fold, so nDCG@20 is lower than the CV values in "
        "absolute terms; compare the rows of one recommender. Random and the Oracle ignore "
        "their training data.</p>"
    ).format(study.heldout_size)
    t = result.tables
    fits = t["fits"].drop(columns=["intercept", "p"])
    datasets = [frame_table(t["datasets"])]
    if len(readings) > 1:
        datasets.insert(0, Prose(READINGS_TEXT))
    sections = [
        ("Datasets", datasets),
        ("Linear fits: biased vs uniform", [Prose(FITS_NOTE), frame_table(fits)]),
        ("Offline metrics per dataset", [frame_table(t["offline"])]),
        ("Held-out check", [Prose(held_note), frame_table(t["heldout"])]),
        ("Tuning on UNIFORM-INIT", [frame_table(t["tuning"])]),
        ("Wall time per recommender", [frame_table(t["timing"])]),
    ]
    if len(readings) > 1:
        glance = glance_table(result.findings, readings)
        sections.insert(0, ("The two readings at a glance", [glance]))
    result.intro = intro
    result.sections = sections


def _missing_text(incomplete: dict[str, tuple[int, int]]) -> str:
    """The requested readings left out (some of their units are not stored yet)."""
    return "".join(
        f" (not reported: the {READINGS[r]} reading, {n} of its {total} units not stored "
        "yet; run the study again to finish it)"
        for r, (n, total) in incomplete.items()
    )


def _run_text(last_run: tuple[float, int, int] | None) -> str:
    if last_run is None:
        return "Reported from the stored units (no unit ran now)."
    seconds, computed, reused = last_run
    return (
        f"This run took {seconds:.1f} s ({computed} units computed, {reused} reused from an "
        "earlier run)."
    )
