r"""The classical per-rating weights: naive, inverse propensity (plain, clipped,
self-normalised per step) and inverse item popularity.

With :math:`q_r` the logged propensity of rating :math:`r` (the probability that its pair
was observed at its step; :mod:`recdyn.debias.base`):

=============== ==========================================================================
``naive``       :math:`w_r = 1` (the *Naive* row of thesis Table 3.1, L2126–2143)
``ips``         :math:`w_r = 1/q_r`: the loss over the observed pairs is an unbiased
                estimate of the loss over all pairs (thesis §3.3, Proposition 1; Schnabel
                et al. 2016, "Recommendations as treatments")
``clipped-ips`` :math:`w_r = \min(1/q_r,\ c \cdot \mathrm{median}_{r'}\,1/q_{r'})`: the
                weights capped at ``cap`` times their median, trading bias for variance;
                relative, so one ``cap`` fits worlds whose propensities differ by orders of
                magnitude (Ionides 2008 caps at a multiple of the mean weight)
``snips``       :math:`w_r = \dfrac{n_t / q_r}{\sum_{r' \in t} 1/q_{r'}}`, :math:`t` the step
                of :math:`r` and :math:`n_t` its number of logged ratings: inverse
                propensities self-normalised so that each step's weights average 1
                (Swaminathan & Joachims 2015). With one rating per step every weight is 1
                (the naive weights); it differs from ``ips`` when a step holds several
``pop``         :math:`w_r = (n_{i_r} / \max_j n_j)^{-\alpha}`, :math:`n_i` the ratings of item
                :math:`i` in the log: "a correction that scales inversely with item
                popularity", the *Pop* row of Table 3.1 (L2139–2143; an observation
                probability taken ∝ popularity, with ``exponent`` α = 1); needs no logged
                propensity
=============== ==========================================================================
"""

from __future__ import annotations

from numbers import Real
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval
from recdyn.debias.base import PropensityWeighting, Weighting, WeightingContext
from recdyn.interactions import Interactions

__all__ = ["ClippedIPS", "InversePopularity", "InversePropensity", "Naive", "SelfNormalizedIPS"]


class Naive(Weighting):
    """Every rating weighs 1 (no correction)."""

    def _weights(self, data: Interactions, context: WeightingContext) -> np.ndarray:
        return np.ones(len(data))


class InversePropensity(PropensityWeighting):
    """Inverse propensity: ``w = 1 / q`` (module docstring)."""

    def _logged_weights(
        self, data: Interactions, logged: np.ndarray, context: WeightingContext
    ) -> np.ndarray:
        return 1.0 / data.propensity[logged]


class ClippedIPS(PropensityWeighting):
    """Inverse propensity capped at ``cap`` times the median inverse propensity of the
    logged rows (module docstring). ``cap`` > 0, default 10; ``initial`` as for every
    propensity weighting."""

    def __init__(
        self,
        *,
        cap: Annotated[float, Interval(Real, 0, None, closed="neither")] = 10.0,
        **inherited: Any,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _logged_weights(
        self, data: Interactions, logged: np.ndarray, context: WeightingContext
    ) -> np.ndarray:
        inv = 1.0 / data.propensity[logged]
        return np.minimum(inv, self.cap * np.median(inv))


class SelfNormalizedIPS(PropensityWeighting):
    """Inverse propensities normalised to average 1 within each step (module docstring)."""

    def _logged_weights(
        self, data: Interactions, logged: np.ndarray, context: WeightingContext
    ) -> np.ndarray:
        inv = 1.0 / data.propensity[logged]
        _, group, count = np.unique(data.step[logged], return_inverse=True, return_counts=True)
        total = np.bincount(group, weights=inv)
        return inv * count[group] / total[group]


class InversePopularity(Weighting):
    """Inverse item popularity ``(n_i / max n)^-exponent`` (module docstring); ``exponent``
    ≥ 0, default 1 (0: the naive weights)."""

    def __init__(self, *, exponent: Annotated[float, Interval(Real, 0, None)] = 1.0) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _weights(self, data: Interactions, context: WeightingContext) -> np.ndarray:
        if not len(data):
            return np.ones(0)
        counts = np.bincount(data.item)
        share = counts[data.item] / counts.max()
        return share**-self.exponent
