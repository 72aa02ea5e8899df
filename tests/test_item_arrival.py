"""Items that arrive during a run (issue 18 item 1: "items or creators can arrive"): the
environment contract (``added_items()``, the ``_arrive`` hook), new creators in
``dual-influence-v1`` (``creator_arrival``), recommenders told of new items
(``items_added``), ``simulate`` and the checker."""

from __future__ import annotations

import numpy as np
import pytest

import recdyn
from recdyn.environments.dual_influence import DualInfluenceEnvironment
from recdyn.errors import InvalidParameterError
from recdyn.heldout import HeldOut
from recdyn.testing import parametrize_with_checks

from .check_helpers import assert_check_fails

SMALL = dict(n_users=20, n_creators=5, dim=4)
CREATOR_METRICS = ("polarization", "creator_diversity", "creator_clusters")


def _arriving(**params):
    return recdyn.make("dual-influence-v1", **{**SMALL, "creator_arrival": 1.0, **params})


def _play(env, steps, seed=0):
    """Reset and show every online user item 0 for ``steps`` steps; what was seen."""
    env.reset(seed)
    seen = []
    for _ in range(steps):
        users = env.online_users()
        new = env.step(np.zeros(len(users), np.int64))
        seen.append((new, env.n_items, np.array(env.added_items()), np.array(env.item_features())))
    return seen


# ----------------------------------------------------------------------------- the world
def test_one_creator_arrives_per_step_and_everything_widens():
    env = _arriving()
    env.reset(0)
    assert env.n_items == env.n_creators == 5 and len(env.added_items()) == 0
    for t in range(1, 4):
        users = env.online_users()
        env.step(np.zeros(len(users), np.int64))
        n = 5 + t
        assert env.n_items == env.n_creators == n
        assert env.added_items().tolist() == [n - 1]
        assert env.added_items().dtype == np.int64 and not env.added_items().flags.writeable
        assert env.item_creators.tolist() == list(range(n))
        features = env.item_features()
        assert features.shape == (n, 4)
        np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-12)
        mask = env.rated_mask(users)
        assert mask.shape == (len(users), n) and not mask[:, n - 1].any()
        assert mask[:, 0].all()  # everyone consumed item 0
        assert env.true_ratings(users).shape == (len(users), n)
        assert env.state["creators"].shape == (n, 4)
    # the parameter stays the number at reset; reset starts over
    assert env.get_params()["n_creators"] == 5
    env.reset(0)
    assert env.n_items == env.n_creators == 5 and len(env.added_items()) == 0
    assert env.rated_mask([0]).shape == (1, 5)


def test_a_step_without_an_arrival_lists_none():
    env = _arriving(creator_arrival=0.5)
    counts = [n for _, n, _, _ in _play(env, 30)]
    added = [len(a) for _, _, a, _ in _play(env, 30)]
    assert 5 < counts[-1] < 35  # some steps brought a creator, some did not
    assert np.diff([5, *counts]).tolist() == added


def test_arrivals_are_deterministic_under_a_seed():
    env = _arriving(creator_arrival=0.5, noise=0.1, users_per_step=7)
    a, b, c = _play(env, 12, seed=3), _play(env.clone(), 12, seed=3), _play(env, 12, seed=4)
    for (na, ia, aa, fa), (nb, ib, ab, fb) in zip(a, b):
        assert ia == ib and np.array_equal(aa, ab) and np.array_equal(fa, fb)
        assert np.array_equal(na.rating, nb.rating) and np.array_equal(na.user, nb.user)
    assert any(x[1] != y[1] or not np.array_equal(x[3], y[3]) for x, y in zip(a, c))


class _Before(DualInfluenceEnvironment):
    """The world as it was before arrivals existed (no ``_arrive``)."""

    def _arrive(self):
        return 0


@pytest.mark.parametrize("params", [{}, {"creator_arrival": 0.0}, {"creator_arrival": 0}])
def test_no_arrivals_by_default_gives_the_numbers_of_before(params):
    # noise and a subset of users online: the dynamics stream is in use at every step
    shared = dict(SMALL, noise=0.2, users_per_step=6)
    before = _play(_Before(**shared), 15, seed=1)
    now = _play(recdyn.make("dual-influence-v1", **shared, **params), 15, seed=1)
    for (na, ia, aa, fa), (nb, ib, ab, fb) in zip(before, now):
        assert ia == ib == 5 and len(aa) == len(ab) == 0
        assert np.array_equal(fa, fb)
        assert np.array_equal(na.user, nb.user) and np.array_equal(na.rating, nb.rating)
    a = _short_run(_Before(**shared))
    b = _short_run(recdyn.make("dual-influence-v1", **shared, **params))
    assert a.equals(b)


def _short_run(env):
    traj = recdyn.simulate(env, "mf-als", steps=6, seed=2, metrics=CREATOR_METRICS)
    return traj.metrics.drop(columns="seconds")


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "often", True])
def test_creator_arrival_outside_the_unit_interval_is_refused(bad):
    with pytest.raises(InvalidParameterError, match="creator_arrival"):
        recdyn.make("dual-influence-v1", creator_arrival=bad)


# ----------------------------------------------------------------------------- recommenders
@pytest.mark.parametrize("name", ["oracle", "mf-als", "toppop"])
def test_simulate_tells_recommenders_of_new_creators(name):
    steps = 6
    traj = recdyn.simulate(_arriving(), name, steps=steps, seed=0, metrics=CREATOR_METRICS)
    assert traj.recommender.n_items_ == 5 + steps
    assert traj.metrics["creator_clusters"].notna().all()
    assert np.isfinite(traj.metrics[list(CREATOR_METRICS)].to_numpy()).all()
    assert traj.interactions.item.max() < 5 + steps
    users = np.arange(3)
    assert traj.recommender.score(users).shape == (3, 5 + steps)


@pytest.mark.parametrize("policy", ["softmax", "diversity-boost", "threshold"])
def test_every_creator_metric_and_world_reading_policy_follows_arrivals(policy):
    # RD and RR weigh the items on offer when the slate was chosen (not the new one)
    metrics = (*CREATOR_METRICS, "recommendation_diversity", "recommendation_relevance")
    traj = recdyn.simulate(_arriving(), "oracle", policy, steps=5, seed=0, metrics=metrics)
    assert traj.metrics[list(metrics)].notna().all().all()


def test_items_added_refits_at_the_new_size_by_default():
    env = _arriving(noise=0.1)
    data = env.reset(0)
    for _ in range(4):
        users = env.online_users()
        data = recdyn.Interactions.concat([data, env.step(np.arange(len(users)) % 5)])
    rec = recdyn.recommenders.make("mf-als", seed=0).fit(data, env.n_users, 5)
    assert rec.items_added(5) is rec and rec.n_items_ == 5  # nothing arrived: no change
    rec.items_added(env.n_items)
    assert rec.n_items_ == 9 and rec.score([0, 1]).shape == (2, 9)
    # the refit is the one a fresh fit at the new size gives
    fresh = recdyn.recommenders.make("mf-als", seed=0).fit(data, env.n_users, 9)
    np.testing.assert_allclose(rec.score([0, 1]), fresh.score([0, 1]), rtol=1e-5)
    with pytest.raises(InvalidParameterError, match="n_items"):
        rec.items_added(8)  # items are never removed


def test_simulate_with_heldout_and_uniform_training_in_an_arriving_world():
    # held-out pairs are drawn among the items at reset (an arrival is never held out);
    # the shadow arm widens its blocked pairs as items arrive
    traj = recdyn.simulate(
        _arriving(n_users=30, n_creators=8),
        "mf-als",
        steps=5,
        seed=0,
        metrics=CREATOR_METRICS,
        training="uniform",
        heldout=HeldOut(n_pairs=20, every=1),
    )
    assert traj.recommender.n_items_ == 13
    assert traj.metrics["heldout_rmse"].notna().all()
    assert traj.training is not None and len(traj.training)


# ----------------------------------------------------------------------------- checker
@parametrize_with_checks([_arriving(), _arriving(creator_arrival=0.5, users_per_step=9)], steps=5)
def test_worlds_with_arrivals_pass_the_checker(component, check):
    check(component)


class _ForgetsTheCreator(DualInfluenceEnvironment):
    """A new item whose creator is never recorded (``item_creators`` stays short)."""

    def _item_creators(self):
        return np.arange(self._n_creators, dtype=np.int64)


class _ArrivesAtRandom(DualInfluenceEnvironment):
    """Arrivals from fresh entropy, not the world's stream: not reproducible."""

    def _arrive(self):
        if np.random.default_rng().random() < 0.5:
            return 0
        self._creators = np.concatenate([self._creators, self._creators[:1]])
        return 1


def test_checker_names_broken_arrivals():
    assert_check_fails(
        _ForgetsTheCreator(**SMALL, creator_arrival=1.0),
        "check_environment_creators",
        "item_creators has dtype int64 and shape",
    )
    assert_check_fails(
        _ArrivesAtRandom(**SMALL), "check_environment_determinism", "same seed", steps=8
    )
