r"""Re-rankers for competing objectives (seeds 000–001): calibration, MMR diversity and a
popularity penalty, composed with any policy and any recommender.

A re-ranker re-orders each user's candidate pool — the ``pool`` best-scored items, the
excluded ones last — greedily by a list objective, for its first ``depth`` positions (the
rest of the pool keeps its score order), then hands the *re-ordered scores* to its
``base_policy``: the pool's own scores, sorted, are given to the items in their new order
(made strictly decreasing by a few ulps), so items outside the pool and the base policy's
sense of scale are unchanged. ``greedy`` then shows the re-ranked list; ``softmax`` samples
around it with exact propensities (the re-ordered scores are a deterministic function of the
scores, the exclusions and the world). ``tradeoff`` = 0 is the base policy.

Each objective mixes the candidate's relevance :math:`r_i` — its score min–max scaled to
[0, 1] over the user's pool (ours: it makes λ comparable across recommenders whose scores
live on different scales) — with a list term, weighted by :math:`\lambda` = ``tradeoff``:

* :class:`CalibratedReRanker` (Steck, "Calibrated recommendations", RecSys 2018): maximise
  :math:`(1-\lambda)\sum_{i\in L} r_i - \lambda\, C_{KL}(p_u, q_L)`, :math:`C_{KL}(p, q) =
  \sum_g p_g \log(p_g / \tilde q_g)`, :math:`\tilde q = (1-\alpha) q + \alpha p`;
  :math:`p_u` the category distribution of the user's history, :math:`q_L` the list's
  (uniform weights over items and over an item's categories).
* :class:`MMRReRanker` (maximal marginal relevance, Carbonell & Goldstein, SIGIR 1998): the
  next item maximises :math:`(1-\lambda) r_i - \lambda \max_{j \in L} \cos(v_i, v_j)`, with
  :math:`v` the item category vectors (or the world's item features).
* :class:`PopularityPenalty` (a linear penalty, ours): :math:`(1-\lambda) r_i - \lambda\,
  \pi_i`, :math:`\pi_i` the number of users who have rated ``i`` over the largest such
  number (read from the world at each call).

The history of a user is the items the policy may not show again, ``exclude`` (in
:func:`recdyn.simulate`, the items the user has rated); a user without one (no exclusions)
is ranked by relevance alone, and calibration refuses a world with repeat consumption
(where nothing is excluded). Cost per call: ``depth`` greedy
passes over an ``[n_users, pool, n_categories]`` array.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np

from recdyn._arrays import push_down
from recdyn.constraints import Interval, Options
from recdyn.errors import InvalidParameterError
from recdyn.policies.base import BasePolicy, PolicyWrapper, Selection, check_scores

__all__ = ["CalibratedReRanker", "MMRReRanker", "PopularityPenalty", "ReRanker"]

Tradeoff = Annotated[float, Interval(Real, 0, 1)]
Pool = Annotated[int, Interval(Integral, 1, None)]


class ReRanker(PolicyWrapper):
    """The shared machinery of the module doc; a subclass gives the greedy objective
    (:meth:`_start`, :meth:`_value`, :meth:`_add`) and what it reads from the world
    (:meth:`_read`)."""

    requires_environment = True  # type: ignore[assignment]

    def attach(self, env: Any) -> ReRanker:
        """Read what the objective needs from ``env`` (and pass ``env`` to the base policy)."""
        self._read(env)
        self.base_policy.attach(env)
        self.environment_ = env
        return self

    def _read(self, env: Any) -> None:
        """Check that ``env`` has what the objective reads (raise naming it otherwise)."""

    def _world(self) -> Any:
        env = getattr(self, "environment_", None)
        if env is None:
            raise InvalidParameterError(
                f"{type(self).__name__} reads the world: call attach(env) first "
                "(recdyn.simulate does)"
            )
        return env

    def reranked_scores(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray:
        """The scores with each user's pool re-ordered (module doc), float ``[n_users,
        n_items]``."""
        scores, exclude = check_scores(scores, exclude)
        out = np.array(scores, dtype=np.float64)
        if self.tradeoff == 0:
            return out
        n_users, n_items = scores.shape
        size = min(self.pool, n_items)
        key = out if exclude is None else push_down(out, exclude)
        rows = np.arange(n_users)[:, None]
        pool = np.argpartition(-key, size - 1, axis=1)[:, :size] if size < n_items else (
            np.broadcast_to(np.arange(n_items), (n_users, n_items)))  # fmt: skip
        pool = np.take_along_axis(pool, np.argsort(-key[rows, pool], axis=1, kind="stable"), 1)
        pool_scores = out[rows, pool]
        low, high = pool_scores.min(axis=1, keepdims=True), pool_scores.max(axis=1, keepdims=True)
        span = np.where(high > low, high - low, 1.0)
        relevance = (pool_scores - low) / span
        blocked = np.zeros_like(relevance, bool) if exclude is None else exclude[rows, pool]
        order = self._greedy(relevance, pool, blocked, exclude, min(self.depth, size))
        out[rows, pool[rows, order]] = _strictly_decreasing(pool_scores)
        return out

    def _greedy(
        self, relevance: np.ndarray, pool: np.ndarray, blocked: np.ndarray,
        exclude: np.ndarray | None, depth: int,
    ) -> np.ndarray:  # fmt: skip
        """Pool positions in their new order, ``[n_users, pool]``: ``depth`` greedy picks
        (allowed items before excluded ones; ties to the better-scored), then the rest in
        score order."""
        n_users, size = relevance.shape
        rows = np.arange(n_users)
        chosen = np.zeros((n_users, size), bool)
        picks = np.empty((n_users, depth), np.int64)
        state = self._start(pool, exclude)
        for j in range(depth):
            value = np.where(chosen, -np.inf, self._value(state, relevance, j))
            allowed = np.where(blocked, -np.inf, value)
            value = np.where(np.isfinite(allowed).any(axis=1, keepdims=True), allowed, value)
            pick = np.argmax(value, axis=1)
            picks[:, j] = pick
            chosen[rows, pick] = True
            self._add(state, pool[rows, pick], j)
        rest = np.sort(np.where(chosen, size, np.arange(size)), axis=1)[:, : size - depth]
        return np.concatenate([picks, rest], axis=1)

    def _start(self, pool: np.ndarray, exclude: np.ndarray | None) -> dict[str, Any]:
        raise NotImplementedError

    def _value(self, state: dict[str, Any], relevance: np.ndarray, j: int) -> np.ndarray:
        raise NotImplementedError

    def _add(self, state: dict[str, Any], items: np.ndarray, j: int) -> None:
        """Record that ``items`` (one per user) took position ``j``."""

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray | None:
        """The base policy's first-slot distribution on the re-ordered scores."""
        scores, exclude = check_scores(scores, exclude)
        return self.base_policy.probabilities(self.reranked_scores(scores, exclude), exclude)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        if k > min(self.depth, self.pool):
            name, value = ("depth", self.depth) if self.depth < self.pool else ("pool", self.pool)
            raise InvalidParameterError(
                f"{name}={value} is smaller than the slate (k={k}): the re-ranker orders only "
                f"its first {value} positions; raise {name} to at least {k}"
            )
        return self.base_policy.select(self.reranked_scores(scores, exclude), k, exclude, rng)


def _strictly_decreasing(pool_scores: np.ndarray) -> np.ndarray:
    """Each row sorted descending, ties split by ulps so that no two are equal."""
    s = -np.sort(-pool_scores, axis=1)
    for j in range(1, s.shape[1]):
        s[:, j] = np.minimum(s[:, j], np.nextafter(s[:, j - 1], -np.inf))
    return s


def _categories(env: Any, who: str) -> np.ndarray:
    """The world's item categories ``[n_items, n_categories]``, every item with one."""
    categories = env.item_categories() if hasattr(env, "item_categories") else None
    name = getattr(getattr(env, "spec", None), "name", type(env).__name__)
    if categories is None:
        raise InvalidParameterError(
            f"{who} needs a world with item categories (env.item_categories(): the topics "
            f"worlds, dataset-fitted worlds with genres); {name} has none"
        )
    categories = np.asarray(categories, dtype=np.float64)
    missing = np.flatnonzero(categories.sum(axis=1) <= 0)
    if len(missing):
        raise InvalidParameterError(
            f"{who} needs a category for every item; {len(missing)} items of {name} have "
            f"none (e.g. {missing[:5].tolist()}): drop them or choose a world where every "
            "item has one"
        )
    return categories / categories.sum(axis=1, keepdims=True)


class CalibratedReRanker(ReRanker):
    r"""Steck's calibrated re-ranking (module doc).

    Parameters
    ----------
    base_policy : the policy that shows the re-ranked pool (default ``"greedy"``).
    tradeoff : λ in [0, 1] (0: the base policy), default 0.5.
    alpha : α in (0, 1) of :math:`\tilde q`, default 0.01 (Steck 2018).
    pool : the candidate pool per user, default 100.
    depth : the positions re-ranked greedily (≥ the slate size), default 10.
    """

    def __init__(
        self,
        base_policy: BasePolicy = "greedy",
        tradeoff: Tradeoff = 0.5,
        alpha: Annotated[float, Interval(Real, 0, 1, closed="neither")] = 0.01,
        pool: Pool = 100,
        depth: Pool = 10,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def _read(self, env: Any) -> None:
        if getattr(env, "repeat_consumption", False):
            raise InvalidParameterError(
                "calibrated re-ranking reads each user's history from the excluded (rated) "
                f"items, and {env.spec.name} has repeat consumption (nothing is excluded): "
                "choose a world without repeat consumption"
            )
        self.categories_ = _categories(env, "calibrated re-ranking")

    def _start(self, pool: np.ndarray, exclude: np.ndarray | None) -> dict[str, Any]:
        self._world()
        c = self.categories_
        if exclude is None:  # no history: nothing to calibrate to
            target = np.zeros((len(pool), c.shape[1]))
        else:
            counts = exclude.sum(axis=1, keepdims=True)
            target = (exclude @ c) / np.maximum(counts, 1)  # p(g|u); 0 without a history
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = np.where(target > 0, target * np.log(target), 0.0).sum(axis=1)
        return {"target": target, "entropy": entropy, "candidates": c[pool],
                "list": np.zeros_like(target)}  # fmt: skip

    def _value(self, state: dict[str, Any], relevance: np.ndarray, j: int) -> np.ndarray:
        # C_KL = Σ p log p − Σ p log q̃: the first sum per user, the second by one einsum
        # (q̃ ≥ α p > 0 wherever p > 0; elsewhere p = 0 and the floor keeps 0 · log finite)
        p = state["target"]
        q = (state["list"][:, None, :] + state["candidates"]) * ((1 - self.alpha) / (j + 1))
        q += self.alpha * p[:, None, :]
        cross = np.einsum("ug,upg->up", p, np.log(np.maximum(q, np.finfo(float).tiny)))
        kl = state["entropy"][:, None] - cross
        return (1 - self.tradeoff) * relevance - self.tradeoff * kl

    def _add(self, state: dict[str, Any], items: np.ndarray, j: int) -> None:
        state["list"] += self.categories_[items]


class MMRReRanker(ReRanker):
    """Maximal marginal relevance (module doc).

    Parameters
    ----------
    base_policy : the policy that shows the re-ranked pool (default ``"greedy"``).
    tradeoff : λ in [0, 1] (0: the base policy), default 0.5.
    similarity : ``"categories"`` (cosine of the item category vectors, default) or
        ``"features"`` (of the world's ``item_features()``).
    pool, depth : as :class:`CalibratedReRanker`.
    """

    def __init__(
        self,
        base_policy: BasePolicy = "greedy",
        tradeoff: Tradeoff = 0.5,
        similarity: Annotated[str, Options({"categories", "features"})] = "categories",
        pool: Pool = 100,
        depth: Pool = 10,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def _read(self, env: Any) -> None:
        if self.similarity == "categories":
            v = _categories(env, "MMR re-ranking with similarity='categories'")
        else:
            v = env.item_features() if hasattr(env, "item_features") else None
            if v is None:
                raise InvalidParameterError(
                    "MMR re-ranking with similarity='features' needs a world with item "
                    "features (env.item_features()); use similarity='categories'"
                )
            v = np.asarray(v, dtype=np.float64)
        norm = np.linalg.norm(v, axis=1, keepdims=True)
        self.unit_vectors_ = v / np.where(norm > 0, norm, 1.0)

    def _start(self, pool: np.ndarray, exclude: np.ndarray | None) -> dict[str, Any]:
        self._world()
        return {"vectors": self.unit_vectors_[pool], "closest": np.zeros(pool.shape)}

    def _value(self, state: dict[str, Any], relevance: np.ndarray, j: int) -> np.ndarray:
        return (1 - self.tradeoff) * relevance - self.tradeoff * state["closest"]

    def _add(self, state: dict[str, Any], items: np.ndarray, j: int) -> None:
        sim = np.einsum("npd,nd->np", state["vectors"], self.unit_vectors_[items])
        np.maximum(state["closest"], sim, out=state["closest"])


class PopularityPenalty(ReRanker):
    """Relevance minus a popularity penalty (module doc).

    Parameters
    ----------
    base_policy : the policy that shows the re-ranked pool (default ``"greedy"``).
    tradeoff : λ in [0, 1] (0: the base policy), default 0.5.
    pool, depth : as :class:`CalibratedReRanker`.
    """

    def __init__(
        self,
        base_policy: BasePolicy = "greedy",
        tradeoff: Tradeoff = 0.5,
        pool: Pool = 100,
        depth: Pool = 10,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def _start(self, pool: np.ndarray, exclude: np.ndarray | None) -> dict[str, Any]:
        env = self._world()
        counts = env.rated_mask(np.arange(env.n_users)).sum(axis=0).astype(np.float64)
        share = counts / counts.max() if counts.max() > 0 else counts
        return {"penalty": share[pool]}

    def _value(self, state: dict[str, Any], relevance: np.ndarray, j: int) -> np.ndarray:
        return (1 - self.tradeoff) * relevance - self.tradeoff * state["penalty"]
