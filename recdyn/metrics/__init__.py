"""Metrics: pure functions over arrays; online ones run inside the simulation loop."""

from recdyn.metrics.checker import check_online_metric, online_metric_checks
from recdyn.metrics.offline import (
    catalogue_coverage,
    mae,
    map_at_k,
    mrr,
    ndcg_rating_ranking,
    ndcg_topn,
    precision_at_k,
    recall_at_k,
    relevance_matrix,
    rmse,
)
from recdyn.metrics.offline_registry import (
    OfflineMetric,
    make_offline_metric,
    offline_metrics,
)
from recdyn.metrics.online import (
    DEFAULT_METRICS,
    OnlineMetric,
    StepContext,
    metric_class,
    online_metrics,
)

__all__ = [
    "DEFAULT_METRICS",
    "OfflineMetric",
    "OnlineMetric",
    "StepContext",
    "catalogue_coverage",
    "check_online_metric",
    "mae",
    "make_offline_metric",
    "map_at_k",
    "metric_class",
    "mrr",
    "ndcg_rating_ranking",
    "ndcg_topn",
    "offline_metrics",
    "online_metric_checks",
    "online_metrics",
    "precision_at_k",
    "recall_at_k",
    "relevance_matrix",
    "rmse",
]
