"""Are a policy's propensities exact? Compare them with frequencies over many draws.

A policy's ``Selection.propensities[u, j]`` means one of two things (see the policies'
docstrings):

* the **inclusion probability** :math:`P(i \\in \\text{slate})` of the item ``i`` shown
  at ``j`` (:class:`~recdyn.policies.EpsilonGreedyPolicy`): a number that depends on the
  item only, wherever it appears;
* the **conditional factor** :math:`P(\\text{slate}_j = i \\mid \\text{slate}_{<j})`, the
  probability of the item at ``j`` given the items above it
  (:class:`~recdyn.policies.SoftmaxPolicy`, Plackett–Luce): it depends on the items above.

For ``k = 1`` they coincide. A slot showing nothing (``NO_ITEM``) is one more outcome,
"item" ``n_items`` of the events below. :func:`check_exact_propensities` draws
``n_draws`` slates for one user's scores, reads which meaning applies from the reports
themselves (an item reported with one value everywhere: inclusion; otherwise
conditional, and then the value must be a function of the items above it), and
compares every reported value ``p`` with the observed frequency of its event among the
``n`` draws where it could happen, within a Bernstein bound on a binomial count:

.. math:: |c - n p| \\le \\frac{L}{3} + \\sqrt{\\frac{L^2}{9} + 2 L\\, n p (1 - p)},
          \\qquad L = \\ln(2 / 10^{-9}),

about :math:`6.5\\,\\sigma` plus 14 draws: an exact propensity fails one comparison with
probability below :math:`10^{-9}`, while one off by a few percent fails at once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

from recdyn.checking import require
from recdyn.errors import CheckError

__all__ = ["bernstein_tolerance", "check_exact_propensities"]

_LOG_TERM = math.log(2 / 1e-9)


def bernstein_tolerance(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Largest ``|count - n p|`` accepted for a binomial count of ``n`` draws of
    probability ``p`` (false alarm below 1e-9)."""
    var = n * p * (1.0 - p)
    return _LOG_TERM / 3 + np.sqrt(_LOG_TERM**2 / 9 + 2 * _LOG_TERM * var)


def check_exact_propensities(
    policy, row: np.ndarray, excluded: np.ndarray, k: int, n_draws: int, seed: int
) -> None:
    """Draw ``n_draws`` slates of ``k`` items for one user with scores ``row`` and
    exclusions ``excluded``; raise :class:`~recdyn.errors.CheckError` unless every
    reported propensity matches the frequency of its event (module docstring)."""
    n_items = len(row)
    scores = np.tile(row, (n_draws, 1))
    exclude = np.tile(excluded, (n_draws, 1))
    sel = policy.select(scores, k, exclude, np.random.default_rng(seed))
    slates, props = sel.slates, sel.propensities
    if (slates < 0).any():  # NO_ITEM (-1): "nothing shown" counts as one more outcome
        slates = np.where(slates < 0, n_items, slates)
        n_items += 1
    where = f"k={k}, {int((~excluded).sum())} allowed items, {n_draws} draws"
    require(props is not None, f"{where}: no propensities reported")
    require(
        bool((props > 0).all() and (props <= 1 + 1e-12).all()),
        f"{where}: propensities outside (0, 1]",
    )
    constant = all(
        np.ptp(props[slates == i]) <= 1e-9 * props[slates == i].max()
        for i in range(n_items)
        if (slates == i).any()
    )
    if constant:
        _check_inclusion(slates, props, n_items, where)
    else:
        _check_conditional(slates, props, n_items, where)


def _check_inclusion(slates: np.ndarray, props: np.ndarray, n_items: int, where: str) -> None:
    n = len(slates)
    items = [i for i in range(n_items) if (slates == i).any()]
    p = np.array([props[slates == i][0] for i in items])
    counts = np.array([(slates == i).any(axis=1).sum() for i in items])
    events = [f"item {i} is in the slate" for i in items]
    _compare(counts, np.full(len(items), n), p, events, where)


def _check_conditional(slates: np.ndarray, props: np.ndarray, n_items: int, where: str) -> None:
    n, k = slates.shape
    code = np.zeros(n, np.int64)  # the items above position j, as one number
    for j in range(k):
        full = code * n_items + slates[:, j]
        keys, inverse, counts = np.unique(full, return_inverse=True, return_counts=True)
        low = np.full(len(keys), np.inf)
        high = np.full(len(keys), -np.inf)
        np.minimum.at(low, inverse, props[:, j])
        np.maximum.at(high, inverse, props[:, j])
        require(
            not (high - low > 1e-9 * high).any(),
            f"{where}: the propensity at position {j} differs between slates with the same "
            "items above it, so it is neither an inclusion probability (one value per item) "
            "nor the conditional probability given the items above",
        )
        prefixes, prefix_counts = np.unique(code, return_counts=True)
        n_prefix = prefix_counts[np.searchsorted(prefixes, keys // n_items)]
        events = (
            f"item {key % n_items} at position {j} after {_decode(key // n_items, j, n_items)}"
            for key in keys
        )
        _compare(counts, n_prefix, low, events, where)
        code = full


def _decode(code: int, j: int, n_items: int) -> list[int]:
    items = []
    for _ in range(j):
        code, item = divmod(int(code), n_items)
        items.append(item)
    return items[::-1]


def _compare(
    counts: np.ndarray, n: np.ndarray, p: np.ndarray, events: Iterable[str], where: str
) -> None:
    """Require each ``counts[e]`` of ``n[e]`` draws to fit probability ``p[e]``; the
    message names the first event (of the iterable ``events``) that does not."""
    tol = bernstein_tolerance(n.astype(np.float64), p.astype(np.float64))
    bad = np.abs(counts - n * p) > tol
    if bad.any():
        e = int(np.argmax(bad))
        event = next(itertools.islice(events, e, None))
        c, m = int(counts[e]), int(n[e])
        raise CheckError(
            f"{where}: {event}: reported probability {p[e]:.4g}, observed {c}/{m} = "
            f"{c / m:.4g} (tolerance ±{tol[e] / m:.2g}, a Bernstein bound of about 6.5 σ)"
        )
