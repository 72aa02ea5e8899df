r"""CAFL: causal adjustment for feedback loops (thesis ch. 3, Corollary 1).

Thesis: ``shared/seeds/003_a5cce31751248cea.txt`` (line numbers ``L…`` below).

**Corollary 1** (L1683–1712). When one user-item pair is recommended per step and no pair
twice, the CAFL objective at step :math:`t` is

.. math::

    \hat L^{\mathrm{causal}}_{\mathrm{CAFL}}(\Theta; c) = \sum_{u,i} \sum_{s=1}^{t} c_s
      \Big[\sum_{r<s} \mathbb 1\{A_{r,ui}=1\} \log P_\Theta(R_{r,ui} \mid A_{r,ui})
      + \frac{\mathbb 1\{A_{s,ui}=1\} \log P_\Theta(R_{s,ui} \mid A_{s,ui})}
             {P(A_{s,ui} \mid \hat\Theta_{s-1})}\Big] + \text{const},

for any :math:`c` with :math:`\sum_s c_s = t` (L1719–1720). Equal expected weights for
all terms (L1728–1741) give (L1742, repeating Farquhar, Gal & Rainforth's Appendix B.4)

.. math:: c_s = \frac{UI\,(UI - t)}{(UI - s)(UI - s + 1)}.

A pair acquired at step :math:`s` then weighs :math:`c_s / q_s` at step :math:`s` and
:math:`c_{s'}` at every later step :math:`s' \le t`; the sum telescopes,
:math:`\sum_{s'=s+1}^{t} c_{s'} = UI\,(t-s)/(UI-s)`, into (L1747–1777)

.. math::

    W_{ui} = \frac{N}{N - s}\Big[(t - s) + \frac{N - t}{N - s + 1}\, q_s^{-1}\Big],

"where :math:`s` is the time at which that user-item pair :math:`(u, i)` was observed and
:math:`t` is the current time step" (L1776–1777). :math:`q_s` is the propensity *at
acquisition*, :math:`P(A_{s,ui} \mid \hat\Theta_{s-1})` as in the corollary (L1701–1709);
the display at L1767 writes :math:`\hat\Theta_{t-1}`, which the derivation above does not
support. For :math:`s = t` the weight is :math:`N / ((N - t + 1)\, q_t)`. Under uniform
logging, :math:`q_s = 1/(N - s + 1)`, every weight equals :math:`N` (a test pins it).

**What recdyn takes for N, s and t** (the thesis states them for one pair per step and
no initial data):

* :math:`N` (the thesis's :math:`UI`, "UI − s + 1 items out of the total UI items remain",
  L1739–1740) is the pool of pairs the loop can still recommend at the start:
  ``n_users × n_items`` minus ``held_out`` (pairs never recommended, e.g. a held-out test
  set) minus the distinct pairs of the initial data (excluded from recommendation);
* :math:`s` is one plus the number of logged pairs acquired at *earlier* steps: the pairs
  of one step share :math:`s`, since they were recommended by the same model from the same
  pool (with one pair per step this is the thesis's step index);
* :math:`t` is the number of logged pairs (the current step, with one pair per step).

``cafl-per-user`` (not in the thesis: a choice documented here) runs the same formula in
each user's own sequence, for worlds where a user gives a rating at many steps and many
users rate at once (the Pan/Chaney world of Table 3.1, L2072: every user, every step):
:math:`N_u` = ``n_items`` minus the user's initial pairs minus ``held_out / n_users`` (the
expected share of uniformly drawn held-out pairs), :math:`s` and :math:`t` count that
user's logged pairs, and :math:`q` is the *policy's* probability given the user's visit,
the logged joint propensity divided by ``arrival`` (the user's arrival probability: 1
when every user is online at every step; ``users_per_step / n_users`` for uniform
arrivals).

Initial data (no propensity) get the weight chosen by ``initial``
(:mod:`recdyn.debias.base`).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval
from recdyn.debias.base import PropensityWeighting, WeightingContext
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions

__all__ = ["CAFL", "CAFLPerUser", "cafl_weights"]


def cafl_weights(n: Any, s: Any, t: Any, q: Any) -> np.ndarray:
    """Corollary 1's weight ``N/(N-s) · [(t-s) + (N-t)/(N-s+1) / q]`` (module docstring),
    elementwise; requires ``1 ≤ s ≤ t ≤ N`` and ``0 < q ≤ 1``."""
    n, s, t, q = (np.asarray(x, dtype=np.float64) for x in (n, s, t, q))
    last = s >= t
    gap = np.where(last, 1.0, n - s)  # N - s > 0 wherever s < t ≤ N
    fix1 = np.where(last, 0.0, n * (t - s) / gap)
    fix2 = np.where(last, 1.0, (n - t) / gap)  # (N-t)/(N-s) → 1 as s → t
    return fix1 + n * fix2 / ((n - s + 1.0) * q)


def _earlier(groups: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """For each row: how many rows of its group have a smaller step."""
    order = np.lexsort((steps, groups))
    g, st = groups[order], steps[order].astype(np.int64)
    first_of_group = np.searchsorted(g, g, side="left")
    key = g.astype(np.int64) * (int(st.max()) + 1 if len(st) else 1) + st
    first_of_step = np.searchsorted(key, key, side="left")
    out = np.empty(len(order), np.int64)
    out[order] = first_of_step - first_of_group
    return out


def _earlier_in_pool(steps: np.ndarray) -> np.ndarray:
    """:func:`_earlier` with every row in one group: one binary search per row (a
    simulation's log is already in step order, so no sort is needed then)."""
    in_order = len(steps) < 2 or bool((steps[1:] >= steps[:-1]).all())
    return np.searchsorted(steps if in_order else np.sort(steps), steps, side="left")


def _initial_pairs(data: Interactions, logged: np.ndarray, n_items: int) -> np.ndarray:
    """The distinct pairs of the initial (not logged) rows, as ``user * n_items + item``."""
    initial = ~logged
    return np.unique(data.user[initial].astype(np.int64) * n_items + data.item[initial])


def _world(context: WeightingContext, label: str) -> tuple[int, int]:
    if context.n_users is None or context.n_items is None:
        raise InvalidParameterError(
            f"weighting {label} needs the world's size: call it with "
            "context=WeightingContext(n_users, n_items) (recommenders such as mf-als pass it)"
        )
    return int(context.n_users), int(context.n_items)


class CAFL(PropensityWeighting):
    """CAFL weights of thesis Corollary 1, one pool of pairs for the whole world (module
    docstring).

    Parameters
    ----------
    held_out : pairs never recommended (a held-out test set), taken out of the pool N
        (default 0).
    initial : weight rule for the initial data (``"mean"``, ``"one"``, ``"zero"``).
    """

    def __init__(
        self, *, held_out: Annotated[int, Interval(Integral, 0, None)] = 0, **inherited: Any
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _logged_weights(
        self, data: Interactions, logged: np.ndarray, context: WeightingContext
    ) -> np.ndarray:
        n_users, n_items = _world(context, self.label)
        n_initial = len(_initial_pairs(data, logged, n_items))
        pool = n_users * n_items - self.held_out - n_initial
        steps = data.step[logged]
        s = 1 + _earlier_in_pool(steps)
        t = len(steps)
        if t > pool:
            raise InvalidParameterError(
                f"weighting {self.label}: {t} logged pairs exceed the pool N = {pool:,} "
                f"(n_users × n_items = {n_users * n_items:,} minus held_out="
                f"{self.held_out:,} minus {n_initial:,} initial pairs); held_out must count "
                "only pairs that are never recommended"
            )
        return cafl_weights(pool, s, t, data.propensity[logged])


class CAFLPerUser(CAFL):
    """CAFL weights in each user's own sequence of ratings (module docstring: N = the
    user's items, s and t the user's counts, q the policy's probability given the visit).

    Parameters
    ----------
    arrival : each user's arrival probability, dividing the logged joint propensity
        (default 1: every user online at every step), in (0, 1].
    held_out : pairs never recommended, spread evenly over users (default 0).
    initial : weight rule for the initial data.
    """

    def __init__(
        self,
        *,
        arrival: Annotated[float, Interval(Real, 0, 1, closed="right")] = 1.0,
        **inherited: Any,  # held_out, initial: CAFL's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _logged_weights(
        self, data: Interactions, logged: np.ndarray, context: WeightingContext
    ) -> np.ndarray:
        n_users, n_items = _world(context, self.label)
        users = data.user[logged].astype(np.int64)
        initial = _initial_pairs(data, logged, n_items) // n_items
        per_user_initial = np.bincount(initial, minlength=n_users)
        pool = n_items - per_user_initial[users] - self.held_out / n_users
        s = 1 + _earlier(users, data.step[logged])
        t = np.bincount(users, minlength=n_users)[users]
        over = t > pool
        if over.any():
            u = int(users[np.flatnonzero(over)[0]])
            raise InvalidParameterError(
                f"weighting {self.label}: user {u} has {int(t[over][0])} logged pairs, more "
                f"than the user's pool N_u = {float(pool[over][0]):g} (n_items minus initial "
                f"pairs minus held_out / n_users with held_out={self.held_out:,})"
            )
        q = data.propensity[logged] / self.arrival
        if (q > 1 + 1e-9).any():
            raise InvalidParameterError(
                f"weighting {self.label}: arrival={self.arrival!r} makes a policy probability "
                f"q / arrival = {float(q.max()):g} > 1; arrival must be the users' arrival "
                "probability (at least every logged propensity)"
            )
        return cafl_weights(pool, s, t, np.minimum(q, 1.0))
