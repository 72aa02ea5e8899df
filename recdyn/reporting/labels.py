"""What every metric is called in a figure or table, and the range its values live in.

One table for the online metrics (:mod:`recdyn.metrics.online`) and one for the offline
metrics (``offline_<name>`` columns, e.g. ``offline_ndcg@20``). The valid range bounds
every confidence band drawn for the metric (:func:`valid_range`): intersecting a CI with
the set the true mean must lie in keeps its coverage and never shows impossible values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

OFFLINE_PREFIX = "offline_"


@dataclass(frozen=True)
class MetricLabel:
    """Title of a metric and its valid range ``[lower, upper]``; ``rating_scale``: the
    range is the environment's rating scale (``Environment.rating_range``)."""

    title: str
    lower: float = -math.inf
    upper: float = math.inf
    rating_scale: bool = False


#: The built-in online metrics. Mean rating is an average of ratings on the scale;
#: regret is ≥ 0 (the oracle's pick obeys the same no-repeat rule); RMSE and counts ≥ 0.
ONLINE = {
    "mean_rating": MetricLabel("mean rating of recommended items", rating_scale=True),
    "regret": MetricLabel("regret vs. oracle", 0.0),
    "rmse": MetricLabel("RMSE on recommended items", 0.0),
    "distinct_items": MetricLabel("distinct items shown", 0.0),
    "n_ratings": MetricLabel("ratings received", 0.0),
}
#: The offline metrics by base name (before ``@k``): errors ≥ 0, ranking metrics in [0, 1].
OFFLINE = {
    "rmse": MetricLabel("RMSE", 0.0),
    "mae": MetricLabel("MAE", 0.0),
    "ndcg": MetricLabel("nDCG", 0.0, 1.0),
    "recall": MetricLabel("recall", 0.0, 1.0),
    "precision": MetricLabel("precision", 0.0, 1.0),
    "map": MetricLabel("MAP", 0.0, 1.0),
    "mrr": MetricLabel("MRR", 0.0, 1.0),
    "coverage": MetricLabel("catalogue coverage", 0.0, 1.0),
}


def metric_label(name: str) -> MetricLabel:
    """The label of an online metric or an ``offline_<metric>`` column (a bare title with
    an unbounded range for names outside the tables)."""
    if name.startswith(OFFLINE_PREFIX):
        offline = name.removeprefix(OFFLINE_PREFIX)
        base, _, k = offline.partition("@")
        known = OFFLINE.get(base)
        if known is None:
            return MetricLabel(f"offline {offline}")
        title = f"offline {known.title}" + (f"@{k}" if k else "")
        return MetricLabel(title, known.lower, known.upper)
    return ONLINE.get(name, MetricLabel(name))


def metric_title(name: str) -> str:
    """Readable title of a metric column, e.g. ``"regret vs. oracle"``."""
    return metric_label(name).title


def valid_range(name: str, rating_scale: tuple[float, float] | None = None) -> tuple[float, float]:
    """``(lower, upper)`` that every value and every CI of the metric lies in;
    ``rating_scale`` bounds metrics on the rating scale (unbounded when unknown)."""
    label = metric_label(name)
    if label.rating_scale:
        return (
            (float(rating_scale[0]), float(rating_scale[1]))
            if rating_scale
            else (
                -math.inf,
                math.inf,
            )
        )
    return label.lower, label.upper


def rating_scale(
    preset: str, overrides: dict[str, Any] | None = None
) -> tuple[float, float] | None:
    """``rating_range`` of the registered environment ``preset`` built with ``overrides``
    (building one draws no state); ``None`` when it cannot be built here (e.g. a preset of
    a module the spec imports)."""
    from recdyn.environments import make
    from recdyn.errors import RecdynError

    try:
        lo, hi = make(preset, **(overrides or {})).rating_range
    except (RecdynError, TypeError, ValueError):  # an unknown scale leaves bands unbounded
        return None
    return float(lo), float(hi)
