"""Topics environments (thesis §2.3; RecLab ``topics.py``): static, dynamic, satiation,
sensitization."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval, Options, Pair
from recdyn.environments.base import Environment
from recdyn.environments.categories import topic_names
from recdyn.environments.memory import SlateMemory
from recdyn.errors import InvalidParameterError


class TopicsEnvironment(Environment):
    r"""Items belong to one of ``K`` topics; users have a preference for each topic.

    Generative model (Krauth 2022, thesis §2.3; RecLab ``Topics``)
    ---------------------------------------------------------------
    * topic of item ``i``: :math:`k_i \sim \mathrm{Unif}\{0..K-1\}`
    * preference: :math:`\pi(u, k) \sim \mathrm{Unif}(0.5, 5.5)`
    * rating when ``u`` is shown ``i`` (top-1: the user consumes the first slate item)

      .. math::
         r_t(u,i) = \mathrm{clip}_{[1,5]}\big(\pi_t(u,k_i) - f\,S_t(u,k_i)
                    - \lambda\,\mathbb 1\{c_t(u,k_i) > \tau\} + \epsilon\big),
         \quad \epsilon \sim \mathcal N(0, \sigma^2)

      where :math:`c_t(u,k)` counts the items of topic ``k`` in the last ``m`` slates shown
      to ``u`` (boredom: memory ``m``, threshold ``τ``, penalty ``λ``).
    * affinity drift after ``u`` consumes ``i`` (``a`` = ``affinity_change``):
      :math:`\pi(u,k_i) \leftarrow \mathrm{clip}(\pi(u,k_i) + a)`,
      :math:`\pi(u,k') \leftarrow \mathrm{clip}(\pi(u,k') - a/(K-1))` for :math:`k' \ne k_i`.
    * satiation (RecLab 2022): :math:`S(u) \leftarrow \gamma \odot (S(u) + e_{k_i})
      + \sigma_s\,\mathcal N(0, I_K)` after each consumption, ``f`` = ``satiation_factor``.
    * sensitization (RecLab 2022, after Leqi et al.): each (user, topic) is *sensitized* (0)
      or *bored* (1); :math:`\gamma = ` ``satiation_decay[state]``; after each consumption
      every topic of the user switches state with probability ``switch_probability[state]``.

    Choices where RecLab's code and the thesis disagree (the thesis is followed by default;
    ``reclab_compat=True`` reads the code): preferences are clipped to [1, 5] after each
    drift update (``drift_rule="reclab"``: RecLab never clipped and moved a preference only
    while it was ≤ 5); no dynamics run while the initial data are generated
    (``initial_dynamics=True``: RecLab's ``reset`` drifted preferences with every initial
    rating, which pushes the topics with most items up before the first recommendation).
    Boredom fires when a topic was seen *more than* ``τ`` times (thesis prose and RecLab
    code; the thesis's displayed equation says "≥"). The satiation term is subtracted in
    both the observed and the true ratings (RecLab added it in ``dense_ratings``).

    Parameters
    ----------
    n_topics : K, default 19.
    noise : σ, standard deviation of the rating noise, default 0.5.
    affinity_change : a, default 0 (0.1 in ``topics-dynamic-v1``).
    memory_length, boredom_threshold, boredom_penalty : m, τ, λ; default 0.
    satiation_factor, satiation_decay, satiation_noise : f, γ, σ_s; default 0. ``satiation_decay``
        may be a pair (γ sensitized, γ bored).
    switch_probability : (P(sensitized → bored), P(bored → sensitized)), default (0, 0).
    preference_range : the Unif range of initial preferences, default (0.5, 5.5).
    drift_rule : ``"thesis"`` (clip to [1, 5] after each drift) or ``"reclab"`` (RecLab's
        code: drift only while the consumed topic's preference is ≤ 5, never clipped).
    Other parameters: see :class:`~recdyn.environments.base.Environment`
    (defaults 1000 users, 1700 items, 200 users per step, 100,000 initial ratings).
    """

    def __init__(
        self,
        *,
        n_topics: Annotated[int, Interval(Integral, 1, None)] = 19,
        noise: Annotated[float, Interval(Real, 0, None)] = 0.5,
        affinity_change: Annotated[float, Interval(Real, 0, 4)] = 0.0,
        memory_length: Annotated[int, Interval(Integral, 0, None)] = 0,
        boredom_threshold: Annotated[int, Interval(Integral, 0, None)] = 0,
        boredom_penalty: Annotated[float, Interval(Real, 0, None)] = 0.0,
        satiation_factor: Annotated[float, Interval(Real, 0, None)] = 0.0,
        satiation_decay: Annotated[float | tuple[float, float], Pair(0, 1)] = 0.0,
        satiation_noise: Annotated[float, Interval(Real, 0, None)] = 0.0,
        switch_probability: Annotated[tuple[float, float], Pair(0, 1)] = (0.0, 0.0),
        preference_range: Annotated[tuple[float, float], Pair(-100, 100)] = (0.5, 5.5),
        drift_rule: Annotated[str, Options(("thesis", "reclab"))] = "thesis",
        **inherited: Any,
    ) -> None:
        lo, hi = self.preference_range
        if lo > hi:
            raise InvalidParameterError(
                f"preference_range must be (low, high) with low <= high, got {preference_range!r}"
            )
        if self.n_topics < 2 and self.affinity_change:
            raise InvalidParameterError(
                f"affinity_change={affinity_change!r} needs n_topics >= 2 (drift moves "
                "preference away from the other topics); got n_topics=1"
            )

    def _check_params(self) -> None:
        super()._check_params()
        if self.reclab_compat:
            self.drift_rule = "reclab"

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        lo, hi = self.preference_range
        self._topic = rng.integers(self.n_topics, size=self.n_items)
        self._pref = rng.uniform(lo, hi, size=(self.n_users, self.n_topics))
        self._satiation = np.zeros((self.n_users, self.n_topics))
        self._bored = np.zeros((self.n_users, self.n_topics), np.int8)
        self._memory = SlateMemory(self.n_users, self.memory_length) if self.memory_length else None
        self._topic_count = np.zeros((self.n_users, self.n_topics), np.int32)
        self._items_per_topic = np.bincount(self._topic, minlength=self.n_topics)
        self._rated_per_topic = np.zeros((self.n_users, self.n_topics), np.int32)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "item_topic": self._topic,
            "preference": self._pref,
            "satiation": self._satiation,
            "bored": self._bored,
            "recent_topic_count": self._topic_count,
        }

    def _item_categories(self) -> np.ndarray:
        """The one-hot of each item's topic."""
        return np.eye(self.n_topics)[self._topic]

    def _category_names(self) -> tuple[str, ...]:
        return topic_names(self.n_topics)

    pairs_match_matrix = True  # both index the same per-topic values

    def _true_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        cell = users * self.n_topics + self._topic[items]  # flat index: 3x a 2-D gather
        r = self._pref.ravel()[cell]
        if self.satiation_factor:
            r = r - self.satiation_factor * self._satiation.ravel()[cell]
        if self.boredom_penalty and self._memory is not None:
            bored = self._topic_count.ravel()[cell] > self.boredom_threshold
            r = r - self.boredom_penalty * bored
        return r

    def _true_matrix(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._per_topic(users)[:, self._topic[items]]

    def _per_topic(self, users: np.ndarray) -> np.ndarray:
        """Noise-free rating of an item of each topic, ``[len(users), K]`` float64."""
        per_topic = self._pref[users]
        if self.satiation_factor:
            per_topic = per_topic - self.satiation_factor * self._satiation[users]
        if self.boredom_penalty and self._memory is not None:
            bored = self._topic_count[users] > self.boredom_threshold
            per_topic = per_topic - self.boredom_penalty * bored
        return per_topic

    def _best_true(self, users: np.ndarray, exclude_rated: bool) -> np.ndarray | None:
        """The best topic that still has an item the user may be shown: O(users × K)."""
        if exclude_rated:
            has = self._rated_per_topic[users] < self._items_per_topic
        else:
            has = np.broadcast_to(self._items_per_topic > 0, (len(users), self.n_topics))
        if not has.any(axis=1).all():
            return None
        return np.where(has, self._per_topic(users), -np.inf).max(axis=1)

    def _mark_rated(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        new = super()._mark_rated(users, items)
        cells = users[new] * self.n_topics + self._topic[items[new]]
        counts = self._rated_per_topic.reshape(-1)
        if len(cells) * 16 >= counts.size:
            counts += np.bincount(cells, minlength=counts.size).astype(counts.dtype)
        else:
            np.add.at(counts, cells, 1)
        return new

    def _update(self, users: np.ndarray, items: np.ndarray, slates: np.ndarray) -> None:
        if self._memory is not None:
            self._remember(users, slates)
        super()._update(users, items, slates)

    def _consume(self, users: np.ndarray, items: np.ndarray, rng: np.random.Generator) -> None:
        u, k = users, self._topic[items]
        if self.affinity_change and len(u):
            self._drift(u, k)
        if self.satiation_factor and len(u):
            self._satiate(u, k, rng)

    # ------------------------------------------------------------------ dynamics
    def _remember(self, users: np.ndarray, slates: np.ndarray) -> None:
        evicted = self._memory.push(users, slates)
        self._count_topics(users, evicted, -1)
        self._count_topics(users, slates, +1)

    def _count_topics(self, users: np.ndarray, slates: np.ndarray, sign: int) -> None:
        valid = slates >= 0
        if not valid.any():
            return
        rows = np.broadcast_to(users[:, None], slates.shape)[valid]
        np.add.at(self._topic_count, (rows, self._topic[slates[valid]]), sign)

    def _drift(self, u: np.ndarray, k: np.ndarray) -> None:
        """Preference drift towards the consumed topic ``k`` (``drift_rule``: the thesis
        clips to the rating range; RecLab moved a user only while the topic's preference was
        ≤ 5 and never clipped)."""
        a = self.affinity_change
        others = a / (self.n_topics - 1)
        if self.drift_rule == "reclab":
            moving = self._pref[u, k] <= 5.0
            u, k = u[moving], k[moving]
        rows = self._pref[u] - others
        rows[np.arange(len(u)), k] += a + others
        self._pref[u] = np.clip(rows, *self.rating_range) if self.drift_rule == "thesis" else rows

    def _satiate(self, u: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> None:
        decay = np.asarray(self.satiation_decay)[self._bored[u]]
        s = self._satiation[u]
        s[np.arange(len(u)), k] += 1.0
        s *= decay
        if self.satiation_noise:
            s += self.satiation_noise * rng.standard_normal(s.shape)
        self._satiation[u] = s
        p_switch = np.asarray(self.switch_probability)[self._bored[u]]
        if p_switch.any():
            flip = rng.random(p_switch.shape) < p_switch
            self._bored[u] = self._bored[u] ^ flip.astype(np.int8)
