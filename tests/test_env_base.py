"""Shared environment machinery: sampling of online users and initial data, bad input."""

import numpy as np
import pytest

import recdyn
from recdyn.environments import sampling
from recdyn.errors import InvalidSlateError, NotResetError

from .conftest import SMALL


def test_ml100k_init_biases_towards_high_ratings_and_flip_towards_low():
    """Thesis §2.5: ML-100K-INIT over-samples high ratings; the flipped variant low ones."""
    means = {}
    for kind in ("uniform", "ml100k-init", "ml100k-init-flip"):
        data = recdyn.make("topics-static-v1", initial_sampling=kind).reset(seed=0)
        assert len(data) == 100_000
        pairs = data.user.astype(np.int64) * 1700 + data.item
        assert len(np.unique(pairs)) == len(pairs)
        means[kind] = data.rating.mean()
    assert means["ml100k-init"] > means["uniform"] + 0.4
    assert means["ml100k-init-flip"] < means["uniform"] - 0.4


def test_ml100k_init_concentrates_ratings_on_few_users():
    data = recdyn.make("topics-static-v1", initial_sampling="ml100k-init").reset(seed=0)
    per_user = np.sort(np.bincount(data.user, minlength=1000))[::-1]
    assert per_user[:100].sum() / per_user.sum() > 0.2  # uniform would give 0.1


@pytest.mark.parametrize("kind", ["powerlaw", "lognormal"])
def test_skewed_user_activity(kind):
    env = recdyn.make("topics-static-v1", user_distribution=kind, n_initial_ratings=0)
    env.reset(seed=0)
    seen = np.zeros(env.n_users)
    for _ in range(60):
        users = env.online_users()
        seen[users] += 1
        env.step(np.zeros((len(users), 1), int))
    top = np.sort(seen)[::-1]
    assert top[:100].sum() / top.sum() > 0.15  # uniform: ≈ 0.10


def test_weighted_sampling_without_replacement_matches_successive_sampling():
    rng = np.random.default_rng(0)
    logw = np.log(np.array([0.5, 0.3, 0.2]))
    first = np.zeros(3)
    for _ in range(4000):
        draw = sampling.weighted_sample_without_replacement(logw, 2, rng)
        assert len(set(draw.tolist())) == 2
        first[draw[0]] += 1
    np.testing.assert_allclose(first / 4000, [0.5, 0.3, 0.2], atol=0.03)


def test_using_an_environment_before_reset_is_a_clear_error():
    env = recdyn.make("topics-static-v1", **SMALL)
    for call in (env.online_users, lambda: env.step([[0]]), env.true_ratings):
        with pytest.raises(NotResetError, match="reset"):
            call()


@pytest.mark.parametrize(
    "make_slates, match",
    [
        (lambda n: np.zeros((n + 1, 1), int), r"shape \(n_online=12, k\)"),
        (lambda n: np.zeros((n, 0), int), "k >= 1"),
        (lambda n: np.full((n, 1), 80), r"item id 80, outside the valid range \[0, 80\)"),
        (lambda n: np.full((n, 1), -2), "item id -2"),
        (lambda n: np.tile([3, 5, 3], (n, 1)), "shows an item twice"),
        (lambda n: np.zeros((n, 1)), "integer item ids"),
        (lambda n: np.zeros((n, 1, 1), int), "shape"),
    ],
)
def test_bad_slates_are_rejected_with_a_clear_message(make_slates, match):
    env = recdyn.make("topics-dynamic-v1", **SMALL)
    env.reset(seed=0)
    with pytest.raises(InvalidSlateError, match=match):
        env.step(make_slates(len(env.online_users())))
    assert env.step_index == 0  # nothing happened


def test_bad_scores_are_rejected():
    env = recdyn.make("latent-score-v1")
    env.reset(seed=0)
    n = len(env.online_users())
    with pytest.raises(InvalidSlateError, match="scores"):
        env.step(np.tile([0, 1], (n, 1)), scores=np.zeros((n, 3)))
    with pytest.raises(InvalidSlateError, match="scores"):
        env.step(np.tile([0, 1], (n, 1)), scores=np.full((n, 2), np.nan))


def test_true_ratings_rejects_bad_ids():
    env = recdyn.make("topics-static-v1", **SMALL)
    env.reset(seed=0)
    with pytest.raises(recdyn.RecdynError, match="items holds id 80"):
        env.true_ratings(items=[80])


def test_one_dimensional_slates_mean_top_1():
    env = recdyn.make("topics-static-v1", **SMALL)
    env.reset(seed=0)
    new = env.step(np.arange(len(env.online_users())))
    assert len(new) == 12 and (new.item == np.arange(12)).all()


def test_users_per_step_above_n_users_is_lowered_and_recorded_as_used():
    env = recdyn.make("topics-dynamic-v1", n_users=10, n_initial_ratings=100)
    assert env.users_per_step == 10 and env.spec.params["users_per_step"] == 10
    env.reset(seed=0)
    assert len(env.online_users()) == 10
