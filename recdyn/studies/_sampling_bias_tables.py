"""Tables of the ``sampling-bias`` study (thesis §2.5) from its unit results: the datasets,
the tuning on UNIFORM-INIT, the offline metrics per dataset, the linear fits and Spearman ρ
of biased vs uniform metrics, the held-out check and the wall times.

A table that describes a biased dataset has a ``reading`` column: ``thesis`` (the thesis's
text) or ``reclab`` (RecLab's code; see :mod:`recdyn.studies._sampling_bias_protocol`);
UNIFORM-INIT's rows, the same in both, say ``both``. Restricted to ``thesis``/``both`` and
without that column, each table is the one of a thesis-only run. Offline metrics are
5-fold means with their standard deviation over folds; fits are least-squares lines and
Spearman ρ (:mod:`recdyn.reporting.stats`) across recommenders.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from recdyn.reporting.stats import linear_fit, spearman
from recdyn.studies._sampling_bias_protocol import (
    BIASED,
    DATASETS,
    LABELS,
    PRESET,
    SHARED,
    dataset,
    unit_tag,
)

Units = dict[str, dict[str, Any]]
#: reading → metric → recommender × dataset-key table of fold means.
Wide = dict[str, dict[str, pd.DataFrame]]


def columns(readings: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(reading, dataset key)`` of every dataset reported, UNIFORM-INIT once (as
    :data:`SHARED`), then each reading's biased datasets."""
    return [(SHARED, "uniform")] + [(r, ds) for ds in BIASED for r in readings]


def _cv_tag(reading: str, ds: str) -> str:
    return unit_tag(ds, "thesis" if reading == SHARED else reading)


def _mean(done: Units, keys: list[str], metric: str) -> tuple[float, float]:
    """Mean and standard deviation (``ddof=1``; 0 for one value) of ``metric`` over the
    units ``keys`` (NaNs ignored)."""
    values = np.array([done[k][metric] for k in keys], float)
    if not np.isfinite(values).any():
        return float("nan"), float("nan")
    return float(np.nanmean(values)), float(np.nanstd(values, ddof=1)) if len(values) > 1 else 0.0


def dataset_table(study: Any, readings: tuple[str, ...]) -> pd.DataFrame:
    """Per dataset: size, rating distribution, user concentration, and whether its
    environment state equals UNIFORM-INIT's (same preferences, only the sample differs)."""
    key = json.dumps(study.overrides, sort_keys=True)
    ref_env, _ = dataset(PRESET, key, "uniform", study.seed)
    rows = []
    for reading, ds in columns(readings):
        env, data = dataset(PRESET, key, ds, study.seed, "thesis" if reading == SHARED else reading)
        counts = np.sort(np.bincount(data.user, minlength=env.n_users))[::-1]
        top = max(1, env.n_users // 10)
        same = all(np.array_equal(env.state[name], ref_env.state[name]) for name in ref_env.state)
        rows.append(
            {
                "dataset": DATASETS[ds],
                "reading": reading,
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
    (fold means) and whether it was chosen (shared by the readings)."""
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


def offline_table(study: Any, done: Units, readings: tuple[str, ...]) -> pd.DataFrame:
    """Per recommender × dataset (× reading): nDCG@20 and RMSE (mean and sd over the
    folds) and the mean fit time."""
    rows = []
    for rec in study.best:
        for reading, ds in columns(readings):
            keys = study.cv_keys[(rec, _cv_tag(reading, ds))]
            nd, nd_sd = _mean(done, keys, "ndcg@20")
            rm, rm_sd = _mean(done, keys, "rmse")
            rows.append(
                {
                    "recommender": LABELS[rec],
                    "dataset": DATASETS[ds],
                    "reading": reading,
                    "nDCG@20": nd,
                    "nDCG@20 sd": nd_sd,
                    "RMSE": rm,
                    "RMSE sd": rm_sd,
                    "fit seconds": sum(done[k]["fit_seconds"] for k in keys) / len(keys),
                }
            )
    return pd.DataFrame(rows)


def wide_tables(offline: pd.DataFrame, labels: list[str], readings: tuple[str, ...]) -> Wide:
    """Per reading and metric: the recommender × dataset-key table (rows in ``labels``
    order; UNIFORM-INIT's column in every reading)."""
    out: Wide = {}
    for reading in readings:
        rows = offline[offline["reading"].isin([SHARED, reading])]
        out[reading] = {m: _by_dataset(rows, "dataset", m, labels) for m in ("nDCG@20", "RMSE")}
    return out


def fit_table(wide: Wide) -> tuple[dict[str, Any], pd.DataFrame]:
    """Per metric, biased dataset and reading: the least-squares line and Spearman ρ of the
    metric on it against UNIFORM-INIT across recommenders (with and without the Oracle,
    which sits far from the others and alone can make R² high), and the mean difference.
    Returns ``fits[reading][metric][dataset key]`` and the table."""
    fits: dict[str, dict[str, dict[str, dict[str, float]]]] = {r: {} for r in wide}
    rows = []
    for m in ("nDCG@20", "RMSE"):
        for ds in BIASED:
            for reading, tables in wide.items():
                table = tables[m]
                x, y = table["uniform"].to_numpy(float), table[ds].to_numpy(float)
                ok = np.isfinite(x) & np.isfinite(y)
                slope, intercept, r2 = linear_fit(x[ok], y[ok])
                rho, p = spearman(x[ok], y[ok])
                diff = y[ok] - x[ok]
                no = ok & (table.index != "Oracle")
                r2_no, rho_no = linear_fit(x[no], y[no])[2], spearman(x[no], y[no])[0]
                fits[reading].setdefault(m, {})[ds] = {
                    "slope": slope,
                    "intercept": intercept,
                    "r2": r2,
                    "rho": rho,
                    "p": p,
                    "r2_no": r2_no,
                    "rho_no": rho_no,
                }
                rows.append(
                    {
                        "metric": m,
                        "biased dataset": DATASETS[ds],
                        "reading": reading,
                        "models": int(ok.sum()),
                        "slope": slope,
                        "intercept": intercept,
                        "R²": r2,
                        "Spearman ρ": rho,
                        "p": p,
                        "R² w/o Oracle": r2_no,
                        "ρ w/o Oracle": rho_no,
                        "mean(biased − uniform)": float(diff.mean()) if len(diff) else np.nan,
                        "models higher on biased": int((diff > 0).sum()),
                    }
                )
    return fits, pd.DataFrame(rows)


def heldout_table(study: Any, done: Units, wide: Wide) -> pd.DataFrame:
    """Per recommender × reading × training dataset: nDCG@20 and RMSE on the reading's
    held-out uniform pairs, beside its CV nDCG@20 on the training set."""
    rows = []
    for rec in study.best:
        for reading in wide:
            for ds, label in DATASETS.items():
                r = done[f"heldout--{rec}--{unit_tag(ds, reading)}"]
                rows.append(
                    {
                        "recommender": LABELS[rec],
                        "trained on": label,
                        "reading": reading,
                        "held-out nDCG@20": r["ndcg@20"],
                        "held-out RMSE": r["rmse"],
                        "CV nDCG@20 on training set": wide[reading]["nDCG@20"].loc[LABELS[rec], ds],
                    }
                )
    return pd.DataFrame(rows)


def heldout_wide(heldout: pd.DataFrame, labels: list[str]) -> dict[str, pd.DataFrame]:
    """Per reading: held-out nDCG@20 as a recommender × training-dataset-key table."""
    return {
        reading: _by_dataset(rows, "trained on", "held-out nDCG@20", labels)
        for reading, rows in heldout.groupby("reading", sort=False)
    }


def timing_table(study: Any, tune: Units, done: Units) -> pd.DataFrame:
    """Per recommender: units run (every reading) and their fit and total seconds."""
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
