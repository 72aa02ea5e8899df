"""The Table 3.1 benchmark world (thesis L2036–2113): what the text fixes — Dirichlet means,
Beta′ variance, the 0/10/1 choice weights, one item per user per step — and the split."""

from __future__ import annotations

import numpy as np
import pytest

import recdyn
from recdyn.environments import PanChaneyEnvironment, pan_chaney_split
from recdyn.environments.pan_chaney import choice_weights
from recdyn.errors import InvalidParameterError

SMALL = dict(n_users=60, n_items=120, users_per_step=60, n_topics=5, boost_depth=10)


def test_the_preset_is_the_benchmark():
    p = recdyn.make("pan-chaney-v1").get_params()
    assert (p["n_users"], p["n_items"], p["users_per_step"], p["n_initial_ratings"]) == (
        3000,
        1000,
        3000,
        0,
    )
    assert (p["user_prior"], p["item_prior"], p["rating_variance"]) == (20.0, 100.0, 0.01)
    assert (p["boost"], p["boost_depth"]) == (10.0, 100)


def test_topics_are_dirichlet_around_their_means():
    env = PanChaneyEnvironment(n_users=4000, n_items=1500, n_topics=4)
    env.reset(0)
    s = env.state
    for topics, mean, prior in (
        (s["user_topics"], s["user_topic_mean"], 20.0),
        (s["item_topics"], s["item_topic_mean"], 100.0),
    ):
        np.testing.assert_allclose(topics.sum(axis=1), 1.0)
        # theta_u ~ Dir(1 * mu): mean mu, variance mu (1 - mu) / 2
        se = np.sqrt(mean * (1 - mean) / 2 / len(topics))
        assert np.all(np.abs(topics.mean(axis=0) - mean) < 5 * se)
        np.testing.assert_allclose(topics.var(axis=0), mean * (1 - mean) / 2, rtol=0.15)
        # mu ~ Dir(prior * 1_K): within a few standard deviations of uniform
        k = len(mean)
        assert np.all(np.abs(mean - 1 / k) < 5 * np.sqrt((1 / k) * (1 - 1 / k) / (prior * k)))


def test_ratings_are_beta_prime_with_variance_0_01():
    env = PanChaneyEnvironment(n_users=50, n_items=50, n_topics=3, rating_map="unit")
    env.reset(1)
    truth = env.true_ratings()
    u, i = np.unravel_index(np.argmin(np.abs(truth - 0.3)), truth.shape)
    n = 40_000
    v = env.observe(np.full(n, u), np.full(n, i), np.random.default_rng(0))
    assert v.mean() == pytest.approx(truth[u, i], abs=0.003)
    assert v.var() == pytest.approx(0.01, rel=0.05)
    assert env.rating_range == (0.0, 1.0) and v.min() >= 0 and v.max() <= 1
    reclab = PanChaneyEnvironment(n_users=50, n_items=50, n_topics=3)
    reclab.reset(1)
    r = reclab.observe(np.full(n, u), np.full(n, i), np.random.default_rng(0))
    np.testing.assert_array_equal(r, np.clip(np.round(20 * v + 1), 1, 5))  # RecLab's map
    np.testing.assert_allclose(reclab.true_ratings(), 20 * truth + 1, rtol=1e-6)
    sim = env.state["item_similarity"]
    assert sim.shape == (50, 50) and sim.min() >= 0 and sim.max() <= 1


def test_choice_weights_are_0_10_1():
    rated = np.array([[False, True, False, False, False]])
    np.testing.assert_array_equal(choice_weights((1, 5), None, rated, 10.0, 2), [[10, 0, 1, 1, 1]])
    scores = np.array([[0.1, 0.9, 0.5, 0.5, 0.0]])  # ranks 5, 1, 2, 2, 5 (ties share)
    np.testing.assert_array_equal(
        choice_weights((1, 5), scores, rated, 10.0, 2), [[1, 0, 10, 10, 1]]
    )
    flat = np.zeros((1, 5))  # every rank is 1: uniform over what is not rated
    np.testing.assert_array_equal(
        choice_weights((1, 5), flat, rated, 10.0, 2), [[10, 0, 10, 10, 10]]
    )


def test_choices_follow_the_weights_and_report_their_probability():
    n_users, n_items = 6000, 10
    env = PanChaneyEnvironment(
        n_users=n_users, n_items=n_items, users_per_step=n_users, n_topics=3, boost_depth=3
    )
    env.reset(2)
    slates = np.tile(np.arange(n_items), (n_users, 1))
    first = env.step(slates)
    expected = np.array([10, 10, 10, 1, 1, 1, 1, 1, 1, 1]) / 37
    freq = np.bincount(first.item, minlength=n_items) / n_users
    assert np.all(np.abs(freq - expected) < 4 * np.sqrt(expected / n_users))
    np.testing.assert_allclose(first.propensity, expected[first.item])
    second = env.step(slates)  # the consumed item now weighs 0
    assert not np.any(second.item == first.item)
    top = first.item < 3
    np.testing.assert_allclose(
        second.propensity, np.where(second.item < 3, 10, 1) / np.where(top, 27, 36)
    )


def test_split_counts_per_user_and_step():
    env = PanChaneyEnvironment(**SMALL)
    split = pan_chaney_split(env, seed=4)
    train, ignored, test = split.train, split.ignored, split.test
    assert np.all(np.bincount(train.user, minlength=60) == 20)
    assert np.all(np.bincount(ignored.user, minlength=60) == 10)
    assert np.all(np.bincount(test.user, minlength=60) == 20)
    # one rating per user per step, the first 20 steps in train
    for t in range(1, 31):
        part = train if t <= 20 else ignored
        users = part.user[part.step == t]
        assert len(users) == 60 and len(np.unique(users)) == 60
    # step 1 is uniform; later steps are not
    np.testing.assert_allclose(train.propensity[train.step == 1], 1 / 120)
    assert train.propensity[train.step == 2].max() > 1 / 119
    # test pairs: distinct, never rated in the run
    rated = train.user.astype(np.int64) * 120 + train.item
    rated = np.concatenate([rated, ignored.user.astype(np.int64) * 120 + ignored.item])
    keys = test.user.astype(np.int64) * 120 + test.item
    assert len(np.unique(keys)) == len(keys) and not np.isin(keys, rated).any()
    assert set(np.unique(test.rating)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert np.all(test.step == 31)


def test_split_is_deterministic_and_shows_the_feedback_bias():
    a = pan_chaney_split(PanChaneyEnvironment(**SMALL), seed=5)
    b = pan_chaney_split(PanChaneyEnvironment(**SMALL), seed=5)
    c = pan_chaney_split(PanChaneyEnvironment(**SMALL), seed=6)
    for x, y in ((a.train, b.train), (a.test, b.test)):
        np.testing.assert_array_equal(x.item, y.item)
        np.testing.assert_array_equal(x.rating, y.rating)
    assert not np.array_equal(a.train.item, c.train.item)
    # the ranking pushes users towards what they rate highly: train > uniform test
    assert a.train.rating.mean() > a.test.rating.mean()


def test_split_bad_input():
    env = PanChaneyEnvironment(**SMALL)
    with pytest.raises(InvalidParameterError, match="n_steps \\+ n_test"):
        pan_chaney_split(env, n_steps=100, n_test=30)
    with pytest.raises(InvalidParameterError, match="n_train"):
        pan_chaney_split(env, n_train=-1)
    with pytest.raises(InvalidParameterError, match="PanChaneyEnvironment"):
        pan_chaney_split(recdyn.make("beta-rank-cafl-v1"))
