"""``check_weighting``: does a weighting honour the :class:`~recdyn.debias.Weighting`
contract? (after scikit-learn's ``check_estimator``).

Each rule is a named check ``check_weighting_xxx(weighting)`` raising a
:class:`~recdyn.errors.CheckError` that names the check and the weighting;
:func:`weighting_checks` yields them all, :func:`check_weighting` runs them, and
:func:`recdyn.testing.parametrize_with_checks` makes one pytest item of each. The weighting
is called on :func:`logged_interactions`: initial data (step 0, no propensity) followed by
logged ratings with propensities, several per step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from recdyn.checking import (
    GlobalRngGuard,
    check,
    check_params_round_trip,
    raises,
    require,
    run_checks,
)
from recdyn.debias.base import Weighting, WeightingContext
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions

__all__ = ["check_weighting", "logged_interactions", "weighting_checks"]

N_USERS, N_ITEMS = 12, 15
CONTEXT = WeightingContext(N_USERS, N_ITEMS)


def logged_interactions(seed: int = 0, n_initial: int = 20, steps: int = 10) -> Interactions:
    """A log as :func:`recdyn.simulate` writes it: ``n_initial`` distinct initial pairs
    (step 0, propensity NaN), then ``steps`` steps in which 3 users each rate one new
    item, with propensities in ``[0.01, 0.6]``. All pairs are distinct."""
    rng = np.random.default_rng(seed)
    pairs = rng.choice(N_USERS * N_ITEMS, size=n_initial + 3 * steps, replace=False)
    user, item = np.divmod(pairs, N_ITEMS)
    step = np.concatenate([np.zeros(n_initial, int), np.repeat(np.arange(1, steps + 1), 3)])
    q = np.concatenate([np.full(n_initial, np.nan), rng.uniform(0.01, 0.6, 3 * steps)])
    rating = rng.integers(1, 6, size=len(pairs)).astype(float)
    return Interactions(user, item, rating, step, q)


def _call(weighting: Weighting, data: Interactions) -> np.ndarray:
    w = weighting(data, CONTEXT)
    require(isinstance(w, np.ndarray), f"returned {type(w).__name__}, not an ndarray")
    require(w.dtype == np.float64, f"returned dtype {w.dtype}, not float64")
    require(w.shape == (len(data),), f"returned shape {w.shape} for {len(data)} ratings")
    require(bool(np.isfinite(w).all() and (w >= 0).all()), "returned NaN, inf or negatives")
    return w


@check
def check_weighting_params(weighting: Weighting) -> None:
    """``get_params`` / ``clone`` / ``set_params`` / ``repr`` round trip."""
    require(isinstance(weighting, Weighting), f"{weighting!r} is not a recdyn Weighting")
    check_params_round_trip(weighting)


@check
def check_weighting_values(weighting: Weighting) -> None:
    """One finite, non-negative float64 weight per rating; the same log gives the same
    weights; no global random state is used; an empty log gives no weights."""
    data = logged_interactions()
    with GlobalRngGuard() as guard:
        first = _call(weighting, data)
        again = _call(weighting, data)
    guard.require_untouched()
    require(np.array_equal(first, again), "the same log gave different weights")
    require(len(_call(weighting, Interactions.empty())) == 0, "an empty log gave weights")


@check
def check_weighting_row_order(weighting: Weighting) -> None:
    """Weights belong to ratings, not to row positions: shuffling the rows of a log
    shuffles its weights the same way."""
    data = logged_interactions(1)
    perm = np.random.default_rng(2).permutation(len(data))
    w = _call(weighting, data)
    shuffled = _call(weighting, data.select(perm))
    require(np.allclose(shuffled, w[perm], rtol=1e-12), "weights depend on the row order")


@check
def check_weighting_propensities(weighting: Weighting) -> None:
    """A weighting that needs propensities raises a clear error on online ratings without
    one and on propensities outside (0, 1]; one that does not works without them."""
    data = logged_interactions(3)
    bare = Interactions(data.user, data.item, data.rating, data.step)
    if not weighting.needs_propensities:
        _call(weighting, bare)
        return
    raises(lambda: weighting(bare, CONTEXT), InvalidParameterError, "a log without propensities")
    for bad in (0.0, 1.5):
        q = data.propensity.copy()
        q[-1] = bad
        log = Interactions(data.user, data.item, data.rating, data.step, q)
        raises(lambda log=log: weighting(log, CONTEXT), InvalidParameterError, f"propensity {bad}")


def weighting_checks(weighting: Weighting, **options: Any) -> Iterator[Callable[[Any], None]]:
    """The checks of a weighting, each called as ``check(weighting)``."""
    yield check_weighting_params
    yield check_weighting_values
    yield check_weighting_row_order
    yield check_weighting_propensities


def check_weighting(weighting: Weighting) -> None:
    """Run every check; the first failure raises a :class:`~recdyn.errors.CheckError`."""
    run_checks(weighting, weighting_checks(weighting))
