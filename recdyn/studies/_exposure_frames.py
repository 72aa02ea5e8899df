r"""The ``exposure-audit`` study's tables: one row per gradient-ascent run, with its
verdict and the statistics of its equilibrium profile, and their summary per setting.

Statistics of a profile :math:`s_1..s_n` (thesis ch. 5; the statistic of Fig. 5.3 was lost
in extraction, so three are offered):

* **clustering** (L4134–4143): the number of *distinct strategies* after merging those
  closer than :data:`MERGE_TOL` (connected components), the *mean pairwise cosine*
  :math:`\langle s_i, s_k\rangle` over :math:`i < k`, and the mean distance
  :math:`\|s_i - \bar c\|` to the mean user direction :math:`\bar c = E[c]/\|E[c]\|`
  (Theorem 4's point); a run shows *local clustering* when some producers share a
  strategy but not all do (:math:`1 <` distinct :math:`< n`);
* **ML-100K gender** (L4170–4180), with normalised ratings :math:`r_i(c) = \langle c,
  s_i\rangle / (\|c\|\|s_i\|)`: user-centric :math:`\Delta = \phi_{men} - \phi_{women}`
  with :math:`\phi_G = \mathrm{median}_{c \in G} \max_i r_i(c)`, and producer-centric
  with :math:`\phi_G = \frac1n \sum_i 1\{\arg\max_c r_i(c) \in G\}`; the same for the
  baseline 'b': ``n`` learned item embeddings drawn at random per run;
* **Last.fm-2K tag proxy** (Fig. 5.5): :func:`~._exposure_lastfm.run_statistics` against
  the baseline artist embeddings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components

from recdyn.studies import _exposure_lastfm as lastfm_audit
from recdyn.studies._exposure_units import unpack

__all__ = [
    "MERGE_TOL",
    "clustering_statistics",
    "gender_statistics",
    "lastfm_curves",
    "runs_frame",
    "summary",
    "unit_rows",
]

#: Two strategies closer than this (Euclidean, on the sphere) count as one.
MERGE_TOL = 1e-2


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit norm (all-zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm == 0.0, 1.0, norm)


def clustering_statistics(users: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """Distinct strategies, mean pairwise cosine and distance to :math:`\\bar c` of one
    profile ``s`` ``[n, d]`` against ``users`` ``[m, d]`` (module doc)."""
    s = unit_rows(s)
    n = len(s)
    pairs = (s @ s.T)[np.triu_indices(n, 1)]
    close = np.linalg.norm(s[:, None] - s[None], axis=-1) < MERGE_TOL
    distinct = int(connected_components(close, directed=False)[0])
    return {
        "pairwise_cos": float(pairs.mean()) if len(pairs) else 1.0,
        "dist_to_cbar": float(np.linalg.norm(s - unit_rows(users.mean(axis=0)), axis=-1).mean()),
        "distinct": distinct,
        "local_clusters": bool(1 < distinct < n),
    }


def gender_statistics(users: np.ndarray, men: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """User- and producer-centric Δ of one profile ``s`` ``[n, d]`` against ``users``
    ``[m, d]`` with ``men`` ``[m]`` (1 = man; module doc)."""
    r = unit_rows(users) @ unit_rows(s).T  # [m, n] normalised ratings
    man = men.astype(bool)
    best = r.max(axis=1)
    top_user = np.argmax(r, axis=0)
    return {
        "delta_user": float(np.median(best[man]) - np.median(best[~man])),
        "delta_producer": float(np.mean(man[top_user]) - np.mean(~man[top_user])),
    }


def _setting(key: str) -> dict[str, Any]:
    """``eq-<data>-<model>-d<d>-s<r>-t<τ>-n<n>`` as columns."""
    _, data, model, d, seed, tau, n = key.split("-")
    dataset = "ml-100k" if data == "ml" else lastfm_audit.DATASET
    return {
        "dataset": dataset,
        "model": model,
        "d": int(d[1:]),
        "tau": float(tau[1:]),
        "n": int(n[1:]),
        "seed": int(seed[1:]),
    }


def _embedding_key(key: str) -> str:
    return "emb-" + "-".join(key.split("-")[1:5])


def runs_frame(study: Any, emb: dict[str, Any], eq: dict[str, Any]) -> pd.DataFrame:
    """One row per run (both datasets): its setting, verdict, iterations, ε-gap and
    statistics, with the baseline's beside (random learned items)."""
    rows = []
    for key, kwargs in study.equilibrium_units(emb).items():
        setting = _setting(key)
        e = emb[_embedding_key(key)]
        users, items = unpack(e["users"]), unpack(e["items"])
        res = eq[key]
        rng = np.random.default_rng(kwargs["seed"])
        for i, s in enumerate(unpack(res["strategies"])):
            base = items[rng.choice(len(items), size=len(s), replace=False)]
            row = {
                **setting,
                "init": i,
                "status": res["status"][i],
                "capped": not res["converged"][i],
                "iterations": res["iterations"][i],
                "gradient_norm": res["gradient_norm"][i],
                "epsilon_gap": res["epsilon_gap"][i],
                **clustering_statistics(users, s),
            }
            if setting["dataset"] == "ml-100k":
                men = unpack(e["men"])
                row.update(gender_statistics(users, men, s))
                b = gender_statistics(users, men, base)
                row["base_delta_user"] = b["delta_user"]
                row["base_delta_producer"] = b["delta_producer"]
            else:
                groups = unpack(e["groups"])
                row.update(lastfm_audit.run_statistics(items, groups, s))
                b = lastfm_audit.run_statistics(items, groups, base, (lastfm_audit.SMALL_K,))
                row[f"base_frac_k{lastfm_audit.SMALL_K}"] = b[f"frac_k{lastfm_audit.SMALL_K}"]
            rows.append(row)
    return pd.DataFrame(rows)


def lastfm_curves(study: Any, emb: dict[str, Any], eq: dict[str, Any]) -> dict[str, Any]:
    """Fig. 5.5's curves per (model, d, τ) over Last.fm's kept runs (all n):
    ``label → neighbourhood_curves`` of the stacked profiles."""
    stacks: dict[str, list[dict[str, Any]]] = {}
    for key in study.equilibrium_units(emb):
        setting = _setting(key)
        if setting["dataset"] != lastfm_audit.DATASET:
            continue
        res = eq[key]
        kept = np.asarray([st != "violated" for st in res["status"]], bool)
        if not kept.any():
            continue
        label = f"{setting['model']}, d={setting['d']}, τ={setting['tau']:g}"
        e = emb[_embedding_key(key)]
        strategies = unpack(res["strategies"])[kept]  # [runs, n, d]: one curve per run
        curves = lastfm_audit.neighbourhood_curves(
            strategies, unpack(e["items"]), unpack(e["groups"]), lastfm_audit.KS
        )
        stacks.setdefault(label, []).append({**curves, "runs": len(strategies)})
    return {
        label: {
            "ks": curves[0]["ks"],
            "fraction": np.concatenate([c["fraction"] for c in curves]),
            "distance": np.concatenate([c["distance"] for c in curves]),
            "population": float(
                np.average([c["population"] for c in curves], weights=[c["runs"] for c in curves])
            ),
        }
        for label, curves in stacks.items()
    }


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, model, d, τ, n): verdict counts, the median ε-gap, and the
    statistics' means over the kept runs (not ruled out by the second-order test)."""
    rows = []
    columns = (
        ("pairwise_cos", "mean pairwise cos"),
        ("distinct", "distinct strategies"),
        ("dist_to_cbar", "mean ‖s − c̄‖"),
        ("delta_user", "Δ user-centric"),
        ("delta_producer", "Δ producer-centric"),
        ("base_delta_user", "Δ user (baseline b)"),
        (f"frac_k{lastfm_audit.SMALL_K}", f"tag F_{lastfm_audit.SMALL_K}"),
        (f"base_frac_k{lastfm_audit.SMALL_K}", f"tag F_{lastfm_audit.SMALL_K} (baseline b)"),
    )
    keys = ["dataset", "model", "d", "tau", "n"]
    for (dataset, model, d, tau, n), g in runs.groupby(keys, sort=True):
        kept = g[g["status"] != "violated"]
        row: dict[str, Any] = {
            "dataset": dataset,
            "model": model,
            "d": d,
            "τ": tau,
            "n": n,
            "runs": len(g),
            "confirmed": int((g["status"] == "confirmed").sum()),
            "inconclusive": int((g["status"] == "inconclusive").sum()),
            "violated": int((g["status"] == "violated").sum()),
            "at cap": int(g["capped"].sum()),
            "median ε-gap": float(g["epsilon_gap"].median()),
        }
        for col, label in columns:
            if col in kept and kept[col].notna().any():
                row[label] = round(float(kept[col].mean()), 4)
        rows.append(row)
    return pd.DataFrame(rows)
