"""Analysis of the ``sampling-bias`` study (thesis §2.5): tables of the unit results
(tuning, offline metrics per dataset, linear fits and Spearman ρ of biased vs uniform
metrics, the held-out check, wall times), the figures
(:mod:`recdyn.studies._sampling_bias_figures`), the findings
(:mod:`recdyn.studies._sampling_bias_findings`) and ``report.html``.

Offline metrics are 5-fold means with their standard deviation over folds; fits are
least-squares lines and Spearman ρ (:mod:`recdyn.reporting.stats`) across recommenders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from recdyn.reporting.page import Prose, frame_table
from recdyn.reporting.stats import linear_fit, spearman
from recdyn.studies._sampling_bias_figures import plot_biased_vs_uniform, plot_heldout
from recdyn.studies._sampling_bias_findings import findings
from recdyn.studies._sampling_bias_protocol import DATASETS, LABELS, PRESET, dataset
from recdyn.studies.result import StudyResult

Units = dict[str, dict[str, Any]]


# ---------------------------------------------------------------------- tables
def _mean(done: Units, keys: list[str], metric: str) -> tuple[float, float]:
    """Mean and standard deviation (``ddof=1``; 0 for one value) of ``metric`` over the
    units ``keys`` (NaNs ignored)."""
    values = np.array([done[k][metric] for k in keys], float)
    if not np.isfinite(values).any():
        return float("nan"), float("nan")
    return float(np.nanmean(values)), float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0


def dataset_table(study: Any) -> pd.DataFrame:
    """Per dataset: size, rating distribution, user concentration, and whether its
    environment state equals UNIFORM-INIT's (same preferences, only the sample differs)."""
    key = json.dumps(study.overrides, sort_keys=True)
    ref_env, _ = dataset(PRESET, key, "uniform", study.seed)
    rows = []
    for ds, label in DATASETS.items():
        env, data = dataset(PRESET, key, ds, study.seed)
        counts = np.sort(np.bincount(data.user, minlength=env.n_users))[::-1]
        top = max(1, env.n_users // 10)
        same = all(np.array_equal(env.state[name], ref_env.state[name]) for name in ref_env.state)
        rows.append(
            {
                "dataset": label,
                "pairs": len(data),
                "mean rating": float(data.rating.mean()),
                "sd rating": float(data.rating.std()),
                "share ≥ 4": float((data.rating >= 4).mean()),
                "users with ratings": int((counts > 0).sum()),
                "share of top 10% users": float(counts[:top].sum() / max(1, counts.sum())),
                "same state as UNIFORM-INIT": bool(same),
            }
        )
    return pd.DataFrame(rows)


def tuning_table(study: Any, done: Units) -> pd.DataFrame:
    """Every configuration of the grid searched on UNIFORM-INIT: its CV RMSE and nDCG@20
    (fold means) and whether it was chosen."""
    rows = []
    for rec in study.best:
        configs = study.configs(rec)
        for c, params in enumerate(configs):
            keys = [f"tune--{rec}--c{c}--f{f}" for f in range(study.folds)]
            if len(configs) == 1:
                keys = study.cv_keys[(rec, "uniform")]
            rows.append(
                {
                    "recommender": LABELS[rec],
                    "params": json.dumps(params, sort_keys=True),
                    "CV RMSE": _mean(done, keys, "rmse")[0],
                    "CV nDCG@20": _mean(done, keys, "ndcg@20")[0],
                    "chosen": params == study.best[rec],
                }
            )
    return pd.DataFrame(rows)


def offline_table(study: Any, done: Units) -> pd.DataFrame:
    """Per recommender × dataset: nDCG@20 and RMSE (mean and sd over the folds) and the
    mean fit time."""
    rows = []
    for rec in study.best:
        for ds, label in DATASETS.items():
            keys = study.cv_keys[(rec, ds)]
            nd, nd_sd = _mean(done, keys, "ndcg@20")
            rm, rm_sd = _mean(done, keys, "rmse")
            rows.append(
                {
                    "recommender": LABELS[rec],
                    "dataset": label,
                    "nDCG@20": nd,
                    "nDCG@20 sd": nd_sd,
                    "RMSE": rm,
                    "RMSE sd": rm_sd,
                    "fit seconds": sum(done[k]["fit_seconds"] for k in keys) / len(keys),
                }
            )
    return pd.DataFrame(rows)


def fit_table(wide: dict[str, pd.DataFrame]) -> tuple[dict[str, Any], pd.DataFrame]:
    """Per metric and biased dataset: the least-squares line and Spearman ρ of the metric
    on it against UNIFORM-INIT across recommenders (with and without the Oracle, which
    sits far from the others and alone can make R² high), and the mean difference."""
    fits: dict[str, dict[str, dict[str, float]]] = {}
    rows = []
    for m, table in wide.items():
        fits[m] = {}
        for ds in list(DATASETS)[1:]:
            x, y = table["uniform"].to_numpy(float), table[ds].to_numpy(float)
            ok = np.isfinite(x) & np.isfinite(y)
            slope, intercept, r2 = linear_fit(x[ok], y[ok])
            rho, p = spearman(x[ok], y[ok])
            diff = y[ok] - x[ok]
            no = ok & (table.index != "Oracle")
            r2_no, rho_no = linear_fit(x[no], y[no])[2], spearman(x[no], y[no])[0]
            fits[m][ds] = dict(
                slope=slope, intercept=intercept, r2=r2, rho=rho, p=p, r2_no=r2_no, rho_no=rho_no
            )
            rows.append(
                {
                    "metric": m,
                    "biased dataset": DATASETS[ds],
                    "models": int(ok.sum()),
                    "slope": slope,
                    "intercept": intercept,
                    "R²": r2,
                    "Spearman ρ": rho,
                    "p": p,
                    "R² w/o Oracle": r2_no,
                    "ρ w/o Oracle": rho_no,
                    "mean(biased − uniform)": float(diff.mean()) if len(diff) else float("nan"),
                    "models higher on biased": int((diff > 0).sum()),
                }
            )
    return fits, pd.DataFrame(rows)


def heldout_table(study: Any, done: Units, wide: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per recommender × training dataset: nDCG@20 and RMSE on the held-out uniform pairs,
    beside its CV nDCG@20 on the training set."""
    rows = []
    for rec in study.best:
        for ds, label in DATASETS.items():
            r = done[f"heldout--{rec}--{ds}"]
            rows.append(
                {
                    "recommender": LABELS[rec],
                    "trained on": label,
                    "held-out nDCG@20": r["ndcg@20"],
                    "held-out RMSE": r["rmse"],
                    "CV nDCG@20 on training set": wide["nDCG@20"].loc[LABELS[rec], ds],
                }
            )
    return pd.DataFrame(rows)


def timing_table(study: Any, tune: Units, done: Units) -> pd.DataFrame:
    """Per recommender: units run and their fit and total seconds."""
    rows = []
    for rec in study.best:
        keys = [k for k in [*tune, *done] if k.split("--")[1] == rec and k in done]
        keys = list(dict.fromkeys(keys))
        rows.append(
            {
                "recommender": LABELS[rec],
                "units": len(keys),
                "fit seconds (sum)": float(sum(done[k]["fit_seconds"] for k in keys)),
                "unit seconds (sum)": float(sum(done[k]["seconds"] for k in keys)),
            }
        )
    return pd.DataFrame(rows)


def _by_dataset(table: pd.DataFrame, column: str, value: str, labels: list[str]) -> pd.DataFrame:
    """``value`` as a recommender × dataset-key table (rows in ``labels`` order)."""
    return (
        table.pivot(index="recommender", columns=column, values=value)
        .reindex(labels)
        .rename(columns={v: k for k, v in DATASETS.items()})
    )


# ---------------------------------------------------------------------- the analysis
def analyse(study: Any, out: Path, tune: Units, done: Units) -> StudyResult:
    """The study's result (tables, figures drawn into ``out``, findings, the page's text)
    from the unit results."""
    result = StudyResult(study.name, out, title="Sampling bias and offline metrics (thesis §2.5)")
    labels = [LABELS[r] for r in study.best]
    offline = offline_table(study, done)
    wide = {m: _by_dataset(offline, "dataset", m, labels) for m in ("nDCG@20", "RMSE")}
    fits, fits_frame = fit_table(wide)
    heldout = heldout_table(study, done, wide)
    held_wide = _by_dataset(heldout, "trained on", "held-out nDCG@20", labels)
    result.tables.update(
        datasets=dataset_table(study),
        tuning=tuning_table(study, done),
        offline=offline,
        fits=fits_frame,
        heldout=heldout,
        timing=timing_table(study, tune, done),
    )
    panels = [(k, DATASETS[k]) for k in list(DATASETS)[1:]]
    figures = [
        plot_biased_vs_uniform(
            wide[metric],
            metric,
            panels,
            fits[metric],
            out / f"fig2_{n}_{metric[:4].lower()}.png",
            f"{metric} on biased vs uniform samples ({study.folds}-fold means; thesis Fig. 2.{n})",
        )
        for n, metric in ((3, "nDCG@20"), (4, "RMSE"))
    ]
    heldout_path = out / "heldout_ndcg.png"
    figures.append(plot_heldout(held_wide, list(DATASETS.items()), heldout_path, "nDCG@20"))
    result.figures = list(zip(FIGURE_CAPTIONS, figures))
    result.findings = findings(wide, fits, held_wide, study.folds)
    _page(study, result)
    return result


# ---------------------------------------------------------------------- page
FIGURE_CAPTIONS = (
    "Reproduces thesis Figure 2.3: nDCG@20 on ML-100K-INIT (left) and ML-100K-INIT-FLIP "
    "(right) against UNIFORM-INIT; linear fit in red.",
    "Reproduces thesis Figure 2.4: RMSE on ML-100K-INIT (left) and ML-100K-INIT-FLIP "
    "(right) against UNIFORM-INIT; linear fit in red.",
    "The held-out check of thesis §2.5 (no figure in the thesis): nDCG@20 on held-out "
    "uniform pairs of models trained on each dataset.",
)


def _page(study: Any, result: StudyResult) -> None:
    """The page's intro and sections."""
    mode = "quick" if study.quick else "full (thesis sizes)"
    size = study.overrides or {"n_users": 1000, "n_items": 1700, "n_initial_ratings": 100_000}
    intro = Markup(
        "<p>Thesis §2.5: three offline datasets of <code>{preset}</code> ({size}) sampled "
        "uniformly (UNIFORM-INIT), towards high ratings and heavy users (ML-100K-INIT) and "
        "towards low ratings (ML-100K-INIT-FLIP), from the same environment state. Each "
        "recommender is tuned by {folds}-fold CV grid search on RMSE on UNIFORM-INIT; "
        "nDCG@20 (linear gain, each user's held-out items) and RMSE are {folds}-fold means "
        "on each dataset with those hyperparameters. EASE has no RMSE (its scores are not "
        "ratings). Mode: {mode}, seed {seed}. {run}</p>"
    ).format(
        preset=PRESET,
        size=json.dumps(size),
        folds=study.folds,
        mode=mode,
        seed=study.seed,
        run=_run_text(study.last_run),
    )
    held_note = Markup(
        "<p>Each model trained on a whole dataset, evaluated on the same {:,} uniformly "
        "sampled pairs that are in none of the three datasets. Users hold more items there "
        "than in a CV fold, so nDCG@20 is lower than the CV values in absolute terms; "
        "compare the rows of one recommender. Random and the Oracle ignore their training "
        "data.</p>"
    ).format(study.heldout_size)
    t = result.tables
    sections = [
        ("Datasets", [frame_table(t["datasets"])]),
        ("Linear fits: biased vs uniform", [frame_table(t["fits"])]),
        ("Offline metrics per dataset", [frame_table(t["offline"])]),
        ("Held-out check", [Prose(held_note), frame_table(t["heldout"])]),
        ("Tuning on UNIFORM-INIT", [frame_table(t["tuning"])]),
        ("Wall time per recommender", [frame_table(t["timing"])]),
    ]
    result.intro = intro
    result.sections = sections


def _run_text(last_run: tuple[float, int, int] | None) -> str:
    if last_run is None:
        return "Reported from the stored units (no unit ran now)."
    seconds, computed, reused = last_run
    return (
        f"This run took {seconds:.1f} s ({computed} units computed, {reused} reused from an "
        "earlier run)."
    )
