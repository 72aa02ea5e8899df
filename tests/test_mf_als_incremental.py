"""mf-als keeps its user- and item-major rows up to date in ``partial_fit`` (issue 22):
the factors, biases and global mean after ``fit`` and several ``partial_fit`` calls are
bit-identical to the full rebuild from the whole log that it replaces."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import recdyn
from recdyn import Interactions
from recdyn.recommenders import PMF, ALSMatrixFactorization, mf_als
from recdyn.recommenders._als_rows import RatingRows
from recdyn.recommenders.weighting import rating_weights

N_USERS, N_ITEMS = 60, 80


# ----------------------------------------------------------------------------- reference
def _both_csr_reference(data, w, n_users, n_items):
    """The full rebuild, written with plain numpy: the last rating of each pair, in log
    order, grouped by user and by item with a stable sort."""
    key = data.user.astype(np.int64) * n_items + data.item
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    keep = np.sort(len(key) - 1 - first_in_reversed)
    users, items, ratings, weights = data.user[keep], data.item[keep], data.rating[keep], w[keep]
    out = []
    for rows, cols, n in ((users, items, n_users), (items, users, n_items)):
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(n + 1, np.int64)
        indptr[1:] = np.cumsum(np.bincount(rows, minlength=n))
        out.append((indptr, cols[order], ratings[order], weights[order]))
    return tuple(out)


def _reference_sweep(m, model, data, iters, cg_steps):
    """``ALSMatrixFactorization._sweep`` as it was before issue 22: everything from
    ``data``, the whole log, at every call (same kernels)."""
    w = rating_weights(model.weighting, data, N_USERS, N_ITEMS, np.float32)
    m.weights_ = w
    by_user, by_item = _both_csr_reference(data, w, N_USERS, N_ITEMS)
    total = float(by_user[3].sum(dtype=np.float64))
    m.global_mean_ = float(np.dot(by_user[3], by_user[2]) / total) if total > 0 else 0.0
    reg = np.float64(model.reg)
    reg_b = np.float64(model.reg if model.reg_bias is None else model.reg_bias)
    opts = (np.float64(m.global_mean_), reg, reg_b, model.weighted_reg, model.biases)
    if cg_steps is not None:
        opts = (*opts, cg_steps)
    solve = mf_als._solve_rows if cg_steps is None else mf_als._cg_rows
    for _ in range(iters):
        solve(*by_user, m.q, m.bi, *opts, m.p, m.bu)
        solve(*by_item, m.p, m.bu, *opts, m.q, m.bi)
    m.rating_range = (float(data.rating.min()), float(data.rating.max()))


def reference_run(model, initial, batches):
    """States (after fit and after each batch) of the full-rebuild path for ``model``'s
    hyperparameters."""
    rng = np.random.default_rng(model.seed)
    f = model.n_factors
    m = SimpleNamespace(
        q=rng.normal(0.0, model.init_std, (N_ITEMS, f)).astype(np.float32),
        p=np.zeros((N_USERS, f), np.float32),
        bi=np.zeros(N_ITEMS, np.float32),
        bu=np.zeros(N_USERS, np.float32),
    )
    log = [initial]
    _reference_sweep(m, model, initial, model.n_iter, None)
    states = [_state_of(m)]
    for new in batches:
        log.append(new)
        data = Interactions.concat(log)
        _reference_sweep(m, model, data, model.partial_iters, model.partial_cg_steps)
        states.append(_state_of(m))
    return states


def _state_of(m):
    return dict(
        p=m.p.copy(), q=m.q.copy(), bu=m.bu.copy(), bi=m.bi.copy(), mu=m.global_mean_,
        w=np.array(m.weights_), range=m.rating_range,
    )  # fmt: skip


def model_run(model, initial, batches):
    model.fit(initial, N_USERS, N_ITEMS)
    states = [_model_state(model)]
    for new in batches:
        model.partial_fit(new)
        states.append(_model_state(model))
    return states


def _model_state(model):
    return dict(
        p=model.user_factors_.copy(), q=model.item_factors_.copy(),
        bu=model.user_bias_.copy(), bi=model.item_bias_.copy(), mu=model.global_mean_,
        w=np.array(model.weights_), range=model._rating_range,
    )  # fmt: skip


def assert_identical(got, want):
    assert len(got) == len(want)
    for t, (g, w) in enumerate(zip(got, want)):
        for name in ("p", "q", "bu", "bi", "w"):
            assert g[name].dtype == w[name].dtype, (t, name)
            assert np.array_equal(g[name], w[name]), f"{name} differs after {t} partial fits"
        assert g["mu"] == w["mu"], t
        assert g["range"] == w["range"], t


# ----------------------------------------------------------------------------- data
def _without_propensity(part):
    return Interactions(part.user, part.item, part.rating, part.step)


@pytest.fixture(scope="module")
def world():
    """A small topics world's initial ratings and 6 steps of ratings, with repeats: pairs
    already in the log (re-ratings) and pairs rated twice within a step; the online
    ratings have propensities."""
    env = recdyn.make(
        "topics-dynamic-v1",
        n_users=N_USERS,
        n_items=N_ITEMS,
        n_initial_ratings=600,
        users_per_step=12,
    )
    initial = env.reset(seed=0)
    rng = np.random.default_rng(5)
    log = initial
    batches = []
    for t in range(6):
        users = env.online_users()
        new = env.step(rng.integers(0, N_ITEMS, size=(len(users), 1)))
        # re-rate 5 pairs from the log and repeat 3 pairs of this step (last one kept)
        old = rng.choice(len(log), 5, replace=False)
        again = rng.choice(len(new), 3, replace=False)
        u = np.r_[new.user, log.user[old], new.user[again]]
        i = np.r_[new.item, log.item[old], new.item[again]]
        r = np.r_[new.rating, rng.uniform(1, 5, 8)].astype(np.float32)
        perm = rng.permutation(len(u))
        q = rng.uniform(0.05, 1.0, len(u))
        part = Interactions(u[perm], i[perm], r[perm], np.full(len(u), t + 1), q)
        batches.append(part)
        log = Interactions.concat([log, part])
    initial = Interactions(
        np.r_[initial.user, initial.user[:7]],  # the initial data rates 7 pairs twice
        np.r_[initial.item, initial.item[:7]],
        np.r_[initial.rating, np.float32(9.5)[None].repeat(7)],
    )
    return initial, batches


WEIGHTINGS = [
    pytest.param(None, id="unweighted"),
    pytest.param("inverse-propensity", id="inverse-propensity"),  # a weight per rating
    pytest.param("inverse-propensity-mixed", id="inverse-propensity-some-unknown"),
    pytest.param("cafl", id="cafl"),  # depends on the whole log (its steps)
    pytest.param({"name": "clipped-ips", "cap": 5.0}, id="clipped-ips"),
]


# ----------------------------------------------------------------------------- tests
@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_partial_fits_are_bit_identical_to_the_full_rebuild(world, weighting):
    initial, batches = world
    if weighting == "inverse-propensity-mixed":  # every other step logs no propensity
        weighting = "inverse-propensity"
        batches = [_without_propensity(b) if t % 2 else b for t, b in enumerate(batches)]
    kw = dict(n_factors=6, n_iter=4, seed=3, weighting=weighting)
    got = model_run(ALSMatrixFactorization(**kw), initial, batches)
    want = reference_run(ALSMatrixFactorization(**kw), initial, batches)
    assert_identical(got, want)


@pytest.mark.parametrize(
    "kw",
    [
        dict(partial_cg_steps=None, partial_iters=1),  # exact solves in partial_fit
        dict(biases=False, weighted_reg=False, reg_bias=0.3),
        dict(partial_iters=0),  # no sweep: the mean, weights and range still follow
    ],
)
def test_other_options_stay_identical(world, kw):
    initial, batches = world
    kw = dict(n_factors=4, n_iter=3, seed=1, **kw)
    got = model_run(ALSMatrixFactorization(**kw), initial, batches)
    want = reference_run(ALSMatrixFactorization(**kw), initial, batches)
    assert_identical(got, want)


def test_pmf_and_a_callable_weighting(world):
    initial, batches = world
    got = model_run(PMF(n_factors=4, n_iter=3, seed=2), initial, batches)
    want = reference_run(PMF(n_factors=4, n_iter=3, seed=2), initial, batches)
    assert_identical(got, want)

    def by_step(d):  # weights that depend on the whole log
        return 1.0 + d.step / (1 + d.step.max())

    kw = dict(n_factors=4, n_iter=3, seed=2, weighting=by_step)
    got = model_run(ALSMatrixFactorization(**kw), initial, batches)
    want = reference_run(ALSMatrixFactorization(**kw), initial, batches)
    assert_identical(got, want)


def test_rows_match_the_full_rebuild_and_fall_back_when_stale(world):
    initial, batches = world
    model = ALSMatrixFactorization(n_factors=4, n_iter=2, seed=0).fit(initial, N_USERS, N_ITEMS)
    for new in batches[:3]:
        model.partial_fit(new)
    rows = model._rows
    data = model.data_
    want = _both_csr_reference(data, np.ones(len(data), np.float32), N_USERS, N_ITEMS)
    for got_layout, want_layout in zip(rows.csr(), want):
        for g, w in zip(got_layout, want_layout):
            assert g.dtype == w.dtype and np.array_equal(g, w)
    assert rows.n_logged == len(data)
    # a model whose rows went missing or stale (e.g. set_params(weighting=…)) rebuilds
    # them from the whole log and gives the same numbers
    twin = ALSMatrixFactorization(n_factors=4, n_iter=2, seed=0).fit(initial, N_USERS, N_ITEMS)
    for new in batches[:3]:
        twin.partial_fit(new)
    del twin._rows
    model.partial_fit(batches[3])
    twin.partial_fit(batches[3])
    assert np.array_equal(model.user_factors_, twin.user_factors_)
    assert np.array_equal(model.item_factors_, twin.item_factors_)
    model.set_params(weighting="inverse-propensity")
    model.partial_fit(batches[4])
    assert model._rows.mode == "local" and model._rows.n_logged == len(model.data_)


def test_items_added_rebuilds_at_the_new_size(world):
    initial, batches = world
    model = ALSMatrixFactorization(n_factors=4, n_iter=2, seed=0).fit(initial, N_USERS, N_ITEMS)
    model.partial_fit(batches[0])
    model.items_added(N_ITEMS + 4)
    assert model._rows.n_items == N_ITEMS + 4
    model.partial_fit(batches[1])
    assert model.item_factors_.shape[0] == N_ITEMS + 4
    assert np.all(model.item_factors_[N_ITEMS:] == 0)  # nobody rated them


def test_rows_grow_past_their_capacity():
    rng = np.random.default_rng(0)
    n_users, n_items = 7, 9
    data = Interactions(rng.integers(0, n_users, 5), rng.integers(0, n_items, 5), np.ones(5))
    rows = RatingRows.build(data, n_users, n_items, "global", spare=0)
    log = [data]
    for t in range(40):
        m = int(rng.integers(1, 12))
        new = Interactions(
            rng.integers(0, n_users, m), rng.integers(0, n_items, m), rng.uniform(1, 5, m)
        )
        rows.update(new)
        log.append(new)
        full = Interactions.concat(log)
        w = np.arange(len(full), dtype=np.float32)  # weight = log position
        want = _both_csr_reference(full, w, n_users, n_items)
        for got_layout, want_layout in zip(rows.csr(w), want):
            for g, ww in zip(got_layout, want_layout):
                assert np.array_equal(g, ww), t
