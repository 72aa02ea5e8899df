"""Recommender embeddings for audits (issue 19 item 5): the read-only ``user_factors_`` /
``item_factors_`` surface, ``pmf``, ``nmf``, repeated 90/10 holdouts and
``tune_embeddings``."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from recdyn import Interactions
from recdyn.errors import InvalidParameterError, NotFittedError
from recdyn.evaluation import (
    cross_validate,
    grid_search,
    shuffle_split,
    shuffle_split_masks,
    tune_embeddings,
)
from recdyn.recommenders import NMF, PMF, ALSMatrixFactorization, embeddings, make
from recdyn.recommenders.checker import synthetic_ratings

N_USERS, N_ITEMS = 30, 40
DATA = synthetic_ratings(N_USERS, N_ITEMS, seed=0)


def _needs(module: str):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None, reason=f"no {module}")


MODELS = [
    pytest.param("mf-als", dict(n_factors=4), 4, id="mf-als"),
    pytest.param("mf-sgd", dict(n_factors=4, n_epochs=5), 4, id="mf-sgd"),
    pytest.param("pmf", dict(n_factors=4), 4, id="pmf"),
    pytest.param("nmf", dict(n_factors=4, n_iter=20), 4, id="nmf"),
    pytest.param("gmf", dict(n_factors=4, n_epochs=2), 4, id="gmf", marks=_needs("torch")),
    pytest.param("hpf", dict(n_factors=4, n_iter=10), 4, id="hpf", marks=_needs("hpfrec")),
    pytest.param("ials", dict(n_factors=4), 4, id="ials", marks=_needs("implicit")),
    # bayes-mf's embeddings stack its S kept samples: d = S * rank
    pytest.param(
        "bayes-mf", dict(rank=2, n_iter=6, n_kept_samples=3), 6, id="bayes-mf", marks=_needs("myfm")
    ),
]


@pytest.mark.parametrize("name, params, d", MODELS)
def test_factor_models_expose_read_only_embeddings(name, params, d):
    model = make(name, seed=0, **params)
    assert not hasattr(model, "user_factors_")
    with pytest.raises(NotFittedError):
        embeddings(model)
    model.fit(DATA, N_USERS, N_ITEMS)
    users, items = embeddings(model)
    assert users.shape == (N_USERS, d) and items.shape == (N_ITEMS, d)
    assert users.dtype == np.float32 and items.dtype == np.float32
    assert np.isfinite(users).all() and np.isfinite(items).all()
    np.testing.assert_array_equal(users, model.user_factors_)
    for array in (users, items, model.user_factors_, model.item_factors_):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0, 0] = 1.0
    # score = offset_u + offset_i + <p_u, q_i>: what is left after the inner products is
    # additively separable (biases and the global term), i.e. its double-centring is 0
    rest = model.score(np.arange(N_USERS)).astype(np.float64) - users.astype(
        np.float64
    ) @ items.T.astype(np.float64)
    rest = rest - rest.mean(axis=1, keepdims=True) - rest.mean(axis=0) + rest.mean()
    np.testing.assert_allclose(rest, 0.0, atol=1e-3)


def test_embeddings_of_a_model_without_them_is_a_clear_error():
    with pytest.raises(InvalidParameterError, match="embeddings"):
        embeddings(make("toppop").fit(DATA, N_USERS, N_ITEMS))


# ----------------------------------------------------------------------------- pmf
def test_pmf_is_unbiased_als_on_centred_ratings():
    pmf = PMF(n_factors=5, reg=0.2, seed=3).fit(DATA, N_USERS, N_ITEMS)
    als = ALSMatrixFactorization(n_factors=5, reg=0.2, biases=False, seed=3)
    als.fit(DATA, N_USERS, N_ITEMS)
    np.testing.assert_array_equal(pmf.score(np.arange(N_USERS)), als.score(np.arange(N_USERS)))
    assert pmf.global_mean_ == pytest.approx(float(DATA.rating.mean()))
    assert not pmf.user_bias_.any() and not pmf.item_bias_.any()
    assert "biases" not in pmf.get_params() and "weighting" not in pmf.get_params()


def test_pmf_constant_prior_precision_differs_and_is_accepted():
    a = PMF(n_factors=3, reg=1.0, weighted_reg=False, seed=0).fit(DATA, N_USERS, N_ITEMS)
    b = PMF(n_factors=3, reg=1.0, seed=0).fit(DATA, N_USERS, N_ITEMS)
    assert not np.allclose(a.user_factors_, b.user_factors_)


def test_pmf_partial_fit_warm_starts_and_recentres():
    first, second = (
        DATA.select(np.arange(len(DATA)) < 200),
        DATA.select(np.arange(len(DATA)) >= 200),
    )
    model = PMF(n_factors=3, seed=0).fit(first, N_USERS, N_ITEMS)
    before = model.user_factors_.copy()
    model.partial_fit(second)
    assert model.global_mean_ == pytest.approx(float(DATA.rating.mean()))
    assert not np.array_equal(before, model.user_factors_)


# ----------------------------------------------------------------------------- nmf
def test_nmf_factors_are_non_negative_and_training_error_falls():
    errors = []
    for n_iter in (1, 10, 100):
        model = NMF(n_factors=3, reg=0.0, n_iter=n_iter, seed=0).fit(DATA, N_USERS, N_ITEMS)
        assert (model.user_factors_ >= 0).all() and (model.item_factors_ >= 0).all()
        pred = model.predict(DATA.user, DATA.item)
        errors.append(float(np.sqrt(np.mean((pred - DATA.rating) ** 2))))
    assert errors[0] > errors[1] > errors[2]


def test_nmf_is_deterministic_under_a_seed_and_seed_matters():
    a = NMF(seed=1).fit(DATA, N_USERS, N_ITEMS)
    b = NMF(seed=1).fit(DATA, N_USERS, N_ITEMS)
    c = NMF(seed=2).fit(DATA, N_USERS, N_ITEMS)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    assert not np.array_equal(a.user_factors_, c.user_factors_)


def test_nmf_cold_users_get_the_mean_factors():
    model = NMF(n_factors=3, seed=0).fit(DATA, N_USERS, N_ITEMS)
    rated = np.unique(DATA.user)
    cold = np.setdiff1d(np.arange(N_USERS), rated)
    assert len(cold)
    np.testing.assert_allclose(
        model.user_factors_[cold],
        np.broadcast_to(model.user_factors_[rated].mean(0), (len(cold), 3)),
        rtol=1e-5,
    )


def test_nmf_rejects_negative_ratings_with_advice():
    signed = Interactions([0, 1], [0, 1], [1.0, -2.0])
    with pytest.raises(InvalidParameterError, match=r"non-negative.*data\.rating.*pmf"):
        NMF().fit(signed, 2, 2)
    model = NMF(n_factors=2, seed=0).fit(Interactions([0, 1], [0, 1], [1.0, 2.0]), 2, 2)
    with pytest.raises(InvalidParameterError, match=r"new\.rating"):
        model.partial_fit(signed)
    assert len(model.data_) == 2  # the rejected ratings were not recorded


@pytest.mark.parametrize("name", ["pmf", "nmf"])
@pytest.mark.parametrize(
    "params, word",
    [(dict(n_factors=0), "n_factors"), (dict(reg=-1.0), "reg"), (dict(n_iter=0), "n_iter")],
)
def test_bad_hyperparameters_name_the_argument(name, params, word):
    with pytest.raises(InvalidParameterError, match=word):
        make(name, **params)


# ----------------------------------------------------------------------------- splits, tuning
def test_shuffle_split_masks_are_independent_holdouts():
    masks = shuffle_split_masks(1000, n_splits=2, test_fraction=0.1, seed=0)
    assert masks.shape == (2, 1000) and (masks.sum(axis=1) == 100).all()
    assert not np.array_equal(masks[0], masks[1])
    assert (masks[0] & masks[1]).any()  # independent draws may overlap (unlike k-fold)
    np.testing.assert_array_equal(masks, shuffle_split_masks(1000, 2, 0.1, seed=0))
    (train, test), _ = shuffle_split(DATA, 2, 0.1, seed=0)
    assert len(test) == round(0.1 * len(DATA)) and len(train) + len(test) == len(DATA)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(InvalidParameterError, match="test_fraction"):
            shuffle_split_masks(10, 2, bad)


def test_cross_validate_and_grid_search_take_repeated_holdouts():
    table = cross_validate(
        "pmf", DATA, N_USERS, N_ITEMS, folds=3, test_fraction=0.1, metrics=["rmse"]
    )
    assert list(table.index) == [0, 1, 2, "mean"]
    assert (table.loc[[0, 1, 2], "n_test"] == round(0.1 * len(DATA))).all()
    result = grid_search(
        "pmf", {"reg": [0.05, 0.5]}, DATA, N_USERS, N_ITEMS, folds=2, test_fraction=0.1
    )
    assert len(result.folds) == 4


def _low_rank(rank, n_users=150, n_items=120, seed=0, non_negative=False):
    rng = np.random.default_rng(seed)
    if non_negative:
        p, q = rng.gamma(0.3, 1.0, (n_users, rank)), rng.gamma(0.3, 1.0, (n_items, rank))
        true = p @ q.T
        true = 1.0 + 4.0 * true / true.max()
    else:
        p, q = rng.normal(size=(n_users, rank)), rng.normal(size=(n_items, rank))
        true = 3.0 + 0.6 * (p @ q.T)
    users, items = np.nonzero(rng.random((n_users, n_items)) < 0.3)
    return Interactions(users, items, true[users, items] + rng.normal(0, 0.1, len(users)))


@pytest.mark.parametrize(
    "model, grid, non_negative",
    [
        ("pmf", {"n_factors": [1, 3, 8], "reg": [0.01, 0.1]}, False),
        (NMF(n_iter=300), {"n_factors": [1, 3, 8], "reg": [0.001, 0.01]}, True),
    ],
    ids=["pmf", "nmf"],
)
def test_tune_embeddings_finds_the_true_rank(model, grid, non_negative):
    data = _low_rank(3, non_negative=non_negative)
    tuned = tune_embeddings(model, data, grid, seed=0)
    assert tuned.best_params["n_factors"] == 3
    results = tuned.search.results
    assert len(tuned.search.folds) == 2 * len(results)  # two 90/10 holdouts per point
    assert tuned.search.best_score == results["mean_rmse"].min()
    assert tuned.user_factors.shape == (150, 3) and tuned.item_factors.shape == (120, 3)
    assert tuned.model.n_factors == 3 and tuned.model.seed is not None
    assert len(tuned.model.data_) == len(data)  # refitted on all the data


def test_tune_embeddings_bad_input():
    with pytest.raises(
        InvalidParameterError, match=r"no parameter 'regularization'.*Valid: n_factors, reg"
    ):
        tune_embeddings("pmf", DATA, {"regularization": [0.1]})
    with pytest.raises(InvalidParameterError, match="embeddings"):
        tune_embeddings("toppop", DATA, {"prior_weight": [1.0]})
    with pytest.raises(InvalidParameterError, match="n_factors"):
        tune_embeddings("nmf", DATA, {"n_factors": [0, 3]})
