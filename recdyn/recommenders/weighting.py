"""How a recommender takes per-rating training weights: the ``weighting=`` hyperparameter
(its domain, :data:`WeightingParam`, declared once) and :func:`rating_weights`, which
turns its value into one weight per rating. ``mf-als`` and ``gmf`` share both.

A ``weighting`` is one of

* ``None``: every weight is 1;
* a :mod:`recdyn.debias` weighting, named in plain data so that it fits a TOML spec and a
  stored result — ``"cafl"``, ``{"name": "clipped-ips", "cap": 5.0}`` — or given as an
  object (``recdyn.debias.weightings.make("cafl", held_out=1000)``); it is called with
  the world's size, ``WeightingContext(n_users, n_items)``;
* ``"inverse-propensity"`` (kept from before :mod:`recdyn.debias`): :math:`w = 1/q` for
  ratings with a logged propensity :math:`q > 0`, 1 for the others (e.g. the initial
  data); ``"ips"`` gives the same weight to logged ratings, gives the initial data the
  mean weight and raises on online ratings without a propensity;
* a callable ``weighting(data) -> array[len(data)]`` (fixed weights ``w`` for one fit:
  ``weighting=lambda data: w``).

The model calls it at every ``fit`` and ``partial_fit`` on *all* the data seen so far
(``data.step`` and ``data.propensity`` included), so weights may change as the log grows:
CAFL's :math:`W_{ui}` (thesis ch. 3, Corollary 1) depends on the current step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import InstanceOf, Options
from recdyn.debias import WeightingContext, WeightingSpec, resolve_weighting
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions

__all__ = ["LEGACY_WEIGHTINGS", "WeightingParam", "rating_weights"]

#: the named weightings that predate :mod:`recdyn.debias` (module docstring)
LEGACY_WEIGHTINGS = ("inverse-propensity",)

_DEBIAS = WeightingSpec()
_CALLABLE = InstanceOf(
    Callable,  # type: ignore[arg-type]
    "a callable data -> weights (fixed weights w: weighting=lambda data: w)",
)

#: the annotation of a ``weighting`` hyperparameter: ``None``, a legacy name, a
#: :mod:`recdyn.debias` weighting (name, mapping or object) or a callable
WeightingParam = Annotated[
    Callable[[Interactions], np.ndarray] | str | dict | None,
    None,
    Options(LEGACY_WEIGHTINGS),
    _DEBIAS,
    _CALLABLE,
]


def rating_weights(
    weighting: Any, data: Interactions, n_users: int, n_items: int, dtype: Any = np.float64
) -> np.ndarray:
    """One weight per rating of ``data`` (of ``dtype``) from a validated ``weighting``
    hyperparameter (module docstring); ``n_users × n_items`` is the world's size.

    Raises :class:`InvalidParameterError` when a callable returns the wrong shape or a
    negative or non-finite weight (the :mod:`recdyn.debias` weightings check their own).
    """
    if weighting is None:
        return np.ones(len(data), dtype)
    if isinstance(weighting, str) and weighting in LEGACY_WEIGHTINGS:
        q = data.propensity
        if q is None:
            return np.ones(len(data), dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isfinite(q) & (q > 0), 1.0 / q, 1.0).astype(dtype)
    if _DEBIAS.accepts(weighting):
        context = WeightingContext(n_users, n_items)
        return resolve_weighting(weighting)(data, context).astype(dtype)
    w = np.asarray(weighting(data), dtype=dtype)
    if w.shape != (len(data),) or not (np.isfinite(w).all() and (w >= 0).all()):
        raise InvalidParameterError(
            f"weighting must return {len(data)} finite non-negative weights (one per "
            f"rating of the data it is given); got shape {w.shape}"
            + ("" if w.shape != (len(data),) else " with negative or non-finite values")
        )
    return w
