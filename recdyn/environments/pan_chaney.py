r"""The benchmark world of the thesis's Table 3.1 (L2036–2113): Pan et al.'s variation of
Chaney, Stewart & Engelhardt's simulation, in which users pick one item a step, ten times
likelier among the top of a ranking than elsewhere."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval, Options
from recdyn.environments.base import Environment
from recdyn.environments.beta_rank import beta_prime
from recdyn.environments.categories import topic_names
from recdyn.interactions import Interactions

#: Smallest Dirichlet component kept (Dirichlet draws with concentrations ≪ 1 underflow).
_FLOOR = 1e-12
#: ``rating_map`` → the range of the reported ratings.
RATING_MAPS = {"reclab": (1.0, 5.0), "unit": (0.0, 1.0)}


class PanChaneyEnvironment(Environment):
    r"""Dirichlet topic mixtures, Beta′ ratings, and a choice among every item of a ranking.

    Generative model (thesis L2042–2098, "a variation of the simulated environment first
    proposed by Chaney, Stewart, and Engelhardt", after Pan et al. 2021 §6.3)
    ---------------------------------------------------------------------------------------
    * topics (L2066–2070): :math:`\mu_\theta \sim \mathrm{Dir}(a_\theta \mathbf 1_K)`,
      :math:`\theta_u \sim \mathrm{Dir}(c_\theta\,\mu_\theta)`;
      :math:`\mu_\beta \sim \mathrm{Dir}(a_\beta \mathbf 1_K)`,
      :math:`\beta_i \sim \mathrm{Dir}(c_\beta\,\mu_\beta)`, with :math:`a_\theta` =
      ``user_prior`` = 20 and :math:`a_\beta` = ``item_prior`` = 100 (the text's "Dir(20)",
      "Dir(100)", read as symmetric) and :math:`c_\theta = c_\beta = 1` (``user_concentration``,
      ``item_concentration``: the text's :math:`\theta_u \sim \mathrm{Dir}(\mu_\theta)`
      taken literally; RecLab's beta-rank uses 100 and 0.1). Components are floored at
      :math:`10^{-12}` and renormalised. ``state`` holds :math:`\theta, \beta`
      (``user_topics``, ``item_topics``) and :math:`\mu_\theta, \mu_\beta`
      (``user_topic_mean``, ``item_topic_mean``);
    * utility of a consumed item (L2044–2049): :math:`v \sim \mathrm{Beta}'(\theta_u^\top
      \beta_i)`, the Beta with that mean and variance :math:`\sigma^2` = ``rating_variance``
      = 0.01, by the moment match :math:`a = ((1-\mu)/\sigma^2 - 1/\mu)\,\mu^2`,
      :math:`b = a(1/\mu - 1)` (the text prints :math:`\mu` for :math:`\mu^2`; Chaney et
      al. and RecLab use :math:`\mu^2`). Where :math:`\sigma^2 \ge \mu(1-\mu)` no Beta has
      that variance and it is capped at :math:`0.999\,\mu(1-\mu)` (see
      :func:`~recdyn.environments.beta_rank.beta_prime`): with K = 19 about half the pairs;
    * item similarity (L2095–2098): :math:`S_{ij} \sim \mathrm{Beta}'(\beta_i^\top\beta_j)`,
      drawn once per ordered pair at reset (:math:`I^2` numbers), ``state["item_similarity"]``;
    * choice (L2074–2081): each online user consumes one item of the slate, item ``i``
      with probability proportional to 0 if the user already rated it, ``boost`` = 10 if
      :math:`\mathrm{rank}_t(u,i) \le` ``boost_depth`` = 100, and 1 otherwise. The rank is
      the slate position, or, when ``step`` is given ``scores``, one plus the number of
      slate items with a strictly higher score — so equal scores share the best rank, and
      all-equal scores (the benchmark's first step, before any history) make the choice
      uniform, as the text's "uniformly at random when t = 1". Only slate items can be
      chosen: the benchmark shows every item (:func:`~recdyn.environments.pan_chaney_split.
      pan_chaney_split` ranks them by the text's score). The probability of the chosen
      item times the user's arrival probability is the ``propensity`` column of what
      ``step`` returns: the exact probability that the world observed that pair at that
      step given the slate. (:func:`recdyn.simulate` logs its policy's propensities
      instead, which here are not the observation probabilities.)
    * rating (``rating_map``): ``"reclab"`` (default) :math:`\mathrm{clip}_{[1,5]}
      (\mathrm{round}(20 v + 1))`, or ``"unit"``: :math:`v \in [0, 1]` itself.
      ``true_ratings``: :math:`20\,\theta_u^\top\beta_i + 1` (``"unit"``:
      :math:`\theta_u^\top\beta_i`). No dynamics: preferences are fixed.

    **The rating scale** is not stated: L2048 gives Beta ratings in [0, 1], which cannot
    produce Table 3.1's MSE ≈ 2 (L2128; an MSE on [0, 1] is below 1). The default maps
    them as RecLab's beta-rank does (the same lab's code, recdyn's ``beta-rank``): with
    K = 19 the ratings of uniformly random pairs then have variance ≈ 1.8 (80 % are 1s),
    and predicting each pair's truth has MSE ≈ 0.5, which puts Table 3.1's 1.8–2.0 between
    a perfect and a constant predictor. ``"unit"`` keeps the text's [0, 1].

    **K** (``n_topics``) is not stated either: 19, RecLab's beta-rank dimension.

    Parameters
    ----------
    n_users, n_items : default 3,000 and 1,000 (L2072). users_per_step : default 3,000
        (every user picks one item each step, L2072). n_initial_ratings : default 0.
    n_topics : K ≥ 1, default 19. user_prior, item_prior : > 0, default 20 and 100.
    user_concentration, item_concentration : > 0, default 1.
    rating_variance : σ² in (0, 0.25), default 0.01 (ratings and similarities).
    boost : weight of the top-ranked items, > 0, default 10. boost_depth : ≥ 0, default 100.
    rating_map : ``"reclab"`` (default) or ``"unit"``.
    Other parameters: see :class:`~recdyn.environments.base.Environment`.
    """

    default_overrides: ClassVar[dict[str, Any]] = dict(
        n_users=3000, n_items=1000, users_per_step=3000, n_initial_ratings=0
    )

    def __init__(
        self,
        *,
        n_topics: Annotated[int, Interval(Integral, 1, None)] = 19,
        user_prior: Annotated[float, Interval(Real, 0, None, closed="neither")] = 20.0,
        item_prior: Annotated[float, Interval(Real, 0, None, closed="neither")] = 100.0,
        user_concentration: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0,
        item_concentration: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0,
        rating_variance: Annotated[float, Interval(Real, 0, 0.25, closed="neither")] = 0.01,
        boost: Annotated[float, Interval(Real, 0, None, closed="neither")] = 10.0,
        boost_depth: Annotated[int, Interval(Integral, 0, None)] = 100,
        rating_map: Annotated[str, Options(tuple(RATING_MAPS))] = "reclab",
        **inherited: Any,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    @property
    def rating_range(self) -> tuple[float, float]:  # type: ignore[override]
        """[1, 5] for ``rating_map="reclab"``, [0, 1] for ``"unit"``."""
        return RATING_MAPS[self.rating_map]

    def step(self, slates: Any, scores: Any = None) -> Interactions:
        """:meth:`Environment.step`, with the probability that each pair was observed (the
        user's arrival × the chosen item's choice probability) as ``propensity``."""
        arrival = self.online_probabilities()
        new = super().step(slates, scores)
        propensity = arrival[self._choice[0]] * self._choice[1]
        return Interactions(new.user, new.item, new.rating, new.step, propensity)

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        k = self.n_topics
        self._topic_means = (
            rng.dirichlet(np.full(k, self.user_prior)),
            rng.dirichlet(np.full(k, self.item_prior)),
        )
        mu_user, mu_item = self._topic_means
        self._user_topics = _dirichlet_rows(self.user_concentration * mu_user, self.n_users, rng)
        self._item_topics = _dirichlet_rows(self.item_concentration * mu_item, self.n_items, rng)
        sd = float(np.sqrt(self.rating_variance))
        self._similarity = beta_prime(self._item_topics @ self._item_topics.T, sd, rng)
        self._choice = (np.empty(0, np.int64), np.empty(0))

    def _item_categories(self) -> np.ndarray:
        """Each item's Dirichlet topic mixture (the world's ``item_topics``)."""
        return self._item_topics

    def _category_names(self) -> tuple[str, ...]:
        return topic_names(self.n_topics)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_topics": self._user_topics,
            "item_topics": self._item_topics,
            "user_topic_mean": self._topic_means[0],
            "item_topic_mean": self._topic_means[1],
            "item_similarity": self._similarity,
        }

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        mean = np.einsum("nk,nk->n", self._user_topics[users], self._item_topics[items])
        return self._scaled(mean)

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._scaled(self._user_topics[users] @ self._item_topics[items].T)

    def _observe(
        self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        mean = np.einsum("nk,nk->n", self._user_topics[users], self._item_topics[items])
        return self._rating(beta_prime(mean, float(np.sqrt(self.rating_variance)), rng))

    def _observe_matrix(self, rng: np.random.Generator) -> np.ndarray:
        mean = self._user_topics @ self._item_topics.T
        return self._rating(beta_prime(mean, float(np.sqrt(self.rating_variance)), rng))

    def _choose(
        self,
        users: np.ndarray,
        slates: np.ndarray,
        scores: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """One slate item per user, with probability ∝ 0 (rated) / ``boost`` (rank ≤
        ``boost_depth``) / 1 (otherwise); ``-1`` when every slate item is rated."""
        weight = choice_weights(
            slates.shape,
            scores,
            self._unavailable(users, slates),
            self.boost,
            self.boost_depth,
        )
        total = weight.sum(axis=1)
        cumulative = np.cumsum(weight, axis=1)
        draw = rng.random(len(users)) * total
        pos = np.minimum((cumulative <= draw[:, None]).sum(axis=1), slates.shape[1] - 1)
        rows = np.arange(len(users))
        ok = total > 0
        chosen = np.where(ok, slates[rows, pos], -1)
        self._choice = (rows[ok], weight[rows, pos][ok] / total[ok])
        return chosen

    # ------------------------------------------------------------------ helpers
    def _scaled(self, utility: np.ndarray) -> np.ndarray:
        return 20.0 * utility + 1.0 if self.rating_map == "reclab" else utility

    def _rating(self, utility: np.ndarray) -> np.ndarray:
        if self.rating_map == "unit":
            return utility
        return np.clip(np.round(self._scaled(utility)), *self.rating_range)


def choice_weights(
    shape: tuple[int, int],
    scores: np.ndarray | None,
    rated: np.ndarray,
    boost: float,
    depth: int,
) -> np.ndarray:
    """The choice weights ``[n, k]`` of slates of ``shape`` (thesis L2074–2081): 0 where
    ``rated``, ``boost`` where the rank is at most ``depth``, 1 elsewhere. The rank is the
    slate position without ``scores``; with them, one plus the number of strictly higher
    scores in the row (ties share the best rank), so a position is boosted exactly when
    its score reaches the row's ``depth``-th largest."""
    k = shape[1]
    if depth >= k:
        top = np.ones(shape, bool)
    elif depth == 0:
        top = np.zeros(shape, bool)
    elif scores is None:
        top = np.broadcast_to(np.arange(k) < depth, shape)
    else:
        threshold = -np.partition(-scores, depth - 1, axis=1)[:, depth - 1]
        top = scores >= threshold[:, None]
    return np.where(rated, 0.0, np.where(top, boost, 1.0))


def _dirichlet_rows(alpha: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of :math:`\\mathrm{Dir}(\\alpha)`, each component at least ``_FLOOR``."""
    p = np.maximum(np.nan_to_num(rng.dirichlet(alpha, n), nan=0.0), _FLOOR)
    return p / p.sum(axis=1, keepdims=True)
