"""The theory of exposure games as tests (thesis ch. 5; issue 19, item 4)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from recdyn.errors import InvalidParameterError
from recdyn.games import (
    ExposureGame,
    c_hat,
    circle_grid,
    collapsed_profile,
    epsilon_gap,
    find_equilibria,
    mean_direction,
    second_order_test,
    solve_discretised,
    theorem4_radius,
)

E1, E2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])


def _phi(theta: float) -> np.ndarray:
    return np.array([np.cos(theta), np.sin(theta)])


# ----------------------------------------------------------------- Theorem 3 (L4281–4292)
def test_theorem3_softmax_example_deviation_tends_to_two_thirds():
    users = np.array([E1, E1, E2])  # P_c = (2δ_{e1} + δ_{e2}) / 3
    cbar = mean_direction(users)
    np.testing.assert_allclose(cbar, np.array([2.0, 1.0]) / np.sqrt(5))
    eps = 1e-2
    dev = (cbar + eps * E1) / np.linalg.norm(cbar + eps * E1)
    values = []
    for tau in (1e-2, 1e-3, 1e-4, 0.0):
        game = ExposureGame(users, tau)
        np.testing.assert_allclose(game.utilities(np.stack([cbar, cbar])), [0.5, 0.5])
        if tau > 0:  # Proposition 4: the collapsed profile is a critical point
            rg = game.riemannian_gradient(np.stack([cbar, cbar]))
            assert np.abs(rg).max() < 1e-10
        values.append(game.utilities(np.stack([dev, cbar]))[0])
    assert values == sorted(values)  # increases as τ decreases
    assert values[-2] == pytest.approx(2 / 3, abs=1e-6)  # τ = 1e-4
    assert values[-1] == pytest.approx(2 / 3, abs=1e-15)  # hardmax


# ----------------------------------------------------------------- Lemma 8 (L4667–4700)
def test_lemma8_hardmax_mixed_equilibrium_has_value_one_half():
    angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
    users = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    game = ExposureGame(users, 0.0)
    grid = circle_grid(12, phase=np.pi / 2)  # holds the three users (every fourth point)
    solved = solve_discretised(game, grid)
    assert solved.value == pytest.approx(0.5, abs=1e-9)
    u = solved.payoff
    np.testing.assert_allclose(u + u.T, 1.0, atol=1e-12)  # constant-sum
    x_c = np.zeros(12)
    x_c[::4] = 1 / 3  # P_1 = P_c
    against = u @ x_c  # u_1(s, P_c) for every pure s of the grid
    np.testing.assert_allclose(against[::4], 0.5, atol=1e-12)
    off = np.delete(against, np.arange(0, 12, 4))
    np.testing.assert_allclose(off, 4 / 9, atol=1e-12)  # off-support deviation earns 4/9
    assert np.all(u.T @ solved.strategy >= 0.5 - 1e-9)  # the LP's strategy guarantees ½
    # Theorem 3 (hardmax): no pure equilibrium — every strategy has a strict better reply
    assert np.all(u.max(axis=0) > 0.5)


# ----------------------------------------------------------------- Proposition 3 (L4490–4650)
def _f(theta: float, tau: float) -> float:
    """⟨g_1, Q s_1⟩ at s_1 = s_2 = φ(θ), s_3 = s_4 = φ(π/2 - θ) (Lemma 7)."""
    game = ExposureGame(np.eye(2), tau)
    s = np.stack([_phi(theta), _phi(theta), _phi(np.pi / 2 - theta), _phi(np.pi / 2 - theta)])
    q = np.array([[0.0, -1.0], [1.0, 0.0]])
    return float(game.gradient(s)[0] @ (q @ s[0]))


def test_proposition3_paired_equilibrium_found_and_certified():
    tau = 0.25
    theta_star = brentq(_f, 1e-6, np.pi / 8, args=(tau,))
    assert 0.0 < theta_star < np.pi / 8
    game = ExposureGame(np.eye(2), tau)  # P_c = (δ_{e1} + δ_{e2}) / 2, n = 4, d = 2
    res = find_equilibria(game, 4, n_inits=12, seed=1, alpha=0.1)
    assert res.converged.all()
    angles = np.sort(np.arctan2(res.strategies[..., 1], res.strategies[..., 0]), axis=-1)
    target = np.array([theta_star, theta_star, np.pi / 2 - theta_star, np.pi / 2 - theta_star])
    paired = np.all(np.abs(angles - target) < 1e-5, axis=-1)
    assert paired.sum() >= 3  # several of the 12 initialisations reach it
    found = res.strategies[paired]
    np.testing.assert_allclose(res.utilities[paired], 0.25, atol=1e-9)
    cert = second_order_test(game, found)
    assert (cert.status == "confirmed").all()
    # a pure NE, not only local: no unilateral deviation gains (the proof, L4620–4649)
    assert epsilon_gap(game, found[:2], n_restarts=6).gap.max() < 1e-8


def test_proposition3_other_local_equilibria_have_a_positive_gap():
    game = ExposureGame(np.eye(2), 0.25)
    res = find_equilibria(game, 4, n_inits=12, seed=1, alpha=0.1)
    cert = second_order_test(game, res.strategies)
    gap = epsilon_gap(game, res.strategies, n_restarts=6).gap
    unequal = np.ptp(res.utilities, axis=-1) > 1e-6  # e.g. three producers on one side
    assert unequal.any()
    assert np.all(gap[unequal] > 0.01)
    assert np.all(cert.status[unequal] != "violated")  # local NE the ε-gap exposes


# ----------------------------------------------------------------- Theorem 4 (L3941–3950)
@pytest.mark.parametrize("tau", [2.0, 5.0, 20.0])
def test_theorem4_better_responses_lie_in_the_radius(tau):
    rng = np.random.default_rng(0)
    users = np.abs(rng.standard_normal((25, 3))) / 2
    n = 3
    cbar = mean_direction(users)
    chat = np.linalg.norm(c_hat(users, n))
    game = ExposureGame(users, tau)
    # ε bounds ‖τ ∇u_1(s', c̄, c̄) - ĉ‖ over the ball (Lemma 6), estimated on samples
    ball = rng.standard_normal((20_000, 3))
    ball *= rng.uniform(0, 1, (20_000, 1)) ** (1 / 3) / np.linalg.norm(ball, axis=1)[:, None]
    profiles = np.concatenate([ball[:, None], np.tile(cbar, (20_000, n - 1, 1))], axis=1)
    dev = np.linalg.norm(tau * game.gradient(profiles)[:, 0] - c_hat(users, n), axis=1)
    eps = 1.05 * dev.max()
    assert eps < chat
    delta = theorem4_radius(eps, chat)
    sphere = rng.standard_normal((20_000, 3))
    sphere /= np.linalg.norm(sphere, axis=1)[:, None]
    profiles[:, 0] = sphere
    base = game.utilities(collapsed_profile(users, n))[0]
    better = game.utilities(profiles)[:, 0] >= base
    assert np.all(np.linalg.norm(sphere[better] - cbar, axis=1) <= delta)
    # and c̄ is a 2ε/τ-PNE (proof of Theorem 4: τΔ ≤ ‖τg' - ĉ‖ ‖s_1 - c̄‖ ≤ 2ε)
    assert epsilon_gap(game, collapsed_profile(users, n), n_restarts=4).gap <= 2 * eps / tau


def test_theorem4_radius_formula_and_domain():
    assert theorem4_radius(0.1, 0.5) == pytest.approx(2 * 0.1 / 0.4)
    with pytest.raises(InvalidParameterError, match="eps"):
        theorem4_radius(0.5, 0.5)
    with pytest.raises(InvalidParameterError, match="mean 0"):
        mean_direction(np.array([[1.0, 0.0], [-1.0, 0.0]]))


# ----------------------------------------------------------------- discretised LP vs nashpy
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nashpy divides by zero in tableaux
def test_discretised_two_player_lp_agrees_with_nashpy():
    nash = pytest.importorskip("nashpy")
    # three users about 2π/3 apart at τ = 0.05 on an 8-point grid: a fully mixed equilibrium
    angles = np.pi / 2 + 2 * np.pi * np.arange(3) / 3 + 0.05
    users = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    game = ExposureGame(users, 0.05)
    solved = solve_discretised(game, circle_grid(8, phase=0.1))
    u, x = solved.payoff, solved.strategy
    assert solved.value == pytest.approx(0.5, abs=1e-9)  # symmetric constant-sum game
    assert np.max(u @ x) <= 0.5 + 1e-9  # (x, x) is an equilibrium: no better pure reply
    assert np.sum(x > 1e-6) >= 3  # mixed, not pure
    equilibria = list(nash.Game(u, 1.0 - u).vertex_enumeration())
    assert len(equilibria) == 1  # unique, hence the LP's
    sigma_1, sigma_2 = equilibria[0]
    assert sigma_1 @ u @ sigma_2 == pytest.approx(solved.value, abs=1e-8)
    np.testing.assert_allclose(sigma_1, x, atol=1e-7)
    np.testing.assert_allclose(sigma_2, x, atol=1e-7)
