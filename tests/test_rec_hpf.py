"""Hierarchical Poisson factorisation (hpf extra): recovery of a synthetic Poisson
matrix, how ratings become counts, determinism, errors and ranking on ML-100K u1."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.special import gammaln

pytest.importorskip("hpfrec")

from recdyn.errors import InvalidParameterError, MissingDependencyError
from recdyn.interactions import Interactions
from recdyn.recommenders import make
from recdyn.recommenders.hpf import HierarchicalPoissonFactorization as HPF

N_USERS, N_ITEMS, RANK = 120, 80, 3


def poisson_llk(y: np.ndarray, rate: np.ndarray) -> float:
    """Mean Poisson log-likelihood per cell of counts ``y`` under ``rate``."""
    rate = np.maximum(rate, 1e-12)
    return float(np.mean(y * np.log(rate) - rate - gammaln(y + 1)))


@pytest.fixture(scope="module")
def poisson():
    """Two independent count matrices from one rank-3 gamma–Poisson rate (the model's
    own generative process, with sparse factors)."""
    rng = np.random.default_rng(0)
    theta = rng.gamma(0.3, 1.0 / 0.3, (N_USERS, RANK))
    beta = rng.gamma(0.3, 1.0 / 0.3, (N_ITEMS, RANK))
    rate = theta @ beta.T / 2
    return rate, rng.poisson(rate), rng.poisson(rate)


def as_interactions(y: np.ndarray) -> Interactions:
    users, items = np.nonzero(y)
    return Interactions(users, items, y[users, items].astype(float))


def test_recovers_the_generating_structure(poisson):
    rate, train, test = poisson
    model = HPF(n_factors=RANK, seed=0).fit(as_interactions(train), N_USERS, N_ITEMS)
    fitted = model.score(np.arange(N_USERS)).astype(np.float64)
    # baseline: the best rank-1 (independence) model, row total x column total / total
    rank1 = np.outer(train.sum(1), train.sum(0)) / train.sum()
    got, base, truth = (poisson_llk(test, r) for r in (fitted, rank1, rate))
    # measured: -0.909 per cell against -1.188 (rank 1) and -0.868 (the true rate)
    assert got > base + 0.5 * (truth - base)  # most of the way from rank 1 to the truth
    assert np.corrcoef(fitted.ravel(), rate.ravel())[0, 1] > 0.9
    np.testing.assert_allclose(model.predict([0, 5], [3, 7]), fitted[[0, 5], [3, 7]], rtol=1e-5)


def test_counts_from_ratings(poisson):
    _, train, _ = poisson
    data = as_interactions(train)
    ones = Interactions(data.user, data.item, np.ones(len(data)))
    users = np.arange(N_USERS)
    binary = HPF(n_factors=RANK, counts="binary", seed=0).fit(data, N_USERS, N_ITEMS)
    counts = HPF(n_factors=RANK, seed=0).fit(ones, N_USERS, N_ITEMS)
    np.testing.assert_array_equal(binary.score(users), counts.score(users))
    # a rating of 0 is no rating; a pair rated twice keeps its last rating
    zu, zi = np.argwhere(train == 0)[0]
    extra = Interactions(
        np.r_[data.user, zu, data.user[0]],
        np.r_[data.item, zi, data.item[0]],
        np.r_[data.rating + 1, 0.0, data.rating[0]],
    )
    again = HPF(n_factors=RANK, seed=0).fit(extra, N_USERS, N_ITEMS)
    plain = HPF(n_factors=RANK, seed=0).fit(
        Interactions(data.user, data.item, np.r_[data.rating[0], data.rating[1:] + 1]),
        N_USERS,
        N_ITEMS,
    )
    np.testing.assert_array_equal(again.score(users), plain.score(users))


def test_exposure_probability_is_the_chance_of_a_nonzero_count(poisson):
    _, train, _ = poisson
    model = HPF(n_factors=RANK, counts="binary", seed=0).fit(
        as_interactions(train), N_USERS, N_ITEMS
    )
    users, items = np.arange(N_USERS), np.arange(N_USERS) % N_ITEMS
    p = model.exposure_probability(users, items)
    assert p.dtype == np.float64 and ((p >= 0) & (p < 1)).all()
    expected = model.predict(users, items).astype(np.float64)
    np.testing.assert_allclose(p, 1 - np.exp(-expected), rtol=1e-9)


def test_seeded_and_independent_of_threads(poisson):
    _, train, _ = poisson
    data, users = as_interactions(train), np.arange(N_USERS)

    def scores(**params):
        return HPF(n_factors=RANK, n_iter=30, **params).fit(data, N_USERS, N_ITEMS).score(users)

    a = scores(seed=3)
    np.testing.assert_array_equal(a, scores(seed=3, n_threads=2))
    assert not np.array_equal(a, scores(seed=4))


def test_bad_input_and_missing_dependency_are_clear_errors(monkeypatch):
    signed = Interactions([0, 1], [0, 1], [2.0, -1.0])
    with pytest.raises(InvalidParameterError, match=r"counts='binary'.*-1\.0|-1\.0.*binary"):
        HPF().fit(signed, 2, 2)
    HPF(counts="binary", n_iter=5).fit(signed, 2, 2)
    with pytest.raises(InvalidParameterError, match="counts"):
        make("hpf", counts="ratings")
    monkeypatch.setitem(sys.modules, "hpfrec", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'recdyn\[hpf\]'"):
        HPF().fit(Interactions([0], [0], [1.0]), 2, 2)


def test_ml100k_fold1_ranks_better_than_popularity():
    from recdyn import datasets
    from recdyn.metrics.offline import ndcg_topn, relevance_matrix

    try:
        train, test = datasets.ml100k_folds(download=False)[0]
    except datasets.DatasetError as err:
        pytest.skip(f"MovieLens-100K not available: {err}")
    nu, ni = 943, 1682
    users = np.unique(test.user)
    relevant = relevance_matrix(test, nu, ni)[users]
    seen = train.to_csr(nu, ni, values=np.ones(len(train), bool))[users]
    model = HPF(n_factors=10, n_iter=50, seed=0).fit(train, nu, ni)
    hpf = ndcg_topn(model.score(users), relevant, k=10, exclude=seen)
    popularity = np.tile(np.bincount(train.item, minlength=ni).astype(np.float32), (len(users), 1))
    pop = ndcg_topn(popularity, relevant, k=10, exclude=seen)
    # measured: 0.498 against 0.325 (popularity)
    assert hpf > pop + 0.1
    assert not model.predicts_ratings
