"""Homogenization (thesis L2002–2033): exact Jaccard values, the oracle, the estimator."""

import itertools

import numpy as np
import pytest

import recdyn
from recdyn.interactions import Interactions
from recdyn.metrics import StepContext, online_metrics
from recdyn.metrics.homogenization import Homogenization, mean_pairwise_jaccard
from recdyn.recommenders import make as make_recommender


def incidence(sets, n_items=6):
    x = np.zeros((len(sets), n_items), bool)
    for row, items in enumerate(sets):
        x[row, list(items)] = True
    return x


@pytest.mark.parametrize(
    "sets, expected",
    [
        ([{0, 1}, {1, 2}, {3}], (1 / 3 + 0 + 0) / 3),
        ([{0, 1, 2}, {0, 1, 2}], 1.0),
        ([{0, 1, 2, 3}, {2, 3, 4, 5}, {0, 5}], (2 / 6 + 1 / 5 + 1 / 5) / 3),
        ([set(), set(), {0}], 0.0),  # the pair of empty sets is left out
        ([{0}], float("nan")),
    ],
)
def test_mean_pairwise_jaccard_on_hand_made_sets(sets, expected):
    np.testing.assert_allclose(mean_pairwise_jaccard(incidence(sets)), expected, equal_nan=True)


def world(n_users=30, n_initial_ratings=0, seed=0):
    env = recdyn.make(
        "latent-static-v1",
        n_users=n_users,
        n_items=40,
        users_per_step=5,
        n_initial_ratings=n_initial_ratings,
    )
    return env, env.reset(seed=seed)


def context(env, rec, step=1, seed=0):
    users = env.online_users()
    return StepContext(
        step,
        users,
        np.zeros((len(users), 1), np.int64),
        Interactions.empty(),
        n_items=env.n_items,
        environment=env,
        recommender=rec,
        seed=seed,
    )


def brute_force_jaccard(top_sets):
    pairs = itertools.combinations(top_sets, 2)
    return np.mean([len(a & b) / len(a | b) for a, b in pairs])


def test_current_sets_against_the_oracle():
    env, initial = world()
    k = 5
    truth = env.true_ratings()
    oracle_sets = [set(np.argsort(-row)[:k].tolist()) for row in truth]  # no ties, no ratings
    metric = Homogenization(k=k)
    # the Oracle recommender recommends the oracle's sets: no homogenization
    oracle = recdyn.recommenders.Oracle()
    oracle.attach(env)
    oracle.fit(initial, env.n_users, env.n_items)
    assert metric(context(env, oracle)) == pytest.approx(0.0, abs=1e-12)
    # one list for everyone (TopPop without data: a uniform random tie order is drawn per
    # user, so fit on a few ratings that order every item): similarity 1 minus the oracle's
    ratings = Interactions(np.zeros(40, int), np.arange(40), np.linspace(1, 5, 40))
    toppop = make_recommender("toppop").fit(ratings, env.n_users, env.n_items)
    expected = 1.0 - brute_force_jaccard(oracle_sets)
    assert metric(context(env, toppop)) == pytest.approx(expected, abs=1e-12)


def test_cumulative_sets_against_the_oracle_on_hand_made_steps():
    metric = Homogenization(sets="cumulative")
    users = np.array([0, 1])
    truth = np.array([[0, 5, 1, 0], [0, 1, 5, 0]], np.float32)  # oracle: item 1, item 2
    rated = np.zeros((2, 4), bool)
    step1 = StepContext(
        1, users, np.array([[0], [0]]), Interactions.empty(), truth, rated, n_items=4
    )
    assert metric(step1) == 1.0  # both shown {0} (J = 1); the oracle's {1}, {2} (J = 0)
    rated[:, 0] = True
    step2 = StepContext(
        2, users, np.array([[1], [2]]), Interactions.empty(), truth, rated, n_items=4
    )
    assert metric(step2) == pytest.approx(1 / 3)  # {0, 1} vs {0, 2}; the oracle's stay apart
    assert metric(step2) == pytest.approx(1 / 3)  # recording a step twice changes nothing


def test_the_subsampled_estimator_is_close_and_deterministic():
    env, initial = world(n_users=60, n_initial_ratings=300)
    rec = make_recommender("mf-als", seed=0).fit(initial, env.n_users, env.n_items)
    exact = Homogenization(k=5)(context(env, rec))
    sampled = Homogenization(k=5, max_users=20)
    values = np.array([sampled(context(env, rec, step=t)) for t in range(1, 41)])
    assert values.std() > 0  # each step draws its own users …
    assert sampled(context(env, rec, step=7)) == values[6]  # … from a stream named by step
    assert abs(values.mean() - exact) < 3 * values.std() / np.sqrt(len(values)) + 1e-3
    other_seed = [sampled(context(env, rec, step=t, seed=1)) for t in range(1, 4)]
    assert other_seed != values[:3].tolist()


def test_registered_in_both_readings_and_run_by_simulate():
    assert online_metrics.make("homogenization").sets == "current"
    assert online_metrics.make("homogenization_cumulative").sets == "cumulative"
    env = recdyn.make(
        "beta-rank-v1", n_users=40, n_items=60, users_per_step=10, n_initial_ratings=300
    )
    metrics = ("homogenization", "homogenization_cumulative", Homogenization(every=3))
    traj = recdyn.simulate(env, "toppop", steps=6, seed=1, k=2, metrics=metrics)
    m = traj.metrics
    assert m[["homogenization", "homogenization_cumulative"]].notna().all().all()
    assert m["Homogenization"].notna().tolist() == [False, False, True, False, False, True]
    assert m["homogenization"].between(-1, 1).all()
