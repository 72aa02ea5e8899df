"""The exposure audit's Last.fm-2K tag-proxy side: tag reading (latin-1), artist groups,
the ratings fitted, neighbourhood curves on hand-made geometry, findings' verdict rules,
the figure, and an embedding unit on a tiny synthetic Last.fm folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recdyn import datasets
from recdyn.datasets import DatasetError
from recdyn.datasets.checksums import write_sums
from recdyn.datasets.lastfm import lastfm_artist_tags, read_lastfm_2k
from recdyn.errors import InvalidParameterError
from recdyn.studies import _exposure_lastfm as lf
from recdyn.studies._exposure_lastfm_findings import lastfm_findings
from recdyn.studies._exposure_units import unpack

SHARED = Path(os.environ.get("RECDYN_DATA_DIR", "")) / "hetrec2011-lastfm-2k"

# artist 10, 11: "female vocalists" only; 12: "male vocalists" only; 13: both; 14: neither;
# 15: "female vocalists" but one listener; 99: tagged, never played (dropped).
PLAYS = {
    10: {1: 50, 2: 7, 3: 300},
    11: {1: 2, 2: 40, 4: 9},
    12: {2: 1000, 3: 12, 4: 80},
    13: {1: 5, 3: 6},
    14: {4: 3, 5: 70},
    15: {5: 1},
}
TAGGED = [(1, 10, 130), (2, 10, 130), (3, 11, 130), (1, 12, 306), (1, 13, 130),
          (2, 13, 306), (4, 15, 130), (2, 99, 306), (3, 12, 7), (4, 12, 7)]  # fmt: skip
TAGS = {7: "die Ärzte", 8: "NA", 130: "female vocalists", 306: "male vocalists"}


def _write(path: Path, header: str, rows: list[str], encoding: str = "ascii") -> None:
    path.write_bytes("\r\n".join([header, *rows, ""]).encode(encoding))


def make_folder(folder: Path, tags_encoding: str = "latin-1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    plays = [f"{u}\t{a}\t{w}" for a, by in PLAYS.items() for u, w in by.items()]
    _write(folder / "user_artists.dat", "userID\tartistID\tweight", plays)
    artists = [f"{a}\tArtist {a}\thttp://x/{a}\thttp://p/{a}" for a in PLAYS]
    _write(folder / "artists.dat", "id\tname\turl\tpictureURL", artists, "utf-8")
    _write(folder / "tags.dat", "tagID\ttagValue", [f"{t}\t{v}" for t, v in TAGS.items()],
           tags_encoding)  # fmt: skip
    rows = [f"{u}\t{a}\t{t}\t1\t4\t2009" for u, a, t in TAGGED]
    _write(folder / "user_taggedartists.dat", "userID\tartistID\ttagID\tday\tmonth\tyear", rows)
    write_sums(folder)
    return folder


@pytest.fixture
def tiny(tmp_path):
    folder = make_folder(tmp_path / "hetrec2011-lastfm-2k")
    return read_lastfm_2k(folder)


def item(ds, raw: int) -> int:
    return int(np.searchsorted(ds.item_ids, raw))


# ---------------------------------------------------------------- tags and groups
def test_tags_map_to_item_indices_and_decode_latin1(tiny, tmp_path):
    tags = lastfm_artist_tags(tiny)
    assert list(tags.columns) == ["item", "tag", "value", "users"]
    assert len(tags) == 7  # 9 distinct (artist, tag) pairs, artist 99 dropped
    row = tags[(tags["item"] == item(tiny, 12)) & (tags["tag"] == 7)].iloc[0]
    assert row["value"] == "die Ärzte" and row["users"] == 2
    assert tags.loc[tags["item"] == item(tiny, 10), "users"].tolist() == [2]
    # from the folder, and from a UTF-8 re-encoding of tags.dat: the same table
    pd.testing.assert_frame_equal(lastfm_artist_tags(tiny.path), tags)
    utf8 = read_lastfm_2k(make_folder(tmp_path / "utf8", tags_encoding="utf-8"))
    pd.testing.assert_frame_equal(lastfm_artist_tags(utf8), tags)


def test_tag_files_that_do_not_belong_together(tiny):
    path = tiny.path / "user_taggedartists.dat"
    path.write_bytes(path.read_bytes() + b"1\t10\t555\t1\t1\t2009\r\n")
    with pytest.raises(DatasetError, match="tag id 555"):
        lastfm_artist_tags(tiny, verify=False)
    with pytest.raises(DatasetError, match=r"user_taggedartists\.dat"):  # digest changed
        lastfm_artist_tags(tiny)
    (tiny.path / "tags.dat").unlink()
    with pytest.raises(DatasetError, match=r"tags\.dat"):
        lastfm_artist_tags(tiny)


def test_groups_and_listener_threshold(tiny):
    groups = lf.artist_groups(tiny, min_listeners=1)
    assert groups.dtype == np.int8
    expect = {10: 0, 11: 0, 12: 1, 13: -1, 14: -1, 15: 0}
    assert {a: int(groups[item(tiny, a)]) for a in expect} == expect
    strict = lf.artist_groups(tiny, min_listeners=3)
    assert strict[item(tiny, 15)] == -1 and strict[item(tiny, 10)] == 0


@pytest.mark.parametrize(
    "tags, match",
    [
        ({"female vocalists": 130, "pop": 4242}, "tags: the audit group label 'pop'.*missing"),
        ({"female vocalists": 130, "rock": 306}, "tags: tag id 306 is 'male vocalists'"),
        ({"female vocalists": 130}, "tags must map two"),
    ],
)
def test_a_missing_group_label_names_the_argument(tiny, tags, match):
    with pytest.raises(InvalidParameterError, match=match):
        lf.artist_groups(tiny, tags=tags, min_listeners=1)


def test_ratings_keep_artists_with_enough_listeners(tiny):
    fit = lf.lastfm_ratings(tiny, min_listeners=3)
    assert [int(tiny.item_ids[a]) for a in fit.artists] == [10, 11, 12]
    assert fit.users.tolist() == [0, 1, 2, 3]  # user 5 played only 14 and 15
    r = fit.interactions.rating
    assert len(r) == 9 and r.min() == 1.0 and r.max() == 5.0
    with pytest.raises(InvalidParameterError, match="min_listeners"):
        lf.lastfm_ratings(tiny, min_listeners=0)


# ---------------------------------------------------------------- curves
def _geometry():
    deg = np.deg2rad([0.0, 10.0, 60.0, 90.0, 5.0, 45.0])
    items = np.stack([np.cos(deg), np.sin(deg)], axis=1) * [[2.0], [0.5], [3.0], [1.0], [1], [0]]
    groups = np.array([1, 1, 0, 0, -1, 0], dtype=np.int8)  # the unlabelled and zero ignored
    return items, groups


def test_curves_on_known_geometry():
    items, groups = _geometry()
    c = lf.neighbourhood_curves(np.array([[1.0, 0.0]]), items, groups, [1, 2, 3, 4])
    np.testing.assert_allclose(c["fraction"], [1.0, 1.0, 1 / 3, 0.0])
    near_male = (1 - np.cos(np.deg2rad(10))) / 2  # median of the two male distances
    assert np.isnan(c["distance"][:2]).all()
    np.testing.assert_allclose(c["distance"][2:], [0.5 - near_male, 0.75 - near_male])
    assert c["population"] == 0.0 and c["ks"].tolist() == [1, 2, 3, 4]


def test_curve_signs_and_profile_average():
    items, groups = _geometry()
    male, female = [2.0, 0.0], [0.0, 5.0]
    profiles = np.array([[male, male], [female, female], [male, female]])
    c = lf.neighbourhood_curves(profiles, items, groups, [1, 3])
    assert c["fraction"].shape == (3, 2)
    assert c["fraction"][0, 0] == 1.0 and c["fraction"][1, 0] == -1.0  # towards male: > 0
    assert c["distance"][0, 1] > 0 > c["distance"][1, 1]
    assert c["fraction"][2, 0] == 0.0
    np.testing.assert_allclose(c["distance"][2, 1], c["distance"][:2, 1].mean())


def test_curves_reject_bad_inputs():
    items, groups = _geometry()
    with pytest.raises(InvalidParameterError, match=r"ks must lie in \[1, 4\]"):
        lf.neighbourhood_curves(np.array([[1.0, 0.0]]), items, groups, [5])
    with pytest.raises(InvalidParameterError, match="groups"):
        lf.neighbourhood_curves(np.array([[1.0, 0.0]]), items, groups[:3], [1])
    with pytest.raises(InvalidParameterError, match="share d"):
        lf.neighbourhood_curves(np.ones((2, 3)), items, groups, [1])
    stats = lf.run_statistics(items, groups, np.array([[1.0, 0.0]]), ks=(1, 4))
    assert stats == pytest.approx({"population": 0.0, "frac_k1": 1.0, "frac_k4": 0.0,
                                   "dist_k1": np.nan, "dist_k4": stats["dist_k4"]},
                                  nan_ok=True)  # fmt: skip


# ---------------------------------------------------------------- findings, figure
def _frame(seeds: int, excess: dict[tuple[str, int], float]) -> pd.DataFrame:
    rows = []
    for (model, d), e in excess.items():
        for seed in range(seeds):
            for init, status in enumerate(("confirmed", "inconclusive", "violated")):
                jitter = 0.01 * seed - (5.0 if status == "violated" else 0.0)
                rows.append(
                    {"model": model, "d": d, "tau": 1.0, "n": 10, "seed": seed, "init": init,
                     "status": status, "capped": init == 1, "population": -0.2,
                     "frac_k10": -0.2 + e + jitter, "frac_k200": -0.19,
                     "dist_k10": 0.05 + jitter, "dist_k200": 0.001}
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_findings_verdicts_and_counts():
    excess = {("pmf", 3): 0.1, ("pmf", 50): 0.3, ("nmf", 3): 0.05, ("nmf", 50): 0.15}
    found = lastfm_findings(_frame(3, excess))
    assert [f.reproduced for f in found] == [True, True, True, True]
    assert "12 confirmed, 12 inconclusive, 12 violated; 12 stopped at the cap" in found[0].measured
    assert "male-vocalists-tagged" in found[0].claim
    assert all("gender" not in f.measured + f.claim for f in found)
    towards_female = lastfm_findings(_frame(3, excess), towards=lf.FEMALE)
    assert towards_female[0].reproduced is False
    few = lastfm_findings(_frame(2, excess))
    assert all(f.reproduced is None for f in few) and "per seed" in few[0].measured
    one_model = lastfm_findings(_frame(3, {("pmf", 3): 0.1}))
    assert one_model[1].reproduced is None and one_model[2].reproduced is None


def test_figure(tmp_path):
    items, groups = _geometry()
    c = lf.neighbourhood_curves(np.array([[[1.0, 0.0]], [[0.0, 1.0]]]), items, groups, [1, 2, 4])
    path = lf.lastfm_figure({"pmf, d=3, τ=1": c, "nmf, d=3, τ=1": c}, tmp_path)
    assert path.name == "lastfm_neighbourhoods.png" and path.stat().st_size > 1000


def test_embedding_unit_on_a_tiny_folder(tiny, monkeypatch):
    monkeypatch.setattr(datasets, "load", lambda name, **kw: tiny)
    out = lf.run_lastfm_embedding_unit(
        model="pmf", d=2, seed=0, grid={"reg": [0.1]}, min_listeners=2
    )
    users, items, groups = unpack(out["users"]), unpack(out["items"]), unpack(out["groups"])
    assert users.shape == (5, 2) and items.shape == (5, 2)  # artist 15 has one listener
    assert groups.dtype == np.int8 and groups.tolist() == [0, 0, 1, -1, -1]
    assert unpack(out["artists"]).tolist() == [0, 1, 2, 3, 4]
    assert set(out) >= {"best_params", "cv_rmse", "seconds"}


# ---------------------------------------------------------------- the shared copy
@pytest.mark.skipif(not SHARED.is_dir(), reason="Last.fm-2K not available (RECDYN_DATA_DIR)")
def test_real_proxy_groups():
    ds = datasets.load("lastfm-2k", download=False)
    tags = lastfm_artist_tags(ds)
    assert len(tags) == 108_437
    names = tags.drop_duplicates("tag").set_index("tag")["value"]
    assert {names[t]: t for t in lf.PROXY_TAGS.values()} == lf.PROXY_TAGS
    for min_listeners, counts in ((1, (1350, 619)), (5, (567, 377))):
        g = lf.artist_groups(ds, min_listeners=min_listeners)
        assert ((g == 0).sum(), (g == 1).sum()) == counts
