"""Learned pool allocation by a Gaussian mixture of experts (issue 20 item 5, thesis §4.4):
the offline split, the objective, the metrics, determinism, the random-pool baseline, bad
inputs, and a planted case that only a learned gate can solve."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from recdyn import bandits as B
from recdyn.bandits.labels import MultiLabelData
from recdyn.errors import InvalidParameterError, MissingDependencyError, NotFittedError

torch = pytest.importorskip("torch")

TINY = dict(n_experts=3, n_features=4, item_dim=3, steps=60, batch_size=128)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: tiny models only lose time to threads on a shared machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def split():
    data = B.synthetic_multilabel(700, d=12, n_arms=9, seed=1)
    return B.offline_split(data, per_arm=40, n_test=200, seed=1)


def planted(n_points: int = 2400, seed: int = 0) -> MultiLabelData:
    """Two features; arms 0–3 are thresholds of feature 0 (x > 1, x < -1, x > 0.5,
    x < -0.5), arms 4–7 the same of feature 1. With s = 1 each of two experts sees one
    feature, so an arm is predictable only by the expert that sees its feature, and the top
    arms of a point come from the feature of larger magnitude: the gate must route arms 0–3
    to one expert and 4–7 to the other; random pools (mixed) leave some arms at their base
    rate."""
    x = np.random.default_rng(seed).standard_normal((n_points, 2))
    sign = np.tile([1, -1, 1, -1], 2)
    cut = np.tile([1.0, 1.0, 0.5, 0.5], 2)
    feature = np.repeat([0, 1], 4)
    labels = sign * x[:, feature] > cut
    return MultiLabelData(x, labels, tuple(map(str, range(8))), np.arange(n_points))


def test_offline_split_draws_per_arm_examples_and_holds_out_the_test_points():
    data = B.synthetic_multilabel(500, d=6, n_arms=5, seed=2)
    train, test = B.offline_split(data, per_arm=30, n_test=100, seed=3)
    assert len(train) == 150 and np.array_equal(np.bincount(train.arm), [30] * 5)
    assert len(test) == 100 and test.labels.shape == (100, 5) and train.features.shape == (400, 6)
    # rewards are the labels; train pool and test points are the data's rows, disjoint
    rows = {tuple(r) for r in data.features.astype(np.float32)}
    pool = [tuple(r) for r in train.features]
    assert set(pool) <= rows and not set(pool) & {tuple(r) for r in test.features}
    lookup = {tuple(f): lab for f, lab in zip(data.features.astype(np.float32), data.labels)}
    expect = [lookup[pool[p]][a] for p, a in zip(train.point, train.arm)]
    assert np.array_equal(train.reward, np.array(expect, dtype=np.float32))
    for a in range(5):  # c distinct points per arm
        assert len(np.unique(train.point[train.arm == a])) == 30
    again = B.offline_split(data, per_arm=30, n_test=100, seed=3)
    assert np.array_equal(again.train.point, train.point)
    assert not np.array_equal(B.offline_split(data, 30, n_test=100, seed=4).train.point,
                              train.point)  # fmt: skip


def test_precision_recall_at_k_by_hand():
    scores = np.array([[0.9, 0.1, 0.5, 0.3], [0.2, 0.4, 0.6, 0.8], [1.0, 0.0, 0.0, 0.0],
                       [0.5, 0.5, 0.1, 0.5]])  # fmt: skip
    labels = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 1]], dtype=bool)
    p, r = B.precision_recall_at_k(scores, labels, 2)
    # top-2: {0, 2} → 1 hit of 2 positives; no positives → 0, 0; {0, 1}: ties to the
    # lower arm → 1 hit of 2; {0, 1} (three-way tie at 0.5) → 1 hit of 3
    np.testing.assert_allclose(p, [0.5, 0.0, 0.5, 0.5])
    np.testing.assert_allclose(r, [0.5, 0.0, 0.5, 1 / 3])
    p, r = B.precision_recall_at_k(scores, labels, 4)  # every arm: hits = positives
    np.testing.assert_allclose(p, [0.5, 0.0, 0.5, 0.75])
    np.testing.assert_allclose(r, [1.0, 0.0, 1.0, 1.0])


def test_model_metrics_are_the_ranking_of_its_mixture_mean(split):
    train, test = split
    model = B.MixtureOfExperts(**TINY).fit(train)
    scores = model.predict(test.features)
    mixture = (model.gate_weights(test.features) * model.expert_predictions(test.features)).sum(2)
    np.testing.assert_allclose(scores, mixture, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.gate_weights(test.features).sum(2), 1.0, rtol=1e-5)
    p, r = B.precision_recall_at_k(scores, test.labels, 5)
    out = model.precision_recall(test, k=5)
    assert out["precision"] == pytest.approx(p.mean()) and out["recall"] == pytest.approx(r.mean())
    assert out["precision_se"] == pytest.approx(p.std(ddof=1) / np.sqrt(len(p)))


@pytest.mark.parametrize("gate", ["learned", "random"])
def test_loss_decreases(split, gate):
    model = B.MixtureOfExperts(gate=gate, **{**TINY, "steps": 150}).fit(split.train)
    assert model.losses_.shape == (150,) and np.isfinite(model.losses_).all()
    assert model.losses_[-30:].mean() < 0.75 * model.losses_[:5].mean()
    assert np.isfinite(model.heldout_loss(split))


def test_same_seed_same_numbers_different_seed_different(split):
    fit = lambda seed: B.MixtureOfExperts(seed=seed, **TINY).fit(split.train)  # noqa: E731
    a, b, c = fit(5), fit(5), fit(6)
    assert np.array_equal(a.losses_, b.losses_)
    assert np.array_equal(a.predict(split.test.features), b.predict(split.test.features))
    assert a.precision_recall(split) == b.precision_recall(split)
    assert not np.array_equal(a.losses_, c.losses_)
    assert not np.array_equal(a.predict(split.test.features), c.predict(split.test.features))


def test_random_gate_is_the_pool_indicator_of_a_partition(split):
    train, test = split
    model = B.MixtureOfExperts(gate="random", **TINY).fit(train)
    pools = model.pools_
    assert len(pools) == 3 and sorted(np.concatenate(pools).tolist()) == list(range(9))
    assert max(map(len, pools)) - min(map(len, pools)) <= 1
    indicator = np.zeros((9, 3))
    for n, pool in enumerate(pools):
        indicator[pool, n] = 1.0
    weights = model.gate_weights(test.features)
    assert np.array_equal(weights, np.broadcast_to(indicator, weights.shape))
    own = (model.expert_predictions(test.features) * indicator).sum(2)
    np.testing.assert_allclose(model.predict(test.features), own, rtol=1e-6)
    assert model.features_.shape == (3, 4) and B.MixtureOfExperts(**TINY).fit(train).pools_ is None


def test_thesis_defaults_per_gate():
    common = dict(learning_rate=0.01, batch_size=4096, steps=50_000)
    assert B.thesis_defaults("learned", 10) == dict(optimizer="adam", sigma2=0.01, **common)
    assert B.thesis_defaults("learned", 50)["sigma2"] == 1.0
    assert B.thesis_defaults("random", 5) == dict(optimizer="rmsprop", sigma2=1.0, **common)
    with pytest.raises(InvalidParameterError, match="gate"):
        B.thesis_defaults("soft", 5)
    thesis = B.MixtureOfExperts(gate="random", item_dim=5, **B.thesis_defaults("random", 5))
    assert (thesis.batch_size, thesis.steps, thesis.optimizer_) == (4096, 50_000, "rmsprop")
    moe = B.MixtureOfExperts(gate="random", item_dim=5)
    assert (moe.optimizer_, moe.sigma2_, moe.learning_rate_) == ("rmsprop", 1.0, 0.01)
    moe = B.MixtureOfExperts(optimizer="rmsprop", sigma2=0.5, learning_rate=0.1)
    assert (moe.optimizer_, moe.sigma2_, moe.learning_rate_) == ("rmsprop", 0.5, 0.1)
    assert moe.batch_size == B.moe.BATCH_SIZE and moe.steps == B.moe.STEPS


def small() -> MultiLabelData:
    return B.synthetic_multilabel(50, d=3, n_arms=4)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda s: B.MixtureOfExperts(n_experts=0), "n_experts"),
        (lambda s: B.MixtureOfExperts(gate="soft"), "gate"),
        (lambda s: B.MixtureOfExperts(optimizer="sgd"), "optimizer"),
        (lambda s: B.MixtureOfExperts(sigma2=0.0), "sigma2"),
        (lambda s: B.MixtureOfExperts(n_features=13).fit(s.train), "n_features"),
        (lambda s: B.MixtureOfExperts(n_experts=10, n_features=2).fit(s.train), "n_experts"),
        (lambda s: B.MixtureOfExperts(**TINY).fit(s.train).precision_recall(s.test, k=10), "k"),
        (lambda s: B.MixtureOfExperts(**TINY).fit(s.test), "train"),
        (lambda s: B.offline_split(small(), 0, n_test=10), "per_arm"),
        (lambda s: B.offline_split(small(), 41, n_test=10), "per_arm"),  # 40 training points
        (lambda s: B.offline_split(small(), 5, n_test=50), "n_test"),
        (lambda s: B.offline_split(small().labels, 5), "data"),
        (lambda s: B.precision_recall_at_k(np.zeros((2, 3)), np.zeros((2, 3)), 4), "k"),
    ],
)
def test_bad_inputs_name_the_argument(split, make, name):
    with pytest.raises(InvalidParameterError, match=name):
        make(split)


def test_unfitted_and_missing_torch(split, monkeypatch):
    with pytest.raises(NotFittedError):
        B.MixtureOfExperts().predict(split.test.features)
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(MissingDependencyError, match="torch"):
        B.MixtureOfExperts(**TINY).fit(split.train)


def test_learned_gate_routes_arms_to_the_expert_that_sees_their_feature():
    train, test = B.offline_split(planted(), per_arm=300, n_test=800, seed=0)
    common = dict(n_experts=2, n_features=1, item_dim=2, steps=400, batch_size=256, seed=0)
    random = B.MixtureOfExperts(gate="random", **common).fit(train)
    # the seed's random pools mix the two groups, so random pools cannot solve it
    assert all(len(set(p // 4)) == 2 for p in random.pools_)
    random_p = random.precision_recall(test, k=2)["precision"]
    for gate_features in ("none", "own", "all"):
        # σ² = 1: at 0.01 the mixture fits the 0/1 rewards by a constant-0 and a
        # constant-1 expert (module doc), whatever the features
        moe = B.MixtureOfExperts(gate_features=gate_features, sigma2=1.0, **common).fit(train)
        learned_p = moe.precision_recall(test, k=2)["precision"]
        assert learned_p > random_p + 0.15, (gate_features, learned_p, random_p)
        if gate_features == "none":  # the learned pools are the feature groups
            sees = moe.features_[:, 0]  # expert n sees feature sees[n]
            assert sorted(sees) == [0, 1]
            right = np.array([np.flatnonzero(sees == a // 4)[0] for a in range(8)])
            weights = moe.gate_weights(test.features)
            assert np.allclose(weights, weights[:1])  # no context in the gate
            assert (weights[0, np.arange(8), right] > 0.9).all(), weights[0]


@pytest.mark.parametrize("gate, gate_features", [("learned", "own"), ("learned", "all"),
                                                 ("random", "none")])  # fmt: skip
def test_both_layouts_fit_the_same_model(split, monkeypatch, gate, gate_features):
    model = B.MixtureOfExperts(gate=gate, gate_features=gate_features, **TINY)
    monkeypatch.setattr(B.moe, "_WIDE", 10**6)
    narrow = model.clone().fit(split.train)
    monkeypatch.setattr(B.moe, "_WIDE", 0)
    wide = model.clone().fit(split.train)
    assert wide.module_.wide and not narrow.module_.wide
    np.testing.assert_allclose(wide.losses_, narrow.losses_, rtol=1e-4)
    x = split.test.features
    np.testing.assert_allclose(wide.predict(x), narrow.predict(x), rtol=1e-3, atol=1e-5)
