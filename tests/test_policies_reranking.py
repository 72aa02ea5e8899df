"""Re-rankers for competing objectives (issue 21 item 3): calibration (Steck 2018), MMR
and a popularity penalty — their objectives on hand-made cases, composition with a
stochastic policy (the policy checker on softmax bases), and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from recdyn import policies
from recdyn.errors import InvalidParameterError
from recdyn.policies import CalibratedReRanker, MMRReRanker, PopularityPenalty
from recdyn.testing import parametrize_with_checks


class World:
    """Six items: 0–3 in category 0, 4–5 in category 1; item i rated by i users of 10."""

    n_items, n_users = 6, 10
    repeat_consumption = False

    def item_categories(self) -> np.ndarray:
        return np.eye(2)[[0, 0, 0, 0, 1, 1]]

    def item_features(self) -> np.ndarray:
        return np.eye(2)[[0, 0, 0, 0, 1, 1]] + 0.01 * np.arange(6)[:, None]

    def rated_mask(self, users: np.ndarray) -> np.ndarray:
        return np.arange(self.n_users)[np.asarray(users), None] < np.arange(self.n_items)


SCORES = np.array([[5.0, 4.9, 4.8, 4.7, 3.0, 2.0], [5.0, 4.9, 4.8, 4.7, 3.0, 2.0]])
RNG = np.random.default_rng(0)


def _slate(policy, exclude=None, k=3):
    return policy.attach(World()).select(SCORES, k, exclude, RNG).slates


def test_tradeoff_zero_is_the_base_ranking():
    for cls in (CalibratedReRanker, MMRReRanker, PopularityPenalty):
        p = cls(tradeoff=0.0).attach(World())
        assert np.array_equal(p.reranked_scores(SCORES), SCORES)
        assert _slate(cls(tradeoff=0.0)).tolist() == [[0, 1, 2], [0, 1, 2]]


def test_calibration_matches_the_list_to_the_history():
    # user 0's history (excluded, i.e. rated): item 3 (category 0) and item 5 (category 1):
    # half and half; user 1 has none and keeps the relevance ranking.
    exclude = np.zeros_like(SCORES, bool)
    exclude[0, [3, 5]] = True
    assert _slate(CalibratedReRanker(tradeoff=0.0), exclude, 2)[0].tolist() == [0, 1]
    calibrated = _slate(CalibratedReRanker(tradeoff=0.9), exclude, 2)
    assert calibrated[0].tolist() == [0, 4]  # one item of each category, the best of each
    assert calibrated[1].tolist() == [0, 1]


def test_mmr_trades_relevance_for_dissimilarity():
    assert _slate(MMRReRanker(tradeoff=0.6)).tolist()[0] == [0, 4, 1]
    assert _slate(MMRReRanker(tradeoff=0.6, similarity="features")).tolist()[0] == [0, 4, 1]


def test_popularity_penalty_prefers_the_less_rated():
    # scores favour the popular items: relevance over the pool 0, .333, .9, .933, .967, 1
    # (items 0…5), popularity share i/5; λ = .5 values 0, .067, .25, .167, .083, 0
    scores = SCORES[:, ::-1].copy()
    picks = {lam: PopularityPenalty(tradeoff=lam).attach(World()).select(scores, 2, None, RNG)
             .slates[0].tolist() for lam in (0.0, 0.5, 1.0)}  # fmt: skip
    assert picks == {0.0: [5, 4], 0.5: [2, 3], 1.0: [0, 1]}


def test_reordered_scores_keep_the_pool_scores_and_the_rest():
    p = MMRReRanker(tradeoff=0.6, pool=4, depth=3).attach(World())
    out = p.reranked_scores(SCORES)
    assert np.allclose(np.sort(out[0, :4]), np.sort(SCORES[0, :4]), rtol=0, atol=1e-12)
    assert np.array_equal(out[:, 4:], SCORES[:, 4:])
    assert len(np.unique(out[0, :4])) == 4  # ties split: the order is the re-ranked one


STOCHASTIC = [
    CalibratedReRanker(base_policy="softmax"),
    MMRReRanker(base_policy="softmax"),
    PopularityPenalty(base_policy="epsilon-greedy"),
]


@parametrize_with_checks(STOCHASTIC)
def test_stochastic_bases(component, check):
    check(component)


@pytest.mark.parametrize("name", ["calibrated", "mmr", "popularity-penalty"])
def test_bad_parameters_are_named(name):
    with pytest.raises(InvalidParameterError, match="tradeoff"):
        policies.make(name, tradeoff=1.5)
    with pytest.raises(InvalidParameterError, match="pool"):
        policies.make(name, pool=0)
    with pytest.raises(InvalidParameterError, match="pool=2 is smaller than the slate"):
        _slate(policies.make(name, pool=2))
    with pytest.raises(InvalidParameterError, match="depth=2 is smaller than the slate"):
        _slate(policies.make(name, depth=2))
    with pytest.raises(InvalidParameterError, match="call attach"):
        policies.make(name, tradeoff=0.5).select(SCORES, 2)


def test_worlds_without_what_the_objective_reads():
    class Bare(World):
        spec = type("Spec", (), {"name": "bare-v1"})()

        def item_categories(self):
            return None

    class Partial(World):
        spec = type("Spec", (), {"name": "partial-v1"})()

        def item_categories(self):
            c = super().item_categories()
            c[2] = 0
            return c

    class Repeating(World):
        spec = type("Spec", (), {"name": "repeat-v1"})()
        repeat_consumption = True

    with pytest.raises(InvalidParameterError, match=r"item categories.*bare-v1 has none"):
        CalibratedReRanker().attach(Bare())
    with pytest.raises(InvalidParameterError, match=r"1 items of partial-v1 have none"):
        MMRReRanker().attach(Partial())
    with pytest.raises(InvalidParameterError, match="repeat consumption"):
        CalibratedReRanker().attach(Repeating())
    MMRReRanker(similarity="features").attach(Bare())  # features need no categories


def test_in_the_loop_calibration_lowers_miscalibration_and_mmr_raises_ild():
    import recdyn

    env = dict(n_users=60, n_items=120, n_topics=6, n_initial_ratings=1000)
    runs = {
        name: recdyn.simulate(
            recdyn.make("topics-static-v1", **env),
            "item-knn",
            policy,
            steps=6,
            k=5,
            seed=1,
            metrics=("miscalibration", "ild", "mean_rating"),
        ).metrics
        for name, policy in {
            "greedy": "greedy",
            "calibrated": CalibratedReRanker(tradeoff=0.9),
            "mmr": MMRReRanker(tradeoff=0.5),
        }.items()
    }
    mean = {name: m.mean() for name, m in runs.items()}
    assert mean["calibrated"]["miscalibration"] < 0.5 * mean["greedy"]["miscalibration"]
    assert mean["mmr"]["ild"] > mean["greedy"]["ild"]
