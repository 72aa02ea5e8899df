"""Every path of ``top_k`` (blocks, sparse exclusion, shared rows) returns exactly what the
one-block dense computation returns, with the same draws from the generator."""

import numpy as np
import pytest
import scipy.sparse as sp

import recdyn.policies.topk as top_k_module
from recdyn.policies.topk import _top_k_dense, top_k


def _case(seed, n, m, shared, ties, density):
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 4 if ties else 10**6, size=m).astype(np.float32)
    if shared:
        scores = np.broadcast_to(levels, (n, m))
    else:
        scores = rng.integers(0, 4 if ties else 10**6, size=(n, m)).astype(np.float32)
    exclude = rng.random((n, m)) < density
    return scores, exclude


def _same(scores, k, exclude, given, seed=7):
    expected_rng, got_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = _top_k_dense(scores, k, exclude, expected_rng)
    got = top_k(scores, k, given, got_rng)
    np.testing.assert_array_equal(got, expected)
    assert got_rng.random() == expected_rng.random()  # the same number of draws


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("density", [0.0, 0.3, 0.97])
def test_sparse_blocked_and_shared_paths_match_dense(monkeypatch, k, shared, ties, density):
    monkeypatch.setattr(top_k_module, "BLOCK_CELLS", 7 * 40)  # 7 rows a block
    monkeypatch.setattr(top_k_module, "STREAM_CELLS", 10**9)  # the blocked dense path
    for seed in range(4):
        scores, exclude = _case(seed, 30, 40, shared, ties, density)
        _same(scores, k, exclude, sp.csr_array(exclude))
        _same(scores, k, exclude, exclude)
        _same(scores, k, None, None)


def test_shared_path_handles_users_with_few_allowed_items():
    scores = np.broadcast_to(np.arange(10, dtype=np.float32), (4, 10))
    exclude = np.zeros((4, 10), bool)
    exclude[0] = True  # nothing allowed
    exclude[1, :9] = True  # one allowed
    exclude[2, [9, 7]] = True
    _same(scores, 3, exclude, sp.csr_array(exclude))


def test_non_finite_shared_scores_take_the_dense_path():
    row = np.array([np.nan, 1.0, -np.inf, 3.0, np.inf], np.float64)
    scores = np.broadcast_to(row, (3, 5))
    exclude = np.eye(3, 5, dtype=bool)
    _same(scores, 2, exclude, sp.csr_array(exclude))


def test_sparse_exclusion_with_explicit_zeros_and_duplicates():
    scores = np.broadcast_to(np.arange(6, dtype=np.float32), (2, 6))
    coo = sp.coo_array(
        (np.array([1, 1, 0], bool), (np.array([0, 0, 1]), np.array([5, 5, 4]))), shape=(2, 6)
    )
    dense = coo.toarray().astype(bool)
    _same(scores, 1, dense, coo)


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("density", [0.0, 0.3, 1.0])
def test_streamed_top_1_matches_dense(monkeypatch, shared, ties, density):
    monkeypatch.setattr(top_k_module, "STREAM_CELLS", 0)
    monkeypatch.setattr(top_k_module, "BLOCK_CELLS", 5 * 40)
    for seed in range(4):
        scores, exclude = _case(seed, 30, 40, shared, ties, density)
        _same(scores, 1, exclude, sp.csr_array(exclude))
        _same(scores, 1, exclude, exclude)
        _same(scores, 1, None, None)


def test_streamed_top_1_with_non_finite_scores(monkeypatch):
    monkeypatch.setattr(top_k_module, "STREAM_CELLS", 0)
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        scores = rng.integers(0, 3, size=(25, 6)).astype(dtype)
        scores[rng.random(scores.shape) < 0.2] = np.nan
        scores[rng.random(scores.shape) < 0.1] = -np.inf
        scores[rng.random(scores.shape) < 0.05] = np.inf
        exclude = rng.random(scores.shape) < 0.4
        _same(scores, 1, exclude, sp.csr_array(exclude))
        _same(scores, 1, None, None)
        _same(scores[:, :1], 1, exclude[:, :1], exclude[:, :1])
