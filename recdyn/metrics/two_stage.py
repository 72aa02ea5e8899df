"""The two-stage regret split in rating worlds (thesis ch. 4's identity R = R^N + R^R,
L2370–2380) as online metrics: ``nominator_regret`` and ``ranker_regret`` of a
:class:`~recdyn.recommenders.two_stage.TwoStageRecommender` in the loop."""

from __future__ import annotations

import numpy as np

from recdyn._arrays import push_down
from recdyn.metrics.online import OnlineMetric, StepContext
from recdyn.recommenders.two_stage import TwoStageRecommender

__all__ = ["NominatorRegret", "RankerRegret", "regret_split"]


def regret_split(ctx: StepContext) -> tuple[float, float]:
    r"""The thesis's two-stage regret identity (L2370–2380) at one step of a rating world:
    for each consumed recommendation :math:`(u, i)`,

    .. math:: \underbrace{\max_{j \notin R_u}\mu_{uj} - \max_{j \in C_u \setminus R_u}
        \mu_{uj}}_{R^N} \;+\; \underbrace{\max_{j \in C_u \setminus R_u}\mu_{uj} -
        \mu_{ui}}_{R^R} \;=\; \text{regret}

    with :math:`\mu` the noise-free ratings before the step, :math:`R_u` the items rated
    before (empty where rated items may be shown again) and :math:`C_u` the candidates of
    the recommender's last ``score`` (recomputed by :meth:`TwoStageRecommender.candidates`
    when another ``score`` came in between). A user left with no unrated candidate had
    nothing to rank: the whole regret is the nominators' (:math:`R^R = 0`). ``(R^N, R^R)``
    averaged over the consumed recommendations; NaN for a step without ratings or a
    recommender without candidates."""
    rec = ctx.recommender
    if not len(ctx.new) or not isinstance(rec, TwoStageRecommender) or ctx.truth is None:
        return np.nan, np.nan
    last = rec.last_candidates_
    if last is not None and np.array_equal(last[0], ctx.users):
        cand = last[1]
    else:
        cand = rec.candidates(ctx.users)
    truth = ctx.truth
    cand = cand[:, : truth.shape[1]]
    if ctx.exclude_rated and ctx.rated_before is not None:
        excluded = ctx.rated_before
    else:
        excluded = np.zeros(truth.shape, bool)
    row = np.searchsorted(ctx.users, ctx.new.user)
    best = push_down(truth, excluded).max(axis=1)[row]
    nominated = cand & ~excluded
    best_nominated = push_down(truth, ~nominated).max(axis=1)[row]
    got = truth[row, ctx.new.item].astype(np.float64)
    best_nominated = np.where(nominated.any(axis=1)[row], best_nominated, got)
    return float(np.mean(best - best_nominated)), float(np.mean(best_nominated - got))


class NominatorRegret(OnlineMetric):
    r"""The nominators' share :math:`R^N` of a two-stage recommender's regret (the best
    item's true rating minus the best unrated candidate's; see :func:`regret_split`); NaN
    for other recommenders. ``NominatorRegret() + RankerRegret()`` = ``regret``."""

    needs = frozenset({"truth", "rated_before", "recommender"})

    def value(self, ctx: StepContext) -> float:
        return regret_split(ctx)[0]


class RankerRegret(OnlineMetric):
    r"""The ranker's share :math:`R^R` of a two-stage recommender's regret (the best
    unrated candidate's true rating minus the consumed item's; see :func:`regret_split`);
    NaN for other recommenders."""

    needs = frozenset({"truth", "rated_before", "recommender"})

    def value(self, ctx: StepContext) -> float:
        return regret_split(ctx)[1]
