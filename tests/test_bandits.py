"""recdyn.bandits: worlds, batched learners, single- and two-stage systems, the runner
(issue 20 items 1–3): determinism, batched == one at a time, the regret decomposition,
training weights, LinUCB's sub-linear regret, regret against |A| and d, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recdyn import bandits as B
from recdyn.bandits.allocation import random_features, random_pools
from recdyn.bandits.learners import argmax_random_ties
from recdyn.errors import InvalidParameterError, UnknownNameError


def small_systems():
    return [
        B.SingleStage(B.LinUCB(alpha=0.5), n_features=4),
        B.TwoStage(B.LinUCB(), B.Greedy(), n_nominators=3, n_features=3, training="own"),
        B.TwoStage(
            B.PolicyGradient(),
            B.PolicyGradient(),
            n_nominators=3,
            n_features=2,
            training="selected",
        ),
    ]


def test_registries_build_and_record_spec():
    world = B.make("linear-v1", n_arms=7, dim=3)
    assert isinstance(world, B.LinearWorld)
    assert (world.n_arms, world.dim, world.noise) == (7, 3, 0.1)
    assert world.spec.name == "linear-v1"
    assert B.make(world.spec.name, **world.spec.params).get_params() == world.get_params()
    ml = B.make("multilabel-synthetic-v1")
    assert (ml.source, ml.n_arms, ml.dim) == ("synthetic", 100, 400)
    assert B.make("multilabel-lastfm-v1").source == "lastfm"
    ucb = B.make_learner("linucb", alpha=0.5)
    assert ucb.get_params() == {"alpha": 0.5, "reg": 1.0} and ucb.spec.name == "linucb"
    assert isinstance(B.make_learner("policy-gradient"), B.PolicyGradient)
    assert ucb.set_params(reg=2.0).reg == 2.0
    with pytest.raises(UnknownNameError, match="linear-v1"):
        B.make("linear-v2")
    with pytest.raises(InvalidParameterError, match="n_arm"):
        B.make("linear-v1", n_arm=3)


def test_linear_world_matches_its_definition():
    run = B.LinearWorld(n_arms=50, dim=4, noise=0.1).start(list(range(20)))
    np.testing.assert_allclose(np.linalg.norm(run.theta, axis=1), 1.0)
    rounds = [run.next_round() for _ in range(50)]
    x = np.stack([r.take() for r in rounds])  # [T, B, K, d]
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    means = np.stack([r.means for r in rounds])
    np.testing.assert_allclose(means, np.einsum("tbkd,bd->tbk", x, run.theta))
    noise = np.stack([r.rewards for r in rounds]) - means
    assert abs(noise.std() - 0.1) < 0.002  # ε ~ N(0, 0.01), L2483
    feats = np.tile([[3, 1]], (20, 1))
    np.testing.assert_array_equal(rounds[0].take(None, feats), x[0][:, :, [3, 1]])


def test_same_seed_same_numbers_and_seeds_differ():
    world = B.make("linear-v1", n_arms=12, dim=5)
    system = small_systems()[1]
    a = B.run_bandit(world, system, 60, [1, 2])
    b = B.run_bandit(world, system.clone(), 60, [1, 2])
    pd.testing.assert_frame_equal(a, b)
    c = B.run_bandit(world, system, 60, [3, 2])
    assert not np.allclose(a[a.seed == 1].regret, c[c.seed == 3].regret)
    np.testing.assert_array_equal(a[a.seed == 2].to_numpy(), c[c.seed == 2].to_numpy())


@pytest.mark.parametrize(
    "world",
    [
        B.LinearWorld(n_arms=12, dim=6),
        B.MultiLabelWorld(n_arms=12, dim=6, n_points=300),
    ],
)
def test_batched_equals_one_at_a_time_and_grids_equal_single_runs(world):
    systems = small_systems()
    seeds = [4, 0, 7]
    grid = B.run_bandit(world, systems, 40, seeds, every=9)
    for i, system in enumerate(systems):
        alone = B.run_bandit(world, system, 40, seeds, every=9)
        mine = grid[grid.config == i].drop(columns="config").reset_index(drop=True)
        np.testing.assert_allclose(mine.to_numpy(float), alone.to_numpy(float), rtol=1e-12)
        for seed in seeds:
            one = B.run_bandit(world, system, 40, [seed], every=9)
            batch = alone[alone.seed == seed].reset_index(drop=True)
            np.testing.assert_allclose(one.to_numpy(float), batch.to_numpy(float), rtol=1e-12)


def test_hyperparameter_grid_runs_as_one_batch():
    world = B.make("linear-v1", n_arms=10, dim=4)
    grid = [B.SingleStage(B.LinUCB(alpha=a, reg=r)) for a in (0.0, 1.0) for r in (0.1, 10.0)]
    frame = B.run_bandit(world, grid, 40, [0, 1], every=40)
    assert frame.config.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    greedy = B.run_bandit(world, B.SingleStage(B.Greedy(reg=10.0)), 40, [0, 1], every=40)
    np.testing.assert_allclose(frame[frame.config == 1].cumulative, greedy.cumulative)


def test_regret_decomposition_is_logged_consistently():
    world = B.make("linear-v1", n_arms=15, dim=5)
    two = B.run_bandit(world, B.TwoStage(n_nominators=3, n_features=2), 50, [0, 1])
    np.testing.assert_allclose(two.regret, two.nominator_regret + two.ranker_regret)
    assert (two.nominator_regret >= -1e-12).all() and (two.ranker_regret >= -1e-12).all()
    assert (two.nominator_regret > 0).any() and (two.ranker_regret > 0).any()
    by = two.groupby("seed")
    np.testing.assert_allclose(by.regret.cumsum(), two.cumulative)
    np.testing.assert_allclose(by.uniform_regret.cumsum(), two.cumulative_uniform)
    np.testing.assert_allclose(two.cumulative, two.cumulative_nominator + two.cumulative_ranker)
    np.testing.assert_allclose(two.relative_regret, two.cumulative / two.cumulative_uniform)
    assert ((two.best_nominated == two.chosen) == (two.ranker_regret.abs() < 1e-12)).all()
    one = B.run_bandit(world, B.SingleStage(), 50, [0, 1])
    assert (one.nominator_regret == 0).all() and (one.best_nominated == one.best_arm).all()
    # a uniform agent's relative regret is 1 in expectation
    unif = B.run_bandit(world, B.SingleStage(B.Uniform()), 300, range(6), every=300)
    assert abs(unif.relative_regret.mean() - 1) < 0.03


def _ridge(x, r, w, lam):
    a = lam * np.eye(x.shape[1]) + (w[:, None] * x).T @ x
    return np.linalg.solve(a, (w * r) @ x)


@pytest.mark.parametrize("training", ["all", "own", "selected"])
def test_nominators_train_with_the_weights_of_their_mode(training):
    world = B.LinearWorld(n_arms=9, dim=5)
    pools = [[0, 1, 2, 3], [4, 5, 6], [7, 8]]
    feats = [[0, 1], [2, 3], [1, 4]]
    system = B.TwoStage(
        B.LinUCB(),
        B.Greedy(reg=0.5),
        n_nominators=3,
        n_features=2,
        training=training,
        pools=pools,
        features=feats,
    )
    wrun = world.start([5, 6])
    run = B.TwoStage.start_batch([system], wrun)
    xs, rs, ws = [], [], []
    for _ in range(40):
        rnd = wrun.next_round()
        a, cand = run.step(rnd)
        xs.append(rnd.take(a[:, None])[:, 0])
        rs.append(rnd.rewards[np.arange(2), a])
        own = np.array([[arm in p for p in pools] for arm in a])
        ws.append({"all": np.ones((2, 3)), "own": own, "selected": cand == a[:, None]}[training])
        assert all(c in p for row in cand for c, p in zip(row, pools))
    x, r, w = np.stack(xs, 1), np.stack(rs, 1), np.stack(ws, 1)  # [B, T, …]
    theta = run.nominators.theta.reshape(2, 3, 2)
    for b in range(2):
        for n in range(3):
            want = _ridge(x[b][:, feats[n]], r[b], w[b][:, n].astype(float), 0.5 * 2)
            np.testing.assert_allclose(theta[b, n], want, atol=1e-9)
    want_ranker = _ridge(x[1], r[1], np.ones(40), 5.0)
    np.testing.assert_allclose(run.ranker.theta[1], want_ranker, atol=1e-9)


@pytest.mark.parametrize("dim", [4, 120])  # 120: Σ updated in place by BLAS dger
def test_linucb_scores_are_weighted_ridge_mean_plus_bonus(dim):
    rng = np.random.default_rng(0)
    x, r = rng.standard_normal((2, 30, dim)), rng.standard_normal((2, 30))
    w = (rng.random((2, 30)) < 0.7).astype(float)
    state = B.LinUCB(alpha=0.7, reg=0.3).state(2, dim)
    for i in range(30):
        state.update(x[:, i], r[:, i], w[:, i])
    arms = rng.standard_normal((2, 5, dim))
    scores = state.scores(arms)
    for b in range(2):
        xw = x[b] * w[b][:, None]
        cov = np.linalg.inv(0.3 * dim * np.eye(dim) + xw.T @ x[b])  # λ × the dimension
        bonus = np.sqrt(np.einsum("kd,de,ke->k", arms[b], cov, arms[b]))
        np.testing.assert_allclose(scores[b], arms[b] @ cov @ xw.T @ r[b] + 0.7 * bonus, rtol=1e-8)


def test_policy_gradient_samples_its_softmax_and_takes_a_reinforce_step():
    pg = B.PolicyGradient(learning_rate=0.3, temperature=0.5).state(20_000, 3)
    pg.theta[:] = [0.2, -0.4, 0.1]
    arms = np.broadcast_to(np.random.default_rng(1).standard_normal((1, 4, 3)), (20_000, 4, 3))
    mask = np.broadcast_to([True, True, False, True], (20_000, 4))
    probs = pg.probabilities(arms, mask)[0]
    logits = arms[0] @ pg.theta[0] / 0.5
    want = np.where(mask[0], np.exp(logits), 0) / np.exp(logits)[mask[0]].sum()
    np.testing.assert_allclose(probs, want)
    pick = pg.choose(arms, mask, np.random.default_rng(2).random(20_000))
    assert np.all(np.abs(np.bincount(pick, minlength=4) / 20_000 - want) < 0.01)
    before = pg.theta[0].copy()
    pg.update(arms[np.arange(20_000), pick], np.full(20_000, 2.0))
    x = arms[0, pick[0]]
    np.testing.assert_allclose(pg.theta[0], before + 0.3 * 2.0 * (x - want @ arms[0]) / 0.5)


def test_random_pools_and_features_follow_the_thesis_allocation():
    rng = np.random.default_rng(0)
    pools = random_pools(rng, 23, 5)
    assert sorted(len(p) for p in pools) == [4, 4, 5, 5, 5]
    assert [len(p) for p in pools][:3] == [5, 5, 5]  # the 3 left over go to the first ones
    np.testing.assert_array_equal(np.sort(np.concatenate(pools)), np.arange(23))
    f = random_features(rng, 10, 4, 2)  # s ≤ d/N: disjoint
    assert len(np.unique(f)) == 8
    g = random_features(rng, 10, 4, 6)  # s' = 2, 4 more each
    assert g.shape == (4, 6) and all(len(np.unique(r)) == 6 for r in g)


def test_ties_are_broken_uniformly_and_masks_respected():
    scores = np.zeros((4000, 4))
    mask = np.tile([True, False, True, True], (4000, 1))
    u = np.random.default_rng(1).random(4000)
    pick = argmax_random_ties(scores, mask, u)
    counts = np.bincount(pick, minlength=4) / 4000
    assert counts[1] == 0 and np.all(np.abs(counts[[0, 2, 3]] - 1 / 3) < 0.03)
    scores[:, 3] = 1e-3
    assert (argmax_random_ties(scores, mask, u) == 3).all()


def test_linucb_regret_is_sublinear_on_a_small_linear_world():
    world = B.LinearWorld(n_arms=10, dim=5)
    frame = B.run_bandit(world, B.SingleStage(B.LinUCB(alpha=0.5)), 400, range(6))
    per_round = frame.groupby("round").regret.mean().to_numpy()
    early, late = per_round[:50].mean(), per_round[-100:].mean()
    assert late < 0.1 * early, (early, late)
    end = frame[frame["round"] == 400]
    assert end.relative_regret.mean() < 0.05


def test_regret_rises_with_arms_and_dimension():
    seeds = range(6)
    grid = {}
    for n_arms in (5, 40):
        for dim in (3, 12):
            world = B.LinearWorld(n_arms=n_arms, dim=dim)
            frame = B.run_bandit(world, B.SingleStage(B.LinUCB(alpha=0.5)), 150, seeds, every=150)
            grid[n_arms, dim] = frame.cumulative.mean()
    assert grid[40, 3] > grid[5, 3] and grid[40, 12] > grid[5, 12], grid
    assert grid[5, 12] > grid[5, 3] and grid[40, 12] > grid[40, 3], grid


def test_two_stage_beats_the_restricted_single_stage():
    world = B.LinearWorld(n_arms=30, dim=8)
    systems = [B.SingleStage(B.LinUCB(), n_features=3),
               B.TwoStage(B.LinUCB(), B.LinUCB(), n_nominators=3, n_features=3)]  # fmt: skip
    frame = B.run_bandit(world, systems, 200, range(4), every=200)
    restricted, two = frame.groupby("config").cumulative.mean()
    assert two < restricted


def test_bad_input_names_the_argument():
    world = B.LinearWorld(n_arms=6, dim=4)
    seeds = [0]

    def run(system, w=world):
        return B.run_bandit(w, system, 3, seeds)

    with pytest.raises(InvalidParameterError, match="pools do not cover the arms"):
        run(B.TwoStage(n_nominators=2, pools=[[0, 1, 2], [3, 4]]))
    with pytest.raises(InvalidParameterError, match=r"pools\[1\] claims arm 6"):
        run(B.TwoStage(n_nominators=2, pools=[[0, 1, 2], [3, 4, 5, 6]]))
    with pytest.raises(InvalidParameterError, match=r"pools\[0\] is empty.*empty candidate"):
        run(B.TwoStage(n_nominators=2, pools=[[], [0, 1, 2, 3, 4, 5]]))
    with pytest.raises(InvalidParameterError, match="pools gives 2 pools but n_nominators=3"):
        B.TwoStage(n_nominators=3, pools=[[0, 1, 2], [3, 4, 5]])
    with pytest.raises(InvalidParameterError, match="pools must be"):
        B.TwoStage(n_nominators=1, pools="all")
    with pytest.raises(InvalidParameterError, match=r"n_features=5 exceeds.*d=4"):
        run(B.TwoStage(n_features=5, n_nominators=2))
    with pytest.raises(InvalidParameterError, match=r"n_features=5 exceeds.*d=4"):
        run(B.SingleStage(n_features=5))
    with pytest.raises(InvalidParameterError, match="n_nominators must be"):
        B.TwoStage(n_nominators=0)
    with pytest.raises(InvalidParameterError, match=r"n_nominators=7 exceeds.*empty candidate"):
        run(B.TwoStage(n_nominators=7))
    with pytest.raises(InvalidParameterError, match=r"features\[1\] must be 2 distinct"):
        run(B.TwoStage(n_nominators=2, n_features=2, features=[[0, 1], [2, 2]]))
    with pytest.raises(InvalidParameterError, match=r"features\[0\] names a feature outside"):
        run(B.TwoStage(n_nominators=2, n_features=2, features=[[0, 9], [2, 3]]))
    with pytest.raises(InvalidParameterError, match="features needs n_features"):
        B.TwoStage(n_nominators=2, features=[[0, 1], [2, 3]])
    with pytest.raises(InvalidParameterError, match="ranker must be"):
        B.TwoStage(ranker="linucb")
    with pytest.raises(InvalidParameterError, match="alpha must be"):
        B.LinUCB(alpha=-1.0)
    with pytest.raises(InvalidParameterError, match="reg must be"):
        B.Greedy(reg=0.0)
    with pytest.raises(InvalidParameterError, match="training must be"):
        B.TwoStage(training="mine")
    with pytest.raises(InvalidParameterError, match="seeds must be distinct"):
        B.run_bandit(world, B.SingleStage(), 3, [1, 1])
    with pytest.raises(InvalidParameterError, match="seeds must be"):
        B.run_bandit(world, B.SingleStage(), 3, [])
    with pytest.raises(InvalidParameterError, match="rounds must be"):
        B.run_bandit(world, B.SingleStage(), 0, seeds)
    with pytest.raises(InvalidParameterError, match="system must be"):
        B.run_bandit(world, [], 3, seeds)
    with pytest.raises(InvalidParameterError, match="n_arms must be"):
        B.LinearWorld(n_arms=0)
    with pytest.raises(InvalidParameterError, match="contexts must be a finite"):
        B.FiniteWorld(contexts=np.zeros((2, 3)), means=np.zeros(2))
