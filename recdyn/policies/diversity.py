r"""Diversity boosting: re-rank by relevance plus a diversity gradient (seed 004)."""

from __future__ import annotations

from numbers import Real
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.policies.base import BasePolicy, PolicyWrapper, Selection, check_scores


def pairwise_distances(x: np.ndarray) -> np.ndarray:
    """Euclidean distances ``‖x_i − x_k‖`` between the rows of ``x``, ``[n, n]`` (from the
    Gram matrix, clipped at 0; exactly 0 on the diagonal)."""
    x = np.asarray(x, dtype=np.float64)
    sq = np.einsum("ij,ij->i", x, x)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(np.maximum(d2, 0.0))


class DiversityBoost(PolicyWrapper):
    r"""Boost each item's score by its expected distance to what the base policy shows,
    then let the base policy choose (seed 004's diversity boosting, strength ρ).

    .. math:: s'_{ui} = s_{ui} + \rho \sum_k p_{uk}\, \lVert x_i - x_k \rVert,

    with :math:`p_u` the base policy's first-slot distribution on the raw scores
    (:meth:`~recdyn.policies.Policy.probabilities`) and :math:`x_i` the world's item
    features (``env.item_features()``, read at every call: in ``dual-influence-v1`` the
    creators' current unit vectors). :math:`s'_u` is the gradient, with respect to
    :math:`p_u`, of :math:`RR_u + \tfrac{\rho}{2} RD_u` (:math:`RR_u = \sum_i p_{ui}
    s_{ui}`, :math:`RD_u = \sum_{i,k} p_{ui} p_{uk} \lVert x_i - x_k\rVert`, the metrics
    of :mod:`recdyn.metrics.polarization`): one gradient step of the diversity-aware
    objective. Seed 004 (its Eq. 5, strength ρ ∈ {0, 0.5, 1}) mixes relevance with
    recommendation diversity, but its exact form is **not recoverable** from the seed
    (digest §1.2, "exact form: verify"); this is our reading. ``ρ = 0`` is the base policy.

    The boost is a deterministic function of the scores (given the world), so the base
    policy's propensities on the boosted scores are exact. Cost per call: the
    ``[n_items, n_items]`` distances and a ``[n_users, n_items] @ [n_items, n_items]``
    product.

    Parameters
    ----------
    base_policy : a :class:`Policy` or registered name with ``probabilities`` (default
        ``"softmax"``).
    rho : the boost strength ρ in [0, 1], default 0.5.

    ``requires_environment``: :func:`recdyn.simulate` calls :meth:`attach` with the world;
    a world without item features is refused there.
    """

    requires_environment = True  # type: ignore[assignment]

    def __init__(
        self,
        base_policy: BasePolicy = "softmax",
        rho: Annotated[float, Interval(Real, 0, 1)] = 0.5,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def attach(self, env: Any) -> DiversityBoost:
        """Read item features from ``env`` (an environment with ``item_features()``)."""
        features = env.item_features()
        if features is None:
            name = getattr(getattr(env, "spec", None), "name", type(env).__name__)
            raise InvalidParameterError(
                f"diversity-boost needs a world with item features (env.item_features()); "
                f"{name} has none"
            )
        self.base_policy.attach(env)
        self.environment_ = env
        return self

    def boosted_scores(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray:
        """:math:`s'` of the class docstring, float ``[n_users, n_items]``."""
        scores, exclude = check_scores(scores, exclude)
        env = getattr(self, "environment_", None)
        if env is None:
            raise InvalidParameterError(
                "diversity-boost reads the world's item features: call attach(env) first "
                "(recdyn.simulate does)"
            )
        features = np.asarray(env.item_features())
        if len(features) != scores.shape[1]:
            raise InvalidParameterError(
                f"scores have {scores.shape[1]} items but the attached world has "
                f"{len(features)} item feature vectors"
            )
        p = self.base_policy.probabilities(scores, exclude)
        if p is None:
            raise InvalidParameterError(
                f"base_policy {self.base_policy!r} gives no probabilities, so diversity-boost "
                "cannot weigh the distances; use softmax, greedy, epsilon-greedy, truncated, "
                "threshold or uniform-mix"
            )
        boosted = np.asarray(scores, dtype=np.float64)
        if self.rho == 0:
            return boosted.copy()
        return boosted + self.rho * (p @ pairwise_distances(features))

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray | None:
        """The base policy's first-slot distribution on the boosted scores."""
        scores, exclude = check_scores(scores, exclude)
        return self.base_policy.probabilities(self.boosted_scores(scores, exclude), exclude)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        return self.base_policy.select(self.boosted_scores(scores, exclude), k, exclude, rng)
