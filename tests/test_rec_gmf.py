"""GMF (torch extra): its weighted loss, weightings by name as mf-als takes them, warm
starts, determinism and accuracy on ML-100K u1."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from recdyn.debias import WeightingContext, weightings
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders import make
from recdyn.recommenders.neural import GMF
from recdyn.recommenders.neural.runtime import set_threads

N_USERS, N_ITEMS = 40, 30
FAST = dict(n_factors=4, n_epochs=30, batch_size=64, seed=0)


@pytest.fixture(autouse=True)
def _one_thread():  # tiny tensors: more threads only add contention
    previous = set_threads(1)
    yield
    set_threads(previous)


@pytest.fixture(scope="module")
def logged() -> Interactions:
    """Rank-2 ratings around 3; 100 initial ones, then 10 steps of 10 with propensities."""
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(N_USERS, 2)), rng.normal(size=(N_ITEMS, 2))
    pairs = rng.choice(N_USERS * N_ITEMS, size=200, replace=False)
    user, item = np.divmod(pairs, N_ITEMS)
    rating = np.clip(np.round(3 + (p[user] * q[item]).sum(1)), 1, 5)
    step = np.r_[np.zeros(100, int), np.repeat(np.arange(1, 11), 10)]
    prop = np.r_[np.full(100, np.nan), rng.uniform(0.05, 0.5, 100)]
    return Interactions(user, item, rating, step, prop)


def fit(data: Interactions, **params) -> GMF:
    return GMF(**{**FAST, **params}).fit(data, N_USERS, N_ITEMS)


def test_zero_weights_are_the_same_as_leaving_the_ratings_out(logged):
    dropped = np.zeros(len(logged), bool)
    dropped[::3] = True
    weights = np.where(dropped, 0.0, np.linspace(0.5, 2.0, len(logged)))
    weighted = fit(logged, weighting=lambda data: weights)
    kept = fit(logged.select(~dropped), weighting=lambda data: weights[~dropped])
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(weighted.score(users), kept.score(users))
    np.testing.assert_array_equal(weighted.weights_, weights.astype(np.float32))


def test_uniform_weights_give_the_unweighted_fit_and_other_weights_do_not(logged):
    users = np.arange(N_USERS)
    plain = fit(logged).score(users)
    uniform = fit(logged, weighting=lambda data: np.full(len(data), 3.0)).score(users)
    np.testing.assert_array_equal(plain, uniform)
    ips = fit(logged, weighting="ips").score(users)
    assert not np.allclose(plain, ips, atol=1e-3)


def test_weightings_by_name_mapping_or_object_as_mf_als(logged):
    by_name = fit(logged, weighting="cafl")
    cafl = weightings.make("cafl")
    by_hand = fit(logged, weighting=lambda d: cafl(d, WeightingContext(N_USERS, N_ITEMS)))
    np.testing.assert_array_equal(by_name.weights_, by_hand.weights_)
    np.testing.assert_array_equal(by_name.score([0, 1]), by_hand.score([0, 1]))
    rec = make("gmf", weighting={"name": "clipped-ips", "cap": 2.0}, **FAST)
    assert rec.spec.params["weighting"] == {"name": "clipped-ips", "cap": 2.0}  # plain data
    rebuilt = make(rec.spec.name, **rec.spec.params).fit(logged, N_USERS, N_ITEMS)
    obj = fit(logged, weighting=weightings.make("clipped-ips", cap=2.0))
    np.testing.assert_array_equal(rebuilt.weights_, obj.weights_)
    with pytest.raises(InvalidParameterError, match="Did you mean 'ips'"):
        make("gmf", weighting="ipw")
    with pytest.raises(InvalidParameterError, match="finite non-negative"):
        fit(logged, weighting=lambda data: -np.ones(len(data)))


def test_partial_fit_reweights_everything_seen_and_warm_starts(logged):
    first, second = logged.select(np.arange(150)), logged.select(np.arange(150, 200))
    model = fit(first, weighting="cafl")
    before = model.score(np.arange(N_USERS))
    model.partial_fit(second)
    assert len(model.weights_) == len(logged)  # CAFL's weights depend on the current step
    cafl = weightings.make("cafl")(logged, WeightingContext(N_USERS, N_ITEMS))
    np.testing.assert_allclose(model.weights_, cafl, rtol=1e-6)
    assert not np.array_equal(model.score(np.arange(N_USERS)), before)
    assert len(model.loss_history_) == FAST["n_epochs"] + 1


def test_cold_users_and_items_get_the_biases_only(logged):
    model = fit(logged.select(logged.user < N_USERS - 2))
    s = model.score([N_USERS - 1])[0]
    np.testing.assert_allclose(s, model.global_mean_ + model.item_bias_, rtol=1e-6)
    assert not model.user_factors_[N_USERS - 1].any()


def test_same_seed_same_model_other_seed_other_model(logged):
    a, b, c = fit(logged), fit(logged), fit(logged, seed=1)
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(a.score(users), b.score(users))
    assert not np.array_equal(a.score(users), c.score(users))


def test_ml100k_fold1_rmse():
    from recdyn import datasets

    try:
        train, test = datasets.ml100k_folds(download=False)[0]
    except datasets.DatasetError as err:
        pytest.skip(f"MovieLens-100K not available: {err}")
    model = GMF(seed=0).fit(train, 943, 1682)
    rmse = np.sqrt(np.mean((model.predict(test.user, test.item) - test.rating) ** 2))
    # defaults: 0.926 here (mf-sgd's defaults 0.927, Surprise's SVD 0.951)
    assert rmse < 0.935
