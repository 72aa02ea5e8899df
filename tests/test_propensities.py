"""Propensities of what was shown (issue 17, item 1): arrival probabilities, softmax
inclusion probabilities, and the joint propensity that ``simulate`` logs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from recdyn import simulate
from recdyn.environments.presets import make as make_env
from recdyn.environments.sampling import (
    activity_weights,
    arrival_probabilities,
    weighted_sample_without_replacement,
)
from recdyn.inclusion import plackett_luce_inclusion, rosen_inclusion
from recdyn.interactions import Interactions
from recdyn.policies import EpsilonGreedyPolicy, SoftmaxPolicy
from recdyn.policies.propensity_check import bernstein_tolerance


def brute_force_inclusion(log_weights: np.ndarray, k: int) -> np.ndarray:
    """Sum the probabilities of every ordered sample of ``k`` drawable units."""
    w = np.exp(log_weights)
    out = np.zeros(len(w))
    units = np.flatnonzero(np.isfinite(log_weights))
    for seq in itertools.permutations(units, k):
        p, left = 1.0, w[units].sum()
        for i in seq:
            p *= w[i] / left
            left -= w[i]
        out[list(seq)] += p
    return out


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_plackett_luce_inclusion_equals_brute_force(k):
    rng = np.random.default_rng(k)
    lw = rng.normal(0.0, 2.0, size=(3, 7))
    lw[0, [1, 4]] = -np.inf  # never drawn
    lw[2] = np.r_[12.0, rng.normal(0, 1, 5), -25.0]  # a dominant and a negligible unit
    got = plackett_luce_inclusion(lw, k)
    for row in range(3):
        np.testing.assert_allclose(got[row], brute_force_inclusion(lw[row], k), atol=1e-10)
    np.testing.assert_allclose(got.sum(axis=1), k, atol=1e-9)
    assert (got[0, [1, 4]] == 0).all()
    np.testing.assert_allclose(plackett_luce_inclusion(lw[0], k), got[0], rtol=1e-12)


def test_a_sample_as_large_as_the_drawable_units_takes_them_all():
    lw = np.array([0.0, -np.inf, 1.0, 2.0])
    np.testing.assert_array_equal(plackett_luce_inclusion(lw, 3), [1, 0, 1, 1])
    np.testing.assert_array_equal(rosen_inclusion(lw, 3), [1, 0, 1, 1])
    np.testing.assert_array_equal(arrival_probabilities(lw, 5), [1, 0, 1, 1])


@pytest.mark.parametrize("kind", ["powerlaw", "lognormal"])
def test_rosen_approximation_error_is_within_its_documented_bound(kind):
    lw = np.log(activity_weights(kind, 200, np.random.default_rng(1)))
    exact = plackett_luce_inclusion(lw, 20)
    approx = rosen_inclusion(lw, 20)
    assert np.max(np.abs(approx - exact) / exact) < 0.01  # measured: 0.41 %, 0.61 %
    np.testing.assert_allclose(approx.sum(), 20, rtol=1e-10)
    equal = rosen_inclusion(np.zeros(50), 7)  # exact for equal weights
    np.testing.assert_allclose(equal, 7 / 50, rtol=1e-12)


def test_arrival_probabilities_match_arrival_frequencies():
    lw = np.log(activity_weights("powerlaw", 30, np.random.default_rng(4)))
    lw[[3, 17]] = -np.inf  # users who have rated every item are never online
    size, n = 6, 40_000
    reported = arrival_probabilities(lw, size)
    np.testing.assert_allclose(reported, plackett_luce_inclusion(lw, size))  # exact here
    rng = np.random.default_rng(5)
    keys = lw + rng.gumbel(size=(n, len(lw)))
    counts = np.bincount(np.argsort(-keys, axis=1)[:, :size].ravel(), minlength=len(lw))
    assert (np.abs(counts - n * reported) <= bernstein_tolerance(n, reported)).all()
    # the sampler the environments use draws by the same law
    one = weighted_sample_without_replacement(lw, size, np.random.default_rng(6))
    assert len(one) == size and np.isfinite(lw[one]).all()


@pytest.mark.parametrize("distribution", ["uniform", "powerlaw"])
def test_environment_reports_the_arrival_probability_of_its_online_users(distribution):
    env = make_env(
        "latent-static-v1",
        n_users=12,
        n_items=30,
        users_per_step=3,
        n_initial_ratings=0,
        user_distribution=distribution,
    )
    counts = np.zeros(12)
    probs = np.full(12, np.nan)
    n = 1500
    for trial in range(n):  # same activity weights (init seed), other dynamics
        env.reset(seed=(0, trial))
        users = env.online_users()
        p = env.online_probabilities()
        assert p.dtype == np.float64 and p.shape == users.shape
        seen = ~np.isnan(probs[users])
        np.testing.assert_allclose(p[seen], probs[users][seen], rtol=1e-12)
        probs[users] = p
        counts[users] += 1
    np.testing.assert_allclose(probs.sum(), 3, rtol=1e-9)
    if distribution == "uniform":
        np.testing.assert_allclose(probs, 3 / 12, rtol=1e-12)
    assert (np.abs(counts - n * probs) <= bernstein_tolerance(n, probs)).all()


def test_softmax_exact_inclusion_probabilities_match_slate_frequencies():
    policy = SoftmaxPolicy(temperature=0.7)
    row = np.array([2.0, 1.5, 0.2, -1.0, 0.8, 3.0, 0.0, 1.1])
    excluded = np.zeros(8, bool)
    excluded[6] = True
    k, n = 3, 40_000
    exact = policy.inclusion_probabilities(row[None, :], k, excluded[None, :])[0]
    np.testing.assert_allclose(exact.sum(), k, rtol=1e-9)
    assert exact[6] == 0
    sel = policy.select(
        np.tile(row, (n, 1)), k, np.tile(excluded, (n, 1)), np.random.default_rng(7)
    )
    counts = np.array([(sel.slates == i).any(axis=1).sum() for i in range(8)])
    assert (np.abs(counts - n * exact) <= bernstein_tolerance(n, exact)).all()
    # k = 1: the softmax probabilities themselves
    np.testing.assert_allclose(
        policy.inclusion_probabilities(row[None, :], 1, excluded[None, :]),
        policy.probabilities(row[None, :], excluded[None, :]),
    )


def test_softmax_logged_inclusion_has_an_unbiased_inverse():
    """E[1{i in slate} / q̃_i] = 1 for every item: 1/q̃ is an unbiased IPS weight."""
    policy = SoftmaxPolicy()
    row = np.array([1.0, 0.5, 0.0, -0.5, 0.3, 0.8, -0.2])
    k, n = 3, 40_000
    sel = policy.select(np.tile(row, (n, 1)), k, None, np.random.default_rng(8))
    assert sel.inclusion is not None and ((sel.inclusion > 0) & (sel.inclusion <= 1)).all()
    assert not np.allclose(sel.inclusion, sel.propensities)  # not the Plackett–Luce factors
    for i in range(len(row)):
        shown = sel.slates == i
        ratio = np.where(shown.any(axis=1), (np.where(shown, 1 / sel.inclusion, 0)).sum(1), 0)
        assert abs(ratio.mean() - 1) < 5 * ratio.std() / np.sqrt(n), i
    exact = policy.inclusion_probabilities(row[None, :], k)[0]
    mean_q = [sel.inclusion[sel.slates == i].mean() for i in range(len(row))]
    assert np.all(np.abs(np.array(mean_q) - exact) < 0.25)  # close, though not equal


def test_softmax_logged_inclusion_with_few_allowed_items_is_exact():
    policy = SoftmaxPolicy()
    scores = np.zeros((2, 6))
    exclude = np.zeros((2, 6), bool)
    exclude[0, 2:] = True  # 2 allowed items, k = 3: both shown, one of 4 excluded
    exclude[1, 3:] = True  # exactly k allowed items
    sel = policy.select(scores, 3, exclude, np.random.default_rng(0))
    allowed = ~np.take_along_axis(exclude, sel.slates, axis=1)
    np.testing.assert_array_equal(sel.inclusion[allowed], 1.0)
    np.testing.assert_allclose(sel.inclusion[~allowed], 1 / 4)
    assert policy.select(scores, 1, exclude, np.random.default_rng(0)).inclusion is None


def test_simulate_logs_the_joint_propensity_in_float64():
    env = make_env(
        "latent-static-v1", n_users=20, n_items=25, users_per_step=4, n_initial_ratings=60
    )
    tr = simulate(env, "toppop", EpsilonGreedyPolicy(epsilon=1.0), steps=6, seed=3)
    data = tr.interactions
    assert data.propensity.dtype == np.float64
    online = data.step > 0
    assert np.isnan(data.propensity[~online]).all()
    # uniform exploration: q = (4 / 20) × 1 / (items the user had not rated before the step)
    for r in np.flatnonzero(online):
        before = (data.user == data.user[r]) & (data.step < data.step[r])
        expected = (4 / 20) / (25 - before.sum())
        assert data.propensity[r] == pytest.approx(expected, rel=1e-12)
    greedy = simulate(env, "toppop", "greedy", steps=2, seed=3).interactions
    assert greedy.propensity is None  # a deterministic policy logs none


def test_simulate_logs_softmax_slate_inclusion_not_plackett_luce_factors():
    env = make_env(
        "latent-static-v1", n_users=10, n_items=30, users_per_step=10, n_initial_ratings=0
    )
    tr = simulate(env, "toppop", "softmax", steps=3, seed=1, k=4)
    q = tr.interactions.propensity
    assert ((q > 0) & (q <= 1)).all()  # every user online: q is the policy's inclusion


def test_old_float32_propensities_are_read_as_float64():
    data = Interactions([0, 1], [1, 2], [3.0, 4.0], [1, 1], np.float32([0.25, 1e-7]))
    assert data.propensity.dtype == np.float64
    mixed = Interactions.concat([Interactions([0], [0], [1.0]), data])
    assert mixed.propensity.dtype == np.float64 and np.isnan(mixed.propensity[0])
