"""Batched equilibrium search, the second-order test and the ε-gap (issue 19, items 2–3)."""

from __future__ import annotations

import numpy as np
import pytest

from recdyn.errors import InvalidParameterError
from recdyn.games import (
    ExposureGame,
    collapsed_profile,
    epsilon_gap,
    find_equilibria,
    gradient_ascent,
    random_strategies,
    second_order_test,
)
from recdyn.seeding import generator

USERS = np.random.default_rng(0).standard_normal((30, 3))


def test_batched_runs_equal_runs_one_at_a_time():
    game = ExposureGame(USERS, 0.5)
    theta0 = np.random.default_rng(1).standard_normal((2, 3, 4, 3))
    batched = gradient_ascent(game, theta0, alpha=0.1, max_iter=2_000)
    assert batched.strategies.shape == (2, 3, 4, 3)
    assert batched.utilities.shape == (2, 3, 4)
    assert batched.iterations.shape == batched.converged.shape == (2, 3)
    for a in range(2):
        for b in range(3):
            one = gradient_ascent(game, theta0[a, b], alpha=0.1, max_iter=2_000)
            np.testing.assert_allclose(batched.strategies[a, b], one.strategies, atol=1e-12)
            assert batched.iterations[a, b] == one.iterations
            assert batched.converged[a, b] == one.converged


def test_converged_runs_are_critical_points_and_seeds_reproduce():
    game = ExposureGame(USERS, 1.0)
    res = find_equilibria(game, 3, n_inits=4, seed=7, alpha=0.1)
    assert res.converged.all() and res.iterations.max() < 50_000
    np.testing.assert_allclose(np.linalg.norm(res.strategies, axis=-1), 1.0)
    rg = game.riemannian_gradient(res.strategies)
    assert np.linalg.norm(rg, axis=-1).max() < 1e-5 * np.sqrt(3)
    again = find_equilibria(game, 3, n_inits=4, seed=7, alpha=0.1)
    np.testing.assert_array_equal(res.strategies, again.strategies)
    other = find_equilibria(game, 3, n_inits=4, seed=8, alpha=0.1, max_iter=5)
    assert not np.allclose(other.strategies, res.strategies)


def test_stacked_demands_are_solved_in_one_batch():
    stack = np.stack([USERS, np.abs(USERS)])
    game = ExposureGame(stack, 0.3)
    res = find_equilibria(game, 2, n_inits=3, seed=3, max_iter=500)
    assert res.strategies.shape == (2, 3, 2, 3)
    theta0 = random_strategies(generator(3, "games", "init"), (2, 3, 2), 3)
    for k in range(2):
        one = gradient_ascent(ExposureGame(stack[k], 0.3), theta0[k], max_iter=500)
        np.testing.assert_allclose(res.strategies[k], one.strategies, atol=1e-12)


def test_iteration_cap_reports_not_converged():
    res = find_equilibria(ExposureGame(USERS, 0.1), 5, n_inits=2, max_iter=3)
    np.testing.assert_array_equal(res.iterations, [3, 3])
    assert not res.converged.any()


def test_solver_bad_input():
    game = ExposureGame(USERS, 0.5)
    with pytest.raises(InvalidParameterError, match="n_producers"):
        find_equilibria(game, 0)
    with pytest.raises(InvalidParameterError, match="alpha"):
        find_equilibria(game, 2, alpha=0.0)
    with pytest.raises(InvalidParameterError, match="theta0"):
        gradient_ascent(game, np.zeros((2, 3)))
    with pytest.raises(InvalidParameterError, match="tau > 0"):
        find_equilibria(ExposureGame(USERS, 0.0), 2)
    with pytest.raises(InvalidParameterError, match="strategies"):
        gradient_ascent(game, np.ones((2, 4)))


def test_second_order_test_verdicts():
    game = ExposureGame(np.eye(2), 0.25)
    rng = np.random.default_rng(0)
    random = rng.standard_normal((5, 4, 2))
    random /= np.linalg.norm(random, axis=-1, keepdims=True)
    assert (second_order_test(game, random).status == "violated").all()
    # each producer far from every user at τ = 0.01: zero exposure, flat in every direction
    dead = ExposureGame(np.array([[1.0, 0.0], [0.0, 1.0]]), 0.01)
    s = np.array([[1.0, 0.0], [0.0, 1.0], [-np.sqrt(0.5), -np.sqrt(0.5)]])
    cert = second_order_test(dead, s)
    assert cert.status == "inconclusive"
    assert cert.counts() == {"violated": 0, "inconclusive": 1, "confirmed": 0}
    with pytest.raises(InvalidParameterError, match="unit sphere"):
        second_order_test(game, 2 * random)


def test_epsilon_gap_finds_theorem3_deviation_and_is_batched():
    users = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    collapsed = collapsed_profile(users, 2)
    game = ExposureGame(users, 0.01)
    gap = epsilon_gap(game, collapsed, n_restarts=4)
    assert gap.gap == pytest.approx(1 / 6, abs=1e-3)
    np.testing.assert_allclose(gap.deviations[0], [1.0, 0.0], atol=1e-6)
    assert epsilon_gap(ExposureGame(users, 1.0), collapsed, n_restarts=4).gap < 1e-9
    rng = np.random.default_rng(2)
    profiles = rng.standard_normal((3, 2, 2))
    profiles /= np.linalg.norm(profiles, axis=-1, keepdims=True)
    # without random starts (only the producers' own strategies) the batch is deterministic
    batched = epsilon_gap(game, profiles, n_restarts=0, max_iter=300)
    assert batched.gap.shape == (3,) and batched.gains.shape == (3, 2)
    for k in range(3):
        one = epsilon_gap(game, profiles[k], n_restarts=0, max_iter=300)
        np.testing.assert_allclose(batched.gains[k], one.gains, atol=1e-12)
    assert epsilon_gap(game, profiles, n_restarts=4, max_iter=300).gap.min() >= 0.0
    with pytest.raises(InvalidParameterError, match="producers"):
        epsilon_gap(game, collapsed, producers=[2])
