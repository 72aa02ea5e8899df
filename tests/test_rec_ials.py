"""``ials`` (implicit ALS through ``implicit``): it fits Hu et al.'s objective, is
deterministic for a seed, ranks by popularity at d = 1, and rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest

from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders import make
from recdyn.recommenders.factors import embeddings

pytest.importorskip("implicit")


def _toy(seed=0, n_users=60, n_items=30):
    """Users consume item ``i`` with probability decreasing in ``i`` (item 0 most popular)."""
    rng = np.random.default_rng(seed)
    p = np.linspace(0.7, 0.03, n_items)
    users, items = np.nonzero(rng.random((n_users, n_items)) < p)
    ratings = rng.integers(1, 6, len(users)).astype(np.float32)
    return Interactions(user=users, item=items, rating=ratings), n_users, n_items


def test_fits_scores_and_embeddings():
    data, n_users, n_items = _toy()
    model = make("ials", n_factors=5, seed=0).fit(data, n_users + 2, n_items)
    s = model.score(np.arange(n_users + 2))
    assert s.shape == (n_users + 2, n_items) and s.dtype == np.float32
    assert np.all(s[-2:] == 0)  # cold users: zero factors
    users, items = embeddings(model)
    assert users.shape == (n_users + 2, 5) and items.shape == (n_items, 5)
    np.testing.assert_allclose(model.predict([0, 1], [2, 3]), s[[0, 1], [2, 3]], rtol=1e-6)
    # preferences, not ratings: observed pairs near 1, the mean far below the 1-5 ratings
    seen = data.to_csr(n_users, n_items).toarray() > 0
    assert 0.4 < s[:n_users][seen].mean() < 1.1 and s[:n_users][~seen].mean() < 0.3
    assert not model.predicts_ratings


def test_one_step_is_hu_et_al_normal_equation():
    """The last half-sweep solves each item given the users: (XᵀCⁱX + λI) y = XᵀCⁱp with
    c = 1 + α r on observed pairs, 1 elsewhere (Hu et al.'s eq. 5)."""
    data, n_users, n_items = _toy(1, 12, 10)
    model = make("ials", n_factors=3, reg=0.3, alpha=2.0, counts="rating", iterations=5,
                 solver="cholesky", seed=0).fit(data, n_users, n_items)  # fmt: skip
    x, y = (f.astype(np.float64) for f in embeddings(model))
    r = data.to_csr(n_users, n_items).toarray()
    for i in range(n_items):
        c, p = 1 + 2.0 * r[:, i], (r[:, i] > 0).astype(float)
        a = x.T @ (c[:, None] * x) + 0.3 * np.eye(3)
        np.testing.assert_allclose(y[i], np.linalg.solve(a, x.T @ (c * p)), atol=1e-5)


def test_deterministic_for_a_seed():
    data, n_users, n_items = _toy()
    a = make("ials", n_factors=8, seed=3).fit(data, n_users, n_items).score(np.arange(n_users))
    b = make("ials", n_factors=8, seed=3).fit(data, n_users, n_items).score(np.arange(n_users))
    c = make("ials", n_factors=8, seed=4).fit(data, n_users, n_items).score(np.arange(n_users))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_small_d_ranks_by_popularity():
    data, n_users, n_items = _toy()
    s = make("ials", n_factors=1, seed=0).fit(data, n_users, n_items).score(np.arange(n_users))
    popularity = np.bincount(data.item, minlength=n_items)
    rho = np.corrcoef(np.argsort(np.argsort(s.mean(0))), np.argsort(np.argsort(popularity)))
    assert rho[0, 1] > 0.9
    assert set(np.argsort(-s[0])[:5]) <= set(np.argsort(-popularity)[:8])


def test_partial_fit_refits_or_warm_starts():
    data, n_users, n_items = _toy()
    half = np.arange(len(data)) < len(data) // 2
    first, second = data.select(half), data.select(~half)
    users = np.arange(n_users)
    full = make("ials", n_factors=4, seed=0).fit(data, n_users, n_items).score(users)
    refit = make("ials", n_factors=4, seed=0).fit(first, n_users, n_items).partial_fit(second)
    np.testing.assert_allclose(refit.score(users), full, rtol=1e-5, atol=1e-6)
    assert refit.partial_fit_is_exact
    warm = make("ials", n_factors=4, seed=0, partial_iterations=2).fit(first, n_users, n_items)
    before = warm.score(users)
    warm.partial_fit(second)
    assert not warm.partial_fit_is_exact
    assert np.abs(warm.score(users) - full).mean() < np.abs(before - full).mean() / 2


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_factors": 0}, "n_factors"),
        ({"reg": -1.0}, "reg"),
        ({"alpha": float("nan")}, "alpha"),
        ({"iterations": 0}, "iterations"),
        ({"solver": "lu"}, "solver"),
        ({"counts": "log"}, "counts"),
        ({"partial_iterations": 0}, "partial_iterations"),
        ({"num_threads": 0}, "num_threads"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        make("ials", **params)


def test_negative_rating_strength_is_refused():
    data = Interactions(user=[0, 1], item=[0, 1], rating=np.array([1.0, -1.0], np.float32))
    with pytest.raises(InvalidParameterError, match="counts='binary'"):
        make("ials", counts="rating").fit(data, 2, 2)
    make("ials", counts="binary").fit(data, 2, 2)  # a consumption whatever its rating
