r"""Equilibrium search: simultaneous reparametrised gradient ascent (thesis L4080–4092).

Each producer holds free parameters :math:`\theta_i \in \mathbb R^d` with
:math:`s_i = \theta_i / \|\theta_i\|`, and all producers step at once with a shared step
size :math:`\alpha` (the thesis reports :math:`\alpha \in \{10^{-2}, 10^{-1}\}`, L4985):

.. math::

    \theta_{i,t} = \theta_{i,t-1} + \alpha\, \nabla_{\theta_i} u_i(s_{t-1}), \qquad
    \nabla_{\theta_i} u_i(s) = \frac{1}{\|\theta_i\|}(I - s_i s_i^\top)\nabla_{s_i} u_i(s),

the direction of the Riemannian gradient. (L4092 prints :math:`1/(\tau\|\theta_i\|_2)` in
front of :math:`(I - s_i s_i^\top)E[p_i(1 - p_i)c]`, the same quantity.) A run stops when
the ℓ2 change of its whole profile :math:`\|\theta_t - \theta_{t-1}\|_F` falls below
:math:`10^{-8}\sqrt d` (the thesis leaves open whether the norm is joint or per producer;
here it is joint) or after 50,000 iterations (L4122–4130, L4980–4983).

The initialisation distribution is not stated in the thesis: :math:`\theta_i` is uniform on
the unit sphere (a standard normal draw, normalised). The norm matters: the step is
orthogonal to :math:`\theta_i`, so :math:`\|\theta_i\|` only grows and the step on the
sphere is :math:`\alpha\,\Pi_i g_i / \|\theta_i\|^2`; an unnormalised standard-normal
start (:math:`\|\theta_i\|^2 \approx d`) would make every run at ``d = 50`` about 17×
slower than at ``d = 3`` for no reason (measured on ML-100K's PMF embeddings: 0 of 3 runs
converged within 20,000 steps at τ = 0.01, d = 50, α = 1 from standard-normal starts).

Runs are batched: ``theta0`` of shape ``[..., n, d]`` is one array computation over every
leading axis (seeds × initialisations); a run that has converged is frozen and drops out
of the computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.games.exposure import ExposureGame, own_gradient
from recdyn.seeding import SeedLike, generator

__all__ = [
    "DEFAULT_MAX_ITER",
    "EquilibriumSearch",
    "default_tol",
    "find_equilibria",
    "gradient_ascent",
    "random_strategies",
]

#: Runs per array computation are grouped so that a group's ``[runs, n, m]`` exposure
#: array holds about this many floats (≈ 0.5 MB, stays in cache; 2^15–2^17 measured best).
CHUNK_ELEMENTS = 1 << 16
#: Iteration cap of the thesis (L4126, L4982).
DEFAULT_MAX_ITER = 50_000


def default_tol(d: int) -> float:
    """The thesis's stopping threshold ``1e-8·√d`` on a step's ℓ2 change (L4125)."""
    return 1e-8 * float(np.sqrt(d))


@dataclass(frozen=True)
class EquilibriumSearch:
    """Outcome of one batch of gradient-ascent runs (leading axes as ``theta0``'s).

    ``strategies`` ``[..., n, d]`` (unit norm), ``utilities`` ``[..., n]`` at them,
    ``iterations`` ``[...]`` (steps taken), ``converged`` ``[...]`` (the last step's change
    fell below ``tol``; ``False`` means the run stopped at ``max_iter``).
    """

    strategies: np.ndarray
    utilities: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def random_strategies(rng: np.random.Generator, shape: tuple[int, ...], d: int) -> np.ndarray:
    """Unit-norm parameters ``[*shape, d]``, uniform on the sphere (standard-normal draws,
    normalised)."""
    theta = rng.standard_normal((*shape, d))
    return theta / np.linalg.norm(theta, axis=-1, keepdims=True)


def ascent_step(
    users: np.ndarray, theta: np.ndarray, tau: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(Δθ, s)``: one simultaneous reparametrised step from ``theta`` ``[..., n, d]`` and
    the strategies it was taken at (no validation)."""
    norm = np.linalg.norm(theta, axis=-1, keepdims=True)
    s = theta / norm
    g = own_gradient(users, s, tau)
    g -= np.sum(g * s, axis=-1, keepdims=True) * s
    g *= alpha / norm
    return g, s


def _check_theta(game: ExposureGame, theta0: object) -> np.ndarray:
    theta = game.check_strategies(theta0)
    if np.any(np.linalg.norm(theta, axis=-1) == 0.0):
        raise InvalidParameterError("theta0 must have no all-zero producer row")
    return theta


def gradient_ascent(
    game: ExposureGame,
    theta0: object,
    *,
    alpha: float = 0.1,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float | None = None,
) -> EquilibriumSearch:
    """Run the simultaneous reparametrised ascent (module doc) from every profile of
    ``theta0`` ``[..., n, d]`` (any non-zero rows; leading axes must broadcast against the
    game's users'). ``tol`` defaults to ``1e-8·√d``. Needs ``game.tau > 0``."""
    if game.tau == 0.0:
        raise InvalidParameterError(
            "gradient_ascent needs tau > 0: hardmax (tau = 0) utilities are not differentiable"
        )
    alpha = check_float("alpha", alpha, low=0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, low=0)
    tol = default_tol(game.d) if tol is None else check_float("tol", tol, low=0.0)
    theta = _check_theta(game, theta0)
    n, d = theta.shape[-2:]
    batch = np.broadcast_shapes(theta.shape[:-2], game.users.shape[:-2])
    runs = int(np.prod(batch, dtype=np.int64))
    theta = np.broadcast_to(theta, (*batch, n, d)).reshape(runs, n, d).copy()
    if game.users.ndim == 2:
        users_all = game.users
    else:
        m = game.m
        users_all = np.broadcast_to(game.users, (*batch, m, d)).reshape(runs, m, d)

    iterations = np.zeros(runs, dtype=np.int64)
    converged = np.zeros(runs, dtype=bool)
    active = np.arange(runs)
    th = theta
    users = users_all
    per_run = n * game.m
    chunk = max(1, CHUNK_ELEMENTS // per_run)
    for it in range(1, max_iter + 1):
        change = np.empty(len(active))
        for lo in range(0, len(active), chunk):
            sl = slice(lo, lo + chunk)
            step, _ = ascent_step(users if users.ndim == 2 else users[sl], th[sl], game.tau, alpha)
            th[sl] += step
            change[sl] = np.sqrt(np.sum(step * step, axis=(-2, -1)))
        done = change < tol
        if np.any(done):
            idx = active[done]
            theta[idx] = th[done]
            iterations[idx] = it
            converged[idx] = True
            keep = ~done
            active, th = active[keep], th[keep].copy()
            if users_all.ndim == 3:
                users = users[keep]
            if len(active) == 0:
                break
    if len(active):
        theta[active] = th
        iterations[active] = max_iter
    strategies = theta / np.linalg.norm(theta, axis=-1, keepdims=True)
    strategies = strategies.reshape(*batch, n, d)
    return EquilibriumSearch(
        strategies=strategies,
        utilities=game.utilities(strategies),
        iterations=iterations.reshape(batch),
        converged=converged.reshape(batch),
    )


def find_equilibria(
    game: ExposureGame,
    n_producers: int,
    *,
    n_inits: int = 10,
    seed: SeedLike = 0,
    alpha: float = 0.1,
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float | None = None,
) -> EquilibriumSearch:
    """Search candidate pure ε-LNE of ``game`` with ``n_producers`` producers from
    ``n_inits`` random initialisations (per demand, when the users are a stack ``[S, m, d]``:
    results ``[S, n_inits, …]``; else ``[n_inits, …]``), all batched (module doc).

    Initial parameters come from the stream ``generator(seed, "games", "init")``
    (:mod:`recdyn.seeding`).
    """
    n_producers = check_int("n_producers", n_producers, low=1)
    n_inits = check_int("n_inits", n_inits, low=1)
    rng = generator(seed, "games", "init")
    lead = game.users.shape[:-2]
    theta0 = random_strategies(rng, (*lead, n_inits, n_producers), game.d)
    stacked = ExposureGame(game.users[..., None, :, :], game.tau) if lead else game
    return gradient_ascent(stacked, theta0, alpha=alpha, max_iter=max_iter, tol=tol)
