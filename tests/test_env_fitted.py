"""Worlds fitted to datasets (issue 17 item 6): the fit is recdyn's MF on the data, cached,
deterministic; the world's truth is the fit; a clear error names the missing dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests

import recdyn
from recdyn.datasets import DatasetError
from recdyn.datasets import fetch as fetch_module
from recdyn.environments import FittedLatentEnvironment, fit_factors
from recdyn.environments import fitting as fitting_module
from recdyn.environments.fitting import dataset_ratings, plays_to_ratings
from recdyn.errors import InvalidParameterError

SHARED = Path(os.environ.get("RECDYN_DATA_DIR", ""))


def _need(folder: str) -> None:
    if not (SHARED / folder).is_dir():
        pytest.skip(f"shared dataset folder {SHARED / folder} not available")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The fitted-world cache in a temporary folder (for the worlds too)."""
    folder = tmp_path / "worlds"
    monkeypatch.setattr(fitting_module, "factor_cache_dir", lambda: folder)
    return folder


def test_fit_is_recdyns_mf_sgd_and_the_world_is_the_fit(cache):
    _need("ml-100k")
    data, n_users, n_items = dataset_ratings("ml-100k")
    fitted = fit_factors("ml-100k", 8, seed=3)
    model = recdyn.recommenders.make("mf-sgd", n_factors=8, seed=3, clip=False)
    model.fit(data, n_users, n_items)
    np.testing.assert_array_equal(fitted.user_factors, model.user_factors_)
    np.testing.assert_array_equal(fitted.item_bias, model.item_bias_)
    direct = model.predict(data.user, data.item)
    rmse = float(np.sqrt(np.mean((direct - data.rating) ** 2)))
    assert fitted.rmse == pytest.approx(rmse, rel=1e-5)
    assert 0.75 < fitted.rmse < 0.9  # a training RMSE of biased MF on ML-100K
    assert (fitted.n_users, fitted.n_items, fitted.latent_dim) == (943, 1682, 8)
    # the world's noise-free ratings of the data's pairs are the fit's predictions
    env = FittedLatentEnvironment(latent_dim=8, fit_seed=3, n_initial_ratings=0)
    env.reset(0)
    truth = env.true_ratings()[data.user, data.item]
    world_rmse = float(np.sqrt(np.mean((truth - data.rating) ** 2)))
    assert world_rmse == pytest.approx(fitted.rmse, rel=1e-5)
    assert env.fitted_.source == "cache"  # fitted above, read back by the world


def test_fitters_are_the_registered_recommenders():
    for name, entry in fitting_module.FITTERS.items():
        assert recdyn.recommenders.recommenders.spec(name).entry_point == entry
    _need("ml-100k")
    als = fit_factors("ml-100k", 4, fitter="mf-als", cache_dir=False)
    assert als.source == "fit" and 0.7 < als.rmse < 0.95
    with pytest.raises(InvalidParameterError, match="fitter"):
        fit_factors("ml-100k", 4, fitter="svd")


def test_cache_round_trip_and_bad_cache_files(cache):
    _need("ml-100k")
    first = fit_factors("ml-100k", 4)
    assert first.source == "fit" and first.path.parent == cache and first.path.is_file()
    again = fit_factors("ml-100k", 4)
    assert again.source == "cache" and again.rmse == first.rmse
    for name in ("offset", "user_bias", "item_bias", "user_factors", "item_factors"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert not again.user_factors.flags.writeable
    with np.load(first.path, allow_pickle=False) as f:  # plain arrays, no pickle
        assert set(f.files) >= {"key", "user_factors", "item_factors"}
    first.path.write_bytes(b"not an npz")
    assert fit_factors("ml-100k", 4).source == "fit"  # refitted and replaced
    assert fit_factors("ml-100k", 4, seed=1).source == "fit"  # another seed: another file
    assert fit_factors("ml-100k", 4, cache_dir=False).path is None
    assert len(list(cache.glob("*.npz"))) == 2 and not list(cache.glob("*.tmp"))


def test_worlds_are_deterministic_and_subsample_under_the_run_seed(cache):
    _need("ml-100k")
    a = FittedLatentEnvironment(
        latent_dim=4, n_users=50, n_items=70, users_per_step=5, n_initial_ratings=300
    )
    b = a.clone()
    da, db = a.reset(7), b.reset(7)
    np.testing.assert_array_equal(da.rating, db.rating)
    np.testing.assert_array_equal(a.true_ratings(), b.true_ratings())
    users, items = a.state["dataset_users"], a.state["dataset_items"]
    assert len(users) == 50 and len(items) == 70 and np.all(np.diff(users) > 0)
    u, i = (x.ravel() for x in np.meshgrid(users, items, indexing="ij"))
    expected = a.fitted_.predict(u, i).reshape(50, 70)
    np.testing.assert_allclose(a.true_ratings(), expected, rtol=1e-6)
    b.reset(8)
    assert not np.array_equal(b.state["dataset_users"], users)
    full = FittedLatentEnvironment(latent_dim=4, n_initial_ratings=0)
    full.reset(1)
    np.testing.assert_array_equal(full.state["dataset_users"], np.arange(943))


def test_noise_default_and_residual(cache):
    _need("ml-100k")
    env = FittedLatentEnvironment(latent_dim=4, noise="residual", n_initial_ratings=0)
    env.reset(0)
    assert env.noise_std_ == env.fitted_.rmse
    assert recdyn.make("ml100k-v1").get_params()["noise"] == 0.5
    with pytest.raises(InvalidParameterError, match="noise"):
        FittedLatentEnvironment(noise="fit")


def test_presets_record_the_thesis_configuration():
    env = recdyn.make("ml100k-v1")  # no data needed to build it
    p = env.get_params()
    assert (p["dataset"], p["latent_dim"], p["n_users"], p["n_items"]) == (
        "ml-100k",
        100,
        943,
        1682,
    )
    assert (p["users_per_step"], p["n_initial_ratings"]) == (1, 0)
    assert recdyn.make("ml-latest-small-v1").rating_range == (0.5, 5.0)
    assert recdyn.make("lastfm-2k-v1").rating_range == (1.0, 5.0)
    cafl = recdyn.make("beta-rank-cafl-v1").get_params()
    assert (cafl["n_users"], cafl["n_items"], cafl["users_per_step"]) == (1000, 1700, 1)
    assert cafl["n_initial_ratings"] == 0


def test_more_users_than_the_dataset_is_refused_at_reset(cache):
    _need("ml-100k")
    env = FittedLatentEnvironment(latent_dim=4, n_users=1000, n_initial_ratings=0)
    with pytest.raises(InvalidParameterError, match=r"n_users must be at most the 943"):
        env.reset(0)
    with pytest.raises(InvalidParameterError, match="dataset"):
        FittedLatentEnvironment(dataset="netflix")


def test_play_counts_map_to_one_to_five_by_log_quantiles():
    plays = np.exp(np.linspace(0.0, 10.0, 1001))
    r = plays_to_ratings(plays)
    assert r.min() == 1.0 and r.max() == 5.0 and np.all(np.diff(r) >= 0)
    assert r[50] == pytest.approx(1.0) and r[950] == pytest.approx(5.0)  # 5 % and 95 %
    assert r[500] == pytest.approx(3.0)  # linear in log plays
    with pytest.raises(InvalidParameterError, match="positive"):
        plays_to_ratings(np.array([0.0, 3.0]))


def test_lastfm_ratings_are_on_the_one_to_five_scale():
    _need("hetrec2011-lastfm-2k")
    data, n_users, n_items = dataset_ratings("lastfm-2k")
    assert (n_users, n_items) == (1892, 17632)
    assert data.rating.min() == 1.0 and data.rating.max() == 5.0
    assert 3.0 < data.rating.mean() < 3.4


def test_without_data_the_world_fails_at_reset_naming_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("RECDYN_DATA_DIR", str(tmp_path / "empty"))
    env = recdyn.make("ml100k-v1")  # building it needs no data
    with pytest.raises(
        DatasetError,
        match=r"ml100k-v1 is a world fitted to the dataset "
        r"'ml-100k'.*ml-100k: file not found",
    ):
        env.reset(0)


def test_without_data_dir_and_network_the_world_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("RECDYN_DATA_DIR", raising=False)
    monkeypatch.setattr(fetch_module, "default_cache_dir", lambda: tmp_path / "cache")

    def offline(*args, **kwargs):
        raise requests.ConnectionError("network is unreachable")

    monkeypatch.setattr(pooch, "retrieve", offline)
    env = recdyn.make("lastfm-2k-v1")
    with pytest.raises(DatasetError, match=r"'lastfm-2k'.*could not download.*unreachable"):
        env.reset(0)
