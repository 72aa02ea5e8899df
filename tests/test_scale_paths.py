"""The loop's large-world paths give the numbers of the dense ones (issue 22): regret from
``truth_of_step`` equals regret from the dense truth; blocked steps and sparse exclusions
give the same trajectories; the rated items' CSR equals the dense mask."""

import numpy as np
import pytest

import recdyn
import recdyn.environments.truth as truth_module
import recdyn.stepping as stepping_module
from recdyn._arrays import push_down
from recdyn.metrics.online import metric_class

WORLDS = [
    ("topics-dynamic-v1", {}),
    ("topics-static-v1", {"memory_length": 3, "boredom_threshold": 1, "boredom_penalty": 1.0}),
    ("latent-dynamic-v1", {}),
    ("beta-rank-v1", {}),
    ("dual-influence-v1", {}),
]
SMALL = dict(n_users=60, n_items=50, users_per_step=12, n_initial_ratings=400)


def dense_regret(ctx):
    """Regret as the loop computed it before issue 22: from the dense truth."""
    if not len(ctx.new):
        return np.nan
    row = np.searchsorted(ctx.users, ctx.new.user)
    allowed = push_down(ctx.truth, ctx.rated_before) if ctx.exclude_rated else ctx.truth
    return float(np.mean(allowed.max(axis=1)[row] - ctx.truth[row, ctx.new.item]))


DenseRegret = metric_class(dense_regret, "truth", "rated_before")


def _world(name, params):
    size = dict(SMALL)
    if name == "dual-influence-v1":
        size.pop("n_initial_ratings")
    return recdyn.make(name, **size, **params)


@pytest.mark.parametrize("name,params", WORLDS, ids=[w[0] + str(bool(w[1])) for w in WORLDS])
def test_regret_equals_the_dense_regret(name, params):
    k = 1 if name == "dual-influence-v1" else 3
    run = recdyn.simulate(
        _world(name, params), "toppop", steps=6, seed=3, k=k, metrics=["regret", DenseRegret()]
    )
    np.testing.assert_array_equal(run.metrics["regret"], run.metrics["DenseRegret"])


@pytest.mark.parametrize("name,params", WORLDS[:3], ids=["topics-dynamic", "boredom", "latent"])
def test_blocked_truth_equals_one_block(monkeypatch, name, params):
    env = _world(name, params)
    env.reset(seed=1)
    users = env.online_users()
    slates = np.argsort(-env.true_ratings(users), axis=1)[:, :2]
    slates[0, 1] = -1
    best, shown = env.truth_of_step(users, slates)
    truth = env.true_ratings(users)
    allowed = push_down(truth, env.rated_mask(users))
    np.testing.assert_array_equal(best, allowed.max(axis=1))
    np.testing.assert_array_equal(shown[:, 0], np.take_along_axis(truth, slates[:, :1], 1)[:, 0])
    assert np.isnan(shown[0, 1])
    monkeypatch.setattr(truth_module, "TRUTH_BLOCK_CELLS", 3 * env.n_items)
    monkeypatch.setattr(type(env), "_best_true", lambda self, users, exclude_rated: None)
    blocked = env.truth_of_step(users, slates)
    np.testing.assert_array_equal(blocked[0], best)
    np.testing.assert_array_equal(blocked[1], shown)


@pytest.mark.parametrize("recommender", ["toppop", "mf-als", "user-knn"])
def test_blocked_steps_give_the_same_trajectory(monkeypatch, recommender):
    env = _world("topics-dynamic-v1", {})
    kwargs = dict(steps=5, seed=2, k=2, metrics=["regret", "mean_rating"])
    whole = recdyn.simulate(env, recommender, **kwargs)
    monkeypatch.setattr(stepping_module, "STEP_BLOCK_CELLS", 5 * env.n_items)
    monkeypatch.setattr(stepping_module, "DENSE_EXCLUDE_CELLS", 0)  # sparse exclusions
    blocked = recdyn.simulate(env, recommender, **kwargs)
    np.testing.assert_array_equal(whole.interactions.item, blocked.interactions.item)
    np.testing.assert_array_equal(
        whole.metrics[["regret", "mean_rating"]], blocked.metrics[["regret", "mean_rating"]]
    )


def test_rated_items_equals_rated_mask():
    env = _world("topics-dynamic-v1", {})
    env.reset(seed=0)
    users = np.array([5, 0, 59, 5])
    np.testing.assert_array_equal(env.rated_items(users).toarray(), env.rated_mask(users))
