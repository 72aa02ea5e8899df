"""Exposure games (thesis ch. 5): content creators competing for a fixed recommender's
exposure, their equilibria found by batched gradient ascent, certified by the second-order
Riemannian test and the ε-gap, and small discretised games solved exactly.

* :mod:`recdyn.games.exposure` — :class:`ExposureGame` (exposure, utilities, gradients,
  Hessians, their Riemannian versions), batched over leading axes;
* :mod:`recdyn.games.solver` — :func:`find_equilibria`, :func:`gradient_ascent`;
* :mod:`recdyn.games.certify` — :func:`second_order_test`, :func:`epsilon_gap`;
* :mod:`recdyn.games.discrete` — :func:`solve_discretised` (two players, LP);
* :mod:`recdyn.games.theory` — mean direction, ĉ, Theorem 4's radius.
"""

from recdyn.games.certify import (
    STATUSES,
    Certification,
    EpsilonGap,
    epsilon_gap,
    gradient_tolerance,
    second_order_test,
)
from recdyn.games.discrete import (
    DiscreteEquilibrium,
    circle_grid,
    payoff_matrix,
    solve_discretised,
)
from recdyn.games.exposure import ExposureGame, tangent_basis
from recdyn.games.solver import (
    DEFAULT_MAX_ITER,
    EquilibriumSearch,
    default_tol,
    find_equilibria,
    gradient_ascent,
    random_strategies,
)
from recdyn.games.theory import c_hat, collapsed_profile, mean_direction, theorem4_radius

__all__ = [
    "DEFAULT_MAX_ITER",
    "STATUSES",
    "Certification",
    "DiscreteEquilibrium",
    "EpsilonGap",
    "EquilibriumSearch",
    "ExposureGame",
    "c_hat",
    "circle_grid",
    "collapsed_profile",
    "default_tol",
    "epsilon_gap",
    "find_equilibria",
    "gradient_ascent",
    "gradient_tolerance",
    "mean_direction",
    "payoff_matrix",
    "random_strategies",
    "second_order_test",
    "solve_discretised",
    "tangent_basis",
    "theorem4_radius",
]
