"""Who is online, and which (user, item) pairs the initial data set holds.

Online-user activity distributions follow RecLab (``environment.py::_get_user_prob``); the
parameters of the power law were fit by RecLab to ML-100K user activity. Initial-data
sampling follows thesis §2.5 (Krauth 2022): uniform, ``ml100k-init`` and ``ml100k-init-flip``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from recdyn.inclusion import plackett_luce_inclusion, rosen_inclusion

USER_DISTRIBUTIONS = ("uniform", "powerlaw", "lognormal")
INITIAL_SAMPLINGS = ("uniform", "ml100k-init", "ml100k-init-flip")
#: How the biased samplings weigh pairs: the thesis's text, or RecLab's code.
BIASED_SAMPLING_RULES = ("thesis", "reclab")

#: Beta parameters of thesis §2.5: rating term (α1, β1) and user-rank term (α2, β2).
ML100K_RATING_BETA = (3.61, 2.57)
ML100K_USER_BETA = (0.70, 1.83)


def activity_weights(kind: str, n_users: int, rng: np.random.Generator) -> np.ndarray:
    """Relative probability of each user being online (not normalised).

    ``uniform``: all equal. ``powerlaw``: ``Beta(x; 0.70384, 1.83271)`` at
    ``x = (rank + 1) / (n + 1)`` for a random rank of each user (RecLab's fit to ML-100K).
    ``lognormal``: the density of ``LogNormal(σ=1, scale=n/7)`` at ``rank + 1``. The rank
    permutation is drawn from ``rng`` (RecLab used the global RNG, so runs were not
    reproducible).
    """
    if kind == "uniform":
        return np.ones(n_users)
    rank = rng.permutation(n_users) + 1.0
    if kind == "powerlaw":
        w = stats.beta.pdf(rank / (n_users + 1), 0.70384, 1.83271)
    else:
        w = stats.lognorm.pdf(rank, 1.0, scale=n_users / 7)
    return np.maximum(w, np.finfo(float).tiny)


def weighted_sample_without_replacement(
    log_weights: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Indices of ``size`` draws without replacement, ``P ∝ exp(log_weights)``.

    Gumbel-top-k (Kool, van Hoof & Welling 2019): the ``size`` largest of
    ``log w + Gumbel(0, 1)`` are distributed as successive sampling without replacement.
    Entries with ``-inf`` are never drawn. O(n) time, no Python loop.
    """
    keys = log_weights + rng.gumbel(size=log_weights.shape)
    if size >= keys.size:
        order = np.argsort(-keys, kind="stable")
    else:
        order = np.argpartition(-keys, size - 1)[:size]
        order = order[np.argsort(-keys[order], kind="stable")]
    return order[np.isfinite(keys[order])][:size]


#: Largest ``eligible users × users_per_step`` whose arrival probabilities are computed
#: exactly (≤ 0.5 s, once per change of the eligible set); above it, Rosén's approximation.
EXACT_ARRIVAL_SIZE = 20_000


def arrival_probabilities(log_weights: np.ndarray, size: int) -> np.ndarray:
    r"""Probability that each user is among the ``size`` drawn by
    :func:`weighted_sample_without_replacement` (``-inf``: never drawn, probability 0).

    Exact where a closed form exists — equal weights: ``size / n_eligible``; ``size = 1``:
    the normalised weights; ``size ≥ n_eligible``: 1 — and, for unequal weights, exact by
    quadrature (:func:`recdyn.inclusion.plackett_luce_inclusion`, error ~1e-12) while
    ``n_eligible × size ≤`` :data:`EXACT_ARRIVAL_SIZE`; above it Rosén's approximation
    :math:`1 - e^{-\lambda_u \tau}` (:func:`recdyn.inclusion.rosen_inclusion`). Where it is
    used, its largest relative error against the exact values, measured for the
    ``powerlaw`` and ``lognormal`` activities at 350–2,000 users with 20–200 drawn, is
    0.32 % (0.11 % at the default 1,000 users, 200 drawn); it grows for small populations
    (1.3 % at 100 users), where the exact values are used instead.
    """
    lw = np.asarray(log_weights, dtype=np.float64)
    eligible = np.isfinite(lw)
    n = int(eligible.sum())
    if size >= n:
        return eligible.astype(np.float64)
    if size == 1:
        return plackett_luce_inclusion(lw, 1)
    if np.ptp(lw[eligible]) == 0:
        return np.where(eligible, size / n, 0.0)
    if n * size <= EXACT_ARRIVAL_SIZE:
        return plackett_luce_inclusion(lw, size)
    return rosen_inclusion(lw, size)


def initial_pairs(
    kind: str,
    n_users: int,
    n_items: int,
    size: int,
    rng: np.random.Generator,
    noisy_ratings: np.ndarray | None = None,
    rating_range: tuple[float, float] = (1.0, 5.0),
    rule: str = "thesis",
) -> np.ndarray:
    """Flat indices ``user * n_items + item`` of ``size`` distinct initial pairs.

    ``uniform``
        pairs drawn uniformly without replacement.
    ``ml100k-init`` (thesis §2.5)
        ``P(u, i) ∝ Beta(r̃(u, i); α1=3.61, β1=2.57) · Beta(k̃(u); α2=0.70, β2=1.83)``,
        where ``r(u, i)`` is the user's noisy rating of every pair and ``k(u)`` a random rank
        of the user; both are mapped into the open unit interval as RecLab does,
        ``r̃ = (r - lo + 1) / (hi - lo + 2)`` (``r/6`` on 1–5, so clipped extremes keep mass)
        and ``k̃ = (k + 1) / (n_users + 1)``. Favours high ratings and a few heavy users,
        like ML-100K.
    ``ml100k-init-flip``
        as above with ``1 - r̃`` in the rating term: the rating distribution flipped about
        its midpoint (3 on 1–5), favouring low ratings. This is the thesis's definition.

    ``rule="reclab"`` reads RecLab's code instead (``experiment.sample_ratings``): the
    rating term is the density on the rating scale, ``Beta.pdf(r; loc=lo-1, scale=hi-lo+2)
    = Beta.pdf(r̃) / (hi - lo + 2)``, normalised over each user's items before the user term
    multiplies it — so a user's share of the pairs follows the user term alone — and FLIP
    is ``1 - pdf`` of that density rather than the density at the flipped rating. On 1–5
    the density is at most ≈ 0.35, so ``1 - pdf`` lies in [0.65, 1]: a mild preference for
    extreme ratings, close to uniform in the rating, not a flip.
    """
    total = n_users * n_items
    if kind == "uniform":
        return rng.choice(total, size=size, replace=False)
    assert noisy_ratings is not None
    lo, hi = rating_range
    r = (np.clip(noisy_ratings, lo, hi) - lo + 1.0) / (hi - lo + 2.0)
    if rule == "reclab":
        weight = stats.beta.pdf(r, *ML100K_RATING_BETA) / (hi - lo + 2.0)
        if kind == "ml100k-init-flip":
            weight = 1.0 - weight
        with np.errstate(divide="ignore"):
            log_rating = np.log(weight / weight.sum(axis=1, keepdims=True))
    else:
        if kind == "ml100k-init-flip":
            r = 1.0 - r
        log_rating = stats.beta.logpdf(r, *ML100K_RATING_BETA)
    rank = rng.permutation(n_users) + 1.0
    log_user = stats.beta.logpdf(rank / (n_users + 1), *ML100K_USER_BETA)
    log_w = (log_rating + log_user[:, None]).ravel()
    return weighted_sample_without_replacement(log_w, size, rng)
