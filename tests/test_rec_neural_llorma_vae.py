"""LLORMA, Mult-VAE and Mult-DAE on tiny structured problems: accuracy against simple
baselines, determinism, warm-started partial_fit, early stopping and input errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from recdyn.errors import InvalidParameterError  # noqa: E402
from recdyn.evaluation.strong_generalization import strong_generalization_eval  # noqa: E402
from recdyn.interactions import Interactions  # noqa: E402
from recdyn.metrics import rmse  # noqa: E402
from recdyn.recommenders import TopPop, check_recommender, make  # noqa: E402
from recdyn.recommenders.neural import LLORMA, MultDAE, MultVAE  # noqa: E402
from recdyn.recommenders.neural.runtime import set_threads  # noqa: E402

FAST = {
    "llorma": dict(n_anchor=8, rank=3, pre_rank=2, n_epochs=4, pre_epochs=4),
    "mult-vae": dict(hidden=32, latent=8, n_epochs=40, batch_size=16, total_anneal_steps=0),
    "mult-dae": dict(hidden=16, n_epochs=40, batch_size=16),
}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (and do not stall on a busy machine)."""
    previous = set_threads(1)
    yield
    set_threads(previous)


def taste_groups(n_users=48, n_items=30, seed=0) -> tuple[Interactions, Interactions]:
    """Two user groups with opposite tastes over two item blocks, plus user and item
    offsets; 60% of the pairs rated, split 80/20 into (train, test)."""
    rng = np.random.default_rng(seed)
    group = np.arange(n_users) % 2
    block = (np.arange(n_items) >= n_items // 2).astype(int)
    base = np.where(group[:, None] == block[None, :], 4.3, 1.9)
    true = base + rng.normal(0, 0.3, n_users)[:, None] + rng.normal(0, 0.3, n_items)[None, :]
    users, items = np.nonzero(rng.random((n_users, n_items)) < 0.6)
    ratings = np.clip(np.round(true[users, items] + rng.normal(0, 0.3, len(users))), 1, 5)
    test = rng.random(len(users)) < 0.2
    data = Interactions(users, items, ratings)
    return data.select(~test), data.select(test)


def click_blocks(n_users=60, n_items=30, seed=0) -> Interactions:
    """Three user groups, each clicking (rating 5) 7 of the 10 items of its block and
    rating one other item 1 star."""
    rng = np.random.default_rng(seed)
    users, items, ratings = [], [], []
    for u in range(n_users):
        block = 10 * (u % 3)
        liked = block + rng.choice(10, size=7, replace=False)
        users += [u] * 8
        items += [*liked, rng.integers(n_items)]
        ratings += [5.0] * 7 + [1.0]
    return Interactions(users, items, ratings)


def fit(name, data, n_users, n_items, **params):
    return make(name, seed=0, **{**FAST[name], **params}).fit(data, n_users, n_items)


# ----------------------------------------------------------------------------- accuracy
def test_llorma_beats_the_global_mean_on_taste_groups():
    train, test = taste_groups()
    model = fit("llorma", train, 48, 30)
    err = rmse(test.rating, model.predict(test.user, test.item))
    mean = rmse(test.rating, np.full(len(test), train.rating.mean()))
    assert err < 0.5 * mean


@pytest.mark.parametrize("name", ["mult-vae", "mult-dae"])
def test_autoencoders_beat_popularity_on_held_out_users(name):
    data = click_blocks()
    rec = make(name, seed=0, **FAST[name])
    res = strong_generalization_eval(rec, data, 60, 30, n_heldout_users=12, seed=0)
    pop = strong_generalization_eval(TopPop(), data, 60, 30, n_heldout_users=12, seed=0)
    assert res.metrics["ndcg@100"] > pop.metrics["ndcg@100"] + 0.2
    assert res.metrics["recall@20"] > 0.95
    assert res.recommender.best_epoch_ >= 0  # early-stopped on the validation users


def test_shallow_mult_vae_has_linear_encoder_and_decoder_and_learns():
    """``hidden=0``: Liang et al.'s [I → k → I] VAE, a linear map to (μ, log σ²) and a
    linear decoder."""
    data = click_blocks()
    rec = make("mult-vae", seed=0, **{**FAST["mult-vae"], "hidden": 0, "lr": 1e-2})
    res = strong_generalization_eval(rec, data, 60, 30, n_heldout_users=12, seed=0)
    shapes = {k: tuple(v.shape) for k, v in res.recommender._params.items()}
    assert shapes == {"W0": (30, 16), "b0": (16,), "W1": (8, 30), "b1": (30,)}
    pop = strong_generalization_eval(TopPop(), data, 60, 30, n_heldout_users=12, seed=0)
    assert res.metrics["ndcg@100"] > pop.metrics["ndcg@100"] + 0.2
    check_recommender(make("mult-vae", hidden=0, latent=8, n_epochs=3))


# ----------------------------------------------------------------------------- contract
@pytest.mark.parametrize("name", ["llorma", "mult-vae", "mult-dae"])
def test_same_seed_same_scores_other_seed_other_scores(name):
    train, _ = taste_groups()
    a = fit(name, train, 48, 30).score(np.arange(48))
    b = fit(name, train, 48, 30).score(np.arange(48))
    c = make(name, seed=1, **FAST[name]).fit(train, 48, 30).score(np.arange(48))
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("name", ["llorma", "mult-vae", "mult-dae"])
def test_partial_fit_warm_start_continues_and_cold_start_refits(name):
    train, _ = taste_groups()
    first, second = (
        train.select(np.arange(len(train)) < 300),
        train.select(np.arange(len(train)) >= 300),
    )
    refit = fit(name, train, 48, 30).score(np.arange(48))
    cold = fit(name, first, 48, 30, warm_start=False).partial_fit(second)
    assert np.array_equal(cold.score(np.arange(48)), refit)  # a refit from the seed
    warm = fit(name, first, 48, 30, partial_epochs=2)
    before, n_losses = warm.score(np.arange(48)), len(warm.loss_history_)
    warm.partial_fit(second)
    after = warm.score(np.arange(48))
    assert len(warm.loss_history_) == n_losses + 2  # continued, not restarted
    assert not np.allclose(after, before) and not np.allclose(after, refit)


def test_llorma_partial_fit_personalises_a_new_user():
    train, _ = taste_groups()
    newcomer = 47
    old = train.select(train.user != newcomer)
    mine = train.select(train.user == newcomer)
    half = np.arange(len(mine)) % 2 == 0
    model = fit("llorma", old, 48, 30)
    probe = mine.select(~half)
    cold = model.predict(probe.user, probe.item)
    assert np.allclose(cold, old.rating.mean(), atol=1e-5)  # unknown user: the mean
    model.partial_fit(mine.select(half))
    warm = model.predict(probe.user, probe.item)
    assert rmse(probe.rating, warm) < 0.6 * rmse(probe.rating, cold)


def test_mult_vae_folds_new_clicks_in_without_training():
    data = click_blocks()
    rec = fit("mult-vae", data, 60, 30, partial_epochs=0)
    before = rec.score([0, 1])
    # user 0 (block 0) clicks three items of block 1
    rec.partial_fit(Interactions([0, 0, 0], [10, 11, 12], [5.0, 5.0, 5.0]))
    after = rec.score([0, 1])
    assert np.array_equal(after[1], before[1])  # weights unchanged
    assert after[0, 10:20].mean() - before[0, 10:20].mean() > 0.1  # block 1 moved up


def test_llorma_kernels_are_epanechnikov_around_the_anchors():
    train, _ = taste_groups()
    model = fit("llorma", train, 48, 30)
    ku, ki = model.user_kernel_, model.item_kernel_
    a = np.arange(model.n_anchor)
    assert np.allclose(ku[a, model.anchor_users_], 0.75, atol=1e-4)
    assert np.allclose(ki[a, model.anchor_items_], 0.75, atol=1e-4)
    assert ku.min() >= 0 and ku.max() <= 0.75 + 1e-6 and (ku == 0).any()


def test_mult_vae_stops_early_on_held_out_users():
    data = click_blocks()
    rec = fit("mult-vae", data, 60, 30, n_epochs=200, validation_users=0.3, patience=3)
    hist = rec.val_loss_history_
    assert 0 < len(hist) < 200 and 0 <= rec.best_epoch_ < len(hist)
    assert all(-1.0 <= v <= 0.0 for v in hist)  # -nDCG@100
    assert hist[rec.best_epoch_] == min(hist)


@pytest.mark.parametrize("cls", [MultVAE, MultDAE])
def test_autoencoder_batch_size_scales_with_the_data_unless_given(cls):
    auto = cls(batch_size=None)  # MultVAE's default; MultDAE keeps the paper's 500
    assert auto._batch_size(943) == 100  # ML-100K: ~10 updates per epoch
    assert auto._batch_size(2_500) == 250
    assert auto._batch_size(116_677) == 500  # ML-20M: the paper's batch
    assert cls(batch_size=64)._batch_size(116_677) == 64
    data = click_blocks(n_users=250)
    name = "mult-vae" if cls is MultVAE else "mult-dae"
    updates = fit(name, data, 250, 30, batch_size=None, n_epochs=3)._updates
    assert updates == 3 * 3  # 250 users in batches of 100


@pytest.mark.parametrize("partial_rows, updates", [("touched", 1), ("all", 6)])
def test_autoencoder_warm_partial_fit_trains_the_new_ratings_users_or_all(partial_rows, updates):
    rec = fit("mult-vae", click_blocks(), 60, 30, batch_size=10, partial_rows=partial_rows)
    before = rec._updates
    rec.partial_fit(Interactions([0, 3], [10, 11], [5.0, 5.0]))
    assert rec._updates - before == updates  # 2 users in one batch, or 60 in six


def test_llorma_stops_early_on_a_validation_split():
    train, _ = taste_groups()
    model = fit("llorma", train, 48, 30, n_epochs=30, validation_fraction=0.2, patience=2)
    hist = model.val_loss_history_
    assert 0 < len(hist) < 30 and hist[model.best_epoch_] == min(hist)
    assert len(model.data_) == len(train)  # the held-out ratings still count as seen


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", ["llorma", "mult-vae", "mult-dae"])
def test_bad_data_raises_clear_errors(name):
    rec = make(name, **FAST[name])
    with pytest.raises(InvalidParameterError, match="empty"):
        rec.fit(Interactions.empty(), 5, 5)
    with pytest.raises(InvalidParameterError, match="NaN"):
        rec.fit(Interactions([0, 1], [0, 1], [4.0, np.nan]), 5, 5)
    fitted = rec.fit(Interactions([0, 1, 2], [0, 1, 2], [4.0, 5.0, 3.0]), 3, 3)
    with pytest.raises(InvalidParameterError, match="outside the valid range"):
        fitted.score([3])
    with pytest.raises(InvalidParameterError, match="outside the valid range"):
        fitted.predict([0], [7])


@pytest.mark.parametrize(
    "cls, params, name",
    [
        (LLORMA, dict(bandwidth=0.0), "bandwidth"),
        (LLORMA, dict(n_anchor=0), "n_anchor"),
        (MultVAE, dict(dropout=1.0), "dropout"),
        (MultVAE, dict(hidden=-1), "hidden"),
        (MultVAE, dict(validation_users=1.5), "validation_users"),
        (MultDAE, dict(device="gpu"), "device"),
    ],
)
def test_bad_hyperparameters_name_the_argument(cls, params, name):
    with pytest.raises(InvalidParameterError, match=name):
        cls(**params)


def test_validation_must_be_interactions():
    data = click_blocks()
    with pytest.raises(InvalidParameterError, match="validation"):
        MultDAE(**FAST["mult-dae"]).fit(data, 60, 30, validation=data.to_pandas())
