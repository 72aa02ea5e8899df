"""Stochastic policies with known propensities: softmax (Boltzmann) here, ε-greedy in
:mod:`recdyn.policies.epsilon_greedy` (re-exported, as is ``ranking_key``).

Both sample slates **without replacement** (RecLab's ``eps_greedy`` and ``thompson``
sampled with replacement and could show an item twice) and report in
``Selection.propensities`` the probabilities that inverse-propensity weighting needs
(CAFL, thesis ch. 3). What the number means for ``k > 1`` differs between the two policies
and is stated in each class docstring.
"""

from __future__ import annotations

from numbers import Real
from typing import Annotated

import numpy as np

from recdyn._arrays import push_down
from recdyn._validation import check_int
from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.inclusion import plackett_luce_inclusion
from recdyn.policies.base import Policy, Selection
from recdyn.policies.epsilon_greedy import EpsilonGreedyPolicy
from recdyn.policies.ranking import fill_propensity, ranking_key


class SoftmaxPolicy(Policy):
    r"""Softmax (Boltzmann) sampling: :math:`p_u(i) \propto \exp(s_{ui} / T)` over the
    allowed items (RecLab's misnamed ``thompson`` strategy; seed 004's softmax with
    :math:`\beta = 1/T`).

    A slate of ``k`` items is a Plackett–Luce draw without replacement: the first item from
    :math:`p_u`, each next one from :math:`p_u` renormalised over the items not yet shown,
    sampled at once by the Gumbel-top-k trick (Kool et al. 2019, arXiv 1903.06059).

    ``Selection.propensities[u, j]`` is the exact **conditional (Plackett–Luce) factor**

    .. math:: \pi_{u,j} = \frac{\exp(s_{u,i_j}/T)}{\sum_{i \text{ allowed},\,
              i \notin \{i_1..i_{j-1}\}} \exp(s_{ui}/T)},

    the probability of choosing the item at position ``j`` given the items above it. For
    ``k = 1`` (and for position 0 of any slate) this is exactly the probability that the item
    is shown, :math:`p_u(i)`; the product of a row is the probability of the ordered slate.
    For ``k > 1`` it is **not** the probability that the item appears somewhere in the slate.

    **Inclusion probabilities** (``k > 1``). The exact :math:`\pi_{ui} = P(i \in
    \text{slate})` has no closed form; :meth:`inclusion_probabilities` computes it by
    quadrature (:func:`recdyn.inclusion.plackett_luce_inclusion`, error ~1e-12, cost
    :math:`O(n\,k\,Q)` per user for a few hundred nodes :math:`Q`, ~0.4 s for 1,700 items
    and ``k = 10``: for analysis and off-policy evaluation, too slow for every step of a
    large world).
    ``Selection.inclusion``, which :func:`recdyn.simulate` logs, is instead the
    **conditional inclusion probability given the other items' keys** (priority
    sampling: Duffield, Lund & Thorup 2007; Kool, van Hoof & Welling 2019, §4):

    .. math:: \tilde\pi_{u,j} = P\big(g_{i_j} > \kappa \mid \text{the other keys}\big)
              = 1 - \exp\!\big(-e^{(s_{u,i_j} - m_u)/T - \kappa}\big),

    where :math:`g_i = (s_{ui} - m_u)/T + \text{Gumbel}` are the keys the slate was drawn
    by and :math:`\kappa` the ``k+1``-th largest of them (for a shown item, the ``k``-th
    largest of the others'). The partition that draws the slate yields it, it uses no
    random number (the slates are unchanged), and :math:`1/\tilde\pi` is an **unbiased
    estimate of** :math:`1/\pi`: :math:`E[\mathbb 1\{i \in S\}/\tilde\pi_i] = 1` for
    every item, which is what inverse-propensity weights need (IPS, SNIPS, CAFL,
    :mod:`recdyn.debias`). ``tests/test_propensities.py`` checks both against frequencies.

    A user with ``n < k`` allowed items gets them first (Plackett–Luce order) and then
    excluded items uniformly at random, whose factor is ``1 / (excluded items left)``.
    Scores must be finite. Computation subtracts each row's maximum (stable for any ``T``).

    Parameters
    ----------
    temperature : T > 0, default 1. ``T → 0`` approaches greedy, ``T → ∞`` uniform.
    """

    def __init__(
        self, temperature: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _logits(self, scores: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        if not (np.isfinite(s.min()) and np.isfinite(s.max())):
            bad = np.argwhere(~np.isfinite(s))[0]
            raise InvalidParameterError(
                f"SoftmaxPolicy needs finite scores; scores[{bad[0]}, {bad[1]}] is "
                f"{s[bad[0], bad[1]]}. Mask items with exclude= instead of NaN or inf"
            )
        top = (s if exclude is None else push_down(s, exclude)).max(axis=1, keepdims=True)
        if exclude is not None:
            top[exclude.all(axis=1)] = 0.0  # a row with nothing allowed
        with np.errstate(over="ignore"):
            logits = s - top
            if self.temperature != 1.0:
                logits /= self.temperature
        np.maximum(logits, -1e300, out=logits)  # an allowed item must keep a finite logit
        if exclude is not None:
            np.copyto(logits, -np.inf, where=exclude)
        return logits

    def probabilities(self, scores: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """The exact sampling distribution of the first slate position, ``[n_users, n_items]``
        (rows sum to 1; excluded items 0 unless nothing is allowed, then uniform)."""
        scores = np.asarray(scores)
        logits = self._logits(scores, exclude)
        none = ~np.isfinite(logits).any(axis=1)
        logits[none] = 0.0
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        return w / w.sum(axis=1, keepdims=True)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        logits = self._logits(scores, exclude)
        n_users, n_items = logits.shape
        allowed = np.isfinite(logits)
        n_allowed = allowed.sum(axis=1)
        gumbel = -np.log(rng.standard_exponential(size=logits.shape))
        key = logits + gumbel
        kappa = np.full((n_users, 1), -np.inf)  # the k+1-th largest key
        if k == 1:
            slates = np.argmax(key, axis=1)[:, None]
        else:
            if k < n_items:  # partitioning at k also yields κ (and the same top k)
                part = np.argpartition(-key, k, axis=1)
                slates = part[:, :k]
                kappa = np.take_along_axis(key, part[:, k : k + 1], axis=1)
            else:
                slates = np.tile(np.arange(n_items), (n_users, 1))
            order = np.argsort(-np.take_along_axis(key, slates, axis=1), axis=1, kind="stable")
            slates = np.take_along_axis(slates, order, axis=1)
        short = np.flatnonzero(n_allowed < k)
        if len(short):  # allowed items first, then excluded ones in uniform random order
            fill_key = np.where(allowed[short], key[short], gumbel[short])
            slates[short] = np.lexsort((-fill_key, ~allowed[short]), axis=1)[:, :k]
        factors = _plackett_luce_factors(logits, allowed, slates, n_allowed)
        if k == 1:
            return Selection(slates, factors)
        return Selection(slates, factors, _threshold_inclusion(logits, kappa, slates, n_allowed))

    def inclusion_probabilities(
        self, scores: np.ndarray, k: int = 1, exclude: np.ndarray | None = None
    ) -> np.ndarray:
        """Exact probability that each item appears in a slate of ``k``: float
        ``[n_users, n_items]``, rows summing to ``k`` (class docstring; a user with at most
        ``k`` allowed items: 1 for them, ``(k - n) / n_excluded`` for the excluded)."""
        logits = self._logits(np.asarray(scores), exclude)
        n_items = logits.shape[1]
        k = check_int("k", k, low=1, high=n_items)
        allowed = np.isfinite(logits)
        n_allowed = allowed.sum(axis=1)
        out = plackett_luce_inclusion(logits, k)
        short = np.flatnonzero(n_allowed <= k)
        if len(short):
            fill = fill_propensity(n_allowed[short], k, n_items)[:, None]
            out[short] = np.where(allowed[short], 1.0, fill)
        return out


def _threshold_inclusion(
    logits: np.ndarray, kappa: np.ndarray, slates: np.ndarray, n_allowed: np.ndarray
) -> np.ndarray:
    """``P(key_i > κ | the other keys)`` for each slate item, ``κ`` (``[n_users, 1]``) the
    ``k+1``-th largest key (SoftmaxPolicy's docstring); excluded fillers get their exact
    inclusion probability ``(k - n_allowed) / n_excluded``."""
    n_items = logits.shape[1]
    k = slates.shape[1]
    shown = np.take_along_axis(logits, slates, axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        incl = -np.expm1(-np.exp(shown - kappa))
    incl[~np.isfinite(kappa[:, 0])] = 1.0
    filler = ~np.isfinite(shown)
    if filler.any():
        fill = fill_propensity(n_allowed, k, n_items)[:, None]
        incl = np.where(filler, np.broadcast_to(fill, incl.shape), incl)
    return incl


def _plackett_luce_factors(
    logits: np.ndarray, allowed: np.ndarray, slates: np.ndarray, n_allowed: np.ndarray
) -> np.ndarray:
    """``w_i / (sum of w over allowed items not above i)`` for each slate entry.

    ``w = exp(logits)`` with each row's best allowed logit at 0, so every row total is
    ``≥ 1``; subtracting the weights above keeps a relative error ``≤ 1e-10`` unless less than
    ``1e-6`` of the mass remains, and those rows are recomputed in the log domain.
    """
    n_users, k = slates.shape
    w = np.exp(logits)
    total = w.sum(axis=1)
    shown_w = np.take_along_axis(w, slates, axis=1)
    shown_allowed = np.take_along_axis(allowed, slates, axis=1)
    above = np.concatenate([np.zeros((n_users, 1)), np.cumsum(shown_w, axis=1)[:, :-1]], axis=1)
    denom = total[:, None] - above
    with np.errstate(divide="ignore", invalid="ignore"):
        props = shown_w / denom
    fragile = np.flatnonzero((shown_allowed & (denom < 1e-6 * total[:, None])).any(axis=1))
    for j in range(k) if len(fragile) else ():
        remaining = np.where(allowed[fragile], logits[fragile], -np.inf)
        remaining[np.arange(len(fragile))[:, None], slates[fragile, :j]] = -np.inf
        mx = remaining.max(axis=1, keepdims=True)
        safe = np.where(np.isfinite(mx), mx, 0.0)
        with np.errstate(divide="ignore"):
            lse = safe[:, 0] + np.log(np.exp(remaining - safe).sum(axis=1))
        props[fragile, j] = np.exp(logits[fragile, slates[fragile, j]] - lse)
    if (n_allowed < k).any():  # excluded fillers: uniform over the excluded items left
        n_excl_before = np.cumsum(~shown_allowed, axis=1) - ~shown_allowed
        n_excl_left = (logits.shape[1] - n_allowed)[:, None] - n_excl_before
        props = np.where(shown_allowed, props, 1.0 / np.maximum(n_excl_left, 1))
    return props


__all__ = ["EpsilonGreedyPolicy", "SoftmaxPolicy", "ranking_key"]
