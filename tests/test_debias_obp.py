"""recdyn's off-policy estimators against the Open Bandit Pipeline's (``obp.ope``), an
independent implementation, on the same log: a recdyn trajectory logged by a softmax
policy, a sharper softmax as the target, the world's true ratings as DR's reward model.

``obp`` pins old releases of numpy, pandas and scikit-learn that do not build on this
Python, so it is installed without them (``pip install --no-deps obp==0.4.1`` plus
``mypy-extensions seaborn pyyaml scikit-learn``; ``.ci/run`` does this where it can). The
test is skipped where ``obp`` cannot be imported.
"""

import numpy as np
import pytest

import recdyn
from recdyn.debias import offpolicy

obp_ope = pytest.importorskip("obp.ope")

WORLD = dict(n_users=60, n_items=40, users_per_step=12, n_initial_ratings=200, noise=0.3)


@pytest.fixture(scope="module")
def log():
    env = recdyn.make("latent-static-v1", **WORLD)
    traj = recdyn.simulate(
        env, "mf-als", recdyn.policies.make("softmax", temperature=0.5), steps=40, seed=3,
        exclude_rated=False, metrics=(),
    )  # fmt: skip
    data = traj.interactions
    online = data.step > 0
    users, items = data.user[online], data.item[online]
    truth = env.true_ratings(users)  # static world: the truth when each rating was logged
    target = recdyn.policies.make("softmax", temperature=0.2)
    p = offpolicy.policy_probabilities(target, truth)
    return {
        "reward": data.rating[online].astype(np.float64),
        "joint": data.propensity[online],
        "arrival": WORLD["users_per_step"] / WORLD["n_users"],
        "items": items,
        "p": p,
        "model": truth.astype(np.float64),
    }


def _obp_inputs(log):
    n = len(log["reward"])
    return dict(
        reward=log["reward"],
        action=log["items"].astype(int),
        position=np.zeros(n, int),
        pscore=log["joint"] / log["arrival"],
        action_dist=log["p"][:, :, None],
    )


def test_ips_and_snips_agree_with_obp(log):
    rows = np.arange(len(log["reward"]))
    target = log["p"][rows, log["items"]]
    ours_ips = offpolicy.ips(log["reward"], log["joint"], target, arrival=log["arrival"])
    ours_snips = offpolicy.snips(log["reward"], log["joint"], target, arrival=log["arrival"])
    theirs = _obp_inputs(log)
    ipw = obp_ope.InverseProbabilityWeighting().estimate_policy_value(**theirs)
    snipw = obp_ope.SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**theirs)
    assert ours_ips.value == pytest.approx(ipw, rel=1e-10)
    assert ours_snips.value == pytest.approx(snipw, rel=1e-10)


def test_doubly_robust_agrees_with_obp(log):
    rows = np.arange(len(log["reward"]))
    target = log["p"][rows, log["items"]]
    model = log["model"]
    ours = offpolicy.doubly_robust(
        log["reward"], log["joint"], target,
        predicted=model[rows, log["items"]],
        expected=(log["p"] * model).sum(axis=1),
        arrival=log["arrival"],
    )  # fmt: skip
    theirs = obp_ope.DoublyRobust().estimate_policy_value(
        **_obp_inputs(log), estimated_rewards_by_reg_model=model[:, :, None]
    )
    assert ours.value == pytest.approx(theirs, rel=1e-10)


def test_bootstrap_intervals_agree_with_obp(log):
    """Both resample the logged ratings; different random streams, so the 95 % intervals
    agree to within the bootstrap's own noise (2,000 resamples each)."""
    rows = np.arange(len(log["reward"]))
    target = log["p"][rows, log["items"]]
    ours = offpolicy.ips(
        log["reward"], log["joint"], target, arrival=log["arrival"], interval="bootstrap",
        n_bootstrap=2000, seed=0,
    )  # fmt: skip
    theirs = obp_ope.InverseProbabilityWeighting().estimate_interval(
        **_obp_inputs(log), alpha=0.05, n_bootstrap_samples=2000, random_state=0
    )
    width = ours.high - ours.low
    assert width == pytest.approx(theirs["95.0% CI (upper)"] - theirs["95.0% CI (lower)"], rel=0.15)
    assert abs(ours.low - theirs["95.0% CI (lower)"]) < 0.1 * width
    assert abs(ours.high - theirs["95.0% CI (upper)"]) < 0.1 * width
