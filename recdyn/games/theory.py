r"""Closed-form quantities from the theory of exposure games (thesis §5.2).

* :func:`mean_direction` — :math:`\bar c = E[c]/\|E[c]\|`, where every τ > 0 game has a
  critical point :math:`s_1 = \dots = s_n = \bar c` (Proposition 4, L4005–4008);
* :func:`c_hat` — :math:`\hat c = \frac1n(1 - \frac1n)E[c]`, the limit of
  :math:`\tau \nabla u_1` at the collapsed profile as τ → ∞ (Lemma 6, L4330);
* :func:`theorem4_radius` — every better response to the collapsed profile lies within
  :math:`\delta = 2\varepsilon/(\|\hat c\| - \varepsilon)` of :math:`\bar c` when
  :math:`\varepsilon < \|\hat c\|` bounds :math:`\|\tau\nabla u_1 - \hat c\|` (Theorem 4,
  L3941–3950, proof L4390–4407).
"""

from __future__ import annotations

import numpy as np

from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError

__all__ = ["c_hat", "collapsed_profile", "mean_direction", "theorem4_radius"]


def _users(users: object) -> np.ndarray:
    arr = np.asarray(users, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or not np.all(np.isfinite(arr)):
        raise InvalidParameterError(
            f"users must be a finite float array [m, d] with m >= 1; got shape {arr.shape}"
        )
    return arr


def mean_direction(users: object) -> np.ndarray:
    """``E[c] / ‖E[c]‖`` ``[d]``; an error when ``E[c] = 0``."""
    mean = _users(users).mean(axis=0)
    norm = np.linalg.norm(mean)
    if norm == 0.0:
        raise InvalidParameterError("users have mean 0: the mean direction is undefined")
    return mean / norm


def collapsed_profile(users: object, n: int) -> np.ndarray:
    """``n`` copies of :func:`mean_direction` ``[n, d]`` (Proposition 4's critical point)."""
    n = check_int("n", n, low=1)
    return np.tile(mean_direction(users), (n, 1))


def c_hat(users: object, n: int) -> np.ndarray:
    """``(1/n)(1 - 1/n) E[c]`` ``[d]`` (Lemma 6)."""
    n = check_int("n", n, low=1)
    return (1.0 / n) * (1.0 - 1.0 / n) * _users(users).mean(axis=0)


def theorem4_radius(eps: float, c_hat_norm: float) -> float:
    """``δ = 2ε / (‖ĉ‖ - ε)`` for ``0 < ε < ‖ĉ‖`` (Theorem 4)."""
    eps = check_float("eps", eps, low=0.0, low_open=True)
    c_hat_norm = check_float("c_hat_norm", c_hat_norm, low=0.0, low_open=True)
    if eps >= c_hat_norm:
        raise InvalidParameterError(
            f"eps must be below c_hat_norm = {c_hat_norm!r} for the radius to exist; got {eps!r}"
        )
    return 2.0 * eps / (c_hat_norm - eps)
