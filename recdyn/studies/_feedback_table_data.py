"""The numbers of Table 3.1 (thesis L2126–2136) from the ``feedback-loops`` study's units:
GMF's test MSE and MAE per correction, mean ± 95 % Student-t interval over repeats, with
the thesis's numbers beside them, and the paired differences between corrections.

All corrections of one repeat train on the same simulated data and are tested on the same
pairs (:mod:`recdyn.studies._feedback_table`), so differences are taken within a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recdyn.reporting.formatting import fmt_ci
from recdyn.reporting.stats import aggregate, mean_ci
from recdyn.studies._feedback_protocol import BY_KEY, CORRECTION_KEYS, CORRECTIONS, Correction

__all__ = ["TableData", "collect_table"]


@dataclass
class TableData:
    """``units``: one row per (repeat, correction) with ``mse``, ``mae``, GMF's ``reg``,
    the sizes and seconds; ``scale``: the world's rating range and how its ratings are
    made; ``sensitivity``: the same rows of the sensitivity units (Naive and CAFL refitted
    with other GMF penalties), or ``None``."""

    units: pd.DataFrame
    scale: dict[str, Any]
    sensitivity: pd.DataFrame | None = None

    def means(self, metric: str) -> dict[str, float]:
        return self.units.groupby("correction")[metric].mean().to_dict()

    def _wide(self, metric: str, units: pd.DataFrame | None = None) -> pd.DataFrame:
        units = self.units if units is None else units
        return units.pivot_table(index="repeat", columns="correction", values=metric)

    def paired(self, metric: str, first: str, second: str) -> dict[str, Any]:
        """``first − second`` of ``metric`` paired by repeat: mean, ci, n."""
        wide = self._wide(metric)
        diff = (wide[first] - wide[second]).dropna().to_numpy()
        mean, ci, n = mean_ci(diff)
        return {"mean": float(mean), "ci": float(ci), "n": int(n)}

    def gain(self, metric: str, units: pd.DataFrame | None = None) -> dict[str, Any]:
        """CAFL's relative gain ``1 − CAFL / Naive`` per repeat (of ``units``, default the
        main table's): mean, ci, n."""
        wide = self._wide(metric, units)
        gains = (1 - wide["cafl"] / wide["naive"]).dropna().to_numpy()
        mean, ci, n = mean_ci(gains)
        return {"mean": float(mean), "ci": float(ci), "n": int(n)}

    def thesis_rows(self) -> list[Correction]:
        return [BY_KEY[c] for c in CORRECTION_KEYS]

    def scale_text(self) -> str:
        lo, hi = self.scale.get("rating_range", (float("nan"), float("nan")))
        how = self.scale.get("how")
        return f"the world's [{lo:g}, {hi:g}] scale" + (f" ({how})" if how else "")

    def table(self) -> pd.DataFrame:
        """Table 3.1: ours (mean ± CI over repeats) beside the thesis's, and each MSE
        relative to Naive's (scale-free), for every row of the thesis."""
        stats = {
            m: aggregate(self.units, ["correction"], m).set_index("correction")
            for m in ("mse", "mae")
        }
        naive = stats["mse"]["mean"].get("naive", np.nan)
        rows = []
        for c in CORRECTIONS:
            ours = {
                m: fmt_ci(stats[m].loc[c.key, "mean"], stats[m].loc[c.key, "ci"])
                if c.key in stats[m].index
                else "not run"
                for m in ("mse", "mae")
            }
            relative = stats["mse"]["mean"].get(c.key, np.nan) / naive
            rows.append(
                {
                    "correction": c.label,
                    "MSE (here)": ours["mse"],
                    "MAE (here)": ours["mae"],
                    "MSE (thesis)": f"{c.mse[0]:.3f} ± {c.mse[1]:.3f}",
                    "MAE (thesis)": f"{c.mae[0]:.3f} ± {c.mae[1]:.3f}",
                    "MSE / Naive (here)": relative,
                    "MSE / Naive (thesis)": c.mse[0] / BY_KEY["naive"].mse[0],
                    "repeats": int(stats["mse"]["n"].get(c.key, 0)),
                    "how": c.note,
                }
            )
        return pd.DataFrame(rows)

    def sensitivity_table(self) -> pd.DataFrame | None:
        """Per GMF penalty λ (the main table's and the sensitivity rows'): Naive's and
        CAFL's MSE and CAFL's relative gain, mean ± CI over repeats."""
        if self.sensitivity is None or self.sensitivity.empty:
            return None
        main = self.units[self.units["correction"].isin(["naive", "cafl"])]
        rows = []
        for reg, units in pd.concat([main, self.sensitivity]).groupby("reg"):
            mse = aggregate(units, ["correction"], "mse").set_index("correction")
            gain = self.gain("mse", units)
            rows.append(
                {
                    "GMF λ": reg,
                    "table": "main" if reg in set(main["reg"]) else "sensitivity",
                    "Naive MSE": fmt_ci(mse.loc["naive", "mean"], mse.loc["naive", "ci"]),
                    "CAFL MSE": fmt_ci(mse.loc["cafl", "mean"], mse.loc["cafl", "ci"]),
                    "CAFL gain over Naive (%)": fmt_ci(100 * gain["mean"], 100 * gain["ci"]),
                    "repeats": gain["n"],
                }
            )
        return pd.DataFrame(rows)


def _frame(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in results.values()
    ]
    return pd.DataFrame(rows).sort_values(["repeat", "correction"], ignore_index=True)


def collect_table(
    results: dict[str, dict[str, Any]], sensitivity: dict[str, dict[str, Any]] | None = None
) -> TableData:
    """:class:`TableData` from the stored units (key → :func:`run_table_unit`'s result)
    and those of the sensitivity rows."""
    first = next(iter(results.values()), {})
    scale = {"rating_range": tuple(first.get("rating_range", (np.nan, np.nan)))}
    if first.get("scale"):
        scale["how"] = first["scale"]
    return TableData(_frame(results), scale, _frame(sensitivity) if sensitivity else None)
