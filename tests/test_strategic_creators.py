"""Creators in the loop (issue 19, item 7): the ``strategic-creators-v1`` world, the
``observes_exposure`` contract in ``simulate`` and the study unit comparing the loop's
outcome with the exposure game's static equilibrium."""

from __future__ import annotations

import json

import numpy as np
import pytest

import recdyn
from recdyn.environments import StrategicCreatorsEnvironment, check_environment
from recdyn.errors import InvalidParameterError
from recdyn.games import ExposureGame
from recdyn.games.solver import ascent_step
from recdyn.policies.base import Policy, Selection
from recdyn.policies.greedy import GreedyPolicy
from recdyn.policies.stochastic import SoftmaxPolicy
from recdyn.studies._exposure_dynamic import dynamic_figure, dynamic_table, run_dynamic_unit


def _unit(x):
    x = np.asarray(x, float)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _world(every=1, tau=0.5, seed=0, **params):
    rng = np.random.default_rng(seed)
    users = _unit(rng.standard_normal((40, 3)) + np.array([1.0, 0.0, 0.0]))
    creators = _unit(rng.standard_normal((4, 3)))
    return StrategicCreatorsEnvironment(
        n_users=40,
        n_creators=4,
        dim=3,
        every=every,
        tau=tau,
        initial_users=users,
        initial_creators=creators,
        **params,
    )


class NoProbabilities(Policy):
    """Greedy slates, but it cannot say its probabilities (the base's ``None``)."""

    def _select(self, scores, k, exclude, rng):
        return Selection(np.argsort(-scores, axis=1)[:, :k])


def test_world_passes_the_checks_and_only_it_observes_exposure():
    env = _world(every=2, n_initial_ratings=30)
    check_environment(env, steps=5)
    assert env.observes_exposure
    assert not recdyn.make("dual-influence-v1").observes_exposure
    assert recdyn.make("strategic-creators-v1").get_params()["n_creators"] == 10


@pytest.mark.parametrize(
    "name, value",
    [("tau", 0.0), ("tau", -1.0), ("every", 0), ("response_steps", 0), ("step_size", 0.0)],
)
def test_bad_parameters_name_the_argument(name, value):
    with pytest.raises(InvalidParameterError, match=name):
        recdyn.make("strategic-creators-v1", **{name: value})


def test_bad_exposure_is_rejected():
    env = _world()
    env.reset(0)
    users = env.online_users()
    with pytest.raises(InvalidParameterError, match="probabilities"):
        env.observe_exposure(users, np.zeros((len(users), 3)))


def test_simulate_needs_a_policy_that_reports_probabilities():
    with pytest.raises(InvalidParameterError, match=r"NoProbabilities.*probabilities"):
        recdyn.simulate(_world(), "toppop", NoProbabilities(), steps=3, metrics=[])


def _exact_step(env, game):
    """Show the world the exact game exposure of its current strategies, then step."""
    users = env.online_users()
    env.observe_exposure(users, game.exposure(env.item_features())[users])
    env.step(np.zeros(len(users), np.int64))


def test_creators_move_only_every_k_steps():
    env = _world(every=3)
    env.reset(0)
    game = ExposureGame(env.state["users"], env.tau)
    before = np.array(env.item_features())
    for t in range(1, 10):
        _exact_step(env, game)
        after = np.array(env.item_features())
        moved = np.flatnonzero((after != before).any(axis=1))
        if t % 3:
            assert len(env.changed_items()) == 0 and len(moved) == 0
        else:
            assert len(moved) and np.array_equal(env.changed_items(), moved)
        before = after
    np.testing.assert_allclose(np.linalg.norm(before, axis=1), 1.0)


@pytest.mark.parametrize("every", [1, 3])
def test_exact_exposure_gives_the_solvers_ascent_steps(every):
    env = _world(every=every, step_size=0.3)
    env.reset(0)
    users = np.array(env.state["users"])
    game = ExposureGame(users, env.tau)
    theta = np.array(env.item_features())
    for _ in range(4):  # four moves: each is one step of gradient_ascent
        for _ in range(every):
            _exact_step(env, game)
        theta = theta + ascent_step(users, theta, env.tau, 0.3)[0]
        np.testing.assert_allclose(env.creator_parameters(), theta, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(env.item_features(), _unit(theta), rtol=1e-12, atol=1e-14)


def test_the_loop_with_exact_scores_follows_gradient_ascent():
    # the Oracle scores items by the true relevance <u_j, s_i> (float32), so the softmax
    # policy at temperature tau gives the game's exposure up to rounding
    env = _world(every=2, tau=0.5)
    recdyn.simulate(env, "oracle", SoftmaxPolicy(temperature=0.5), steps=10, metrics=[])
    users = np.array(env.state["users"])
    env0 = _world(every=2, tau=0.5)
    env0.reset(0)
    theta = np.array(env0.item_features())
    for _ in range(5):
        theta = theta + ascent_step(users, theta, 0.5, env.step_size)[0]
    np.testing.assert_allclose(env.creator_parameters(), theta, atol=1e-5)


def test_greedy_exposure_moves_nobody_and_runs_repeat():
    env = _world()  # the Oracle's scores have no ties: greedy exposure is one-hot
    recdyn.simulate(env, "oracle", GreedyPolicy(), steps=4, metrics=[])
    start = _world()
    start.reset(0)
    np.testing.assert_array_equal(env.item_features(), start.item_features())

    def run():
        world = _world(every=2)
        traj = recdyn.simulate(world, "mf-als", SoftmaxPolicy(temperature=0.5), steps=8, seed=3)
        return traj, np.array(world.item_features())

    (a, fa), (b, fb) = run(), run()
    np.testing.assert_array_equal(fa, fb)
    np.testing.assert_array_equal(a.interactions.item, b.interactions.item)
    assert not np.array_equal(fa, start.item_features())


def test_dynamic_unit_and_its_table_and_figure(tmp_path):
    results = [
        run_dynamic_unit(
            tau=tau, n_creators=3, n_users=30, dim=3, steps=12, every=4, seed=seed, max_iter=300
        )
        for tau in (0.1, 1.0)
        for seed in (0, 1)
    ]
    r = json.loads(json.dumps(results[0]))
    assert r["checkpoints"] == [0, 4, 8, 12]
    assert len(r["dynamic"]["concentration"]) == len(r["oracle"]["concentration"]) == 4
    assert r["dynamic"]["concentration"][0] == r["oracle"]["concentration"][0]
    assert np.isclose(sum(r["static"]["utilities"]), 1.0)
    assert np.isclose(sum(r["live_exposure"]), 1.0)
    assert 0 <= r["distance"]["nearest_static"] <= r["distance"]["same_creator"] + 1e-12
    table = dynamic_table(results)
    assert list(table["tau"]) == [0.1, 1.0] and list(table["seeds"]) == [2, 2]
    assert dynamic_figure(results, tmp_path).stat().st_size > 0
