"""TwoStageRecommender: nominators over item pools and a ranker (issue 20 item 6)."""

import numpy as np
import pytest

import recdyn
from recdyn.errors import CheckError, InvalidParameterError, SpecError
from recdyn.experiments import load_spec, make_plan
from recdyn.experiments.spec import parse_toml
from recdyn.interactions import Interactions
from recdyn.metrics.checker import check_online_metric
from recdyn.metrics.two_stage import NominatorRegret, RankerRegret
from recdyn.policies import make as make_policy
from recdyn.recommenders import TopPop, check_recommender, make
from recdyn.recommenders.check_context import synthetic_ratings
from recdyn.recommenders.two_stage import NOT_NOMINATED, TwoStageRecommender
from recdyn.testing import parametrize_with_checks

N_USERS, N_ITEMS = 30, 40
DATA = synthetic_ratings(N_USERS, N_ITEMS, seed=0)


def fitted(**params):
    return make("two-stage", **{"seed": 0, **params}).fit(DATA, N_USERS, N_ITEMS)


def small_world():
    return recdyn.environments.make(
        "latent-static-v1",
        n_users=60,
        n_items=80,
        latent_dim=8,
        n_initial_ratings=600,
        users_per_step=12,
    )


# ------------------------------------------------------------------ the contract
# (the registered default, ("mf-als", "item-knn") → "ease", is checked with every
# registered recommender in test_check_recommender.py)
@parametrize_with_checks(
    [
        make(
            "two-stage",
            nominators=["toppop", {"name": "mf-als", "params": {"n_factors": 4}}],
            ranker="baseline",
            n_candidates=3,
            training="own",
            exclude_rated=False,
        ),
        make("two-stage", nominators=["item-knn"], ranker="oracle", pools="all"),
    ]
)
def test_two_stage_passes_the_recommender_checks(component, check):
    check(component)


def test_explicit_pools_pass_the_checks_and_instances_are_cloned():
    nominator = make("pmf", n_factors=4)
    rec = TwoStageRecommender(
        nominators=[nominator, "toppop"], ranker=TopPop(), pools=np.arange(N_ITEMS) % 2
    )
    check_recommender(rec)
    assert not hasattr(nominator, "n_items_")  # the instance given was not fitted
    model = rec.clone(seed=3).fit(DATA, N_USERS, N_ITEMS)
    assert model.nominators_[0] is not nominator and model.nominators_[0].seed is not None
    np.testing.assert_array_equal(model.nominator_of, np.arange(N_ITEMS) % 2)


# ------------------------------------------------------------------ pools and candidates
def test_random_pools_partition_the_items_by_seed():
    a = fitted(nominators=["toppop"] * 3).nominator_of
    assert a.shape == (N_ITEMS,) and set(a) == {0, 1, 2}
    sizes = np.bincount(a)
    assert sizes.max() - sizes.min() <= 1
    np.testing.assert_array_equal(a, fitted(nominators=["toppop"] * 3).nominator_of)
    assert not np.array_equal(a, fitted(nominators=["toppop"] * 3, seed=1).nominator_of)
    assert (fitted(pools="all").nominator_of == -1).all()


@pytest.mark.parametrize("exclude_rated", [True, False])
def test_candidates_lie_in_the_pools_at_most_c_each_and_only_they_are_ranked(exclude_rated):
    c, n = 4, 3
    rec = fitted(
        nominators=["toppop", "mf-als", "item-knn"],
        ranker="toppop",
        n_candidates=c,
        exclude_rated=exclude_rated,
    )
    users = np.arange(N_USERS)
    cand = rec.candidates(users)
    assert cand.shape == (N_USERS, N_ITEMS) and cand.dtype == bool
    assert (cand.sum(axis=1) <= n * c).all()
    pools = rec.nominator_of
    for i in range(n):  # exactly c of each pool (every pool holds more than c items)
        assert (cand[:, pools == i].sum(axis=1) == c).all()
    scores = rec.score(users)
    ranker = rec.ranker_.score(users)
    np.testing.assert_array_equal(scores[cand], ranker[cand])
    assert (scores[~cand] == NOT_NOMINATED).all() and np.isfinite(scores).all()
    assert rec.last_candidates_[1] is not None and np.array_equal(rec.last_candidates_[1], cand)
    if exclude_rated:  # each pool has more than c unrated items for every user here
        rated = DATA.to_csr(N_USERS, N_ITEMS).toarray() != 0
        assert not (cand & rated).any()


def test_one_nominator_over_all_items_ranks_as_the_ranker():
    rec = fitted(nominators=["mf-als"], ranker="item-knn", pools="all", n_candidates=N_ITEMS)
    users = np.arange(N_USERS)
    assert rec.candidates(users).all()
    ranker = rec.ranker_.score(users)
    np.testing.assert_array_equal(rec.score(users).argmax(axis=1), ranker.argmax(axis=1))
    np.testing.assert_array_equal(rec.score(users), ranker)
    pairs = (DATA.user[:10], DATA.item[:10])
    np.testing.assert_array_equal(rec.predict(*pairs), rec.ranker_.predict(*pairs))


def test_a_user_who_rated_every_candidate_gets_a_uniform_non_candidate():
    """exclude_rated=False: once the policy excludes all of a user's candidates, every
    allowed item is tied at the floor, so softmax and greedy pick uniformly among them."""
    rec = fitted(exclude_rated=False, n_candidates=2)
    cand = rec.candidates([0])
    probs = make_policy("softmax").probabilities(rec.score([0]), exclude=cand)
    expected = np.where(cand, 0.0, 1.0 / (N_ITEMS - cand.sum()))
    np.testing.assert_allclose(probs, expected)
    # exclude_rated=True: nominators pass over what the user rated (partial_fit included)
    rec = fitted(n_candidates=2)
    before = rec.candidates([0])[0]
    items = np.flatnonzero(before)
    rec.partial_fit(Interactions(np.zeros(len(items), np.int64), items, np.full(len(items), 5.0)))
    assert not (rec.candidates([0])[0] & before).any()


def test_own_training_fits_each_nominator_on_its_pool():
    rec = fitted(nominators=["toppop", "toppop"], training="own")
    pools = rec.nominator_of
    for i, part in enumerate(rec.nominators_):
        assert (pools[part.data_.item] == i).all()
        assert len(part.data_) == np.count_nonzero(pools[DATA.item] == i)
    assert len(rec.ranker_.data_) == len(DATA)


def test_items_added_extend_the_pools_and_reach_every_part():
    rec = fitted(nominators=["toppop", "mf-als"], ranker="toppop")
    rec.items_added(N_ITEMS + 5)
    assert rec.nominator_of.shape == (N_ITEMS + 5,)
    assert set(rec.nominator_of[N_ITEMS:]) <= {0, 1}
    assert all(p.n_items_ == N_ITEMS + 5 for p in (*rec.nominators_, rec.ranker_))
    assert rec.score([0, 1]).shape == (2, N_ITEMS + 5)
    rec.items_changed([0, N_ITEMS + 1])
    explicit = fitted(nominators=["toppop"] * 3, pools=np.arange(N_ITEMS) % 3)
    explicit.items_added(N_ITEMS + 4)
    np.testing.assert_array_equal(explicit.nominator_of[N_ITEMS:], np.arange(40, 44) % 3)


# ------------------------------------------------------------------ in the loop
def test_simulate_runs_reproducibly_and_the_regret_splits():
    metrics = ["regret", "nominator_regret", "ranker_regret"]
    kwargs = dict(policy="softmax", seed=3, metrics=metrics)
    a = recdyn.simulate(small_world(), "two-stage", steps=20, **kwargs)
    t = a.metrics
    assert len(t) == 20 and np.isfinite(t["regret"]).all()
    split = t["nominator_regret"] + t["ranker_regret"]
    np.testing.assert_allclose(split, t["regret"], atol=1e-5)
    assert (t["nominator_regret"] >= -1e-6).all() and (t["ranker_regret"] >= -1e-6).all()
    assert a.info["recommender"]["name"] == "two-stage"
    # same seed, same numbers: a shorter run is the longer one's beginning
    b = recdyn.simulate(small_world(), "two-stage", steps=8, **kwargs)
    columns = ["regret", "nominator_regret", "ranker_regret", "n_ratings"]
    np.testing.assert_array_equal(t[columns].to_numpy()[:8], b.metrics[columns].to_numpy())
    n = len(b.interactions)
    np.testing.assert_array_equal(a.interactions.item[:n], b.interactions.item)
    other = recdyn.simulate(small_world(), "two-stage", steps=1, **{**kwargs, "seed": 4})
    assert not np.array_equal(a.recommender.nominator_of, other.recommender.nominator_of)


@pytest.mark.parametrize("metric", [NominatorRegret(), RankerRegret()])
def test_the_regret_split_metrics_pass_the_metric_checks(metric):
    check_online_metric(metric)  # NaN for the checker's TopPop: it nominates nothing


def test_an_oracle_ranker_leaves_the_regret_to_the_nominators():
    rec = make("two-stage", nominators=["toppop", "mf-als"], ranker="oracle", n_candidates=3)
    traj = recdyn.simulate(
        small_world(), rec, "greedy", steps=5, seed=0, metrics=["regret", "ranker_regret"]
    )
    np.testing.assert_allclose(traj.metrics["ranker_regret"], 0.0, atol=1e-6)
    assert (traj.metrics["regret"] > 0).any()


SPEC = """
[experiment]
name = "two-stage"
seed = 0
steps = 3
trials = 1

[[environments]]
preset = "latent-static-v1"
overrides = { n_users = 60, n_items = 80, latent_dim = 8, n_initial_ratings = 600 }

[[recommenders]]
name = "two-stage"
[recommenders.params]
nominators = ["toppop", { name = "mf-als", params = { n_factors = 4 } }]
ranker = "ease"
n_candidates = 5
training = "own"
"""


def test_a_toml_spec_with_a_two_stage_recommender_parses():
    spec = load_spec(parse_toml(SPEC))
    params = spec.recommenders[0].params
    rec = recdyn.recommenders.recommenders.make("two-stage", **params)
    assert rec.nominators[1] == {"name": "mf-als", "params": {"n_factors": 4}}
    assert len(make_plan(spec).tasks) == 1
    with pytest.raises(SpecError, match=r"recommenders\[0\]\.params\.nominators.*'mf-al'"):
        load_spec(parse_toml(SPEC.replace('name = "mf-als"', 'name = "mf-al"')))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "params, match",
    [
        ({"nominators": ["mf-al"]}, r"nominators.*'mf-al'.*Did you mean 'mf-als'.*item-knn"),
        ({"nominators": []}, r"nominators.*at least one recommender \(N ≥ 1\)"),
        ({"nominators": [{"nme": "pmf"}]}, r"nominators: \[0\].*unknown \['nme'\]"),
        (
            {"nominators": [{"name": "pmf", "params": {"n_factor": 4}}]},
            r"nominators\[0\].*n_factors",
        ),
        ({"ranker": "eas"}, r"ranker.*'ease'"),
        ({"n_candidates": 0}, r"n_candidates must be an integer in \[1, inf\)"),
        ({"pools": "rand"}, r"pools must be one of 'random', 'all' or a 1-D array"),
        ({"pools": [0, 1, 2]}, r"pools must hold pool ids in \[0, 2\).*pools\[2\] is 2"),
        ({"pools": [0, -1]}, r"pools\[1\] is -1"),
        ({"training": "mine"}, r"training must be one of 'all', 'own'"),
    ],
)
def test_bad_parameters_name_the_argument(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        make("two-stage", **params)


def test_pools_that_do_not_cover_the_items_are_rejected_at_fit():
    with pytest.raises(InvalidParameterError, match=r"pools has 3 pool ids but .*n_items=40"):
        make("two-stage", pools=[0, 1, 0]).fit(DATA, N_USERS, N_ITEMS)
    with pytest.raises(InvalidParameterError, match=r"pools: the pool of nominator 1 is empty"):
        make("two-stage", pools=np.zeros(N_ITEMS, int)).fit(DATA, N_USERS, N_ITEMS)
    many = ["toppop"] * (N_ITEMS + 1)  # random pools: more nominators than items
    with pytest.raises(InvalidParameterError, match=r"pools: the pool of nominator 40 is empty"):
        make("two-stage", nominators=many, seed=0).fit(DATA, N_USERS, N_ITEMS)


class NaNScores(TopPop):
    def _score(self, users):
        return np.full((len(users), self.n_items_), np.nan)


def test_stages_that_cannot_score_are_named():
    rec = TwoStageRecommender(nominators=["toppop"], ranker=NaNScores(), seed=0)
    rec.fit(DATA, N_USERS, N_ITEMS)
    with pytest.raises(CheckError, match=r"ranker NaNScores returned a NaN/inf score"):
        rec.score([0])
    rec = TwoStageRecommender(nominators=["toppop", NaNScores()], ranker="toppop", seed=0)
    rec.fit(DATA, N_USERS, N_ITEMS)
    with pytest.raises(CheckError, match=r"nominator 1 \(NaNScores\) returned a NaN/inf"):
        rec.candidates([0])
