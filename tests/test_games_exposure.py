"""ExposureGame: exposure, utilities, closed-form derivatives against finite differences,
batching, hardmax ties, stability at τ = 0.01 and bad input (issue 19, item 1)."""

from __future__ import annotations

import numpy as np
import pytest

from recdyn.errors import InvalidParameterError
from recdyn.games import ExposureGame, tangent_basis


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _near_tie_profile(rng: np.random.Generator, n: int, d: int, spread: float) -> np.ndarray:
    """Strategies close together, so that at small τ many users sit near a tie."""
    base = _unit(rng.standard_normal(d))
    return _unit(base + spread * rng.standard_normal((n, d)))


@pytest.fixture
def users() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((40, 4))


def test_exposure_rows_sum_to_one_and_utilities_sum_to_one(users):
    rng = np.random.default_rng(1)
    s = _unit(rng.standard_normal((5, 4)))
    for tau in (0.0, 0.01, 1.0, 100.0):
        game = ExposureGame(users, tau)
        p = game.exposure(s)
        assert p.shape == (40, 5)
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
        np.testing.assert_allclose(game.utilities(s).sum(), 1.0, atol=1e-12)


def test_utilities_match_the_softmax_formula(users):
    rng = np.random.default_rng(2)
    s = _unit(rng.standard_normal((3, 4)))
    z = users @ s.T / 0.5
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ExposureGame(users, 0.5).utilities(s), p.mean(axis=0))


def test_hardmax_splits_ties_equally():
    game = ExposureGame(np.array([[1.0, 0.0], [0.0, 1.0]]), 0.0)
    s = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(game.utilities(s), [0.25, 0.25, 0.5])
    same = np.array([[0.6, 0.8], [0.6, 0.8]])
    np.testing.assert_allclose(game.utilities(same), [0.5, 0.5])


def test_utilities_are_batched_over_leading_axes(users):
    rng = np.random.default_rng(3)
    s = _unit(rng.standard_normal((2, 3, 5, 4)))
    game = ExposureGame(users, 0.3)
    out = game.utilities(s)
    assert out.shape == (2, 3, 5)
    for a in range(2):
        for b in range(3):
            np.testing.assert_allclose(out[a, b], game.utilities(s[a, b]))
    g, h = game.gradient(s), game.hessian(s)
    assert g.shape == (2, 3, 5, 4) and h.shape == (2, 3, 5, 4, 4)
    np.testing.assert_allclose(h[1, 2], game.hessian(s[1, 2]))
    assert game.riemannian_hessian(s).shape == (2, 3, 5, 3, 3)


def test_stacked_users_broadcast_against_strategies(users):
    rng = np.random.default_rng(4)
    stack = np.stack([users, 2 * users])
    s = _unit(rng.standard_normal((2, 6, 3, 4)))
    out = ExposureGame(stack[:, None], 0.2).utilities(s)
    for k in range(2):
        np.testing.assert_allclose(out[k], ExposureGame(stack[k], 0.2).utilities(s[k]))


@pytest.mark.parametrize("tau", [1.0, 0.1, 0.01])
def test_gradient_and_hessian_match_finite_differences(users, tau):
    rng = np.random.default_rng(5)
    s = _near_tie_profile(rng, 4, 4, spread=tau)
    game = ExposureGame(users, tau)
    g, h = game.gradient(s), game.hessian(s)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    eps = 1e-6 * tau
    fd_g = np.zeros_like(g)
    fd_h = np.zeros_like(h)
    for k in range(4):
        for i in range(4):
            plus, minus = s.copy(), s.copy()
            plus[i, k] += eps
            minus[i, k] -= eps
            fd_g[i, k] = (game.utilities(plus)[i] - game.utilities(minus)[i]) / (2 * eps)
            fd_h[i, :, k] = (game.gradient(plus)[i] - game.gradient(minus)[i]) / (2 * eps)
    scale_g, scale_h = np.abs(g).max(), np.abs(h).max()
    assert scale_g > 1e-2  # not a trivially flat configuration
    np.testing.assert_allclose(g, fd_g, atol=1e-5 * scale_g)
    np.testing.assert_allclose(h, fd_h, atol=1e-5 * scale_h)


@pytest.mark.parametrize("tau", [1.0, 0.1, 0.01])
def test_riemannian_derivatives_match_derivatives_along_geodesics(users, tau):
    rng = np.random.default_rng(6)
    s = _near_tie_profile(rng, 3, 4, spread=tau)
    game = ExposureGame(users, tau)
    rg, rh = game.riemannian_gradient(s), game.riemannian_hessian(s)
    basis = tangent_basis(s)
    np.testing.assert_allclose(np.einsum("nd,nd->n", rg, s), 0.0, atol=1e-12 / tau)
    t = 1e-3 * tau
    for i in range(3):
        for _ in range(3):
            v = basis[i] @ _unit(rng.standard_normal(3))

            def along(step: float, i: int = i, v: np.ndarray = v) -> float:
                moved = s.copy()
                moved[i] = np.cos(step) * s[i] + np.sin(step) * v
                return game.utilities(moved)[i]

            d1 = (along(t) - along(-t)) / (2 * t)
            d2 = (along(t) - 2 * along(0.0) + along(-t)) / t**2
            coef = basis[i].T @ v
            assert d1 == pytest.approx(rg[i] @ v, abs=1e-5 * max(1.0, np.abs(rg).max()))
            assert d2 == pytest.approx(coef @ rh[i] @ coef, rel=1e-3, abs=1e-3 / tau)


def test_saturated_softmax_keeps_p_times_one_minus_p():
    # one user, two producers 10 apart in score at τ = 0.01: p_2 = e^-1000 underflows only
    # below ~1e-308; here a gap of 5 (e^-500 ≈ 7e-218) stays representable
    users = np.array([[5.0, 0.0]])
    s = np.array([[1.0, 0.0], [0.0, 1.0]])
    game = ExposureGame(users, 0.01)
    g = game.gradient(s)
    expected = np.exp(-500.0) / 0.01 * 5.0  # p_1(1 - p_1) ≈ e^-500
    assert g[0, 0] == pytest.approx(expected, rel=1e-9)
    assert g[1, 0] == pytest.approx(expected, rel=1e-9)
    assert np.all(np.isfinite(game.hessian(s)))


def test_tangent_basis_is_orthonormal_and_orthogonal_to_s():
    rng = np.random.default_rng(7)
    s = _unit(rng.standard_normal((6, 5)))
    s[0] = [-1.0, 0, 0, 0, 0]
    b = tangent_basis(s)
    np.testing.assert_allclose(np.einsum("kd,kdj->kj", s, b), 0.0, atol=1e-12)
    np.testing.assert_allclose(
        np.swapaxes(b, 1, 2) @ b, np.broadcast_to(np.eye(4), (6, 4, 4)), atol=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"users": np.ones((3, 2)), "tau": -0.1}, "tau"),
        ({"users": np.ones(3), "tau": 1.0}, "users"),
        ({"users": np.array([[1.0, np.nan]]), "tau": 1.0}, "users"),
        ({"users": np.ones((0, 2)), "tau": 1.0}, "users"),
        ({"users": np.ones((3, 2)), "tau": float("inf")}, "tau"),
    ],
)
def test_bad_game_arguments_name_the_argument(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        ExposureGame(**kwargs)


def test_bad_strategies_name_the_argument():
    game = ExposureGame(np.ones((3, 2)), 1.0)
    with pytest.raises(InvalidParameterError, match=r"strategies.*dimension d = 2"):
        game.utilities(np.ones((2, 3)))
    with pytest.raises(InvalidParameterError, match=r"strategies.*n >= 1"):
        game.utilities(np.ones((0, 2)))
    with pytest.raises(InvalidParameterError, match=r"strategies.*finite"):
        game.utilities(np.array([[np.inf, 0.0]]))
    with pytest.raises(InvalidParameterError, match=r"strategies.*dimensions"):
        game.utilities(np.ones(2))
    with pytest.raises(InvalidParameterError, match="unit sphere"):
        game.riemannian_gradient(np.array([[2.0, 0.0]]))
    with pytest.raises(InvalidParameterError, match="tau > 0"):
        ExposureGame(np.ones((3, 2)), 0.0).gradient(np.array([[1.0, 0.0]]))
