"""Statistics of repeated trials: Student-t confidence intervals, Spearman rank
correlation with an exact permutation p-value, and least-squares lines.

Confidence intervals are Student-t intervals across the ``n`` trials (independent seeds)
of one configuration,

.. math:: \\bar x \\pm t_{(1+\\gamma)/2,\\,n-1}\\; s/\\sqrt{n},

with :math:`s` the sample standard deviation (``ddof=1``) and :math:`\\gamma` the level
(0.95); undefined (NaN) when :math:`n < 2`. The thesis plots mean ± 2 standard errors,
which is the same for many trials and narrower for few.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

#: Confidence level of every interval in the reports.
LEVEL = 0.95
#: Fewest trials for which a figure draws a t-band; below it (1–3 degrees of freedom the
#: band is wider than the spread of the trials themselves) each trial is drawn instead.
MIN_BAND_TRIALS = 5
#: Largest number of points whose Spearman p-value is exact (8! = 40,320 re-pairings).
EXACT_MAX_N = 8


def half_width(sd: Any, n: Any, level: float = LEVEL) -> np.ndarray:
    """Half-width :math:`t_{(1+\\text{level})/2,\\,n-1}\\, s/\\sqrt{n}` of the Student-t
    confidence interval of a mean; NaN where ``n < 2``."""
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    ok = n >= 2
    t = stats.t.ppf(0.5 + level / 2, np.where(ok, n - 1, 1))
    return np.where(ok, t * sd / np.sqrt(np.where(ok, n, 1)), np.nan)


def mean_ci(values: Any, axis: int = 0, level: float = LEVEL) -> tuple[Any, Any, Any]:
    """Mean, CI half-width (see :func:`half_width`) and count of the finite ``values``
    along ``axis`` (NaNs are ignored, e.g. a trial that has no value at a step)."""
    a = np.asarray(values, dtype=float)
    n = np.isfinite(a).sum(axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        mean = np.nanmean(a, axis=axis)
        sd = np.nanstd(a, axis=axis, ddof=1)
    return mean, half_width(sd, n, level), n


def aggregate(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """Per ``keys``: ``mean``, ``ci`` (95% half-width, :func:`half_width`) and ``n`` (rows
    with a value) of ``column`` across the rows of each group, in order of appearance."""
    agg = frame.groupby(keys, sort=False)[column].agg(["mean", "std", "count"]).reset_index()
    agg["ci"] = half_width(agg["std"], agg["count"])
    return agg.rename(columns={"count": "n"}).drop(columns="std")


def spearman(x: Any, y: Any) -> tuple[float, float]:
    """Spearman rank correlation ρ (``scipy.stats.spearmanr``) and its two-sided p-value;
    NaN when fewer than three points or a constant input leave ρ undefined.

    Up to :data:`EXACT_MAX_N` points the p-value is exact: the share of the ``n!``
    re-pairings of the ranks whose ``|ρ|`` is at least the observed one
    (``scipy.stats.permutation_test``, ``permutation_type="pairings"``), because the t
    approximation of ``spearmanr`` reports p = 0 for a perfect ρ on three points. Above
    it, the t approximation of ``spearmanr``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    res = stats.spearmanr(x, y)
    rho, p = float(res.statistic), float(res.pvalue)
    if len(x) <= EXACT_MAX_N:
        rx, ry = stats.rankdata(x), stats.rankdata(y)
        rx, ry = rx - rx.mean(), ry - ry.mean()
        scale = np.linalg.norm(rx) * np.linalg.norm(ry)

        def abs_rho(ranks: np.ndarray, axis: int = -1) -> np.ndarray:
            return np.abs(np.moveaxis(ranks, axis, -1) @ ry) / scale

        test = stats.permutation_test(
            (rx,),
            abs_rho,
            permutation_type="pairings",
            vectorized=True,
            n_resamples=np.inf,
            alternative="greater",
        )
        p = float(test.pvalue)
    return rho, p


def linear_fit(x: Any, y: Any) -> tuple[float, float, float]:
    """Least-squares line ``y ≈ slope·x + intercept`` over the finite pairs and its
    :math:`R^2 = 1 - \\sum (y - \\hat y)^2 / \\sum (y - \\bar y)^2` (NaN with fewer than
    three points or a constant ``x``)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0:
        return float("nan"), float("nan"), float("nan")
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(resid**2) / total if total > 0 else float("nan")
    return float(slope), float(intercept), float(r2)
