"""Seed 004's metrics: CD, TP, RD, RR and creator clusters, on hand-made states."""

import numpy as np
import pytest

import recdyn
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.metrics import StepContext, online_metrics
from recdyn.metrics.polarization import (
    CreatorClusters,
    CreatorDiversity,
    Polarization,
    RecommendationDiversity,
    RecommendationRelevance,
    creator_vectors,
)

NAMES = [
    "creator_diversity",
    "polarization",
    "recommendation_diversity",
    "recommendation_relevance",
    "creator_clusters",
]


class CreatorWorld:
    """A stand-in world with creators: item features and each item's creator."""

    def __init__(self, features, creators=None):
        self.features = None if features is None else np.asarray(features, float)
        n = 0 if self.features is None else len(self.features)
        self.item_creators = np.arange(n) if creators is None else np.asarray(creators)

    def item_features(self):
        return self.features


def ctx(env=None, probabilities=None, truth=None):
    n = 0 if probabilities is None else len(probabilities)
    return StepContext(
        1,
        np.arange(n),
        np.zeros((n, 1), np.int64),
        Interactions.empty(),
        truth=truth,
        environment=env,
        probabilities=probabilities,
    )


def unit(rows):
    x = np.asarray(rows, float)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_the_metrics_are_registered():
    assert set(NAMES) <= set(online_metrics.names())


def test_bi_polarized_creators_have_tp_one_and_two_clusters():
    w = unit([[1, 2, 3]])[0]
    world = CreatorWorld([w, w, -w, -w])
    c = ctx(world)
    assert Polarization()(c) == pytest.approx(1.0)
    assert CreatorDiversity()(c) == pytest.approx(8 / 6)  # 2 pairs at 0, 4 pairs at 2
    assert CreatorClusters()(c) == 2.0
    assert CreatorClusters()(ctx(CreatorWorld([w, w, w]))) == 1.0


def test_orthogonal_creators_have_tp_zero_and_cd_sqrt_two():
    c = ctx(CreatorWorld(np.eye(4)))
    assert Polarization()(c) == pytest.approx(0.0)
    assert CreatorDiversity()(c) == pytest.approx(np.sqrt(2))
    assert CreatorClusters()(c) == 4.0
    assert CreatorClusters(epsilon=1.5)(c) == 1.0  # cosine 0 > 1 - 1.5 joins them all


def test_uniform_random_creators_in_ten_dimensions_match_the_seed_values():
    x = unit(np.random.default_rng(0).normal(size=(2000, 10)))
    c = ctx(CreatorWorld(x))
    assert CreatorDiversity()(c) == pytest.approx(1.3948, abs=0.005)  # paper: 1.40
    assert Polarization()(c) == pytest.approx(0.2587, abs=0.005)  # paper: 0.27


def test_items_are_grouped_by_creator_into_mean_directions():
    features = [[1, 0], [0, 1], [0, -1], [0, -3]]
    world = CreatorWorld(features, creators=[0, 0, 1, 1])
    np.testing.assert_allclose(creator_vectors(world), [[2**-0.5, 2**-0.5], [0, -1]])
    assert Polarization()(ctx(world)) == pytest.approx(2**-0.5)


def test_recommendation_diversity_and_relevance_on_a_hand_made_distribution():
    x = np.eye(3)
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 0.0]])  # the last: nothing
    truth = np.array([[1.0, -1.0, 0.5], [0.0, 1.0, 1.0], [9.0, 9.0, 9.0]])
    c = ctx(CreatorWorld(x), p, truth)
    s2 = np.sqrt(2)
    rd = [2 * 0.25 * s2, 2 * (0.06 + 0.1 + 0.15) * s2]
    assert RecommendationDiversity()(c) == pytest.approx(np.mean(rd))
    assert RecommendationRelevance()(c) == pytest.approx(np.mean([0.0, 0.8]))
    one_hot = ctx(CreatorWorld(x), np.eye(3), truth)
    assert RecommendationDiversity()(one_hot) == 0.0
    nobody = ctx(CreatorWorld(x), np.zeros((2, 3)), truth[:2])
    assert np.isnan(RecommendationRelevance()(nobody))


def test_clear_errors_without_creators_features_or_probabilities():
    with pytest.raises(InvalidParameterError, match="creator_diversity needs a world with"):
        CreatorDiversity()(ctx(CreatorWorld(None)))
    no_creators = CreatorWorld(np.eye(3))
    no_creators.item_creators = None
    with pytest.raises(InvalidParameterError, match="polarization needs a world with creators"):
        Polarization()(ctx(no_creators))
    env = recdyn.make("latent-static-v1", n_users=10, n_items=5, n_initial_ratings=5)
    env.reset(seed=0)
    with pytest.raises(InvalidParameterError, match="latent-static-v1 has none"):
        CreatorClusters()(ctx(env))
    with pytest.raises(InvalidParameterError, match="first-slot probabilities"):
        RecommendationRelevance()(ctx(CreatorWorld(np.eye(3)), None, np.zeros((2, 3))))


@pytest.mark.parametrize("epsilon", [-0.1, 2.5])
def test_creator_clusters_rejects_epsilon_outside_zero_two(epsilon):
    with pytest.raises(InvalidParameterError, match="epsilon"):
        CreatorClusters(epsilon=epsilon)


def test_the_metrics_inside_a_dual_influence_run():
    traj = recdyn.simulate(
        "dual-influence-v1", "oracle", "softmax", steps=300, seed=0, metrics=NAMES
    )
    m = traj.metrics
    assert m["creator_diversity"].iloc[0] == pytest.approx(1.395, abs=0.03)
    assert m["polarization"].iloc[0] == pytest.approx(0.26, abs=0.03)
    assert m["creator_clusters"].iloc[0] == 50
    assert ((m["recommendation_relevance"] >= -1) & (m["recommendation_relevance"] <= 1)).all()
    assert m["polarization"].iloc[-1] > m["polarization"].iloc[0]


def test_top_one_truncation_keeps_creators_apart():
    traj = recdyn.simulate(
        "dual-influence-v1",
        "oracle",
        recdyn.policies.make("truncated", m=1),
        steps=100,
        seed=0,
        metrics=NAMES,
    )
    last = traj.metrics.iloc[-1]
    assert last["recommendation_diversity"] == 0.0
    assert last["polarization"] < 0.35


def test_cluster_count_matches_scipy_connected_components():
    """The label propagation behind creator_clusters against scipy's graph components."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    from recdyn.metrics import polarization

    rng = np.random.default_rng(0)
    for n, density in [(1, 0.0), (7, 0.0), (30, 0.05), (50, 0.02), (40, 0.3), (60, 0.01)]:
        upper = np.triu(rng.random((n, n)) < density, 1)
        adjacency = upper | upper.T
        expected, _ = connected_components(csr_matrix(adjacency), directed=False)
        assert polarization.count_components(adjacency) == expected, (n, density)
