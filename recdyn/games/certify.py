r"""Certifying candidate equilibria: the second-order Riemannian test and the ε-gap.

**Second-order test** (Definition 3, L4013; tolerances L4986–4991). With
:math:`\Pi_i = I - s_i s_i^\top`, a profile :math:`s` is classified as

* ``"violated"`` — for some producer the Riemannian gradient has
  :math:`\|\Pi_i \nabla_{s_i} u_i\|_2 > 10^{-5}\sqrt d` (not a critical point), or the
  Riemannian Hessian :math:`\Pi_i \nabla^2_{s_i} u_i \Pi_i - \langle s_i, \nabla_{s_i}
  u_i\rangle \Pi_i` has an eigenvalue on :math:`s_i^\perp` above ``+tol`` (a direction in
  which that producer strictly gains): the test **rules out** a local NE;
* ``"inconclusive"`` — not violated, but some producer's Hessian has an eigenvalue in
  :math:`[-\mathrm{tol}, \mathrm{tol}]` on :math:`s_i^\perp` (a flat direction: a higher
  order term decides, as :math:`x^4` against :math:`-x^4`); the thesis's main text keeps
  these runs ("did not rule out", L4128–4130);
* ``"confirmed"`` — every Riemannian gradient is below the threshold and every Hessian is
  negative definite on :math:`s_i^\perp` beyond ``tol``: each producer sits at a strict
  local maximum of its own utility, so :math:`s` is a local NE (up to the gradient
  tolerance, an ε-LNE) — the appendix's "confirmed" runs (L5010–5020).

``tol = eig_tol · max(1, max_k |λ_k|)`` per producer (relative to the Hessian's scale,
which grows like :math:`\tau^{-2}`). The thesis uses no tolerance for "strictly positive"
(L4991); a positive eigenvalue at the level of rounding is inconclusive here instead.

**ε-gap**: the best gain :math:`\max_i \sup_v u_i(v, s_{-i}) - u_i(s)` that unilateral
deviations found, each producer ascending alone from several starts. The others' strategies
are fixed, so for producer ``i`` the exposure is a logistic function
:math:`p_i(c) = \sigma(\langle c, v\rangle/\tau - L_{-i}(c))` with the leave-one-out
logsumexp :math:`L_{-i}(c) = \log \sum_{j \ne i} e^{\langle c, s_j\rangle/\tau}`, computed
once; each deviation step then costs :math:`O(md)`. It is a lower bound on the smallest ε
for which :math:`s` is an ε-NE (restarts can miss the best deviation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logsumexp

from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.games.exposure import ExposureGame, exposure_probabilities
from recdyn.games.solver import default_tol, random_strategies
from recdyn.seeding import SeedLike, generator

__all__ = [
    "STATUSES",
    "Certification",
    "EpsilonGap",
    "epsilon_gap",
    "gradient_tolerance",
    "second_order_test",
]

#: The second-order test's verdicts, from worst to best.
STATUSES = ("violated", "inconclusive", "confirmed")


def gradient_tolerance(d: int) -> float:
    """The thesis's bound ``1e-5·√d`` on a Riemannian gradient's norm (L4988)."""
    return 1e-5 * float(np.sqrt(d))


@dataclass(frozen=True)
class Certification:
    """Per profile (leading axes of the strategies): ``status`` (one of :data:`STATUSES`),
    and per producer ``gradient_norm`` ``[..., n]`` (Riemannian) and ``max_eigenvalue``
    ``[..., n]`` (largest eigenvalue of the Riemannian Hessian on ``s_i^⊥``)."""

    status: np.ndarray
    gradient_norm: np.ndarray
    max_eigenvalue: np.ndarray

    def counts(self) -> dict[str, int]:
        """How many profiles got each verdict."""
        return {k: int(np.sum(self.status == k)) for k in STATUSES}


def second_order_test(
    game: ExposureGame,
    strategies: object,
    *,
    grad_tol: float | None = None,
    eig_tol: float = 1e-8,
) -> Certification:
    """Classify unit-norm profiles ``[..., n, d]`` as violated / inconclusive / confirmed
    (module doc). ``grad_tol`` defaults to ``1e-5·√d``; needs ``game.tau > 0``."""
    s = game.check_strategies(strategies, unit=True)
    grad_tol = (
        gradient_tolerance(game.d)
        if grad_tol is None
        else check_float("grad_tol", grad_tol, low=0.0)
    )
    eig_tol = check_float("eig_tol", eig_tol, low=0.0)
    gnorm = np.linalg.norm(game.riemannian_gradient(s), axis=-1)
    if game.d == 1:  # S^0 = {-1, 1}: every point is isolated
        eig = np.full(gnorm.shape, -np.inf)
        flat = np.zeros(gnorm.shape, dtype=bool)
        positive = flat
    else:
        lam = np.linalg.eigvalsh(game.riemannian_hessian(s))
        scale = np.maximum(1.0, np.max(np.abs(lam), axis=-1))
        tol = eig_tol * scale
        eig = lam[..., -1]
        positive = eig > tol
        flat = np.any(np.abs(lam) <= tol[..., None], axis=-1)
    violated = np.any((gnorm > grad_tol) | positive, axis=-1)
    inconclusive = ~violated & np.any(flat, axis=-1)
    status = np.where(violated, "violated", np.where(inconclusive, "inconclusive", "confirmed"))
    return Certification(status=status, gradient_norm=gnorm, max_eigenvalue=eig)


@dataclass(frozen=True)
class EpsilonGap:
    """``gap`` ``[...]``: the best unilateral gain found per profile (``max`` of ``gains``);
    ``gains`` ``[..., k]``: per examined producer (clipped at 0: the producer's own
    strategy is one start); ``deviations`` ``[..., k, d]``: the best deviation found;
    ``producers``: the examined producers' indices."""

    gap: np.ndarray
    gains: np.ndarray
    deviations: np.ndarray
    producers: np.ndarray


def _leave_one_out_lse(z: np.ndarray) -> np.ndarray:
    """``log Σ_{j≠i} exp z_j`` for every ``i`` over the last axis (``-inf`` if ``n = 1``)."""
    n = z.shape[-1]
    if n == 1:
        return np.full_like(z, -np.inf)
    _, q = exposure_probabilities(z, 1.0)
    with np.errstate(divide="ignore"):
        out = logsumexp(z, axis=-1, keepdims=True) + np.log(q)
    winner = np.argmax(z, axis=-1)[..., None]
    masked = z.copy()
    np.put_along_axis(masked, winner, -np.inf, axis=-1)
    np.put_along_axis(out, winner, logsumexp(masked, axis=-1, keepdims=True), axis=-1)
    return out


def epsilon_gap(
    game: ExposureGame,
    strategies: object,
    *,
    n_restarts: int = 10,
    producers: Sequence[int] | None = None,
    alpha: float = 0.1,
    max_iter: int = 5_000,
    tol: float | None = None,
    seed: SeedLike = 0,
) -> EpsilonGap:
    """Best unilateral deviation gain of each profile ``[..., n, d]`` (module doc).

    Every examined producer (``producers``, default all) ascends alone, reparametrised as
    the solver, from its own strategy and ``n_restarts`` other starts (unit-norm parameters,
    as the solver's) — half at random users' directions, half uniform on the sphere, from
    ``generator(seed, "games", "deviations")`` — until a step moves less than ``tol``
    (default ``1e-8·√d``) or ``max_iter``. Cost per step: ``O(k (n_restarts + 1) m d)``
    per profile. Needs τ > 0.
    """
    if game.tau == 0.0:
        raise InvalidParameterError(
            "epsilon_gap needs tau > 0: hardmax (tau = 0) utilities are not differentiable"
        )
    s = game.check_strategies(strategies, unit=True)
    n_restarts = check_int("n_restarts", n_restarts, low=0)
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, low=0)
    tol = default_tol(game.d) if tol is None else check_float("tol", tol, low=0.0)
    n, d = s.shape[-2:]
    idx = np.arange(n) if producers is None else np.asarray(producers)
    if (
        idx.ndim != 1
        or len(idx) == 0
        or not np.issubdtype(idx.dtype, np.integer)
        or (np.any(idx < 0) or np.any(idx >= n))
    ):
        raise InvalidParameterError(
            f"producers must be a non-empty sequence of indices in [0, {n}); got {producers!r}"
        )
    batch = np.broadcast_shapes(s.shape[:-2], game.users.shape[:-2])
    s = np.broadcast_to(s, (*batch, n, d))
    users = game.users[..., None, :, :]  # [..., 1, m, d]
    tau, m = game.tau, game.m
    loo = _leave_one_out_lse(game.users @ np.swapaxes(s, -1, -2) / tau)  # [..., m, n]
    loo = np.swapaxes(loo, -1, -2)[..., idx, None, :]  # [..., k, 1, m]

    rng = generator(seed, "games", "deviations")
    k = len(idx)
    n_user_starts = n_restarts // 2
    picks = rng.integers(0, m, size=(*batch, k, n_user_starts))
    flat_users = np.broadcast_to(game.users, (*batch, m, d)).reshape(-1, m, d)
    rows = np.arange(flat_users.shape[0]).reshape(*batch, 1, 1) if batch else 0
    user_starts = flat_users[rows, picks] if batch else game.users[picks]
    user_starts = user_starts + 1e-9 * rng.standard_normal(user_starts.shape)  # not zero
    user_starts /= np.linalg.norm(user_starts, axis=-1, keepdims=True)
    sphere_starts = random_strategies(rng, (*batch, k, n_restarts - n_user_starts), d)
    theta = np.concatenate([s[..., idx, None, :], user_starts, sphere_starts], axis=-2)

    def logits(v: np.ndarray) -> np.ndarray:  # [..., k, r, m]
        return v @ np.swapaxes(users, -1, -2) / tau - loo

    active = np.ones(theta.shape[:-1], dtype=bool)
    for _ in range(max_iter):
        norm = np.linalg.norm(theta, axis=-1, keepdims=True)
        v = theta / norm
        x = logits(v)
        w = expit(x) * expit(-x) / (tau * m)
        g = w @ users
        g -= np.sum(g * v, axis=-1, keepdims=True) * v
        step = g * (alpha / norm) * active[..., None]
        theta = theta + step
        active &= np.linalg.norm(step, axis=-1) >= tol
        if not np.any(active):
            break
    v = theta / np.linalg.norm(theta, axis=-1, keepdims=True)
    u = expit(logits(v)).mean(axis=-1)  # [..., k, r]
    own = expit(logits(s[..., idx, None, :])).mean(axis=-1)[..., 0]  # [..., k]
    best = np.argmax(u, axis=-1)
    gains = np.maximum(np.take_along_axis(u, best[..., None], axis=-1)[..., 0] - own, 0.0)
    dev = np.take_along_axis(v, best[..., None, None], axis=-2)[..., 0, :]
    return EpsilonGap(gap=gains.max(axis=-1), gains=gains, deviations=dev, producers=idx)
