"""Dataset loaders: published counts on the shared copies, ML-1M format, checksums,
missing files and the download path (pooch fed ``file://`` URLs or a monkeypatched
downloader: never the network)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests

from recdyn import Interactions
from recdyn import datasets as ds
from recdyn.datasets import fetch as fetch_module
from recdyn.errors import RecdynError, UnknownNameError

SHARED = Path(os.environ.get("RECDYN_DATA_DIR", ""))
ML100K_READ = ("u.data", "u.item", "u.user", "u.genre")
ML1M_FILES = ("ratings.dat", "users.dat", "movies.dat")


def _need(folder: str) -> Path:
    path = SHARED / folder
    if not path.is_dir():
        pytest.skip(f"shared dataset folder {path} not available (set RECDYN_DATA_DIR)")
    return path


def _keys(data: Interactions, n_items: int) -> np.ndarray:
    return np.sort(data.user.astype(np.int64) * n_items + data.item)


# ---------------------------------------------------------------- shared copies
def test_ml100k_has_published_counts_and_aligned_side_information():
    _need("ml-100k")
    ml = ds.load("ml-100k")
    data = ml.interactions
    assert (len(data), ml.n_users, ml.n_items) == (100_000, 943, 1_682)
    assert ml.rating_scale == (1.0, 5.0) and not ml.implicit
    assert set(np.unique(data.rating).tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ml.users["gender"].value_counts().to_dict() == {"M": 670, "F": 273}
    assert data.user.max() == ml.n_users - 1 and data.item.max() == ml.n_items - 1
    # side tables are indexed by internal id; raw user 1 is "1|24|M|technician|85711"
    u1 = ml.users.loc[int(np.searchsorted(ml.user_ids, 1))]
    assert (u1.age, u1.gender, u1.occupation, u1.zip) == (24, "M", "technician", "85711")
    toy = ml.items.loc[int(np.searchsorted(ml.item_ids, 1))]
    assert toy.title == "Toy Story (1995)" and toy.release_date.year == 1995
    assert toy.genres == ["Animation", "Children's", "Comedy"] and toy["Comedy"]
    assert sum(c in ml.items.columns for c in ("unknown", "Western", "Film-Noir")) == 3
    # u.item is latin-1
    assert ml.items.loc[int(np.searchsorted(ml.item_ids, 543)), "title"].startswith("Misérables")


def test_ml100k_keeps_raw_ids_timestamps_and_ranks_them_into_steps():
    _need("ml-100k")
    ml = ds.load("ml-100k")
    data = ml.interactions
    # first line of u.data: 196 242 3 881250949
    assert ml.user_ids[data.user[0]] == 196 and ml.item_ids[data.item[0]] == 242
    assert data.rating[0] == 3.0 and ml.timestamps[0] == 881250949
    assert ml.timestamps.dtype == np.int64 and len(ml.timestamps) == len(data)
    order = np.argsort(ml.timestamps, kind="stable")
    assert np.all(np.diff(data.step[order]) >= 0)  # later timestamp -> later step
    assert data.step.min() == 0 and data.step.max() == len(np.unique(ml.timestamps)) - 1
    same_time = ml.timestamps == ml.timestamps[0]
    assert np.all(data.step[same_time] == data.step[0])


def test_ml_latest_small_is_the_2016_edition_in_half_stars():
    _need("ml-latest-small")
    ml = ds.load("ml-latest-small")
    assert (len(ml.interactions), ml.n_users, ml.n_items) == (100_004, 671, 9_066)
    assert ml.rating_scale == (0.5, 5.0)
    assert np.unique(ml.interactions.rating).tolist() == [x / 2 for x in range(1, 11)]
    toy = ml.items.loc[int(np.searchsorted(ml.item_ids, 1))]
    assert toy.title == "Toy Story (1995)" and "Animation" in toy.genres
    assert list(ml.users.columns) == ["raw_id"]


def test_lastfm_play_counts_are_implicit_feedback():
    _need("hetrec2011-lastfm-2k")
    fm = ds.load("lastfm-2k")
    assert (len(fm.interactions), fm.n_users, fm.n_items) == (92_834, 1_892, 17_632)
    assert fm.implicit and fm.timestamps is None and not fm.interactions.step.any()
    # first data line of user_artists.dat: 2 51 13883 (a play count, not a rating)
    first = fm.interactions
    assert fm.user_ids[first.user[0]] == 2 and fm.item_ids[first.item[0]] == 51
    assert first.rating[0] == 13883.0 and fm.rating_scale == (1.0, 352698.0)
    metallica = fm.items.loc[int(np.searchsorted(fm.item_ids, 707))]  # from readme.txt
    assert metallica["name"] == "Metallica" and metallica.url.endswith("/Metallica")


def test_ml100k_folds_partition_u_data_with_the_load_id_mapping():
    _need("ml-100k")
    ml = ds.load("ml-100k")
    folds = ds.ml100k_folds()
    assert len(folds) == 5
    full = _keys(ml.interactions, ml.n_items)
    tests = []
    for train, test in folds:
        assert (len(train), len(test)) == (80_000, 20_000)
        a, b = _keys(train, ml.n_items), _keys(test, ml.n_items)
        assert len(np.intersect1d(a, b)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([a, b])), full)
        train.to_csr(ml.n_users, ml.n_items)  # ids fit the full dataset's shape
        tests.append(b)
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), full)
    # same (user, item) -> same rating and step as in load("ml-100k")
    key = ml.interactions.user.astype(np.int64) * ml.n_items + ml.interactions.item
    order = np.argsort(key)
    test1 = folds[0][1]
    pos = order[np.searchsorted(key[order], test1.user.astype(np.int64) * ml.n_items + test1.item)]
    np.testing.assert_array_equal(ml.interactions.rating[pos], test1.rating)
    np.testing.assert_array_equal(ml.interactions.step[pos], test1.step)


def test_unknown_name_suggests_the_close_one():
    with pytest.raises(UnknownNameError, match="ml-100k"):
        ds.load("ml100k")


# ---------------------------------------------------------------- ML-1M format
def _write_fake_ml1m(folder: Path) -> None:
    folder.mkdir(parents=True)
    ratings = ["10::3::5::978300760", "10::7::3::978300761", "2::3::4::978300760"]
    (folder / "ratings.dat").write_bytes(("\n".join(ratings) + "\n").encode("latin-1"))
    users = ["2::M::56::16::70072", "10::F::1::10::48067", "99::F::25::3::02139"]
    (folder / "users.dat").write_bytes(("\n".join(users) + "\n").encode("latin-1"))
    movies = [
        "3::Misérables, Les (1995)::Drama|Musical",
        "7::Toy Story (1995)::Animation|Children's|Comedy",
        "8::Unrated (2000)::Drama",
    ]
    (folder / "movies.dat").write_bytes(("\n".join(movies) + "\n").encode("latin-1"))


def test_ml1m_reads_double_colon_latin1_files(tmp_path):
    _write_fake_ml1m(tmp_path / "ml-1m")
    with pytest.warns(ds.DatasetWarning, match=r"ratings\.dat"):
        ml = ds.load("ml-1m", data_dir=tmp_path)  # no digests known for ML-1M files
    assert (len(ml.interactions), ml.n_users, ml.n_items) == (3, 2, 2)
    assert ml.user_ids.tolist() == [2, 10] and ml.item_ids.tolist() == [3, 7]
    assert ml.interactions.rating.tolist() == [5.0, 3.0, 4.0]
    assert ml.interactions.step.tolist() == [0, 1, 0]  # equal timestamps share a step
    assert ml.items["title"].tolist() == ["Misérables, Les (1995)", "Toy Story (1995)"]
    assert ml.items.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    assert ml.users["gender"].tolist() == ["M", "F"]  # user 99 never rated: dropped
    assert ml.users["occupation"].tolist() == ["self-employed", "K-12 student"]
    assert ml.users["zip"].tolist() == ["70072", "48067"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds.load("ml-1m", data_dir=tmp_path, verify=False)


# ---------------------------------------------------------------- checksums and errors
def _copy_ml100k(dest_root: Path, files=ML100K_READ) -> Path:
    src = _need("ml-100k")
    dest = dest_root / "ml-100k"
    dest.mkdir(parents=True)
    for name in files:
        shutil.copyfile(src / name, dest / name)
    return dest


def test_corrupt_file_names_the_file_and_both_digests(tmp_path):
    folder = _copy_ml100k(tmp_path)
    path = folder / "u.user"
    path.write_bytes(path.read_bytes().replace(b"technician", b"technicien", 1))
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = ds.FILE_SHA256["ml-100k"]["1998"]["u.user"]
    with pytest.raises(ds.ChecksumError) as info:
        ds.load("ml-100k", data_dir=tmp_path)
    msg = str(info.value)
    assert str(path) in msg and expected in msg and actual in msg
    ml = ds.load("ml-100k", data_dir=tmp_path, verify=False)
    assert ml.users.loc[0, "occupation"] == "technicien"


def test_missing_file_names_the_file_the_dataset_and_the_remedy(tmp_path, monkeypatch):
    _copy_ml100k(tmp_path, files=("u.data", "u.item", "u.genre"))
    with pytest.raises(ds.DatasetError) as info:
        ds.load("ml-100k", data_dir=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "ml-100k" / "u.user") in msg and "ml-100k" in msg
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, RecdynError)
    # same through the environment variable: never a download there
    monkeypatch.setenv("RECDYN_DATA_DIR", str(tmp_path))
    with pytest.raises(ds.DatasetError, match="unset RECDYN_DATA_DIR"):
        ds.ml100k_folds()
    # the cache with download=False says how to get it
    monkeypatch.delenv("RECDYN_DATA_DIR")
    monkeypatch.setattr(fetch_module, "default_cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(ds.DatasetError, match="download=True") as info:
        ds.load("lastfm-2k", download=False)
    assert "user_artists.dat" in str(info.value) and "RECDYN_DATA_DIR" in str(info.value)
    assert not (tmp_path / "cache").exists()


def test_other_ml_latest_small_editions_are_not_checked_against_2016_digests(tmp_path):
    shared = _need("ml-latest-small")
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    (folder / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,3.5,1445714835\n"
    )
    (folder / "movies.csv").write_text(
        'movieId,title,genres\n1,"Toy Story (1995)",Adventure|Animation\n'
    )
    (folder / "README.txt").write_text("This dataset was generated on September 26, 2018.\n")
    with pytest.warns(ds.DatasetWarning, match="edition 2018-09-26"):
        ml = ds.load("ml-latest-small", data_dir=tmp_path)
    assert (len(ml.interactions), ml.n_users, ml.n_items) == (2, 2, 1)
    # with the 2016 README the 2016 digests apply, and this ratings.csv is not the 2016 one
    shutil.copyfile(shared / "README.txt", folder / "README.txt")
    with pytest.raises(ds.ChecksumError, match=r"ratings\.csv"):
        ds.load("ml-latest-small", data_dir=tmp_path)


# ---------------------------------------------------------------- download path
BASE = "https://files.example.invalid"


@pytest.fixture
def served(tmp_path, monkeypatch) -> tuple[Path, list[str]]:
    """``tmp_path/www`` served at :data:`BASE` without a network: pooch's own HTTP downloader
    runs with its request replaced by a file copy (a missing file is an HTTP 404). Also
    unsets ``RECDYN_DATA_DIR`` and moves the cache to ``tmp_path/cache``. Yields the folder
    and the list of URLs requested."""
    www = tmp_path / "www"
    www.mkdir()
    seen: list[str] = []

    def get(self, url, output_file, pooch_obj, check_only=False):
        seen.append(url)
        source = www / url.removeprefix(f"{BASE}/")
        if not source.is_file():
            raise requests.exceptions.HTTPError(f"404 Client Error: Not Found for url: {url}")
        shutil.copyfile(source, output_file)

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", get)
    monkeypatch.delenv("RECDYN_DATA_DIR", raising=False)
    monkeypatch.setattr(fetch_module, "default_cache_dir", lambda: tmp_path / "cache")
    return www, seen


def _zip(path: Path, src: Path, files, prefix: str) -> str:
    """Write ``src/files`` into the zip ``path`` under ``prefix``; returns its SHA-256."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            zf.write(src / f, arcname=f"{prefix}{f}")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_ml1m_zip(www: Path) -> str:
    """Write a small ML-1M-format archive ``www/ml-1m.zip``; returns its SHA-256."""
    src = www.parent / "src" / "ml-1m"
    _write_fake_ml1m(src)
    return _zip(www / "ml-1m.zip", src, ML1M_FILES, "ml-1m/")


def _point_at(monkeypatch, name: str, fname: str, sha256: str | None) -> None:
    entry = dataclasses.replace(ds.ARCHIVES[name], url=f"{BASE}/{fname}", sha256=sha256)
    monkeypatch.setitem(ds.ARCHIVES, name, entry)


def test_download_verifies_extracts_and_loads_from_the_cache(served, tmp_path, monkeypatch):
    www, seen = served
    digest = _zip(www / "ml-100k.zip", _need("ml-100k"), ML100K_READ, "ml-100k/")
    _point_at(monkeypatch, "ml-100k", "ml-100k.zip", digest)
    ml = ds.load("ml-100k")
    assert (len(ml.interactions), ml.n_users, ml.n_items) == (100_000, 943, 1_682)
    cache = tmp_path / "cache"
    assert ml.path == cache / "ml-100k" and seen == [f"{BASE}/ml-100k.zip"]
    assert (cache / "ml-100k.zip").is_file() and (cache / "ml-100k" / "SHA256SUMS").is_file()
    assert sorted(p.name for p in cache.iterdir()) == ["ml-100k", "ml-100k.zip"]  # no temp
    ds.load("ml-100k")
    assert len(seen) == 1  # second load reads the cache
    shutil.rmtree(cache / "ml-100k")
    assert ds.load("ml-100k").n_users == 943 and len(seen) == 1  # re-extracted
    # the archive lacks the fold files: the error names the missing one
    with pytest.raises(ds.DatasetError, match=r"u1\.base"):
        ds.ml100k_folds()


def test_flat_archive_like_lastfm_is_extracted_into_its_folder(served, tmp_path, monkeypatch):
    www, _ = served
    src = _need("hetrec2011-lastfm-2k")
    digest = _zip(www / "lastfm.zip", src, ("user_artists.dat", "artists.dat"), "")
    _point_at(monkeypatch, "lastfm-2k", "lastfm.zip", digest)
    fm = ds.load("lastfm-2k")
    assert fm.path == tmp_path / "cache" / "hetrec2011-lastfm-2k" and fm.n_items == 17_632


def test_data_dir_is_read_without_any_download(served, tmp_path, monkeypatch):
    _, seen = served
    _write_fake_ml1m(tmp_path / "data" / "ml-1m")
    monkeypatch.setenv("RECDYN_DATA_DIR", str(tmp_path / "data"))
    ml = ds.load("ml-1m", verify=False)
    assert ml.path == tmp_path / "data" / "ml-1m"
    assert seen == [] and not (tmp_path / "cache").exists()


def test_downloaded_files_are_checked_against_sums_written_at_extraction(
    served, tmp_path, monkeypatch
):
    www, _ = served
    _point_at(monkeypatch, "ml-1m", "ml-1m.zip", _fake_ml1m_zip(www))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every file has a digest: the SHA256SUMS written
        assert len(ds.load("ml-1m").interactions) == 3
    path = tmp_path / "cache" / "ml-1m" / "ratings.dat"
    path.write_bytes(path.read_bytes().replace(b"::5::", b"::1::"))
    with pytest.raises(ds.ChecksumError) as info:
        ds.load("ml-1m")
    msg = str(info.value)
    assert str(path) in msg and "SHA256SUMS" in msg
    assert hashlib.sha256(path.read_bytes()).hexdigest() in msg
    assert ds.load("ml-1m", verify=False).interactions.rating[0] == 1.0


def test_corrupt_download_is_refused_and_leaves_no_file(served, tmp_path, monkeypatch):
    www, _ = served
    digest = _fake_ml1m_zip(www)
    wrong = "0" * 64
    _point_at(monkeypatch, "ml-1m", "ml-1m.zip", wrong)
    with pytest.raises(ds.ChecksumError) as info:
        ds.load("ml-1m")
    msg = str(info.value)
    assert wrong in msg and digest in msg and "ml-1m" in msg and "RECDYN_DATA_DIR" in msg
    assert list((tmp_path / "cache").rglob("*")) == []


def test_corrupt_cached_archive_is_downloaded_again(served, tmp_path, monkeypatch):
    www, seen = served
    _point_at(monkeypatch, "ml-1m", "ml-1m.zip", _fake_ml1m_zip(www))
    ds.load("ml-1m")
    cache = tmp_path / "cache"
    (cache / "ml-1m.zip").write_bytes(b"not the archive")
    shutil.rmtree(cache / "ml-1m")
    assert len(ds.load("ml-1m").interactions) == 3 and len(seen) == 2
    assert (cache / "ml-1m.zip").read_bytes() == (www / "ml-1m.zip").read_bytes()
    # a mismatching cached archive whose fresh download mismatches too: neither is kept
    (cache / "ml-1m.zip").write_bytes(b"not the archive")
    (www / "ml-1m.zip").write_bytes(b"not the archive either")
    shutil.rmtree(cache / "ml-1m")
    with pytest.raises(ds.ChecksumError):
        ds.load("ml-1m")
    assert list(cache.iterdir()) == []


def test_unknown_archive_checksum_warns_with_the_digest(served, tmp_path, monkeypatch):
    www, _ = served
    digest = _fake_ml1m_zip(www)
    _point_at(monkeypatch, "ml-1m", "ml-1m.zip", None)
    with pytest.warns(ds.DatasetWarning) as record:
        ml = ds.load("ml-1m")
    messages = " ".join(str(w.message) for w in record)
    assert digest in messages and "ratings.dat" in messages  # archive, then files unverified
    assert len(ml.interactions) == 3
    assert not (tmp_path / "cache" / "ml-1m" / "SHA256SUMS").exists()


def test_archive_that_is_not_a_zip_is_deleted(served, tmp_path, monkeypatch):
    www, _ = served
    (www / "ml-1m.zip").write_bytes(b"<html>moved</html>")
    _point_at(monkeypatch, "ml-1m", "ml-1m.zip", None)
    with pytest.warns(ds.DatasetWarning), pytest.raises(ds.DatasetError, match="not a valid zip"):
        ds.load("ml-1m")
    assert list((tmp_path / "cache").iterdir()) == []


def test_failed_download_is_a_dataset_error(served, tmp_path, monkeypatch):
    _, seen = served
    _point_at(monkeypatch, "ml-1m", "missing.zip", None)
    with pytest.raises(ds.DatasetError, match="could not download") as info:
        ds.load("ml-1m")
    msg = str(info.value)
    assert f"{BASE}/missing.zip" in msg and "404" in msg and "RECDYN_DATA_DIR" in msg
    assert seen == [f"{BASE}/missing.zip"] and list((tmp_path / "cache").rglob("*")) == []
