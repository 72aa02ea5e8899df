r"""Closed forms of thesis ch. 4, computed with the learners' own least-squares machinery.

* :func:`least_squares_limit` — the limit of a (nominator's) ridge estimate as
  :math:`T \to \infty` with :math:`\lambda` fixed (Lemmas 4–5, used in Proposition 2's
  proof from L2784):

  .. math:: \theta^\star_n = \big(E_{a}[w_a x_{n,a} x_{n,a}^\top]\big)^{-1}
            E_a[w_a x_{n,a} r_a],

  over a distribution of (context row, reward) pairs, computed by feeding every pair once
  to a :class:`~recdyn.bandits.learners.Greedy` state (Sherman–Morrison updates) with its
  probability times its weight as the training weight and a vanishing regulariser.
* :data:`PROPOSITION2_X`, :data:`PROPOSITION2_R_SUPERVISED`, :data:`PROPOSITION2_R_BANDIT`
  — Proposition 2's four-arm fixture (L2870–2880; r = [3/4, 1, 1/6, 7/8] in the
  supervised case, L2903, and [3/4, 7/8, 1/6, 1] in the bandit case, L2915): nominator 1
  owns a(1), nominator 2 owns a(2)–a(4), and both see the last two columns.
* :func:`random_coverage_theory` — :math:`1 - \prod_n (1 - p_n)` (L2597–2602).
* :func:`misspecification_error` — measured :math:`L_2` error of the best linear model on
  ``s`` of ``d`` features of the linear world, against :math:`\sqrt{1 - s/d}` (L2565).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recdyn.bandits.learners import Greedy
from recdyn.bandits.worlds import LinearWorld
from recdyn.errors import InvalidParameterError

__all__ = [
    "PROPOSITION2_R_BANDIT",
    "PROPOSITION2_R_SUPERVISED",
    "PROPOSITION2_X",
    "least_squares_limit",
    "misspecification_error",
    "misspecification_error_theory",
    "random_coverage_theory",
]

#: Proposition 2's context matrix (rows: arms a(1) … a(4)), L2870–2880.
PROPOSITION2_X = np.array(
    [[1.0, 0.0, 0.0, -1.0], [0.0, 1.0, 0.0, -1.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)
#: Mean rewards of the supervised example (L2903) and of the bandit one (L2915).
PROPOSITION2_R_SUPERVISED = np.array([3 / 4, 1.0, 1 / 6, 7 / 8])
PROPOSITION2_R_BANDIT = np.array([3 / 4, 7 / 8, 1 / 6, 1.0])


def least_squares_limit(
    contexts: np.ndarray,
    rewards: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    probabilities: np.ndarray | None = None,
    features: Sequence[int] | None = None,
    reg: float = 1e-10,
) -> np.ndarray:
    """:math:`\\theta^\\star_n` (module doc) of the pairs ``contexts[i]`` ``[n, d]``,
    ``rewards[i]``, drawn with ``probabilities`` (``None``: uniform), weighted by
    ``weights`` (``None``: 1), restricted to ``features`` (``None``: all): the ridge
    estimate of a :class:`Greedy` learner with regulariser ``reg`` (× the dimension) fed
    each pair once."""
    x = np.asarray(contexts, float)
    r = np.asarray(rewards, float)
    if x.ndim != 2 or r.shape != (len(x),):
        raise InvalidParameterError(
            f"contexts must be [n, d] and rewards [n], got {x.shape} and {r.shape}"
        )
    if features is not None:
        x = x[:, np.asarray(features, dtype=np.int64)]
    n = len(x)
    p = np.full(n, 1.0 / n) if probabilities is None else np.asarray(probabilities, float)
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    state = Greedy(reg=reg).state(1, x.shape[1])
    for i in range(n):
        state.update(x[i : i + 1], r[i : i + 1], (p[i] * w[i])[None])
    cov_inv_rank = np.linalg.matrix_rank(x[(p * w) > 0]) if np.any(p * w > 0) else 0
    if cov_inv_rank < x.shape[1]:
        raise InvalidParameterError(
            f"the weighted second moment of the contexts has rank {cov_inv_rank} < "
            f"{x.shape[1]}: the least-squares limit is not unique"
        )
    return state.theta[0].copy()


def misspecification_error_theory(n_features: int, dim: int) -> float:
    """:math:`\\sqrt{1 - s/d}` (footnote 3, L2537–2565)."""
    return float(np.sqrt(1.0 - n_features / dim))


def random_coverage_theory(positive_rate: float | np.ndarray, n_nominators: int = 10) -> float:
    """Chance that ``n_nominators`` uniformly random nominators nominate at least one
    positive arm when arm positives are independent with rate ``positive_rate`` (a number,
    or one rate per nominator's pool): :math:`1 - \\prod_n (1 - p_n)`; ``0.1`` and 10
    nominators give :math:`1 - 0.9^{10} \\approx 0.65` (L2597–2602)."""
    p = np.broadcast_to(np.asarray(positive_rate, float), (n_nominators,))
    return float(1.0 - np.prod(1.0 - p))


def misspecification_error(
    world: LinearWorld, n_features: int, seeds: Sequence[int], *, rounds: int = 50
) -> float:
    """The measured :math:`L_2` error :math:`\\sqrt{E[(f^\\star - \\langle\\hat\\theta_S,
    x_S\\rangle)^2]}` of the least-squares fit on the first ``n_features`` features of
    ``world``'s contexts: fitted per seed on the mean rewards of all arms of ``rounds``
    rounds (uniform arm), measured on as many fresh rounds; the mean squared error is
    averaged over the seeds (the expectation over :math:`\\theta^\\star`)."""
    if not 1 <= n_features <= world.dim:
        raise InvalidParameterError(
            f"n_features must be in [1, {world.dim}] (the world's dim), got {n_features}"
        )
    run = world.start(list(seeds))
    rnds = [run.next_round() for _ in range(2 * rounds)]
    x = np.concatenate([r.take()[:, :, :n_features] for r in rnds], axis=1)  # [B, 2TK, s]
    f = np.concatenate([r.means for r in rnds], axis=1)
    half = rounds * world.n_arms
    gram = np.einsum("bns,bnt->bst", x[:, :half], x[:, :half])
    rhs = np.einsum("bns,bn->bs", x[:, :half], f[:, :half])
    theta = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    resid = f[:, half:] - np.einsum("bns,bs->bn", x[:, half:], theta)
    return float(np.sqrt((resid**2).mean()))
