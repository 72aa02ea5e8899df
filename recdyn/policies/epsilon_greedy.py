"""The ε-greedy policy with exact first-order inclusion probabilities (with probability
ε each slot explores uniformly among the allowed items not yet shown, else exploits the
best-ranked one)."""

from __future__ import annotations

from numbers import Real
from typing import Annotated

import numpy as np

from recdyn._arrays import tie_groups
from recdyn._validation import check_int
from recdyn.constraints import Interval
from recdyn.policies.base import Policy, Selection, top_k
from recdyn.policies.ranking import fill_propensity, ranking_key

__all__ = ["EpsilonGreedyPolicy"]


class EpsilonGreedyPolicy(Policy):
    r"""ε-greedy: each slate slot independently explores with probability ε.

    The slate is filled position by position. An *exploit* slot takes the best allowed
    item not yet in the slate (ties broken uniformly at random); an *explore* slot takes an
    allowed item not yet in the slate uniformly at random. Items are never repeated.

    ``Selection.propensities[u, j]`` is the exact **first-order inclusion probability**
    :math:`P(\text{slates}[u, j] \in \text{slate of } u)` — the probability that the item
    is shown at any position — for every ``k``. For ``k = 1`` with ``n`` allowed items it is

    .. math:: \pi_i = (1-\varepsilon)\,\frac{\mathbb 1\{i \in \arg\max\}}{|\arg\max|}
              + \frac{\varepsilon}{n}.

    For ``k > 1`` it is computed exactly by a dynamic programme over the state "the slate
    holds the ``p`` best items plus ``q`` others", which is sufficient because, given
    ``(p, q)``, the ``q`` others are a uniformly random subset of the items ranked below
    ``p + 1``. Tied scores receive the mean inclusion probability of the ranks they share.
    The probabilities of all allowed items sum to ``k``.

    A user with ``n ≤ k`` allowed items is shown all of them (propensity 1), best first,
    and ``k - n`` excluded items chosen uniformly at random (propensity
    ``(k - n) / n_excluded``).

    Parameters
    ----------
    epsilon : ε in [0, 1], default 0.1 (RecLab's ``eps_greedy`` used ``Binomial(k, ε)``
        explore slots, the same law as independent slots).
    """

    def __init__(self, epsilon: Annotated[float, Interval(Real, 0, 1)] = 0.1) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        key = ranking_key(scores, exclude)
        n_users, n_items = key.shape
        allowed = np.isfinite(key)
        n_allowed = allowed.sum(axis=1)
        ranked = top_k(key, k, None, rng)
        slates = ranked.copy()
        props = np.ones((n_users, k))

        short = np.flatnonzero(n_allowed <= k)
        if len(short):
            fill = ~allowed[short[:, None], ranked[short]]
            fill_p = fill_propensity(n_allowed[short], k, n_items)[:, None]
            props[short] = np.where(fill, fill_p, 1.0)

        rich = np.flatnonzero(n_allowed > k)
        if len(rich) and self.epsilon > 0:
            explore = rng.random((len(rich), k)) < self.epsilon
            sub = np.flatnonzero(explore.any(axis=1))
            if len(sub):
                rows = rich[sub]
                noise = np.where(allowed[rows], rng.random((len(rows), n_items)), -1.0)
                perm = top_k(noise, k, None, rng)  # k distinct allowed items, uniform order
                slates[rows] = _fill_slates(ranked[rows], perm, explore[sub])
        if len(rich):
            table = _inclusion_table(n_allowed[rich], k, self.epsilon)
            shown = slates[rich]
            k_rich = key[rich]
            v = np.take_along_axis(k_rich, shown, axis=1)
            lo = np.empty_like(shown)
            tied = np.empty_like(shown)
            for j in range(k):
                lo[:, j] = (k_rich > v[:, j : j + 1]).sum(axis=1)
                tied[:, j] = (k_rich == v[:, j : j + 1]).sum(axis=1)
            props[rich] = _rank_span_mean(table, lo, tied)
        return Selection(slates, props)

    def probabilities(self, scores: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        r"""The first slot's exact distribution: :math:`\pi_i` above (the inclusion
        probabilities of ``k = 1``); uniform over all items where nothing is allowed."""
        return self.inclusion_probabilities(scores, 1, exclude)

    def inclusion_probabilities(
        self, scores: np.ndarray, k: int = 1, exclude: np.ndarray | None = None
    ) -> np.ndarray:
        """Exact probability that each item appears in the slate: float ``[n_users,
        n_items]``, each row summing to ``k`` (the reported propensities, for all items)."""
        key = ranking_key(np.asarray(scores), exclude)
        n_users, n_items = key.shape
        k = check_int("k", k, low=1, high=n_items)
        allowed = np.isfinite(key)
        n_allowed = allowed.sum(axis=1)
        out = np.zeros((n_users, n_items))
        short = n_allowed <= k
        if short.any():
            fill = fill_propensity(n_allowed[short], k, n_items)[:, None]
            out[short] = np.where(allowed[short], 1.0, fill)
        rich = np.flatnonzero(~short)
        if len(rich):
            table = _inclusion_table(n_allowed[rich], k, self.epsilon)
            lo, tied = _tie_spans(key[rich])
            out[rich] = np.where(allowed[rich], _rank_span_mean(table, lo, tied), 0.0)
        return out


def _tie_spans(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every entry: how many entries of its row are larger, and how many are equal."""
    n, m = key.shape
    order = np.argsort(-key, axis=1, kind="stable")
    start, end = tie_groups(np.take_along_axis(key, order, axis=1))
    lo = np.empty((n, m), np.int64)
    tied = np.empty((n, m), np.int64)
    np.put_along_axis(lo, order, start, axis=1)
    np.put_along_axis(tied, order, end - start + 1, axis=1)
    return lo, tied


def _fill_slates(ranked: np.ndarray, perm: np.ndarray, explore: np.ndarray) -> np.ndarray:
    """Fill slots left to right: explore slots take the next item of the random order
    ``perm`` not yet shown, exploit slots the next item of ``ranked`` not yet shown.

    The first not-yet-shown item of a uniform random order is uniform over the items not
    yet shown, whatever was exploited before; at most ``k`` entries of either list are read.
    """
    n, k = ranked.shape
    rows = np.arange(n)
    slate = np.empty_like(ranked)
    ptr = {False: np.zeros(n, np.int64), True: np.zeros(n, np.int64)}
    for j in range(k):
        for is_explore, src in ((False, ranked), (True, perm)):
            p = ptr[is_explore]
            active = explore[:, j] == is_explore
            while True:
                dup = active & (slate[:, :j] == src[rows, p][:, None]).any(axis=1)
                if not dup.any():
                    break
                p[dup] += 1
        pick = np.where(explore[:, j], perm[rows, ptr[True]], ranked[rows, ptr[False]])
        slate[:, j] = pick
        ptr[True] += explore[:, j]
        ptr[False] += ~explore[:, j]
    return slate


def _inclusion_table(n: np.ndarray, k: int, eps: float) -> np.ndarray:
    """``[len(n), k + 1]``: inclusion probability of the items ranked ``1..k`` and (last
    column) of every item ranked below ``k``, for users with ``n > k`` allowed items.

    State ``(p, q)``: the slate holds ranks ``1..p`` (rank ``p + 1`` absent) and ``q`` items
    ranked ``≥ p + 2``, uniformly distributed among those ``N = n - p - 1`` ranks. A slot
    adds rank ``p + 1`` with probability ``(1 - ε) + ε / (n - j)`` — then the prefix also
    absorbs the run of ``L`` held items right after it, ``P(L ≥ l) = Π_{i<l} (q-i)/(N-i)`` —
    and otherwise (explore, another item) moves to ``(p, q + 1)``.
    """
    uniq, inv = np.unique(n, return_inverse=True)
    nn = uniq.astype(np.float64)
    g = np.zeros((len(nn), k + 1, k + 1))
    g[:, 0, 0] = 1.0
    for j in range(k):
        new = np.zeros_like(g)
        rem = nn - j
        take = (1.0 - eps) + eps / rem
        side = eps * (rem - 1.0) / rem
        for p in range(j + 1):
            q = j - p
            mass = g[:, p, q]
            new[:, p, q + 1] += mass * side
            big_n = nn - p - 1.0
            surv = np.ones_like(nn)
            for ell in range(q + 1):
                nxt = surv * (q - ell) / (big_n - ell)
                new[:, p + 1 + ell, q - ell] += mass * take * (surv - nxt)
                surv = nxt
        g = new
    table = np.zeros((len(nn), k + 1))
    for p in range(k + 1):
        q = k - p
        mass = g[:, p, q]
        table[:, :p] += mass[:, None]
        if q:
            share = mass * q / (nn - p - 1.0)
            table[:, p + 1 :] += share[:, None]
    return table[inv]


def _rank_span_mean(table: np.ndarray, lo: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """Mean of the inclusion probabilities of ranks ``lo + 1 .. lo + tied`` (per entry)."""
    k = table.shape[1] - 1
    cum = np.concatenate([np.zeros((len(table), 1)), np.cumsum(table[:, :k], axis=1)], axis=1)
    tail = table[:, k : k + 1]

    def c(x: np.ndarray) -> np.ndarray:
        inside = np.take_along_axis(cum, np.minimum(x, k), axis=1)
        return inside + np.maximum(x - k, 0) * tail

    return (c(lo + tied) - c(lo)) / np.maximum(tied, 1)
