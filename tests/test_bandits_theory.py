"""Thesis ch. 4's closed forms, computed with recdyn.bandits' own machinery (issue 20 item 4):
Proposition 2's least-squares limits and sign flip (L2880–2945), the random-nominator
coverage 1 − 0.9¹⁰ (L2597–2602) and the misspecification error √(1 − s/d) (L2537–2565)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from recdyn import bandits as B
from recdyn.bandits import theory as T
from recdyn.errors import InvalidParameterError

X = T.PROPOSITION2_X
LAST_TWO = [2, 3]  # the nominators see the last two columns of X
POOL2 = [1, 2, 3]  # A_2 = {a(2), a(3), a(4)}


def test_proposition2_supervised_on_own_vs_on_all():
    r = T.PROPOSITION2_R_SUPERVISED  # [3/4, 1, 1/6, 7/8]
    own_w = np.isin(np.arange(4), POOL2).astype(float)  # w = 1{a ∈ A_2}
    own = T.least_squares_limit(X, r, weights=own_w, features=LAST_TWO)
    on_all = T.least_squares_limit(X, r, features=LAST_TWO)
    np.testing.assert_allclose(own, [r[2], (r[3] - r[1]) / 2], atol=1e-8)
    np.testing.assert_allclose(on_all, [r[2], (r[3] - r[1] - r[0]) / 3], atol=1e-8)
    # the same limits by a direct least-squares solve
    np.testing.assert_allclose(own, np.linalg.lstsq(X[1:, 2:], r[1:], rcond=None)[0], atol=1e-8)
    np.testing.assert_allclose(on_all, np.linalg.lstsq(X[:, 2:], r, rcond=None)[0], atol=1e-8)
    # consequence (L2903–2905): on-own nominates a(3), on-all finds the optimal a(2)
    assert POOL2[int(np.argmax(X[POOL2][:, 2:] @ own))] == 2
    assert POOL2[int(np.argmax(X[POOL2][:, 2:] @ on_all))] == 1
    assert int(np.argmax(r[POOL2])) + 1 == 1


def test_proposition2_bandit_sign_flip():
    r = T.PROPOSITION2_R_BANDIT  # [3/4, 7/8, 1/6, 1]
    theta_star = np.linalg.solve(X, r)
    contexts = np.stack([np.where(np.arange(4)[:, None] == j, X, 0.0) for j in range(4)])
    means = contexts @ theta_star
    # each X_(j) has exactly one positive mean reward, at a(j) (L2924–2926)
    assert (np.argmax(means, axis=1) == np.arange(4)).all() and (means > -1e-12).all()
    assert ((means > 1e-12).sum(axis=1) == 1).all()
    # with vanishing regret a_t = a⋆_t = a(j), j uniform: the nominator's data are row j
    rows = contexts[np.arange(4), np.arange(4)]
    own = T.least_squares_limit(rows, r, weights=np.isin(np.arange(4), POOL2), features=LAST_TWO)
    on_all = T.least_squares_limit(rows, r, features=LAST_TWO)
    assert Fraction(own[1]).limit_denominator(100) == Fraction(1, 16)
    assert Fraction(on_all[1]).limit_denominator(100) == Fraction(-5, 24)
    np.testing.assert_allclose([own[1], on_all[1]], [1 / 16, -5 / 24], atol=1e-9)
    # so on-own misses a(2) when X_(2) is drawn, on-all misses a(4) when X_(4) is (L2941–2947)
    for theta, j in ((own, 1), (on_all, 3)):
        scores = contexts[j][POOL2][:, LAST_TWO] @ theta
        assert POOL2[int(np.argmax(scores))] != j


def test_proposition2_bandit_misspecified_nominators_fail_where_the_limits_say():
    r = T.PROPOSITION2_R_BANDIT
    theta_star = np.linalg.solve(X, r)
    contexts = np.stack([np.where(np.arange(4)[:, None] == j, X, 0.0) for j in range(4)])
    world = B.FiniteWorld(contexts=contexts, means=contexts @ theta_star)

    def system(training, features):
        return B.TwoStage(
            B.LinUCB(alpha=2.0),
            B.LinUCB(alpha=2.0),
            n_nominators=2,
            n_features=len(features[0]),
            training=training,
            pools=[[0], POOL2],
            features=features,
        )

    systems = [system(t, f) for t in ("own", "all") for f in ([LAST_TWO] * 2, [[0, 1, 2, 3]] * 2)]
    frame = B.run_bandit(world, systems, 600, [0, 1])
    late = frame[frame["round"] > 300]
    mean = late.groupby("config").regret.mean()
    # restricted nominators keep a linear regret (Proposition 2); with all features it vanishes
    assert mean[0] > 0.05 and mean[2] > 0.05 and mean[1] < 0.01 and mean[3] < 0.01, mean
    by_arm = late.groupby(["config", "best_arm"]).nominator_regret.mean()
    # … lost where the limits predict: on-own when X_(2) is drawn, on-all when X_(4) is
    for config, fails in ((0, 1), (2, 3)):
        assert by_arm[config, fails] > 0.2 and by_arm[config].drop(fails).max() < 0.02, by_arm


def test_least_squares_limit_refuses_a_singular_design():
    with pytest.raises(InvalidParameterError, match="rank 1 < 2"):
        T.least_squares_limit(np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([1.0, 2.0]))


def test_random_nominators_cover_a_positive_arm_one_minus_0_9_to_the_10():
    world = B.MultiLabelWorld(n_arms=100, dim=4, n_points=4000)
    system = B.TwoStage(B.Uniform(), B.Uniform(), n_nominators=10)
    frame = B.run_bandit(world, system, 200, range(6))
    measured = float((frame.nominator_regret == 0).mean())
    p = world.data.labels.mean(axis=0)
    expected = np.mean(
        [  # 1 − Π_n (1 − p̄_n) over random pools of 10 arms
            T.random_coverage_theory(
                p[np.random.default_rng(i).permutation(100)].reshape(10, 10).mean(axis=1)
            )
            for i in range(200)
        ]
    )
    thesis = 1 - 0.9**10
    print(f"coverage measured {measured:.3f}, 1-Π(1-p̄_n) {expected:.3f}, 1-0.9^10 {thesis:.3f}")
    assert abs(measured - expected) < 0.02
    assert abs(measured - thesis) < 0.04
    assert T.random_coverage_theory(0.1) == pytest.approx(thesis)


def test_misspecification_error_is_sqrt_one_minus_s_over_d():
    world = B.LinearWorld(n_arms=10, dim=20)
    for s in (5, 10, 15):
        measured = T.misspecification_error(world, s, range(150), rounds=60)
        theory = T.misspecification_error_theory(s, 20)
        print(f"s={s}, d=20: measured {measured:.3f}, sqrt(1 - s/d) = {theory:.3f}")
        assert measured == pytest.approx(theory, rel=0.05)
    assert T.misspecification_error(world, 20, range(3), rounds=10) < 1e-9
