"""Registered offline metrics: a name (``"rmse"``, ``"ndcg@20"``) → an evaluator.

A metric of a fitted recommender on held-out pairs is one of three kinds, by what it reads:

* ``rating`` — the predicted rating of each test pair (RMSE, MAE);
* ``ranking`` — each user's test items ranked by their predicted rating (the thesis's
  offline nDCG, :func:`~recdyn.metrics.offline.ndcg_rating_ranking`);
* ``topn`` — the scores of every item, the user's training items removed, test items
  relevant (nDCG@k, recall@k, … over the whole catalogue).

Names are the registered name, optionally with a cut-off: ``"ndcg@20"`` is the entry
``ndcg`` built with ``k=20`` (:func:`make_offline_metric`). ``recdyn.metrics.
offline_metrics.names()`` lists them; register your own ``OfflineMetric`` subclass with
``offline_metrics.register("name", "module:Class")``.
"""

from __future__ import annotations

from numbers import Integral
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError, UnknownNameError
from recdyn.metrics import beyond_accuracy, offline
from recdyn.params import Parametrized
from recdyn.registry import Registry

__all__ = [
    "OfflineMetric",
    "make_offline_metric",
    "offline_metric_help",
    "offline_metrics",
]


class OfflineMetric(Parametrized):
    """An offline metric: ``kind`` says what it reads (see the module docstring).

    ``rating`` metrics implement :meth:`of_ratings`, ``ranking`` ones :meth:`of_ranking`,
    ``topn`` ones :meth:`of_batch` (one value per user of a batch of score rows) and, when
    per-user values are not what is averaged, :meth:`combine`.

    Parameters
    ----------
    k : the cut-off (≥ 1) or ``None`` (the whole ranking); a subclass sets its default
        in ``default_overrides``, one without a cut-off drops the parameter.
    """

    kind: ClassVar[str] = "topn"
    #: smaller is better (error metrics); grid search minimises them
    lower_is_better: ClassVar[bool] = False

    def __init__(self, k: Annotated[int | None, Interval(Integral, 1, None), None] = None) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    @property
    def name(self) -> str:
        """``registered`` or ``registered@k`` (the column name of results)."""
        base = self.spec.name
        k = getattr(self, "k", None)
        return base if k is None else f"{base}@{k}"

    def of_ratings(self, truth: np.ndarray, predicted: np.ndarray) -> float:
        raise NotImplementedError

    def of_ranking(self, users: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> float:
        raise NotImplementedError

    def of_batch(self, scores: np.ndarray, relevant: Any, exclude: Any) -> Any:
        raise NotImplementedError

    def combine(self, batches: list[Any], n_items: int) -> float:
        """One number from the :meth:`of_batch` results: the mean over users with a
        defined value (users without relevant items give NaN and are left out)."""
        values = np.concatenate(batches) if batches else np.array([])
        defined = values[~np.isnan(values)]
        return float(defined.mean()) if len(defined) else float("nan")


class _RatingError(OfflineMetric):
    kind = "rating"
    lower_is_better = True

    def __init__(self) -> None:
        pass  # no cut-off


class RMSE(_RatingError):
    """Root mean squared error of the predicted ratings (:func:`~recdyn.metrics.rmse`)."""

    def of_ratings(self, truth: np.ndarray, predicted: np.ndarray) -> float:
        return offline.rmse(truth, predicted)


class MAE(_RatingError):
    """Mean absolute error of the predicted ratings (:func:`~recdyn.metrics.mae`)."""

    def of_ratings(self, truth: np.ndarray, predicted: np.ndarray) -> float:
        return offline.mae(truth, predicted)


class RatingRankingNDCG(OfflineMetric):
    """The thesis's offline nDCG@k: each user's test items ranked by predicted rating,
    linear gain (:func:`~recdyn.metrics.ndcg_rating_ranking`)."""

    kind = "ranking"
    gain: ClassVar[str] = "linear"
    default_overrides: ClassVar[dict[str, Any]] = {"k": 20}

    def of_ranking(self, users: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> float:
        return offline.ndcg_rating_ranking(users, truth, predicted, self.k, self.gain)


class RatingRankingNDCGExp(RatingRankingNDCG):
    """As ``ndcg`` with exponential gain :math:`2^r - 1`."""

    gain = "exponential"


class _TopN(OfflineMetric):
    function: ClassVar[Any] = None
    default_overrides: ClassVar[dict[str, Any]] = {"k": 20}

    def of_batch(self, scores: np.ndarray, relevant: Any, exclude: Any) -> np.ndarray:
        return type(self).function(scores, relevant, self.k, exclude, per_user=True)


class TopNNDCG(_TopN):
    """Binary-relevance nDCG@k over the whole catalogue (:func:`~recdyn.metrics.ndcg_topn`)."""

    function = staticmethod(offline.ndcg_topn)


class Recall(_TopN):
    """Truncated recall@k (:func:`~recdyn.metrics.recall_at_k`)."""

    function = staticmethod(offline.recall_at_k)


class Precision(_TopN):
    """Precision@k (:func:`~recdyn.metrics.precision_at_k`)."""

    function = staticmethod(offline.precision_at_k)


class MAP(_TopN):
    """Mean average precision@k (:func:`~recdyn.metrics.map_at_k`)."""

    function = staticmethod(offline.map_at_k)


class MRR(_TopN):
    """Mean reciprocal rank, over the whole ranking or cut at k (:func:`~recdyn.metrics.mrr`)."""

    function = staticmethod(offline.mrr)
    default_overrides: ClassVar[dict[str, Any]] = {"k": None}


class Coverage(OfflineMetric):
    """Catalogue coverage of the top-k lists (:func:`~recdyn.metrics.catalogue_coverage`)."""

    default_overrides: ClassVar[dict[str, Any]] = {"k": 20}

    def of_batch(self, scores: np.ndarray, relevant: Any, exclude: Any) -> np.ndarray:
        key = np.where(_dense(exclude), -np.inf, scores)
        k = min(self.k, scores.shape[1])
        return np.argpartition(-key, k - 1, axis=1)[:, :k]

    def combine(self, batches: list[Any], n_items: int) -> float:
        return offline.catalogue_coverage(np.concatenate(batches), n_items)


class ExposureGini(Coverage):
    """Gini index of the exposure of every item in the top-k lists
    (:func:`~recdyn.metrics.beyond_accuracy.gini_index`, divided by ``n``)."""

    def combine(self, batches: list[Any], n_items: int) -> float:
        return beyond_accuracy.exposure_gini(np.concatenate(batches), n_items)


class ExposureEntropy(Coverage):
    """Entropy (nats) of the exposure of the items in the top-k lists
    (:func:`~recdyn.metrics.beyond_accuracy.exposure_entropy`)."""

    def combine(self, batches: list[Any], n_items: int) -> float:
        return beyond_accuracy.exposure_entropy(np.concatenate(batches), n_items)


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix, bool)


offline_metrics: Registry[OfflineMetric] = Registry("offline metric")

# the classes are in this module: each entry point is this module's path and the class name
for _name, _cls in {
    "rmse": RMSE,
    "mae": MAE,
    "ndcg": RatingRankingNDCG,
    "ndcg_exp": RatingRankingNDCGExp,
    "ndcg_topn": TopNNDCG,
    "recall": Recall,
    "precision": Precision,
    "map": MAP,
    "mrr": MRR,
    "coverage": Coverage,
    "exposure_gini": ExposureGini,
    "exposure_entropy": ExposureEntropy,
}.items():
    offline_metrics.register(_name, f"{__name__}:{_cls.__qualname__}")


def offline_metric_help() -> str:
    """The valid names, for messages: each registered name, ``@K`` where a cut-off applies."""
    parts = []
    for spec in offline_metrics:
        takes_k = "k" in spec.load().param_names()
        parts.append(f"{spec.name}@K" if takes_k and spec.name != "mrr" else spec.name)
    return ", ".join(parts) + " (mrr also as mrr@K)"


def make_offline_metric(name: str) -> OfflineMetric:
    """The metric named ``name``: a registered name, or ``name@K`` with a cut-off ``K ≥ 1``
    for metrics that take one (``"rmse"``, ``"ndcg@20"``, ``"mrr"``, ``"mrr@10"``)."""
    if isinstance(name, OfflineMetric):
        return name
    text = str(name).strip().lower()
    base, at, cut = text.partition("@")
    try:
        spec = offline_metrics.spec(base)
    except UnknownNameError:
        raise InvalidParameterError(
            f"unknown metric {name!r}; valid: {offline_metric_help()}"
        ) from None
    takes_k = "k" in spec.load().param_names()
    if not at:
        if takes_k and spec.load().param_defaults().get("k") is not None:
            raise InvalidParameterError(
                f"unknown metric {name!r} (it needs a cut-off, e.g. {base}@20); valid: "
                f"{offline_metric_help()}"
            )
        return offline_metrics.make(base)
    if not takes_k or not cut.isdigit() or int(cut) < 1:
        raise InvalidParameterError(f"unknown metric {name!r}; valid: {offline_metric_help()}")
    return offline_metrics.make(base, k=int(cut))
