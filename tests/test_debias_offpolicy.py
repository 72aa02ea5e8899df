"""Off-policy value estimation (issue 17, item 3): IPS, SNIPS and doubly robust with
confidence intervals.

The Open Bandit Pipeline (``obp``) cannot be the independent reference here: its releases
require Python < 3.10 and pin numpy 1.23 / pandas 1.5 / scipy 1.9 / scikit-learn 1.1,
which this environment (Python 3.11, numpy 2) cannot install. The estimators are instead
checked against a hand-computed example and against a plain-loop reimplementation of the
textbook formulas (the same ones ``obp.ope`` documents), and for unbiasedness on a
simulated bandit whose true value is known.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from recdyn.debias import offpolicy
from recdyn.errors import InvalidParameterError
from recdyn.policies import EpsilonGreedyPolicy, GreedyPolicy, SoftmaxPolicy, TopKTruncation

Z95 = 1.959963984540054

Y = [1.0, 0.0, 2.0, 1.0]  # rewards
MU = [0.5, 0.25, 0.5, 1.0]  # logging probabilities of the logged actions
PI = [1.0, 0.5, 0.25, 0.0]  # target probabilities of the same actions: w = 2, 2, 0.5, 0


def test_hand_computed_example():
    est = offpolicy.ips(Y, MU, PI)
    # w·y = 2, 0, 1, 0: mean 3/4; sample variance (1.25² + 0.75² + 0.25² + 0.75²) / 3
    assert est.value == pytest.approx(0.75)
    se = math.sqrt(2.75 / 3 / 4)
    assert est.std_error == pytest.approx(se)
    assert (est.low, est.high) == pytest.approx((0.75 - Z95 * se, 0.75 + Z95 * se))
    assert (est.estimator, est.n, est.interval) == ("ips", 4, "normal")

    sn = offpolicy.snips(Y, MU, PI)  # Σ w y / Σ w = 3 / 4.5
    assert sn.value == pytest.approx(2 / 3)
    infl = np.array([2 * (1 / 3), 2 * (-2 / 3), 0.5 * (4 / 3), 0.0]) / 1.125  # w(y-V)/w̄
    assert sn.std_error == pytest.approx(math.sqrt((infl**2).sum() / 3 / 4))

    y_hat, v_hat = [0.5, 0.5, 1.5, 1.0], [0.8, 0.6, 1.2, 0.9]
    dr = offpolicy.doubly_robust(Y, MU, PI, y_hat, v_hat)
    # v̂ + w (y - ŷ) = 1.8, -0.4, 1.45, 0.9
    assert dr.value == pytest.approx(3.75 / 4)
    assert dr.std_error == pytest.approx(np.std([1.8, -0.4, 1.45, 0.9], ddof=1) / 2)


def reference(y, mu, pi, y_hat, v_hat):
    """The textbook formulas, one rating at a time (no numpy vector algebra)."""
    n = len(y)
    w = [pi[r] / mu[r] for r in range(n)]
    ips = sum(w[r] * y[r] for r in range(n)) / n
    snips = sum(w[r] * y[r] for r in range(n)) / sum(w)
    dr = sum(v_hat[r] + w[r] * (y[r] - y_hat[r]) for r in range(n)) / n
    return ips, snips, dr


def test_agrees_with_a_loop_reference_on_random_logs():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(1, 6, n).astype(float)
    mu, pi = rng.uniform(0.01, 1, n), rng.uniform(0, 1, n)
    y_hat, v_hat = y + rng.normal(0, 1, n), rng.uniform(1, 5, n)
    ips, snips, dr = reference(y, mu, pi, y_hat, v_hat)
    assert offpolicy.ips(y, mu, pi).value == pytest.approx(ips, rel=1e-12)
    assert offpolicy.snips(y, mu, pi).value == pytest.approx(snips, rel=1e-12)
    assert offpolicy.doubly_robust(y, mu, pi, y_hat, v_hat).value == pytest.approx(dr, rel=1e-12)


def test_joint_propensities_with_arrival_give_the_policy_ratio():
    rho = 0.2
    joint = rho * np.array(MU)
    a = offpolicy.ips(Y, joint, PI, arrival=rho)
    b = offpolicy.ips(Y, MU, PI)
    assert a.value == pytest.approx(b.value) and a.std_error == pytest.approx(b.std_error)


def simulated_bandit(n: int, seed: int):
    """Contexts with 6 actions and Bernoulli rewards; softmax logging, ε-greedy target."""
    rng = np.random.default_rng(seed)
    n_ctx, n_act = 50, 6
    mean = rng.uniform(0.1, 0.9, (n_ctx, n_act))
    log_scores, tgt_scores = rng.normal(0, 1, (n_ctx, n_act)), mean + rng.normal(0, 0.1, mean.shape)
    mu_all = SoftmaxPolicy().probabilities(log_scores)
    target = EpsilonGreedyPolicy(epsilon=0.2)
    pi_all = offpolicy.policy_probabilities(target, tgt_scores)
    true_value = float((pi_all * mean).sum(axis=1).mean())
    ctx = rng.integers(0, n_ctx, n)
    act = np.array([rng.choice(n_act, p=mu_all[c]) for c in ctx])
    y = (rng.random(n) < mean[ctx, act]).astype(float)
    model = mean + 0.05  # a slightly biased reward model
    return dict(
        y=y,
        mu=mu_all[ctx, act],
        pi=pi_all[ctx, act],
        y_hat=model[ctx, act],
        v_hat=(pi_all * model).sum(axis=1)[ctx],
        true=true_value,
    )


def test_estimates_cover_the_true_value_of_a_simulated_bandit():
    b = simulated_bandit(20_000, 1)
    for est in (
        offpolicy.ips(b["y"], b["mu"], b["pi"]),
        offpolicy.snips(b["y"], b["mu"], b["pi"]),
        offpolicy.doubly_robust(b["y"], b["mu"], b["pi"], b["y_hat"], b["v_hat"]),
    ):
        assert est.low < b["true"] < est.high, est
        assert abs(est.value - b["true"]) < 4 * est.std_error
    dr = offpolicy.doubly_robust(b["y"], b["mu"], b["pi"], b["y_hat"], b["v_hat"])
    assert dr.std_error < offpolicy.ips(b["y"], b["mu"], b["pi"]).std_error


def test_bootstrap_interval_is_reproducible_and_close_to_the_normal_one():
    b = simulated_bandit(3_000, 2)
    args = (b["y"], b["mu"], b["pi"])
    for fn in (offpolicy.ips, offpolicy.snips):
        boot = fn(*args, interval="bootstrap", n_bootstrap=400, seed=7)
        assert boot == fn(*args, interval="bootstrap", n_bootstrap=400, seed=7)
        assert boot != fn(*args, interval="bootstrap", n_bootstrap=400, seed=8)
        normal = fn(*args)
        assert boot.value == normal.value and boot.low < boot.value < boot.high
        assert boot.std_error == pytest.approx(normal.std_error, rel=0.15)


def test_policy_probabilities_of_target_policies():
    scores = np.array([[0.1, 2.0, 1.0, 0.5], [3.0, 3.0, 0.0, 1.0]])
    greedy_like = offpolicy.policy_probabilities(EpsilonGreedyPolicy(epsilon=0.0), scores)
    np.testing.assert_allclose(greedy_like, [[0, 1, 0, 0], [0.5, 0.5, 0, 0]])
    trunc = offpolicy.policy_probabilities(TopKTruncation(base_policy="softmax", m=2), scores)
    np.testing.assert_allclose(trunc.sum(axis=1), 1.0)
    assert trunc[0, 0] == 0 and trunc[0, 3] == 0
    slates = offpolicy.policy_probabilities(SoftmaxPolicy(), scores, k=2)
    np.testing.assert_allclose(slates.sum(axis=1), 2.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: offpolicy.ips(Y, MU, None), "target must hold the target policy"),
        (lambda: offpolicy.ips(Y, MU, GreedyPolicy()), "policy_probabilities"),
        (
            lambda: offpolicy.policy_probabilities(GreedyPolicy(), np.ones((1, 3))),
            "reports no propensities.*epsilon-greedy",
        ),
        (lambda: offpolicy.ips(Y, [0.5, 0.0, 0.5, 1.0], PI), r"logging.*\(0, 1\]"),
        (lambda: offpolicy.snips(Y, [0.5, 1.2, 0.5, 1.0], PI), r"logging.*\(0, 1\]"),
        (lambda: offpolicy.ips(Y, MU, [1.0, np.nan, 0, 0]), r"target.*\[0, 1\]"),
        (lambda: offpolicy.ips([1.0, np.nan, 0, 0], MU, PI), "reward.*NaN"),
        (lambda: offpolicy.ips(Y, MU[:3], PI), "one value per logged rating"),
        (lambda: offpolicy.doubly_robust(Y, MU, PI, [1.0], Y), "predicted must be 4"),
        (lambda: offpolicy.ips(Y, MU, PI, confidence=1.5), "confidence"),
        (lambda: offpolicy.ips(Y, MU, PI, interval="t"), "interval"),
        (lambda: offpolicy.snips(Y, MU, [0.0] * 4), "probability 0 to every logged"),
        (lambda: offpolicy.ips([1.0], [0.5], [0.5]), "at least 2"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()
