"""Item side information (issue 21 item 2): the categories of datasets (MovieLens genres,
Last.fm tags) and of worlds (topics, Dirichlet topic mixtures, dataset-fitted worlds)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recdyn
from recdyn import datasets
from recdyn.datasets.dataset import build_dataset
from recdyn.datasets.lastfm import read_lastfm_2k
from recdyn.environments import fitting as fitting_module
from recdyn.errors import InvalidParameterError, NotResetError

SHARED = Path(os.environ.get("RECDYN_DATA_DIR", ""))


def _need(folder: str) -> None:
    if not (SHARED / folder).is_dir():
        pytest.skip(f"shared dataset folder {SHARED / folder} not available")


def _is_distribution(matrix: np.ndarray) -> bool:
    sums = matrix.sum(axis=1)
    return bool(np.all(np.isclose(sums, 1.0) | (sums == 0)) and (matrix >= 0).all())


# ----------------------------------------------------------------------------- datasets
def test_movielens_genres_from_a_synthetic_dataset():
    items = pd.DataFrame(
        {"title": ["a", "b", "c"], "genres": [["Drama", "Comedy"], [], ["Action"]]},
        index=pd.Index([5, 7, 9], name="raw"),
    )
    ds = build_dataset(
        "ml-latest-small",
        np.array([1, 1, 2]),
        np.array([5, 7, 9]),
        np.array([4.0, 3.0, 5.0]),
        None,
        None,
        items,
        rating_scale=(0.5, 5.0),
    )
    matrix, names = datasets.item_categories(ds)
    assert names == ("Action", "Comedy", "Drama")
    np.testing.assert_array_equal(matrix, [[0, 0.5, 0.5], [0, 0, 0], [1, 0, 0]])
    assert matrix.dtype == np.float64


def _write_lastfm(folder: Path) -> None:
    folder.mkdir()
    plays = "userID\tartistID\tweight\n" + "".join(f"1\t{a}\t5\n" for a in (10, 20, 30, 40, 50))
    (folder / "user_artists.dat").write_text(plays)
    artists = "id\tname\turl\tpictureURL\n" + "".join(
        f"{a}\tartist {a}\thttp://x/{a}\thttp://p/{a}\n" for a in (10, 20, 30, 40, 50)
    )
    (folder / "artists.dat").write_text(artists)
    (folder / "tags.dat").write_text("tagID\ttagValue\n1\trock\n2\tpop\n3\tjazz\n")
    applied = [
        (1, 10, 1), (2, 10, 1), (1, 10, 2),  # artist 10: rock by 2 users, pop by 1
        (1, 20, 2), (2, 20, 2), (3, 20, 2),  # artist 20: pop by 3
        (1, 30, 3), (2, 30, 1),  # artist 30: jazz 1, rock 1 (jazz is outside the top 2)
        (4, 50, 1), (4, 50, 2),  # artist 50: rock 1, pop 1 (a tie: pop ranks higher)
    ]  # fmt: skip
    rows = "".join(f"{u}\t{a}\t{t}\t1\t1\t2011\n" for u, a, t in applied)
    (folder / "user_taggedartists.dat").write_text(
        "userID\tartistID\ttagID\tday\tmonth\tyear\n" + rows
    )


def test_lastfm_tags_top_tags_and_most_used_per_artist(tmp_path):
    folder = tmp_path / "lastfm"
    _write_lastfm(folder)
    ds = read_lastfm_2k(folder)
    # totals: pop 5, rock 4, jazz 1 → vocabulary (pop, rock)
    matrix, names = datasets.item_categories(ds, n_tags=2, tags_per_item=1, verify=False)
    assert names == ("pop", "rock")
    np.testing.assert_array_equal(matrix, [[0, 1], [1, 0], [0, 1], [0, 0], [1, 0]])
    matrix, _ = datasets.item_categories(ds, n_tags=2, tags_per_item=2, verify=False)
    np.testing.assert_array_equal(matrix[[0, 2, 4]], [[0.5, 0.5], [0, 1], [0.5, 0.5]])
    matrix, names = datasets.item_categories(ds, n_tags=5, tags_per_item=3, verify=False)
    assert names == ("pop", "rock", "jazz") and matrix[2].tolist() == [0, 0.5, 0.5]


def test_item_categories_bad_input():
    with pytest.raises(InvalidParameterError, match="dataset must be"):
        datasets.item_categories("ml-100k")
    ds = build_dataset("ml-100k", np.array([1]), np.array([1]), np.array([3.0]), None, None,
                       None, rating_scale=(1.0, 5.0))  # fmt: skip
    with pytest.raises(InvalidParameterError, match="n_tags"):
        datasets.item_categories(ds, n_tags=0)
    with pytest.raises(InvalidParameterError, match="tags_per_item"):
        datasets.item_categories(ds, tags_per_item=0)


def test_ml100k_genres_are_the_u_item_flags():
    _need("ml-100k")
    ds = datasets.load("ml-100k")
    matrix, names = datasets.item_categories(ds)
    assert matrix.shape == (1682, 19) and names[:3] == ("unknown", "Action", "Adventure")
    toy = int(np.searchsorted(ds.item_ids, 1))
    got = {names[g]: matrix[toy, g] for g in np.flatnonzero(matrix[toy])}
    assert got == pytest.approx({"Animation": 1 / 3, "Children's": 1 / 3, "Comedy": 1 / 3})
    assert np.allclose(matrix.sum(axis=1), 1.0)  # every ML-100K movie has a genre flag


def test_ml_latest_small_genres_and_movies_without_any():
    _need("ml-latest-small")
    ds = datasets.load("ml-latest-small")
    matrix, names = datasets.item_categories(ds)
    assert matrix.shape == (ds.n_items, len(names)) and "(no genres listed)" not in names
    assert _is_distribution(matrix)
    empty = np.array([len(g) == 0 for g in ds.items["genres"]])
    assert empty.any() and np.array_equal(matrix.sum(axis=1) == 0, empty)


def test_lastfm_tags_on_the_shared_copy():
    _need("hetrec2011-lastfm-2k")
    ds = datasets.load("lastfm-2k")
    matrix, names = datasets.item_categories(ds)
    assert matrix.shape == (ds.n_items, 20) and names[0] == "rock"
    assert _is_distribution(matrix) and (np.count_nonzero(matrix, axis=1) <= 3).all()
    assert 0 < np.count_nonzero(matrix.sum(axis=1)) < ds.n_items


# ----------------------------------------------------------------------------- worlds
SMALL = dict(n_users=30, n_items=25, n_initial_ratings=60)


def test_topics_worlds_expose_the_one_hot_of_each_topic():
    env = recdyn.make("topics-dynamic-v1", **SMALL, n_topics=4)
    with pytest.raises(NotResetError):
        env.item_categories()
    env.reset(seed=1)
    matrix = env.item_categories()
    assert matrix.dtype == np.float64 and not matrix.flags.writeable
    np.testing.assert_array_equal(matrix, np.eye(4)[env.state["item_topic"]])
    assert env.category_names() == ("topic 0", "topic 1", "topic 2", "topic 3")


@pytest.mark.parametrize("name", ["beta-rank-v1", "pan-chaney-v1"])
def test_dirichlet_worlds_expose_each_items_topic_mixture(name):
    env = recdyn.make(name, n_users=20, n_items=15, users_per_step=5, n_initial_ratings=0)
    env.reset(seed=2)
    matrix = env.item_categories()
    np.testing.assert_array_equal(matrix, env.state["item_topics"])
    assert _is_distribution(matrix) and len(env.category_names()) == matrix.shape[1]


@pytest.mark.parametrize(
    ("name", "size"),
    [("latent-static-v1", SMALL), ("dual-influence-v1", dict(n_users=20, users_per_step=5))],
)
def test_worlds_without_categories_say_none(name, size):
    env = recdyn.make(name, **size)
    env.reset(seed=0)
    assert env.item_categories() is None and env.category_names() is None


def test_fitted_world_has_the_genres_of_the_dataset_items_it_kept(tmp_path, monkeypatch):
    _need("ml-100k")
    monkeypatch.setattr(fitting_module, "factor_cache_dir", lambda: tmp_path / "worlds")
    env = recdyn.make("ml100k-v1", latent_dim=2, n_users=50, n_items=120)
    env.reset(seed=3)
    full, names = datasets.item_categories(datasets.load("ml-100k"))
    kept = env.state["dataset_items"]
    np.testing.assert_array_equal(env.item_categories(), full[kept])
    assert env.category_names() == names and env.item_categories().shape == (120, 19)
