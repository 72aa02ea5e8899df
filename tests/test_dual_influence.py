"""Creators who move (issue 18, seed 004): the dual-influence world and the world contract
it needs (creators, item features, changed items, repeat consumption, empty slots)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import recdyn
from recdyn.datasets import DatasetError
from recdyn.environments import fitting as fitting_module
from recdyn.environments.dual_influence import DualInfluenceEnvironment
from recdyn.errors import CheckError, InvalidParameterError, InvalidSlateError
from recdyn.recommenders.baselines import TopPop

from .check_helpers import assert_check_fails
from .conftest import SMALL

SHARED = Path(os.environ.get("RECDYN_DATA_DIR", ""))


def _unit(rows):
    a = np.asarray(rows, float)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def _world(users, creators, **params):
    users, creators = _unit(users), _unit(creators)
    env = DualInfluenceEnvironment(
        n_users=len(users),
        n_creators=len(creators),
        dim=users.shape[1],
        initial_users=users,
        initial_creators=creators,
        **params,
    )
    env.reset(0)
    return env


# ----------------------------------------------------------------------------- parameters
def test_preset_defaults_follow_the_seed():
    env = recdyn.make("dual-influence-v1")
    assert (env.n_users, env.n_creators, env.n_items, env.dim) == (100, 50, 50, 10)
    assert (env.eta_users, env.eta_creators, env.creator_aggregation) == (0.1, 0.1, "mean")
    assert env.users_per_step == 100 and env.n_initial_ratings == 0
    assert env.rating_range == (-1.0, 1.0) and env.repeat_consumption
    params = env.get_params()
    assert params["n_items"] is None and params["users_per_step"] is None
    assert params["n_creators"] == 50


def test_n_items_follows_n_creators_and_clones_resize():
    env = recdyn.make("dual-influence-v1", n_creators=7)
    assert env.n_items == 7
    assert recdyn.make("dual-influence-v1", n_items=9).n_creators == 9
    assert env.clone(n_creators=12, n_users=40).n_items == 12
    assert env.clone(n_users=40).users_per_step == 40  # everyone online follows n_users
    with pytest.raises(InvalidParameterError, match=r"n_items must be None or n_creators=7"):
        recdyn.make("dual-influence-v1", n_creators=7, n_items=8)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(eta_users=0.0), r"eta_users"),
        (dict(eta_creators=-0.1), r"eta_creators"),
        (dict(dim=1), r"dim"),
        (dict(frozen_user_dims=10), r"frozen_user_dims must be in \[0, dim=10\)"),
        (dict(creator_aggregation="median"), r"creator_aggregation"),
        (dict(init="ml-20m"), r"init"),
        (dict(initial_users=np.ones((100, 10))), r"initial_users must hold vectors on the unit"),
        (dict(initial_creators=np.eye(10)), r"initial_creators must be .* shape \(50, 10\)"),
        (dict(initial_users="abc"), r"initial_users must be a float array"),
    ],
)
def test_bad_input_names_the_argument(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        recdyn.make("dual-influence-v1", **params)


# ----------------------------------------------------------------------------- dynamics
def test_one_step_by_hand_mean_and_sum():
    users = [[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]]
    creators = [[1, 1, 0], [0, -1, 0]]
    for aggregation in ("mean", "sum"):
        env = _world(users, creators, creator_aggregation=aggregation, eta_users=0.5)
        u0, v0 = np.array(env.state["users"]), np.array(env.state["creators"])
        new = env.step(np.array([0, 0, 1]))  # users 0, 1 see creator 0; user 2 sees 1
        r = np.einsum("nd,nd->n", u0, v0[[0, 0, 1]])
        np.testing.assert_allclose(new.rating, r, rtol=1e-6)
        expect_u = u0 + 0.5 * r[:, None] * v0[[0, 0, 1]]
        expect_u /= np.linalg.norm(expect_u, axis=1, keepdims=True)
        np.testing.assert_allclose(env.state["users"], expect_u, atol=1e-12)
        pull0 = np.sign(r[0]) * u0[0] + np.sign(r[1]) * u0[1]
        pull0 = pull0 / 2 if aggregation == "mean" else pull0
        pull1 = np.sign(r[2]) * u0[2]  # r = 0: sign 0, creator 1 stays
        expect_v = v0 + 0.1 * np.stack([pull0, pull1])
        expect_v /= np.linalg.norm(expect_v, axis=1, keepdims=True)
        np.testing.assert_allclose(env.state["creators"], expect_v, atol=1e-12)
        np.testing.assert_array_equal(env.changed_items(), [0, 1])


def test_users_move_away_from_disliked_content_and_creators_towards_their_audience():
    env = _world([[1, 0.2]], [[-1, 0], [0, 1]])
    before = np.array(env.state["users"][0])
    env.step(np.array([0]))
    after_u, after_v = env.state["users"][0], env.state["creators"]
    assert after_u @ [-1, 0] < before @ [-1, 0]  # moved away from the creator it disliked
    # sign(<v, u>) = -1: the creator moves towards -u, i.e. away from the user
    assert after_v[0] @ before < -1 / np.sqrt(1.04) + 1e-12
    np.testing.assert_array_equal(after_v[1], [0, 1])  # no audience: no move
    np.testing.assert_array_equal(env.changed_items(), [0])


def test_frozen_user_dims_never_move_and_users_stay_on_the_sphere():
    env = recdyn.make("dual-influence-v1", frozen_user_dims=3, eta_users=0.5)
    env.reset(1)
    frozen = np.array(env.state["users"][:, :3])
    for _ in range(20):
        users = env.online_users()
        env.step(env.true_ratings(users).argmax(axis=1))
    np.testing.assert_array_equal(env.state["users"][:, :3], frozen)
    for side in ("users", "creators"):
        np.testing.assert_allclose(np.linalg.norm(env.state[side], axis=1), 1.0, atol=1e-12)


def test_empty_slots_show_nothing():
    env = _world([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    before = np.array(env.state["users"])
    new = env.step(np.array([[-1, 0], [1, -1]]))  # user 0's first slot is empty
    np.testing.assert_array_equal(new.user, [1])
    np.testing.assert_array_equal(env.state["users"][0], before[0])
    with pytest.raises(InvalidSlateError, match=r"id -2, outside .* \(or -1: nothing shown"):
        env.step(np.array([-2, 0]))
    with pytest.raises(InvalidSlateError, match="twice"):
        env.step(np.array([[0, 0], [1, -1]]))
    env.step(np.array([[-1, -1], [1, -1]]))  # empty slots may repeat


def test_item_contract_is_read_only():
    env = recdyn.make("dual-influence-v1", n_users=30, n_creators=20, dim=5)
    env.reset(0)
    np.testing.assert_array_equal(env.item_creators, np.arange(20))
    assert env.n_creators == 20
    features = env.item_features()
    assert features.shape == (20, 5) and features.dtype == np.float64
    for view in (features, env.item_creators, env.state["users"], env.state["creators"]):
        with pytest.raises(ValueError, match="read-only"):
            view[0] = 0
    assert len(env.changed_items()) == 0  # right after reset


def test_worlds_without_creators_say_none():
    env = recdyn.make("topics-static-v1", **SMALL)
    env.reset(0)
    assert env.item_creators is None and env.n_creators is None
    assert env.item_features() is None and len(env.changed_items()) == 0
    assert not env.repeat_consumption


def test_same_seed_same_moves_other_seed_other_start():
    def run(seed):
        env = recdyn.make("dual-influence-v1", n_users=40, n_creators=10)
        env.reset(seed)
        for _ in range(5):
            users = env.online_users()
            env.step(env.true_ratings(users).argmax(axis=1))
        return np.array(env.state["creators"])

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.allclose(run(3), run(4))


def test_checker_passes_with_options():
    recdyn.check_environment(
        recdyn.make("dual-influence-v1", frozen_user_dims=2, creator_aggregation="sum", noise=0.1)
    )


# ----------------------------------------------------------------------------- the loop
def test_users_stay_online_beyond_n_items_steps_and_rated_items_are_not_excluded():
    traj = recdyn.simulate(
        recdyn.make("dual-influence-v1", n_users=20, n_creators=5), "oracle", steps=12, seed=0
    )
    assert len(traj.metrics) == 12 and (traj.metrics["n_ratings"].diff().dropna() == 20).all()
    # the oracle's greedy pick is repeated: a user sees its best creator again
    pairs = traj.interactions.to_pandas()
    assert pairs.duplicated(["user", "item"]).any()


def test_exclude_rated_default_keeps_existing_worlds_numbers():
    kw = dict(steps=6, seed=2, metrics=("mean_rating", "regret"))
    env = recdyn.make("topics-dynamic-v1", **SMALL)
    default = recdyn.simulate(env, "toppop", **kw).metrics.drop(columns="seconds")
    explicit = recdyn.simulate(env, "toppop", exclude_rated=True, **kw).metrics
    assert default.equals(explicit.drop(columns="seconds"))
    with pytest.raises(InvalidParameterError, match="exclude_rated must be True, False or None"):
        recdyn.simulate(env, "toppop", exclude_rated="yes", **kw)


class _Listens(TopPop):
    def _fit(self, data):
        super()._fit(data)
        self.heard_ = getattr(self, "heard_", [])

    def _items_changed(self, items):
        self.heard_.append(items.copy())


def test_simulate_tells_the_recommender_which_items_moved():
    traj = recdyn.simulate(
        recdyn.make("dual-influence-v1", n_users=30, n_creators=8), _Listens(), steps=4, seed=0
    )
    heard = traj.recommender.heard_
    assert len(heard) == 4 and all(len(h) and (np.diff(h) > 0).all() for h in heard)
    static = recdyn.simulate(recdyn.make("topics-static-v1", **SMALL), _Listens(), steps=3)
    assert static.recommender.heard_ == []


def test_items_changed_checks_ids():
    rec = TopPop().fit(recdyn.Interactions([0], [1], [1.0]), 2, 3)
    assert rec.items_changed([0, 2]) is rec
    with pytest.raises(InvalidParameterError, match=r"items holds id 3, outside"):
        rec.items_changed([3])


def test_one_step_at_scale_is_fast():
    env = recdyn.make("dual-influence-v1", n_users=10_000, n_creators=1_000)
    env.reset(0)
    rng = np.random.default_rng(0)
    import time

    times = []
    for _ in range(5):
        slates = rng.integers(0, 1_000, size=len(env.online_users()))
        start = time.perf_counter()
        env.step(slates)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.1  # ≈ 4 ms here; the bound is 20 ms


# ----------------------------------------------------------------------------- checker
class _HidesMoves(DualInfluenceEnvironment):
    def _changed_items(self):
        return np.empty(0, np.int64)


class _NoRepeat(DualInfluenceEnvironment):
    repeat_consumption = False  # users run out after n_items steps


class _OrphanCreator(DualInfluenceEnvironment):
    def _item_creators(self):
        return np.zeros(self.n_items, np.int64) + (self.n_creators > 1)


def test_checker_names_broken_creator_rules():
    assert_check_fails(
        _HidesMoves(n_users=20, n_creators=6),
        "check_environment_creators",
        "changed_items\\(\\) does not list them",
    )
    assert_check_fails(
        _OrphanCreator(n_users=20, n_creators=6), "check_environment_creators", "owns no item"
    )


def test_checker_names_worlds_that_run_out_of_users():
    class _Claims(_NoRepeat):
        def _eligible(self):
            return self._rated.counts < self._n_items

    env = _Claims(n_users=4, n_creators=3)
    type(env).repeat_consumption = True
    try:
        with pytest.raises(CheckError, match="repeat-consumption world"):
            recdyn.check_environment(env)
    finally:
        type(env).repeat_consumption = False


# ----------------------------------------------------------------------------- real data
@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "worlds"
    monkeypatch.setattr(fitting_module, "factor_cache_dir", lambda: folder)
    return folder


def test_dataset_init_starts_from_mf_embeddings(cache):
    if not (SHARED / "ml-100k").is_dir():
        pytest.skip("ml-100k not in RECDYN_DATA_DIR")
    env = recdyn.make("dual-influence-v1", init="ml-100k", n_creators=20)
    env.reset(0)
    users, creators = env.state["users"], env.state["creators"]
    np.testing.assert_allclose(np.linalg.norm(users, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(creators, axis=1), 1.0, atol=1e-12)
    assert list(cache.glob("ml-100k-mf-als-d10-*.npz"))  # the fit is cached
    again = recdyn.make("dual-influence-v1", init="ml-100k", n_creators=20)
    again.reset(0)
    np.testing.assert_array_equal(again.state["creators"], creators)
    with pytest.raises(InvalidParameterError, match=r"n_users must be at most the 943"):
        recdyn.make("dual-influence-v1", init="ml-100k", n_users=1000).reset(0)


def test_dataset_init_without_data_names_the_dataset(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RECDYN_DATA_DIR", str(tmp_path / "empty"))
    env = recdyn.make("dual-influence-v1", init="ml-latest-small")
    with pytest.raises(DatasetError, match=r"init='ml-latest-small'.*RECDYN_DATA_DIR"):
        env.reset(0)


def test_regret_of_the_oracle_is_zero_where_items_repeat():
    """The best choice obeys the run's rule: with repeat consumption nothing is excluded."""
    traj = recdyn.simulate(
        recdyn.make("dual-influence-v1", n_users=20, n_creators=8), "oracle", "greedy",
        steps=6, seed=0, metrics=("regret", "distinct_items"),
    )  # fmt: skip
    np.testing.assert_allclose(traj.metrics["regret"], 0.0, atol=1e-6)
    assert (traj.metrics["distinct_items"] <= 8).all()


def test_empty_slots_are_not_counted_as_items():
    policy = recdyn.policies.make("threshold", tau=0.95)  # few users pass: most see nothing
    traj = recdyn.simulate(
        recdyn.make("dual-influence-v1", n_users=20, n_creators=8), "oracle", policy,
        steps=3, seed=0, metrics=("distinct_items",),
    )  # fmt: skip
    per_step = np.bincount(traj.interactions.step, minlength=4)[1:]
    assert (per_step < 20).all()
    assert (traj.metrics["distinct_items"].to_numpy() <= per_step).all()
    with pytest.raises(InvalidParameterError, match="'n_ratings' clashes"):
        recdyn.simulate("dual-influence-v1", "oracle", steps=1, metrics=("n_ratings",))


def test_set_params_changes_sizes_that_are_properties():
    """``n_items`` and ``n_creators`` are properties: ``set_params`` must reach the fields
    behind them (it once wrote a shadowed instance attribute and changed nothing)."""
    world = recdyn.make("latent-static-v1", n_users=20, n_items=30, n_initial_ratings=50)
    assert world.set_params(n_items=12).n_items == 12 == world.get_params()["n_items"]
    assert world.spec.name == "latent-static-v1"
    assert len(world.reset(seed=0)) == 50 and world.true_ratings().shape == (20, 12)
    dual = recdyn.make("dual-influence-v1").set_params(n_creators=7)
    dual.reset(seed=0)
    assert dual.n_items == dual.n_creators == 7 == dual.get_params()["n_creators"]
