"""Seed 004's policies: threshold truncation, uniform mixing, diversity boosting, and the
first-slot probabilities of every policy."""

import numpy as np
import pytest

import recdyn
from recdyn.errors import InvalidParameterError
from recdyn.policies import (
    NO_ITEM,
    DiversityBoost,
    EpsilonGreedyPolicy,
    GreedyPolicy,
    Policy,
    Selection,
    SoftmaxPolicy,
    ThresholdTruncation,
    TopKTruncation,
    UniformMixing,
    make,
    policies,
)
from recdyn.policies.diversity import pairwise_distances


class FeatureWorld:
    """A stand-in world: fixed item features (or none)."""

    def __init__(self, features):
        self.features = None if features is None else np.asarray(features, float)

    def item_features(self):
        return self.features


def unit(rows):
    x = np.asarray(rows, float)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_the_new_policies_are_registered():
    assert {"threshold", "uniform-mix", "diversity-boost"} <= set(policies.names())
    assert isinstance(make("threshold"), ThresholdTruncation)
    assert isinstance(make("uniform-mix"), UniformMixing)
    assert isinstance(make("diversity-boost"), DiversityBoost)


# --------------------------------------------------------------------------- probabilities
def test_greedy_probabilities_are_one_hot_with_ties_split():
    scores = np.array([[1.0, 3.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0], [5.0, 1.0, 1.0, 1.0]])
    exclude = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1]], bool)
    p = GreedyPolicy().probabilities(scores, exclude)
    np.testing.assert_allclose(p, [[0, 0.5, 0, 0.5], [0, 0, 1, 0], [0.25] * 4])


def test_epsilon_greedy_probabilities_follow_the_formula():
    scores = np.array([[1.0, 3.0, 2.0, 0.0]])
    p = EpsilonGreedyPolicy(epsilon=0.2).probabilities(scores, np.array([[0, 0, 0, 1]], bool))
    np.testing.assert_allclose(p, [[0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3, 0.0]])


def test_truncated_probabilities_renormalise_the_base_over_the_top_m():
    scores = np.array([[0.0, 1.0, 2.0, 3.0]])
    p = TopKTruncation(SoftmaxPolicy(), m=2).probabilities(scores)
    w = np.exp([2.0, 3.0])
    np.testing.assert_allclose(p, [[0, 0, *(w / w.sum())]])


def test_the_default_policy_cannot_say():
    class Custom(Policy):
        def _select(self, scores, k, exclude, rng):
            return Selection(np.zeros((len(scores), k), np.int64))

    assert Custom().probabilities(np.zeros((2, 3))) is None
    assert Custom.requires_environment is False and Custom.may_show_nothing is False


# --------------------------------------------------------------------------- threshold
def test_threshold_shows_only_items_passing_tau_and_nothing_when_none_pass():
    scores = np.array([[0.9, 0.1, 0.8, -0.5], [0.2, 0.3, 0.1, 0.0], [0.95, 0.9, 0.99, 0.85]])
    policy = ThresholdTruncation("greedy", tau=0.8)
    sel = policy.select(scores, k=2, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(sel.slates, [[0, 2], [NO_ITEM, NO_ITEM], [2, 0]])
    p = policy.probabilities(scores)
    np.testing.assert_allclose(p, [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]])
    assert policy.may_show_nothing and not GreedyPolicy().may_show_nothing


def test_threshold_never_shows_excluded_items_and_reports_propensity_one_for_nothing():
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    exclude = np.array([[True, False, False, False]])
    sel = ThresholdTruncation("softmax", tau=0.5).select(
        scores, 3, exclude, np.random.default_rng(1)
    )
    assert set(sel.slates[0, :2]) == {1, 2} and sel.slates[0, 2] == NO_ITEM
    assert sel.propensities[0, 2] == 1.0


def test_threshold_softmax_renormalises_over_the_passing_items():
    scores = np.array([[0.9, 0.2, 0.8, 0.75]])
    p = ThresholdTruncation(SoftmaxPolicy(0.5), tau=0.75).probabilities(scores)
    w = np.exp(np.array([0.9, 0.8, 0.75]) / 0.5)
    np.testing.assert_allclose(p[0, [0, 2, 3]], w / w.sum())
    assert p[0, 1] == 0


@pytest.mark.parametrize("tau", [-1.01, 1.5, float("nan")])
def test_threshold_rejects_tau_outside_minus_one_one(tau):
    with pytest.raises(InvalidParameterError, match="tau"):
        ThresholdTruncation(tau=tau)


# --------------------------------------------------------------------------- uniform mixing
def test_uniform_mixing_mixes_the_base_with_uniform_traffic_over_allowed_items():
    scores = np.array([[1.0, 2.0, 0.5, 3.0]])
    exclude = np.array([[False, False, True, False]])
    p = UniformMixing("greedy", epsilon=0.3).probabilities(scores, exclude)
    np.testing.assert_allclose(p, [[0.1, 0.1, 0.0, 0.7 + 0.1]])
    rng = np.random.default_rng(2)
    first = UniformMixing("greedy", epsilon=0.3).select(
        np.tile(scores, (20_000, 1)), 1, np.tile(exclude, (20_000, 1)), rng
    )
    freq = np.bincount(first.slates[:, 0], minlength=4) / 20_000
    np.testing.assert_allclose(freq, p[0], atol=0.015)
    np.testing.assert_allclose(first.propensities[:, 0], p[0, first.slates[:, 0]])


def test_uniform_mixing_with_epsilon_zero_is_the_base_policy():
    scores = np.random.default_rng(3).normal(size=(30, 10))
    a = UniformMixing(SoftmaxPolicy(), epsilon=0.0).select(scores, 3, rng=np.random.default_rng(4))
    b = SoftmaxPolicy().select(scores, 3, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.slates, b.slates)
    np.testing.assert_array_equal(a.propensities, b.propensities)


def test_uniform_mixing_with_epsilon_one_is_uniform():
    p = UniformMixing("softmax", epsilon=1.0).probabilities(np.array([[5.0, 0.0, -3.0, 1.0]]))
    np.testing.assert_allclose(p, [[0.25] * 4])


def test_uniform_mixing_over_a_threshold_shows_nothing_with_the_remaining_mass():
    scores = np.tile([[0.1, 0.2, 0.3]], (20_000, 1))
    policy = UniformMixing(ThresholdTruncation("softmax", tau=0.9), epsilon=0.25)
    sel = policy.select(scores, 1, rng=np.random.default_rng(5))
    nothing = sel.slates[:, 0] == NO_ITEM
    assert abs(nothing.mean() - 0.75) < 0.015
    np.testing.assert_allclose(sel.propensities[nothing, 0], 0.75)
    np.testing.assert_allclose(sel.propensities[~nothing, 0], 0.25 / 3)


@pytest.mark.parametrize("epsilon", [-0.1, 1.1])
def test_uniform_mixing_rejects_epsilon_outside_zero_one(epsilon):
    with pytest.raises(InvalidParameterError, match="epsilon"):
        UniformMixing(epsilon=epsilon)


def test_uniform_mixing_refuses_a_base_without_probabilities():
    class NoProbabilities(GreedyPolicy):
        def probabilities(self, scores, exclude=None):
            return None

    with pytest.raises(InvalidParameterError, match=r"base_policy .* gives no probabilities"):
        UniformMixing(NoProbabilities(), epsilon=0.5).select(np.zeros((2, 3)), 1)


# --------------------------------------------------------------------------- diversity boost
def test_diversity_boost_adds_rho_times_the_expected_distance():
    x = unit([[1, 0], [0, 1], [-1, 0], [1, 1]])
    scores = np.array([[0.5, 0.1, -0.3, 0.2], [0.0, 0.0, 0.0, 1.0]])
    policy = DiversityBoost("softmax", rho=0.7).attach(FeatureWorld(x))
    p = SoftmaxPolicy().probabilities(scores)
    dist = np.linalg.norm(x[:, None] - x[None, :], axis=2)
    np.testing.assert_allclose(policy.boosted_scores(scores), scores + 0.7 * p @ dist)
    np.testing.assert_allclose(pairwise_distances(x), dist, atol=1e-12)
    boosted = SoftmaxPolicy().probabilities(scores + 0.7 * p @ dist)
    np.testing.assert_allclose(policy.probabilities(scores), boosted)


def test_diversity_boost_with_rho_zero_is_the_base_policy():
    x = unit(np.random.default_rng(6).normal(size=(8, 3)))
    scores = np.random.default_rng(7).normal(size=(20, 8))
    a = DiversityBoost("softmax", rho=0.0).attach(FeatureWorld(x))
    sa = a.select(scores, 2, rng=np.random.default_rng(8))
    sb = SoftmaxPolicy().select(scores, 2, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(sa.slates, sb.slates)


def test_diversity_boost_needs_a_world_with_item_features():
    policy = DiversityBoost()
    assert policy.requires_environment
    with pytest.raises(InvalidParameterError, match="call attach"):
        policy.select(np.zeros((2, 3)), 1)
    with pytest.raises(InvalidParameterError, match="item features"):
        policy.attach(FeatureWorld(None))
    env = recdyn.make("latent-static-v1", n_users=10, n_items=5, n_initial_ratings=5)
    env.reset(seed=0)
    with pytest.raises(InvalidParameterError, match="latent-static-v1 has none"):
        policy.attach(env)
    attached = DiversityBoost().attach(FeatureWorld(np.eye(4)))
    with pytest.raises(InvalidParameterError, match="3 items but the attached world has 4"):
        attached.select(np.zeros((2, 3)), 1)


@pytest.mark.parametrize("rho", [-0.5, 1.5])
def test_diversity_boost_rejects_rho_outside_zero_one(rho):
    with pytest.raises(InvalidParameterError, match="rho"):
        DiversityBoost(rho=rho)


def test_wrappers_pass_the_world_on_to_a_diversity_boost():
    inner = TopKTruncation(DiversityBoost("softmax", rho=1.0), m=3)
    assert inner.requires_environment and not TopKTruncation().requires_environment
    inner.attach(FeatureWorld(np.eye(5)))
    sel = inner.select(np.arange(10.0).reshape(2, 5), 2, rng=np.random.default_rng(0))
    assert sel.slates.shape == (2, 2)


# --------------------------------------------------------------------------- in a run
def test_simulate_runs_each_new_policy_in_the_dual_influence_world():
    metrics = ["creator_diversity", "recommendation_relevance"]
    for policy in (
        make("threshold", tau=0.5),
        make("uniform-mix", epsilon=0.5),
        make("diversity-boost", rho=1.0),
    ):
        traj = recdyn.simulate(
            "dual-influence-v1", "oracle", policy, steps=5, seed=0, metrics=metrics
        )
        assert traj.metrics[metrics].notna().all().all()
        assert not hasattr(policy, "environment_")  # simulate attached a clone


def test_threshold_in_a_run_leaves_users_without_recommendations():
    traj = recdyn.simulate(
        "dual-influence-v1",
        "oracle",
        make("threshold", tau=0.6),
        steps=2,
        seed=0,
        metrics=["mean_rating"],
    )
    assert 0 < (traj.interactions.step == 1).sum() < 100  # many users get nothing at first
