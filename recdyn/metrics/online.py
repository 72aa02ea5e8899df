"""Online metrics, computed inside the simulation loop from what it already holds.

Each metric maps a :class:`StepContext` to one number per step. Register new ones with
``online_metrics.register(name, "module:Class")`` (a subclass of :class:`OnlineMetric`);
``simulate(metrics=…)`` takes their names or instances.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from recdyn.interactions import Interactions
from recdyn.params import Parametrized
from recdyn.registry import Registry


@dataclass
class StepContext:
    """What the loop knows after one step.

    users : online users of the step; slates : ``[n_users, k]`` shown items;
    new : the ratings received; truth : noise-free ratings ``[n_users, n_items]`` *before*
    the step (only when a metric needs it); rated_before : bool ``[n_users, n_items]`` of
    items already rated before the step; predictions : the recommender's predicted rating
    of each new rating's item (``None`` if it does not predict ratings); environment,
    recommender : the world and the model of the run, *to read only* (their public
    methods: ``true_ratings``, ``rated_mask``, ``score`` …; at the end of the step, before
    retraining), for metrics that look beyond the online users; seed : the run's root seed,
    from which a metric that samples derives a named stream (:mod:`recdyn.seeding`);
    probabilities : the policy's first-slot distribution of the step, float ``[n_users,
    n_items]`` (``policy.probabilities(scores, exclude)``; ``None`` where the policy cannot
    say), for metrics of what the policy *would* show (seed 004's RD and RR);
    exclude_rated : whether the policy was barred from items the user had rated (``False``
    in worlds with repeat consumption), so that a comparison with the best choice obeys
    the same rule; best_truth, shown_truth : float32 ``[n_users]`` and ``[n_users, k]``
    — the noise-free rating before the step of each user's best allowed item (not rated,
    where ``exclude_rated``) and of each shown item (NaN at an empty slot), from
    :meth:`~recdyn.environments.base.Environment.truth_of_step`: what regret reads
    instead of the dense ``truth`` (O(users × slate) memory at any world size).
    """

    step: int
    users: np.ndarray
    slates: np.ndarray
    new: Interactions
    truth: np.ndarray | None = None
    rated_before: np.ndarray | None = None
    predictions: np.ndarray | None = None
    n_items: int = 0
    environment: Any = None
    recommender: Any = None
    seed: Any = None
    probabilities: np.ndarray | None = None
    exclude_rated: bool = True
    best_truth: np.ndarray | None = None
    shown_truth: np.ndarray | None = None


class OnlineMetric(Parametrized):
    """A per-step metric: ``value(ctx)`` maps a :class:`StepContext` to one number.

    ``needs`` lists the context fields beyond the basic ones that it reads (``truth``,
    ``best_truth``, ``shown_truth``, ``rated_before``, ``predictions``, ``environment``,
    ``recommender``, ``probabilities``: the loop fills them only when a metric needs
    them). ``checker_world`` names the world :func:`~recdyn.metrics.check_online_metric`
    measures a metric in, for a metric not
    defined in every world (a preset name and parameters; ``None``: a small
    ``latent-static-v1``). ``simulate`` runs a clone of each metric, so a metric
    may keep state across the steps of one run. Subclass it and register the class
    (``online_metrics.register("name", "module:Class")``); :func:`metric_class` makes one
    from a function ``fn(ctx) -> float``.
    """

    needs: ClassVar[frozenset[str]] = frozenset()
    checker_world: ClassVar[tuple[str, dict[str, Any]] | None] = None

    @property
    def name(self) -> str:
        """The registered name (the column name of results)."""
        return self.spec.name

    @property
    def doc(self) -> str:
        return (inspect.getdoc(type(self)) or "").strip()

    def value(self, ctx: StepContext) -> float:
        raise NotImplementedError

    def needs_at(self, step: int) -> frozenset[str]:
        """The fields of ``needs`` this metric reads at ``step`` (default: all of them at
        every step); a metric measured every few steps needs none in between, so the loop
        skips computing them (the truth and the policy's distribution are the costly ones)."""
        return self.needs

    def __call__(self, ctx: StepContext) -> float:
        return float(self.value(ctx))


def mean_rating(ctx: StepContext) -> float:
    r"""Mean observed rating of the consumed recommendations (thesis §2.6):
    :math:`\frac{1}{|N_t|}\sum_{(u,i)\in N_t} r_{ui}`."""
    return float(ctx.new.rating.mean()) if len(ctx.new) else np.nan


def regret(ctx: StepContext) -> float:
    r"""Mean instantaneous regret against the oracle's pick:
    :math:`\frac{1}{|N_t|}\sum_{(u,i)\in N_t}\big(\max_{j \notin R_u} \mu_{uj} - \mu_{ui}\big)`,
    with :math:`\mu` the noise-free ratings before the step and :math:`R_u` the items ``u``
    had already rated (the oracle obeys the same no-repeat rule as the policy: :math:`R_u =
    \emptyset` where rated items may be shown again, ``ctx.exclude_rated`` false). Reads
    ``ctx.best_truth`` and ``ctx.shown_truth``: no dense ``[users × items]`` truth."""
    if not len(ctx.new):
        return np.nan
    row = np.searchsorted(ctx.users, ctx.new.user)
    slot = np.argmax(ctx.slates[row] == ctx.new.item[:, None], axis=1)
    got = ctx.shown_truth[row, slot]
    return float(np.mean(ctx.best_truth[row] - got))


def rmse(ctx: StepContext) -> float:
    r"""RMSE of the recommender's predictions on the consumed recommendations:
    :math:`\sqrt{\frac{1}{|N_t|}\sum (\hat r_{ui} - r_{ui})^2}` (observed ratings, as in
    RecLab's plotting code). NaN for models that do not predict ratings."""
    if ctx.predictions is None or not len(ctx.new):
        return np.nan
    return float(np.sqrt(np.mean((ctx.predictions - ctx.new.rating) ** 2)))


def distinct_items(ctx: StepContext) -> float:
    """Number of distinct items shown in the step (all slate positions; an empty slot,
    ``-1``, is not an item)."""
    shown = np.unique(ctx.slates)
    return float(np.count_nonzero(shown >= 0))


def n_ratings(ctx: StepContext) -> float:
    """Number of ratings received in the step."""
    return float(len(ctx.new))


online_metrics: Registry[OnlineMetric] = Registry("online metric")


def metric_class(fn: Any, *needs: str) -> type[OnlineMetric]:
    """An :class:`OnlineMetric` class computing ``fn(ctx)`` (its docstring is ``fn``'s)."""
    name = "".join(part.title() for part in fn.__name__.split("_"))
    return type(
        name,
        (OnlineMetric,),
        {
            "__doc__": fn.__doc__,
            "__module__": __name__,
            "__qualname__": name,
            "needs": frozenset(needs),
            "value": staticmethod(fn),
        },
    )


MeanRating = metric_class(mean_rating)
Regret = metric_class(regret, "best_truth", "shown_truth")
RMSE = metric_class(rmse, "predictions")
DistinctItems = metric_class(distinct_items)
NRatings = metric_class(n_ratings)

for _name, _cls in {
    "mean_rating": "MeanRating",
    "regret": "Regret",
    "rmse": "RMSE",
    "distinct_items": "DistinctItems",
    "n_ratings": "NRatings",
}.items():
    online_metrics.register(_name, f"{__name__}:{_cls}")
online_metrics.register("homogenization", "recdyn.metrics.homogenization:Homogenization")
online_metrics.register(
    "homogenization_cumulative",
    "recdyn.metrics.homogenization:Homogenization",
    sets="cumulative",
)
for _name, _cls in {
    "creator_diversity": "CreatorDiversity",
    "polarization": "Polarization",
    "recommendation_diversity": "RecommendationDiversity",
    "recommendation_relevance": "RecommendationRelevance",
    "creator_clusters": "CreatorClusters",
}.items():
    online_metrics.register(_name, f"recdyn.metrics.polarization:{_cls}")
online_metrics.register("nominator_regret", "recdyn.metrics.two_stage:NominatorRegret")
for _name, _cls in {
    "coverage": "Coverage",
    "exposure_gini": "ExposureGini",
    "exposure_entropy": "ExposureEntropy",
    "arp": "ARP",
    "aplt": "APLT",
    "popularity_lift": "PopularityLift",
    "ild": "IntraListDiversity",
    "miscalibration": "Miscalibration",
}.items():  # issue 21: beyond-accuracy metrics
    online_metrics.register(_name, f"recdyn.metrics.beyond_online:{_cls}")
online_metrics.register("ranker_regret", "recdyn.metrics.two_stage:RankerRegret")

DEFAULT_METRICS = ("mean_rating", "regret", "rmse")


def resolve(metrics: Any) -> list[OnlineMetric]:
    """Metric objects for a sequence of names or :class:`OnlineMetric` instances."""
    if isinstance(metrics, str):
        metrics = (metrics,)
    return [m if isinstance(m, OnlineMetric) else online_metrics.make(m) for m in metrics]
