"""Multi-label data for the bandits (issue 20 item 1): the synthetic generator's statistics
against AmazonCat-13K's published ones (L2371, L2503–2505), the Last.fm-2K proxy's against
wave2_scoping §B's measurements, and the multi-label world's rounds."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from recdyn import bandits as B
from recdyn.errors import InvalidParameterError

LASTFM = Path(os.environ.get("RECDYN_DATA_DIR", "/nonexistent")) / "hetrec2011-lastfm-2k"


def test_power_law_is_calibrated_to_amazoncat():
    p = B.power_law_frequencies(100)
    t = B.AMAZONCAT_TARGETS
    assert p.mean() == pytest.approx(t["positivity"])
    assert p[:5].sum() / p.sum() == pytest.approx(t["top5_share"], abs=1e-8)
    assert p[50:].sum() / p.sum() == pytest.approx(t["bottom50_share"], abs=1e-8)
    assert np.all(np.diff(p) < 0) and np.all(np.diff(B.power_law_frequencies(300)) < 0)
    np.testing.assert_allclose(B.power_law_frequencies(300)[:100], p)
    with pytest.raises(InvalidParameterError, match="positivity"):
        B.power_law_frequencies(100, positivity=0.5)


def test_synthetic_multilabel_reproduces_amazoncat_statistics():
    data = B.synthetic_multilabel(10_000, d=32, n_arms=100, seed=0)
    stats = B.label_statistics(data.labels)
    t = B.AMAZONCAT_TARGETS
    print("synthetic:", {k: round(v, 4) for k, v in stats.items()}, "targets:", t)
    assert stats["positivity"] == pytest.approx(t["positivity"], abs=0.002)
    assert stats["top5_share"] == pytest.approx(t["top5_share"], abs=0.01)
    assert stats["bottom50_share"] == pytest.approx(t["bottom50_share"], abs=0.01)
    assert 0.01 < stats["uncovered"] < t["uncovered"]
    assert data.features.shape == (10_000, 32) and data.labels.shape == (10_000, 100)
    assert abs(data.features.mean()) < 1e-12 and data.features.std() == pytest.approx(1.0)
    # low-rank structure: the labels are linearly predictable from the features
    x = np.c_[data.features, np.ones(10_000)]
    coef = np.linalg.lstsq(x[:5000], data.labels[:5000, :5].astype(float), rcond=None)[0]
    pred, y = x[5000:] @ coef, data.labels[5000:, :5]
    assert all(np.corrcoef(pred[:, a], y[:, a])[0, 1] > 0.3 for a in range(5))
    small = B.synthetic_multilabel(300, 32, 100, seed=0)
    np.testing.assert_array_equal(small.labels, B.synthetic_multilabel(300, 32, 100, 0).labels)
    assert not np.array_equal(B.synthetic_multilabel(300, 32, 100, seed=1).labels, small.labels)
    with pytest.raises(InvalidParameterError, match="common"):
        B.synthetic_multilabel(10, common=0.9, label_signal=0.5)
    with pytest.raises(InvalidParameterError, match="n_points"):
        B.synthetic_multilabel(0)


@pytest.mark.skipif(not LASTFM.is_dir(), reason="needs RECDYN_DATA_DIR with Last.fm 2K")
def test_lastfm_multilabel_reproduces_the_measured_statistics():
    data = B.lastfm_multilabel(dim=8)
    stats = B.label_statistics(data.labels)
    print("lastfm:", data.n_points, "points", {k: round(v, 4) for k, v in stats.items()})
    assert data.n_points == 2818 and data.labels.shape == (2818, 100)
    assert stats["uncovered"] == pytest.approx(1 - 0.970, abs=0.0006)
    assert stats["positivity"] == pytest.approx(0.084, abs=0.0006)
    assert stats["top5_share"] == pytest.approx(0.148, abs=0.0006)
    assert stats["bottom50_share"] == pytest.approx(0.272, abs=0.0006)
    assert data.names[:3] == ("pop", "indie", "electronic")  # rock, alternative dropped
    assert data.features.shape == (2818, 8) and np.isfinite(data.features).all()


def test_multilabel_world_arm_a_shows_a_sampled_point_with_label_a():
    world = B.MultiLabelWorld(n_arms=30, dim=6, n_points=500, data_seed=3)
    data = world.data
    assert data.labels.shape == (500, 30)
    run = world.start([0, 1])
    rnd = run.next_round()
    pts = rnd.points  # [B, K], one point per arm
    np.testing.assert_array_equal(rnd.means, data.labels[pts, np.arange(30)])
    np.testing.assert_array_equal(rnd.take(), data.features[pts])
    feats = np.array([[1, 4], [0, 5]])
    np.testing.assert_array_equal(rnd.take(None, feats)[1], data.features[pts[1]][:, [0, 5]])
    many = np.stack([run.next_round().means for _ in range(300)])
    np.testing.assert_allclose(many.mean(axis=(0, 1)), data.labels.mean(axis=0), atol=0.06)


def test_a_learner_beats_uniform_on_the_synthetic_multilabel_world():
    world = B.MultiLabelWorld(n_arms=20, dim=32, n_points=3000)
    systems = [B.SingleStage(B.LinUCB(alpha=0.1)), B.SingleStage(B.Uniform())]
    frame = B.run_bandit(world, systems, 300, range(4), every=300)
    ucb, unif = frame.groupby("config").relative_regret.mean()
    assert ucb < 0.9 < unif
