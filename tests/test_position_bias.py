"""The position-bias world (issue 21 item 4): examination p^-eta, clicks by relevance,
positions logged with every shown item; and the position ranker (tower, MMoE)."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

import recdyn
from recdyn.environments.position_bias import examination
from recdyn.errors import InvalidParameterError
from recdyn.interactions import InteractionLog, Interactions

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch")


@pytest.fixture(autouse=True)
def _one_thread():
    if not HAS_TORCH:
        yield
        return
    from recdyn.recommenders.neural.runtime import set_threads

    previous = set_threads(1)
    yield
    set_threads(previous)


def world(**overrides):
    params = dict(n_users=400, n_items=60, users_per_step=400, n_initial_ratings=0)
    return recdyn.make("position-bias-v1", **{**params, **overrides})


def random_slates(env, k, steps, seed=0):
    """``steps`` steps of uniformly random slates of ``k`` items: the log, and the
    expected number of clicks and its variance at each position."""
    rng = np.random.default_rng(seed)
    theta = examination(k, env.eta)
    parts, expected, variance = [], np.zeros(k), np.zeros(k)
    for _ in range(steps):
        users = env.online_users()
        slates = np.argsort(rng.random((len(users), env.n_items)), axis=1)[:, :k]
        rho = env.relevance(users)[np.arange(len(users))[:, None], slates]
        expected += (theta * rho).sum(axis=0)
        variance += (theta * rho * (1 - theta * rho)).sum(axis=0)
        parts.append(env.step(slates))
    return Interactions.concat(parts), expected, variance


# ----------------------------------------------------------------------------- the world
@pytest.mark.parametrize("eta", [1.0, 0.5, 0.0])
def test_clicks_by_position_follow_the_examination_model(eta):
    env = world(eta=eta)
    env.reset(seed=3)
    k = 8
    log, expected, variance = random_slates(env, k, steps=25)
    clicks = np.bincount(log.position[log.rating > 0], minlength=k + 1)[1:]
    z = (clicks - expected) / np.sqrt(variance)
    assert np.abs(z).max() < 4.5, z
    # clicks per unit of relevance shown at position p: theta_p = p^-eta
    theta = np.arange(1, k + 1, dtype=float) ** -eta
    shown_relevance = expected / theta
    assert np.allclose(clicks / shown_relevance, theta, rtol=0.25)


def test_eta_zero_examines_every_position():
    assert np.array_equal(examination(5, 0.0), np.ones(5))
    assert np.allclose(examination(4, 1.0), [1, 1 / 2, 1 / 3, 1 / 4])


def test_every_shown_item_is_logged_with_its_position():
    env = world(n_users=30, users_per_step=5, n_initial_ratings=50)
    initial = env.reset(seed=1)
    assert initial.position is None and set(np.unique(initial.rating > 0)) <= {False, True}
    users = env.online_users()
    slates = np.tile(np.arange(4), (len(users), 1))
    slates[0, 1] = -1  # nothing shown in the first user's second slot
    new = env.step(slates)
    assert len(new) == 4 * len(users) - 1
    assert new.position.dtype == np.int16
    first = new.user == users[0]
    assert new.position[first].tolist() == [1, 3, 4]
    assert new.item[first].tolist() == [0, 2, 3]
    assert np.array_equal(np.unique(new.position), [1, 2, 3, 4])
    clicked = new.rating > 0
    assert ((new.rating[clicked] >= 1) & (new.rating[clicked] <= 5)).all()
    assert env.rated_mask(users)[np.searchsorted(users, new.user), new.item].all()


def test_positions_survive_the_log(tmp_path):
    env = world(n_users=30, users_per_step=5, n_initial_ratings=50)
    traj = recdyn.simulate(env, "toppop", steps=3, k=4, seed=0, metrics=["regret"])
    log = traj.interactions
    initial = log.step == 0
    assert (log.position[initial] == 0).all()  # initial data: no position
    assert sorted(np.unique(log.position[~initial])) == [1, 2, 3, 4]
    assert len(log) == 50 + 3 * 5 * 4
    # select, concat (a part without positions gets 0), pandas and the saved trajectory
    part = log.select(~initial)
    assert np.array_equal(part.position, log.position[~initial])
    both = Interactions.concat([Interactions([0], [1], [2.0]), part])
    assert both.position[0] == 0 and np.array_equal(both.position[1:], part.position)
    back = Interactions.from_pandas(log.to_pandas())
    assert np.array_equal(back.position, log.position)
    assert np.array_equal(log.with_propensity(np.ones(len(log))).position, log.position)
    grown = InteractionLog(4)
    grown.append(Interactions([0], [1], [2.0]))
    grown.append(part)
    assert np.array_equal(grown.to_interactions().position, both.position)
    traj.save(tmp_path)
    saved = pd.read_parquet(tmp_path / "interactions.parquet")
    assert np.array_equal(saved["position"].to_numpy(), log.position)
    assert InteractionLog().to_interactions().position is None


def test_negative_positions_are_rejected():
    with pytest.raises(InvalidParameterError, match="position"):
        Interactions([0], [1], [2.0], position=[-1])


def test_truth_is_relevance_without_position():
    env = world(n_users=20, n_items=30)
    env.reset(seed=0)
    truth = env.true_ratings()
    rho = env.relevance()
    assert truth.shape == rho.shape == (20, 30)
    assert ((rho > 0) & (rho < 1)).all()
    ratio = truth / rho  # the clipped latent rating of each pair
    assert ((ratio >= 1 - 1e-4) & (ratio <= 5 + 1e-4)).all()
    # the truth ranks items as relevance does
    assert np.array_equal(np.argsort(-truth, axis=1)[:, :5], np.argsort(-rho, axis=1)[:, :5])


def test_bad_eta_names_the_argument():
    with pytest.raises(InvalidParameterError, match="eta"):
        recdyn.make("position-bias-v1", eta=-0.5)


# ----------------------------------------------------------------------------- the ranker
def fitted(log, env, **params):
    from recdyn.recommenders import make

    return make("position-ranker", **{"seed": 0, "n_epochs": 10, **params}).fit(
        log, env.n_users, env.n_items
    )


@needs_torch
@pytest.mark.parametrize("tasks", ["click", "click+rating"])
def test_the_tower_learns_the_position_bias(tasks):
    env = world(n_users=300, n_items=50, users_per_step=300, eta=1.0)
    env.reset(seed=0)
    log, _, _ = random_slates(env, k=5, steps=12)
    bias = fitted(log, env, tasks=tasks, max_position=5).position_bias_
    assert bias.shape == (5,)
    assert (np.diff(bias) < 0).all(), bias  # decreasing with position
    # of the order of -eta log p (the logit-additive tower overshoots for relevant items)
    drop = bias[0] - bias[-1]
    assert 0.8 * np.log(5) < drop < 2.5 * np.log(5), bias
    assert fitted(log, env, tasks=tasks, position_tower=False).position_bias_ is None


@needs_torch
def test_without_position_effect_the_tower_stays_flat():
    env = world(n_users=300, n_items=50, users_per_step=300, eta=0.0)
    env.reset(seed=0)
    log, _, _ = random_slates(env, k=5, steps=12)
    bias = fitted(log, env, max_position=5).position_bias_
    assert np.ptp(bias) < 0.3, bias


@needs_torch
def test_rows_without_position_get_no_position_term():
    env = world(n_users=50, n_items=40, n_initial_ratings=600)
    data = env.reset(seed=0)  # no positions
    with_tower = fitted(data, env, n_epochs=3)
    without = fitted(data, env, n_epochs=3, position_tower=False)
    assert np.array_equal(with_tower.position_bias_, np.zeros(20, np.float32))
    assert np.array_equal(with_tower.score(np.arange(50)), without.score(np.arange(50)))


@needs_torch
@pytest.mark.parametrize("params", [{}, {"position_tower": False}, {"tasks": "click+rating"}])
def test_the_ranker_runs_in_the_loop(params):
    from recdyn.recommenders import make

    env = world(n_users=40, n_items=50, users_per_step=10, n_initial_ratings=400)
    rec = make("position-ranker", n_epochs=2, **params)
    traj = recdyn.simulate(env, rec, steps=3, k=5, seed=0, metrics=["regret", "mean_rating"])
    assert len(traj.metrics) == 3 and np.isfinite(traj.metrics["regret"]).all()
    assert traj.interactions.position is not None
    scores = traj.recommender.score(np.arange(40))
    assert np.isfinite(scores).all() and (scores >= 0).all()
    assert len(traj.recommender.data_) == len(traj.interactions)


@needs_torch
@pytest.mark.parametrize(
    "params, name",
    [
        ({"tasks": "rating"}, "tasks"),
        ({"max_position": 0}, "max_position"),
        ({"rating_weight": -1.0}, "rating_weight"),
        ({"n_experts": 0}, "n_experts"),
    ],
)
def test_bad_ranker_parameters_name_the_argument(params, name):
    from recdyn.recommenders import make

    with pytest.raises(InvalidParameterError, match=name):
        make("position-ranker", **params)
