r"""Discretised two-player exposure games solved as a linear programme (thesis §5.6, (a)).

Restricting both producers to a finite set :math:`A = \{a_1, \dots, a_k\} \subset S^{d-1}`,
a mixed strategy is :math:`x \in \Delta_k`. With two producers :math:`u_1 + u_2 = 1`, so
the game is constant-sum and its value and a max-min strategy come from the LP

.. math::

    \max_{x, v}\ v \quad \text{s.t.}\quad U^\top x \ge v\mathbf 1,\ \mathbf 1^\top x = 1,\
    x \ge 0, \qquad U_{ab} = u_1(a_a, a_b),

(the row player's guaranteed payoff against every column; the thesis writes ``Ux ≥ α1``,
the same LP for the transposed orientation). The game is symmetric, so the value is ½ and
:math:`(x, x)` is a mixed NE. Works at any τ ≥ 0 (hardmax included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.games.exposure import ExposureGame

__all__ = ["DiscreteEquilibrium", "circle_grid", "payoff_matrix", "solve_discretised"]


def circle_grid(k: int, phase: float = 0.0) -> np.ndarray:
    """``k`` equally spaced unit vectors ``[cos θ, sin θ]`` with ``θ = phase + 2πj/k``."""
    k = check_int("k", k, low=1)
    phase = check_float("phase", phase)
    theta = phase + 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def payoff_matrix(game: ExposureGame, grid: object) -> np.ndarray:
    """``U[a, b] = u_1(grid[a], grid[b])`` for two producers, float ``[k, k]``."""
    a = game.check_strategies(grid, unit=True)
    if a.ndim != 2:
        raise InvalidParameterError(f"grid must have shape [k, d]; got {a.shape}")
    k = len(a)
    profiles = np.stack(
        [
            np.broadcast_to(a[:, None, :], (k, k, game.d)),
            np.broadcast_to(a[None, :, :], (k, k, game.d)),
        ],
        axis=2,
    )
    return game.utilities(profiles)[..., 0]


@dataclass(frozen=True)
class DiscreteEquilibrium:
    """``strategy`` ``[k]`` (the mixed strategy x, both players' in a symmetric game),
    ``value`` (the row player's guaranteed payoff), ``payoff`` ``U`` ``[k, k]``."""

    strategy: np.ndarray
    value: float
    payoff: np.ndarray


def solve_discretised(game: ExposureGame, grid: object) -> DiscreteEquilibrium:
    """Mixed NE of the two-player game restricted to ``grid`` ``[k, d]`` (module doc), by
    ``scipy.optimize.linprog`` (HiGHS)."""
    u = payoff_matrix(game, grid)
    k = len(u)
    c = np.zeros(k + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-u.T, np.ones((k, 1))])
    a_eq = np.hstack([np.ones((1, k)), np.zeros((1, 1))])
    bounds = [(0.0, None)] * k + [(None, None)]
    res = linprog(
        c, A_ub=a_ub, b_ub=np.zeros(k), A_eq=a_eq, b_eq=[1.0], bounds=bounds, method="highs"
    )
    if not res.success:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"linprog failed: {res.message}")
    x = np.clip(res.x[:k], 0.0, None)
    return DiscreteEquilibrium(strategy=x / x.sum(), value=float(res.x[-1]), payoff=u)
