r"""Polarization of creators and diversity of recommendations (seed 004).

Seed 004 (Lin et al., NeurIPS 2024, "User-Creator Feature Polarization in Recommender
Systems with Dual Influence", arXiv 2407.14094) reports four measures; their definitions
are inferred (digest ``seeds_methods_digest.md`` §1.4) and checked numerically there
(uniform random vectors in d = 10 give CD ≈ 1.395, TP ≈ 0.259, the paper's 1.40 and 0.27):

* creator diversity :math:`CD = \binom{n}{2}^{-1} \sum_{i<k} \lVert v_i - v_k \rVert`;
* tendency to polarization :math:`TP = \binom{n}{2}^{-1} \sum_{i<k} |\langle v_i, v_k\rangle|`
  (1 under consensus or bi-polarization);
* recommendation diversity :math:`RD = \frac{1}{|U|} \sum_{u \in U} \sum_{i,k} p_{ui}
  p_{uk} \lVert x_i - x_k \rVert`;
* recommendation relevance :math:`RR = \frac{1}{|U|} \sum_{u \in U} \sum_i p_{ui}
  \mu_{ui}` (with :math:`\mu_{ui} = \langle v_i, u_u\rangle` in ``dual-influence-v1``);

and :class:`CreatorClusters` counts creator clusters (seed 004's Proposition 4.2: top-k
truncation can end in :math:`\lfloor n/k \rfloor` clusters).

**Creators' vectors** :math:`v_i` are read from any world with creators: the items'
features (``env.item_features()``) grouped by creator (``env.item_creators``), each
creator's mean feature vector normalised to unit length (:func:`creator_vectors`); in
``dual-influence-v1`` each creator has one item whose features are its vector, so
:math:`v_i` is ``env.state["creators"][i]``. They are read at the end of the step (after the
world moved). RD and RR use the step's first-slot distribution :math:`p_u` of the policy
(``StepContext.probabilities``, :meth:`~recdyn.policies.Policy.probabilities`) over the
online users :math:`U` who are shown something (a row of :math:`p` summing to 0 — nothing
shown, e.g. threshold truncation — is left out; NaN if nobody is shown anything); RR uses
the noise-free ratings :math:`\mu` before the step (``StepContext.truth``), so it is
defined in every world; RD uses the item features at the end of the step.

Each takes ``every`` (default 1): measured at the steps that are multiples of ``every``
and NaN between (a sweep of many long runs measures every few steps for speed, as
``recdyn study polarization`` does).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.metrics.online import OnlineMetric, StepContext
from recdyn.policies.diversity import pairwise_distances

__all__ = [
    "CreatorClusters",
    "CreatorDiversity",
    "Polarization",
    "RecommendationDiversity",
    "RecommendationRelevance",
    "count_components",
    "creator_vectors",
]

#: The world the online-metric checker measures the creator metrics in.
_CHECKER_WORLD: tuple[str, dict[str, Any]] = ("dual-influence-v1", {"dim": 4})


def _world_name(env: Any) -> str:
    return getattr(getattr(env, "spec", None), "name", type(env).__name__)


def _features(env: Any, metric: str) -> np.ndarray:
    if env is None:
        raise InvalidParameterError(f"{metric} reads the world: ctx.environment is None")
    features = env.item_features()
    if features is None:
        raise InvalidParameterError(
            f"{metric} needs a world with item features (env.item_features()); "
            f"{_world_name(env)} has none"
        )
    return np.asarray(features, dtype=np.float64)


def creator_vectors(env: Any, metric: str = "the metric") -> np.ndarray:
    r"""Each creator's unit vector, float ``[n_creators, d]``: the normalised mean of its
    items' features :math:`v_c = P(\frac{1}{|I_c|}\sum_{i \in I_c} x_i)` (``P(x) = x /
    \lVert x\rVert``; a zero mean stays 0). Only creators that own items take part.
    Raises :class:`~recdyn.errors.InvalidParameterError` for a world without creators or
    item features."""
    features = _features(env, metric)
    creators = env.item_creators
    if creators is None:
        raise InvalidParameterError(
            f"{metric} needs a world with creators (env.item_creators); {_world_name(env)} has none"
        )
    creators = np.asarray(creators, dtype=np.int64)
    if len(creators) != len(features):
        raise InvalidParameterError(
            f"{_world_name(env)} has {len(creators)} item creators but {len(features)} "
            "item feature vectors"
        )
    present, idx = np.unique(creators, return_inverse=True)
    sums = np.zeros((len(present), features.shape[1]))
    np.add.at(sums, idx, features)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)


def _upper(matrix: np.ndarray) -> np.ndarray:
    return matrix[np.triu_indices(len(matrix), k=1)]


def _distribution(ctx: StepContext, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The step's first-slot probabilities of the users shown something, and their rows."""
    p = ctx.probabilities
    if p is None:
        raise InvalidParameterError(
            f"{metric} needs the policy's first-slot probabilities (ctx.probabilities); "
            "the run's policy gives none (Policy.probabilities returned None)"
        )
    p = np.asarray(p, dtype=np.float64)
    rows = np.flatnonzero(p.sum(axis=1) > 0)
    return p[rows], rows


class _Measured(OnlineMetric):
    """An online metric of this module: measured every ``every`` steps, NaN between."""

    def __init__(self, *, every: Annotated[int, Interval(Integral, 1, None)] = 1) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def needs_at(self, step: int) -> frozenset[str]:
        return frozenset() if step % self.every else self.needs

    def __call__(self, ctx: StepContext) -> float:
        if ctx.step % self.every:
            return float("nan")
        return float(self.value(ctx))


class CreatorDiversity(_Measured):
    r"""Creator diversity (seed 004, digest §1.4): the mean distance between two creators,

    .. math:: CD = \binom{n}{2}^{-1} \sum_{i<k} \lVert v_i - v_k \rVert

    (:func:`creator_vectors`). Uniform random unit vectors in d = 10: ≈ 1.395 (the paper
    reports 1.40); a bi-polarized population (half at :math:`w`, half at :math:`-w`) ≈ 1.0.
    NaN with fewer than two creators."""

    needs = frozenset({"environment"})
    checker_world: ClassVar[tuple[str, dict[str, Any]] | None] = _CHECKER_WORLD

    def value(self, ctx: StepContext) -> float:
        v = creator_vectors(ctx.environment, "creator_diversity")
        if len(v) < 2:
            return float("nan")
        return float(_upper(pairwise_distances(v)).mean())


class Polarization(_Measured):
    r"""Tendency to polarization (seed 004's TP, digest §1.4): the mean absolute cosine
    between two creators,

    .. math:: TP = \binom{n}{2}^{-1} \sum_{i<k} |\langle v_i, v_k \rangle|

    (:func:`creator_vectors`, unit vectors). 1 under consensus (all at :math:`w`) or
    bi-polarization (at :math:`\pm w`); uniform random vectors in d = 10 ≈ 0.259 (paper:
    0.27). NaN with fewer than two creators."""

    needs = frozenset({"environment"})
    checker_world: ClassVar[tuple[str, dict[str, Any]] | None] = _CHECKER_WORLD

    def value(self, ctx: StepContext) -> float:
        v = creator_vectors(ctx.environment, "polarization")
        if len(v) < 2:
            return float("nan")
        return float(np.abs(_upper(v @ v.T)).mean())


class RecommendationDiversity(_Measured):
    r"""Recommendation diversity (seed 004's RD, digest §1.4): the expected distance between
    two items drawn independently from a user's first-slot distribution, averaged over the
    online users shown something,

    .. math:: RD = \frac{1}{|U|} \sum_{u \in U} \sum_{i,k} p_{ui}\, p_{uk}\,
              \lVert x_i - x_k \rVert

    (:math:`x` the item features at the end of the step, of the items on offer — not
    those that arrived at it; 0 for a deterministic top-1 policy).
    Cost: :math:`O(|U|\, n_{items}^2)`."""

    needs = frozenset({"environment", "probabilities"})
    checker_world: ClassVar[tuple[str, dict[str, Any]] | None] = _CHECKER_WORLD

    def value(self, ctx: StepContext) -> float:
        p, _ = _distribution(ctx, "recommendation_diversity")
        x = _features(ctx.environment, "recommendation_diversity")
        if not len(p):
            return float("nan")
        if p.shape[1] > len(x):
            raise InvalidParameterError(
                f"recommendation_diversity: probabilities over {p.shape[1]} items but "
                f"{len(x)} item feature vectors"
            )
        x = x[: p.shape[1]]  # items that arrived at the step were not on offer
        return float(np.einsum("ui,ui->u", p @ pairwise_distances(x), p).mean())


class RecommendationRelevance(_Measured):
    r"""Recommendation relevance (seed 004's RR, digest §1.4): the expected noise-free
    rating of the first slot, averaged over the online users shown something,

    .. math:: RR = \frac{1}{|U|} \sum_{u \in U} \sum_i p_{ui}\, \mu_{ui},

    :math:`\mu` the noise-free ratings before the step (``ctx.truth``; in
    ``dual-influence-v1`` :math:`\mu_{ui} = \langle v_i, u_u \rangle`, so RR = 1 when every
    user sits on the creator shown)."""

    needs = frozenset({"truth", "probabilities"})

    def value(self, ctx: StepContext) -> float:
        p, rows = _distribution(ctx, "recommendation_relevance")
        if not len(p):
            return float("nan")
        truth = np.asarray(ctx.truth, dtype=np.float64)[rows]
        return float(np.einsum("ui,ui->u", p, truth).mean())


class CreatorClusters(_Measured):
    r"""Number of creator clusters: the connected components of the graph joining creators
    ``i``, ``k`` when :math:`\cos(v_i, v_k) > 1 - \varepsilon` (seed 004, digest §1.3:
    top-k truncation can end in :math:`\lfloor n/k \rfloor` clusters; bi-polarization
    gives 2, consensus 1).

    Parameters
    ----------
    epsilon : ε in [0, 2], default 1e-3 (cosine above 0.999, about 2.6°).
    every : measured every ``every`` steps (default 1), NaN between.
    """

    needs = frozenset({"environment"})
    checker_world: ClassVar[tuple[str, dict[str, Any]] | None] = _CHECKER_WORLD

    def __init__(
        self, epsilon: Annotated[float, Interval(Real, 0, 2)] = 1e-3, **inherited: Any
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def value(self, ctx: StepContext) -> float:
        v = creator_vectors(ctx.environment, "creator_clusters")
        if not len(v):
            return 0.0
        return float(count_components((v @ v.T) > 1.0 - self.epsilon))


def count_components(adjacency: np.ndarray) -> int:
    """Number of connected components of a symmetric boolean adjacency matrix (every node
    joined to itself): each node takes the smallest label among its neighbours until nothing
    changes — at most the graph's diameter rounds, one or two where clusters are tight,
    and no sparse-matrix set-up (``scipy.sparse.csgraph`` costs ~0.4 ms per call here)."""
    n = len(adjacency)
    adjacency = adjacency | np.eye(n, dtype=bool)
    labels = np.arange(n)
    while True:
        new = np.where(adjacency, labels[None, :], n).min(axis=1)
        if np.array_equal(new, labels):
            return len(np.unique(labels))
        labels = new
