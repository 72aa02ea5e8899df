"""Debiasing under feedback loops (thesis ch. 3): per-rating training weights and
off-policy value estimates.

* :data:`weightings` — the registry of :class:`Weighting` s: ``naive``, ``ips``,
  ``clipped-ips``, ``snips``, ``pop``, ``cafl`` and ``cafl-per-user``
  (``recdyn.debias.weightings.make("cafl", held_out=1000)``); a recommender that takes
  per-rating weights names one in plain data (``mf-als``: ``weighting="cafl"`` or
  ``weighting={"name": "clipped-ips", "cap": 5.0}``).
* :mod:`recdyn.debias.offpolicy` — IPS, SNIPS and doubly robust estimates of a target
  policy's value from a logged trajectory, with confidence intervals.
* :func:`check_weighting` — the contract every weighting honours.
"""

from recdyn.debias import offpolicy
from recdyn.debias.base import PropensityWeighting, Weighting, WeightingContext
from recdyn.debias.cafl import cafl_weights
from recdyn.debias.checker import check_weighting, weighting_checks
from recdyn.debias.registry import WeightingSpec, make, resolve_weighting, weightings

__all__ = [
    "PropensityWeighting",
    "Weighting",
    "WeightingContext",
    "WeightingSpec",
    "cafl_weights",
    "check_weighting",
    "make",
    "offpolicy",
    "resolve_weighting",
    "weighting_checks",
    "weightings",
]
