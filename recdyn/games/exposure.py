r"""Exposure games (Krauth, *The Dynamics of Recommender Systems*, ch. 5, Definition 1, L3774).

``n`` producers each place an item embedding :math:`s_i \in S^{d-1}`; a fixed recommender
exposes a user with embedding :math:`c` to producer ``i`` with probability (L3746–3753)

.. math::

    p_i(c) = \operatorname{softmax}\big([\tau^{-1}\langle c, s_{i'}\rangle]_{i'=1}^n\big)_i ,

and producer ``i``'s utility is its expected exposure :math:`u_i(s) = E_{c \sim P_c}[p_i(c)]`
over the empirical demand :math:`P_c = \frac1m \sum_j \delta_{c_j}` of the ``m`` users'
embeddings. :math:`\tau = 0` is hardmax (top-1 recommendation); ties are split equally
(as in Lemma 8, :math:`u_1(s, s) = \tfrac12`, L4667–4690).

Derivatives with respect to a producer's own strategy (the gradient is L4456; the Hessian
agrees with :math:`H_1` in the proof of Lemma 7, L4515–4530):

.. math::

    g_i = \nabla_{s_i} u_i = \tau^{-1} E[p_i (1 - p_i)\, c], \qquad
    H_i = \nabla^2_{s_i} u_i = \tau^{-2} E[p_i (1 - p_i)(1 - 2 p_i)\, c c^\top].

On the sphere (Definition 3, L4013) with :math:`\Pi_i = I - s_i s_i^\top`: the Riemannian
gradient is :math:`\Pi_i g_i` and the Riemannian Hessian
:math:`\Pi_i H_i \Pi_i - \langle s_i, g_i\rangle \Pi_i`, which :meth:`ExposureGame.
riemannian_hessian` returns on an orthonormal basis :math:`B_i` of :math:`s_i^\perp`
(:func:`tangent_basis`): :math:`B_i^\top H_i B_i - \langle s_i, g_i\rangle I_{d-1}`.

Numerics: log-probabilities come from a max-shifted logsumexp, and :math:`1 - p_i` of the
producer that wins a user is summed from the other producers' probabilities instead of
subtracted from 1, so :math:`p_i(1 - p_i)` keeps its relative precision when the softmax
saturates (:math:`\tau = 0.01`) rather than cancelling to 0.

Every method is batched: ``strategies`` of shape ``[..., n, d]`` (leading axes: seeds ×
initialisations …) give ``[..., n]`` utilities. ``users`` may also carry leading axes
(``[..., m, d]``, one demand per recommender seed) that broadcast against the strategies'.
The formulas hold for any :math:`s_i \in \mathbb R^d` (that is what :math:`\nabla` and
:math:`\nabla^2` differentiate); the Riemannian quantities require unit-norm strategies.
"""

from __future__ import annotations

import numpy as np

from recdyn._validation import check_float
from recdyn.errors import InvalidParameterError

__all__ = ["ExposureGame", "exposure_probabilities", "own_gradient", "tangent_basis"]

#: Hardmax ties: scores within this distance of a user's best score share the user.
TIE_ATOL = 1e-12
#: How far from 1 a strategy's norm may be where unit-norm strategies are required.
UNIT_ATOL = 1e-6


def _as_float_array(name: str, value: object, min_ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a float array, got {value!r}") from exc
    if arr.ndim < min_ndim:
        raise InvalidParameterError(
            f"{name} must have at least {min_ndim} dimensions ([..., rows, d]); "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite; it has NaN or infinite entries")
    return arr


class ExposureGame:
    """The softmax / hardmax exposure game of ``users`` at temperature ``tau`` (module doc).

    ``users``: float ``[m, d]`` (or ``[..., m, d]``, a stack of demands), finite, ``m ≥ 1``,
    ``d ≥ 1``; each row is one user's embedding, weighted ``1/m``. ``tau ≥ 0``.
    """

    def __init__(self, users: object, tau: float) -> None:
        self.users = _as_float_array("users", users, 2)
        m, d = self.users.shape[-2:]
        if m < 1 or d < 1:
            raise InvalidParameterError(
                f"users must have at least one user and one dimension; got shape {self.users.shape}"
            )
        self.tau = check_float("tau", tau, low=0.0)

    @property
    def d(self) -> int:
        """Embedding dimension."""
        return int(self.users.shape[-1])

    @property
    def m(self) -> int:
        """Number of users (support points of the empirical demand)."""
        return int(self.users.shape[-2])

    def __repr__(self) -> str:
        return f"ExposureGame(users={self.users.shape}, tau={self.tau!r})"

    # ----------------------------------------------------------------- validation
    def check_strategies(self, strategies: object, *, unit: bool = False) -> np.ndarray:
        """``strategies`` as float64 ``[..., n, d]`` (``n ≥ 1``, finite, ``d`` = the users'),
        unit-norm within ``1e-6`` when ``unit``; else :class:`InvalidParameterError`."""
        s = _as_float_array("strategies", strategies, 2)
        if s.shape[-2] < 1:
            raise InvalidParameterError(
                f"strategies must hold at least one producer (n >= 1); got shape {s.shape}"
            )
        if s.shape[-1] != self.d:
            raise InvalidParameterError(
                f"strategies must have the users' dimension d = {self.d} in the last axis; "
                f"got shape {s.shape}"
            )
        try:
            np.broadcast_shapes(s.shape[:-2], self.users.shape[:-2])
        except ValueError as exc:
            raise InvalidParameterError(
                f"strategies' leading axes {s.shape[:-2]} do not broadcast against the users' "
                f"{self.users.shape[:-2]}"
            ) from exc
        if unit:
            norms = np.linalg.norm(s, axis=-1)
            if np.any(np.abs(norms - 1.0) > UNIT_ATOL):
                raise InvalidParameterError(
                    "strategies must lie on the unit sphere here (|‖s_i‖ - 1| <= 1e-6); "
                    f"norms range over [{norms.min():.6g}, {norms.max():.6g}]"
                )
        return s

    def _require_softmax(self, what: str) -> None:
        if self.tau == 0.0:
            raise InvalidParameterError(
                f"{what} needs tau > 0: hardmax (tau = 0) utilities are not differentiable"
            )

    # ----------------------------------------------------------------- exposure
    def scores(self, strategies: object) -> np.ndarray:
        """``⟨c_j, s_i⟩`` for every user and producer: float ``[..., m, n]``."""
        s = self.check_strategies(strategies)
        return self.users @ np.swapaxes(s, -1, -2)

    def _probs(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return exposure_probabilities(scores, self.tau)

    def exposure(self, strategies: object) -> np.ndarray:
        """``p_i(c_j)``, float ``[..., m, n]`` (rows sum to 1; L3746–3753; hardmax at τ = 0
        with ties split equally)."""
        return self._probs(self.scores(strategies))[0]

    def utilities(self, strategies: object) -> np.ndarray:
        """``u_i(s) = (1/m) Σ_j p_i(c_j)``, float ``[..., n]`` (Definition 1, L3774)."""
        return self.exposure(strategies).mean(axis=-2)

    # ----------------------------------------------------------------- derivatives
    def gradient(self, strategies: object) -> np.ndarray:
        """``∇_{s_i} u_i = τ⁻¹ E[p_i(1 - p_i) c]`` for every producer, ``[..., n, d]`` (L4456)."""
        self._require_softmax("gradient")
        s = self.check_strategies(strategies)
        return own_gradient(self.users, s, self.tau)

    def hessian(self, strategies: object) -> np.ndarray:
        """``∇²_{s_i} u_i = τ⁻² E[p_i(1 - p_i)(1 - 2p_i) c cᵀ]``, ``[..., n, d, d]``."""
        self._require_softmax("hessian")
        p, q = self._probs(self.scores(strategies))
        w = p * q * (q - p) / (self.tau**2 * self.m)
        return np.einsum("...ji,...jd,...je->...ide", w, self.users, self.users, optimize=True)

    def riemannian_gradient(self, strategies: object) -> np.ndarray:
        """``Π_i ∇_{s_i} u_i`` with ``Π_i = I - s_i s_iᵀ``, ``[..., n, d]`` (Definition 3,
        L4013); needs unit-norm strategies."""
        s = self.check_strategies(strategies, unit=True)
        g = self.gradient(s)
        return g - np.sum(g * s, axis=-1, keepdims=True) * s

    def riemannian_hessian(self, strategies: object) -> np.ndarray:
        """``B_iᵀ H_i B_i - ⟨s_i, g_i⟩ I`` on an orthonormal basis ``B_i`` of ``s_i^⊥``
        (:func:`tangent_basis`): ``[..., n, d-1, d-1]``, symmetric; its eigenvalues are those
        of ``Π_i H_i Π_i - ⟨s_i, g_i⟩ Π_i`` (Definition 3) without the zero along ``s_i``."""
        s = self.check_strategies(strategies, unit=True)
        g = self.gradient(s)
        h = self.hessian(s)
        b = tangent_basis(s)
        hb = np.swapaxes(b, -1, -2) @ h @ b
        radial = np.sum(g * s, axis=-1)[..., None, None]
        out = hb - radial * np.eye(self.d - 1)
        return (out + np.swapaxes(out, -1, -2)) / 2


def exposure_probabilities(
    scores: np.ndarray, tau: float, axis: int = -1
) -> tuple[np.ndarray, np.ndarray]:
    """``p`` and ``1 - p`` from scores ``⟨c_j, s_i⟩`` (producers along ``axis``) at
    temperature ``tau`` (hardmax with ties split at 0); ``1 - p`` of a user's winner is the
    sum of the others' weights, so it keeps its relative precision where ``p ≈ 1``. No
    validation."""
    if tau == 0.0:
        best = scores.max(axis=axis, keepdims=True)
        tied = scores >= best - TIE_ATOL
        p = tied / tied.sum(axis=axis, keepdims=True)
        return p, 1.0 - p
    z = scores / tau
    winner = np.expand_dims(np.argmax(z, axis=axis), axis)
    z -= np.take_along_axis(z, winner, axis=axis)
    e = np.exp(z, out=z)
    np.put_along_axis(e, winner, 0.0, axis=axis)
    rest = e.sum(axis=axis, keepdims=True)  # the others' weight; the winner's is 1
    total = 1.0 + rest
    p = e / total
    q = 1.0 - p
    np.put_along_axis(p, winner, 1.0 / total, axis=axis)
    np.put_along_axis(q, winner, rest / total, axis=axis)
    return p, q


def own_gradient(users: np.ndarray, strategies: np.ndarray, tau: float) -> np.ndarray:
    """``τ⁻¹ (1/m) Σ_j p_i(c_j)(1 - p_i(c_j)) c_j`` ``[..., n, d]`` for ``tau > 0`` (L4456);
    no validation (the solver's inner loop). With one demand ``[m, d]`` the scores and the
    gradient are each one matrix product over every profile."""
    if users.ndim == 2:
        flat = strategies.reshape(-1, strategies.shape[-1])
        scores = (flat @ users.T).reshape(*strategies.shape[:-1], users.shape[0])
        p, q = exposure_probabilities(scores, tau, axis=-2)  # [..., n, m]
        p *= q
        p *= 1.0 / (tau * users.shape[0])
        return (p.reshape(-1, users.shape[0]) @ users).reshape(strategies.shape)
    p, q = exposure_probabilities(users @ np.swapaxes(strategies, -1, -2), tau)
    w = p * q
    w *= 1.0 / (tau * users.shape[-2])
    return np.swapaxes(w, -1, -2) @ users


def tangent_basis(strategies: object) -> np.ndarray:
    """Orthonormal basis of ``s^⊥`` for unit vectors ``s`` ``[..., d]``: ``[..., d, d-1]``.

    The Householder reflection ``I - 2vvᵀ/‖v‖²`` with ``v = s + sign(s_0) e_0`` maps ``s`` to
    ``∓e_0``; being symmetric and orthogonal, its columns ``1 … d-1`` span ``s^⊥``.
    """
    s = np.asarray(strategies, dtype=np.float64)
    if s.ndim < 1 or s.shape[-1] < 1:
        raise InvalidParameterError(f"strategies must have shape [..., d]; got {s.shape}")
    d = s.shape[-1]
    v = s.copy()
    sign = np.where(s[..., 0] >= 0, 1.0, -1.0)
    v[..., 0] += sign * np.linalg.norm(s, axis=-1)
    vv = np.sum(v * v, axis=-1)[..., None, None]
    reflect = np.eye(d) - 2.0 * v[..., :, None] * v[..., None, :] / vv
    return reflect[..., :, 1:]
