r"""Beyond-accuracy metrics inside the loop (issue 21): the formulas of
:mod:`recdyn.metrics.beyond_accuracy` measured at every step of a run.

* **Exposure** (``coverage``, ``exposure_gini``, ``exposure_entropy``) is cumulative over
  the run so far: :math:`e_i` counts every slate position that showed item ``i`` at any
  step up to this one (empty slots are not items); coverage is the share of the current
  catalogue ever shown, the Gini index and the entropy are those of :math:`e` over the
  current catalogue (NaN before anything was shown).
* **Popularity** (``arp``, ``aplt``, ``popularity_lift``): :math:`pop(i)` is the number of
  users who had rated item ``i`` before the step — the number of its ratings in the log
  in a world without repeat consumption, and Abdollahpouri et al.'s :math:`\phi(i)`
  times the number of users. It is read once from the world's rated pairs (at the first
  step a metric sees) and then kept up to date from each step's new pairs, so a step
  costs :math:`O(n_{items})`. ARP and APLT average over the step's online users;
  popularity lift groups the step's online users by the share of popular items in their
  history (the items they had rated before the step) and reports one group (``group``).
* **Categories** (``ild``, ``miscalibration``) read ``environment.item_categories()``; in
  a world without categories they raise :class:`~recdyn.errors.InvalidParameterError`
  naming the metric. ILD is that of the step's slates; miscalibration compares each
  online user's slate with the categories of the items they had rated before the step
  (per-user category sums kept up to date like the popularity).

A metric keeps its state across the steps of a run (``simulate`` runs a clone per run);
a step evaluated again (the same ``ctx.step``) gives the same value.
"""

from __future__ import annotations

from numbers import Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval, Options
from recdyn.errors import InvalidParameterError
from recdyn.metrics import beyond_accuracy as ba
from recdyn.metrics.online import OnlineMetric, StepContext

__all__ = [
    "APLT",
    "ARP",
    "Coverage",
    "ExposureEntropy",
    "ExposureGini",
    "IntraListDiversity",
    "Miscalibration",
    "PopularityLift",
]

#: Where the checker measures the metrics that need item categories.
_TOPICS_WORLD = ("topics-static-v1", {"n_initial_ratings": 250})
_WITH_CATEGORIES = (
    "the topics worlds (topics-*), beta-rank-*, pan-chaney-v1 and the dataset-fitted "
    "worlds (ml100k-v1, ml-latest-small-v1, lastfm-2k-v1)"
)


def _pad(values: np.ndarray, n: int) -> np.ndarray:
    """``values`` with zero rows appended up to length ``n`` (items that arrived)."""
    if len(values) >= n:
        return values
    return np.concatenate([values, np.zeros((n - len(values), *values.shape[1:]))])


class _Exposure(OnlineMetric):
    """Cumulative exposure of every item over the run so far (one contribution per step:
    a step recorded again replaces its own)."""

    def __init__(self) -> None:
        self._total = np.zeros(0)
        self._step: int | None = None
        self._last = np.zeros(0)

    def _exposure(self, ctx: StepContext) -> np.ndarray:
        n = max(ctx.n_items, len(self._total))
        s = ctx.slates
        shown = np.bincount(s[s >= 0], minlength=n).astype(np.float64)
        if self._step is not None and ctx.step < self._step:  # a new run: start afresh
            self._total, self._step, self._last = np.zeros(0), None, np.zeros(0)
        total = _pad(self._total, n)
        if ctx.step == self._step:
            total = total - _pad(self._last, n)
        self._total, self._last, self._step = total + shown, shown, ctx.step
        return self._total[: ctx.n_items] if ctx.n_items else self._total


class Coverage(_Exposure):
    """Catalogue coverage so far: the share of items shown at least once in the run
    (:math:`|\\{i : e_i > 0\\}| / n_{items}`; Herlocker et al. 2004, Ge et al. 2010)."""

    def value(self, ctx: StepContext) -> float:
        e = self._exposure(ctx)
        return float(np.count_nonzero(e) / len(e)) if len(e) else float("nan")


class ExposureGini(_Exposure):
    """Gini index of the cumulative exposure of every item
    (:func:`~recdyn.metrics.beyond_accuracy.gini_index`: divided by ``n``, in
    ``[0, 1 - 1/n]``)."""

    def value(self, ctx: StepContext) -> float:
        return ba.gini_index(self._exposure(ctx))


class ExposureEntropy(_Exposure):
    """Shannon entropy (nats) of the cumulative exposure shares
    (:func:`~recdyn.metrics.beyond_accuracy.entropy_index`; ``exp`` of it is the
    effective catalogue size)."""

    def value(self, ctx: StepContext) -> float:
        return ba.entropy_index(self._exposure(ctx))


class _History:
    """What users had rated before the step, kept up to date step by step: the number of
    raters of each item and (``categories``) each user's sum of :math:`p(g \\mid i)` over
    the items they rated. At the first step seen (or after a gap) it is read from the
    world's rated pairs, minus the pairs first rated at this step."""

    def __init__(self) -> None:
        self.step: int | None = None
        self.popularity = np.zeros(0)
        self.sums: np.ndarray | None = None
        self._new = (np.zeros(0, np.int64), np.zeros(0, np.int64))

    def update(self, ctx: StepContext, categories: np.ndarray | None = None) -> None:
        if ctx.step == self.step:
            return
        rows = np.searchsorted(ctx.users, ctx.new.user)
        fresh = ~ctx.rated_before[rows, ctx.new.item] if len(ctx.new) else np.zeros(0, bool)
        new = (ctx.new.user[fresh].astype(np.int64), ctx.new.item[fresh].astype(np.int64))
        n = ctx.n_items
        if self.step is not None and ctx.step == self.step + 1:
            users, items = self._new
            self.popularity = _pad(self.popularity, n) + np.bincount(items, minlength=n)
            if categories is not None:
                np.add.at(self.sums, users, categories[items])
        else:
            env = ctx.environment
            rated = env.rated_mask(np.arange(env.n_users))
            counts = rated.sum(axis=0) - np.bincount(new[1], minlength=n)
            self.popularity = np.maximum(counts, 0).astype(np.float64)
            if categories is not None:
                sums = rated.astype(np.float64) @ categories
                np.subtract.at(sums, new[0], categories[new[1]])
                self.sums = np.maximum(sums, 0.0)
        self.step, self._new = ctx.step, new


class _Popularity(OnlineMetric):
    needs: ClassVar[frozenset[str]] = frozenset({"rated_before", "environment"})

    def __init__(self) -> None:
        self._history = _History()

    def _popularity(self, ctx: StepContext) -> np.ndarray:
        self._history.update(ctx)
        return self._history.popularity


class ARP(_Popularity):
    """Average recommendation popularity of the step's slates
    (:func:`~recdyn.metrics.beyond_accuracy.arp`; Abdollahpouri et al. 2019), popularity =
    the number of users who had rated the item before the step."""

    def value(self, ctx: StepContext) -> float:
        return float(ba.arp(ctx.slates, self._popularity(ctx)))


class APLT(_Popularity):
    """Average share of long-tail items in the step's slates
    (:func:`~recdyn.metrics.beyond_accuracy.aplt`; the head carries ``head_share`` of the
    ratings before the step)."""

    def __init__(
        self, *, head_share: Annotated[float, Interval(Real, 0, 1, closed="neither")] = 0.2
    ) -> None:
        super().__init__()

    def value(self, ctx: StepContext) -> float:
        return float(ba.aplt(ctx.slates, self._popularity(ctx), head_share=self.head_share))


class PopularityLift(_Popularity):
    """Popularity lift :math:`(GAP_r - GAP_p)/GAP_p` of one user group among the step's
    online users (:func:`~recdyn.metrics.beyond_accuracy.popularity_lift`; Abdollahpouri
    et al. 2019): ``group`` ``"all"`` (every online user), ``"niche"``, ``"diverse"`` or
    ``"blockbuster"`` (bottom / middle / top ``group_share`` of the online users by the
    share of the top ``popular_share`` items in their history, the items they had rated
    before the step)."""

    def __init__(
        self,
        *,
        group: Annotated[str, Options(("all", *ba.GROUPS))] = "all",
        popular_share: Annotated[float, Interval(Real, 0, 1, closed="neither")] = 0.2,
        group_share: Annotated[float, Interval(Real, 0, 0.5, closed="neither")] = 0.2,
    ) -> None:
        super().__init__()

    def value(self, ctx: StepContext) -> float:
        pop = self._popularity(ctx)
        popular = ba.popular_items(pop, share=self.popular_share)
        # float32 (exact for counts below 2**24): three products, faster than one [n, 3]
        rated = ctx.rated_before.astype(np.float32)
        n = rated.shape[1]
        weights = (np.ones(n), popular[:n], pop[:n])
        size, n_popular, total = ((rated @ w.astype(np.float32)).astype(float) for w in weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(size > 0, n_popular / size, np.nan)
            history = np.where(size > 0, total / size, np.nan)
        lists = ba.arp(ctx.slates, pop, per_user=True)
        lift = ba.popularity_lift_of(share, history, lists, group_share=self.group_share)
        return lift[self.group]


class _Categorised(OnlineMetric):
    checker_world: ClassVar[tuple[str, dict[str, Any]] | None] = _TOPICS_WORLD

    def _categories(self, ctx: StepContext) -> np.ndarray:
        env = ctx.environment
        categories = env.item_categories()
        if categories is None:
            spec = getattr(self, "spec", None)
            name = spec.name if spec is not None else type(self).__name__
            world = getattr(getattr(env, "spec", None), "name", type(env).__name__)
            raise InvalidParameterError(
                f"metrics: {name!r} needs item categories, but world {world!r} has none "
                f"(item_categories() is None); worlds with categories: {_WITH_CATEGORIES}"
            )
        return categories


class IntraListDiversity(_Categorised):
    """Intra-list diversity of the step's slates: the mean over each slate's item pairs of
    1 − the cosine of the items' category vectors ``environment.item_categories()``
    (:func:`~recdyn.metrics.beyond_accuracy.intra_list_diversity`), averaged over the
    online users with at least two shown items (NaN for slates of one item)."""

    needs: ClassVar[frozenset[str]] = frozenset({"environment"})

    def value(self, ctx: StepContext) -> float:
        return float(ba.intra_list_diversity(ctx.slates, self._categories(ctx)))


class Miscalibration(_Categorised):
    r"""Steck's miscalibration :math:`C_{KL}(p \| \tilde q)` of the step's slates,
    averaged over the online users (:func:`~recdyn.metrics.beyond_accuracy.
    miscalibration`, :math:`\tilde q = (1 - \alpha) q + \alpha p`): :math:`p(g \mid u)`
    from the categories of the items the user had rated before the step, :math:`q(g \mid
    u)` from the slate (uniform weights). Users whose history has no categorised item are
    left out."""

    needs: ClassVar[frozenset[str]] = frozenset({"rated_before", "environment"})

    def __init__(
        self, *, alpha: Annotated[float, Interval(Real, 0, 1, closed="neither")] = 0.01
    ) -> None:
        self._history = _History()

    def value(self, ctx: StepContext) -> float:
        categories = self._categories(ctx)
        self._history.update(ctx, categories)
        p = self._history.sums[ctx.users]
        total = p.sum(axis=1, keepdims=True)
        p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
        q = ba.list_distribution(ctx.slates, categories)
        kl = ba.calibration_kl(p, q, alpha=self.alpha)
        defined = kl[~np.isnan(kl)]
        return float(defined.mean()) if len(defined) else float("nan")
