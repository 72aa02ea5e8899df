"""The :class:`Weighting` contract: one training weight per rating of an interaction log.

A weighting is a :class:`~recdyn.params.Parametrized` component registered in
:data:`recdyn.debias.weightings`; calling it on an :class:`~recdyn.interactions.
Interactions` log (and a :class:`WeightingContext`: the world's size) returns float64
weights, one per row, finite and non-negative. Recommenders that accept per-rating
weights call it on everything they are fitted on (``mf-als``: ``weighting="cafl"``).

Rows fall into two kinds:

* **logged** rows carry a propensity ``q`` in ``(0, 1]``: the probability that the pair
  was observed at its step (:func:`recdyn.simulate` logs the user's arrival probability
  times the policy's probability of showing the item);
* **initial** rows (``step == 0`` without a propensity) are the world's initial data, whose
  acquisition is unknown. Weightings that need propensities give them the weight chosen
  by ``initial``: ``"mean"`` (default: the mean weight of the logged rows, so an initial
  rating counts as a typical logged one), ``"one"`` or ``"zero"`` (left out).

An online row (``step > 0``) without a propensity — a deterministic policy logs none —
makes a weighting that needs propensities raise :class:`~recdyn.errors.
InvalidParameterError`, as do propensities outside ``(0, 1]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Options
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.params import Parametrized

__all__ = ["INITIAL_RULES", "PropensityWeighting", "Weighting", "WeightingContext"]

#: What a weighting that needs propensities gives the initial data (module docstring).
INITIAL_RULES = ("mean", "one", "zero")


@dataclass(frozen=True)
class WeightingContext:
    """What a weighting may need beyond the log: the world's size (``n_users × n_items``
    pairs; CAFL's pool of pairs). ``None``: unknown."""

    n_users: int | None = None
    n_items: int | None = None


class Weighting(Parametrized, ABC):
    """Maps an interaction log to one float64 training weight per rating.

    Subclasses implement ``_weights(data, context)``; ``__call__`` checks the input
    (propensities where ``needs_propensities``) and the output (finite, non-negative, one
    per row) and names the weighting in every error.
    """

    #: Whether the weights use ``data.propensity`` (then checked before ``_weights``).
    needs_propensities: ClassVar[bool] = False

    def __call__(self, data: Interactions, context: WeightingContext | None = None) -> np.ndarray:
        if not isinstance(data, Interactions):
            raise InvalidParameterError(
                f"weighting {self.label} takes an Interactions log, got {type(data).__name__}"
            )
        ctx = WeightingContext() if context is None else context
        if self.needs_propensities:
            check_propensities(data, f"weighting {self.label}")
        w = np.asarray(self._weights(data, ctx), dtype=np.float64)
        if w.shape != (len(data),):
            raise InvalidParameterError(
                f"weighting {self.label} returned shape {w.shape}, not ({len(data)},)"
            )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InvalidParameterError(
                f"weighting {self.label} gave {int(bad.sum())} NaN, infinite or negative "
                f"weight(s) (first: row {row}, {w[row]!r}); weights must be finite and ≥ 0"
            )
        return w

    @property
    def label(self) -> str:
        """How messages name the weighting: its registered name, quoted."""
        return repr(self.spec.name)

    @abstractmethod
    def _weights(self, data: Interactions, context: WeightingContext) -> np.ndarray:
        """One weight per row of ``data`` (checked by ``__call__``)."""


class PropensityWeighting(Weighting):
    """A weighting computed from the logged propensities; ``initial`` is the weight rule
    for the initial data (module docstring)."""

    needs_propensities = True

    def __init__(self, *, initial: Annotated[str, Options(INITIAL_RULES)] = "mean") -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _weights(self, data: Interactions, context: WeightingContext) -> np.ndarray:
        logged = logged_rows(data)
        w = np.zeros(len(data))
        if logged.any():
            w[logged] = self._logged_weights(data, logged, context)
        if not logged.all():
            fill = {"mean": w[logged].mean() if logged.any() else 1.0, "one": 1.0, "zero": 0.0}
            w[~logged] = fill[self.initial]
        return w

    @abstractmethod
    def _logged_weights(
        self, data: Interactions, logged: np.ndarray, context: WeightingContext
    ) -> np.ndarray:
        """Weights of the logged rows (``data`` rows where ``logged``), in row order."""


def logged_rows(data: Interactions) -> np.ndarray:
    """Boolean per row: does it carry a propensity?"""
    if data.propensity is None:
        return np.zeros(len(data), bool)
    return ~np.isnan(data.propensity)


def check_propensities(data: Interactions, who: str, argument: str = "data") -> None:
    """Raise :class:`InvalidParameterError` unless every online row (``step > 0``) has a
    propensity and every propensity lies in ``(0, 1]``; ``who`` and ``argument`` name the
    caller and its argument in the message."""
    online = data.step > 0
    q = data.propensity
    if q is None:
        if online.any():
            raise InvalidParameterError(
                f"{who} needs propensities, but {argument} ({int(online.sum())} online "
                "ratings) has none (Interactions.propensity is None): log them with a "
                "stochastic policy (epsilon-greedy, softmax); a deterministic policy such "
                "as greedy logs none"
            )
        return
    missing = online & np.isnan(q)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise InvalidParameterError(
            f"{who} needs propensities, but {int(missing.sum())} online rating(s) of "
            f"{argument} have none (first: row {row}, step {int(data.step[row])}); only "
            "initial data (step 0) may lack one. Log them with a stochastic policy "
            "(epsilon-greedy, softmax)"
        )
    check_probabilities(q[~np.isnan(q)], f"{argument}.propensity", who)


def check_probabilities(q: Any, argument: str, who: str, low_open: bool = True) -> np.ndarray:
    """``q`` as float64, or :class:`InvalidParameterError` naming ``argument`` unless each
    value lies in ``(0, 1]`` (``[0, 1]`` when ``low_open`` is false)."""
    q = np.asarray(q, dtype=np.float64)
    bad = ~np.isfinite(q) | (q > 1) | ((q <= 0) if low_open else (q < 0))
    if bad.any():
        first = float(q[bad].flat[0])
        valid = "(0, 1]" if low_open else "[0, 1]"
        raise InvalidParameterError(
            f"{who}: {argument} must hold probabilities in {valid}; {int(bad.sum())} "
            f"value(s) are not (first: {first!r})"
        )
    return q
