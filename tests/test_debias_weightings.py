"""recdyn.debias weightings (issue 17, item 2): exact values, CAFL against the thesis's
formula, the registry and checker idiom, mf-als by name, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from recdyn.debias import (
    PropensityWeighting,
    WeightingContext,
    cafl_weights,
    check_weighting,
    weightings,
)
from recdyn.errors import CheckError, InvalidParameterError, UnknownNameError
from recdyn.interactions import Interactions
from recdyn.recommenders.mf_als import ALSMatrixFactorization
from recdyn.recommenders.registry import make as make_recommender
from recdyn.testing import parametrize_with_checks


def log(user, item, step, q, rating=None) -> Interactions:
    rating = np.full(len(user), 3.0) if rating is None else rating
    return Interactions(user, item, rating, step, q)


@parametrize_with_checks([weightings.make(name) for name in weightings.names()])
def test_registered_weightings_pass_their_checks(component, check):
    check(component)


def test_registry_names_and_did_you_mean():
    assert weightings.names() == [
        "cafl",
        "cafl-per-user",
        "clipped-ips",
        "ips",
        "naive",
        "pop",
        "snips",
    ]
    with pytest.raises(UnknownNameError, match="Did you mean 'cafl'"):
        weightings.make("cafel")
    w = weightings.make("clipped-ips", cap=3.0)
    assert weightings.make(w.spec.name, **w.spec.params).get_params() == w.get_params()


def test_ips_snips_clipped_naive_and_pop_values():
    data = log([0, 1, 2], [0, 0, 1], [1, 1, 2], [0.5, 0.25, 0.2])
    np.testing.assert_allclose(weightings.make("ips")(data), [2, 4, 5])
    np.testing.assert_allclose(weightings.make("snips")(data), [2 / 3, 4 / 3, 1])
    np.testing.assert_allclose(weightings.make("clipped-ips", cap=1.0)(data), [2, 4, 4])
    np.testing.assert_allclose(weightings.make("naive")(data), [1, 1, 1])
    pop = log([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 2, 2], [1] * 6, [0.5] * 6)
    np.testing.assert_allclose(weightings.make("pop")(pop), [1, 1, 1, 3, 1.5, 1.5])
    np.testing.assert_allclose(weightings.make("pop", exponent=0.5)(pop)[3], np.sqrt(3))


@pytest.mark.parametrize("rule, value", [("mean", 3.0), ("one", 1.0), ("zero", 0.0)])
def test_initial_data_get_the_weight_of_the_initial_rule(rule, value):
    data = log([0, 1, 2], [0, 1, 1], [0, 1, 2], [np.nan, 0.5, 0.25])
    np.testing.assert_allclose(weightings.make("ips", initial=rule)(data), [value, 2, 4])


def test_cafl_matches_a_hand_computed_case_and_the_corollary_sum():
    """UI = 2 × 3 = 6 pairs, one pair per step, q = 1/2, 1/4, 1/5, t = 3 (thesis L1742,
    L1747–1777): W = 6/5·[2 + 3/6·2] = 3.6, 6/4·[1 + 3/5·4] = 5.1, 6/(4·(1/5)) = 7.5."""
    q = np.array([0.5, 0.25, 0.2])
    data = log([0, 1, 0], [0, 2, 1], [1, 2, 3], q)
    got = weightings.make("cafl")(data, WeightingContext(2, 3))
    np.testing.assert_allclose(got, [3.6, 5.1, 7.5], rtol=1e-12)
    # the same from Corollary 1's sum: c_s / q_s at s plus c_s' at every later s' ≤ t
    ui, t = 6, 3
    c = np.array([ui * (ui - t) / ((ui - s) * (ui - s + 1)) for s in (1, 2, 3)])
    assert c.sum() == pytest.approx(t)  # Σ c_s = t (L1719–1720)
    from_sum = [c[s] / q[s] + c[s + 1 :].sum() for s in range(3)]
    np.testing.assert_allclose(got, from_sum, rtol=1e-12)


def test_cafl_gives_every_pair_weight_n_under_uniform_logging():
    n, t = 50, 30
    s = np.arange(1, t + 1)
    np.testing.assert_allclose(cafl_weights(n, s, t, 1.0 / (n - s + 1)), n, rtol=1e-12)


def test_cafl_pool_excludes_initial_and_held_out_pairs_and_shares_s_within_a_step():
    # 2 × 3 world, 1 initial pair, held_out=1: N = 4; steps 1, 1, 2: s = 1, 1, 3; t = 3
    data = log([1, 0, 1, 0], [2, 0, 0, 1], [0, 1, 1, 2], [np.nan, 0.5, 0.5, 0.25])
    got = weightings.make("cafl", held_out=1)(data, WeightingContext(2, 3))
    w1 = 4 / 3 * (2 + 1 / 4 / 0.5)  # N/(N-s)·[(t-s) + (N-t)/(N-s+1)/q]
    w3 = 4 / ((4 - 3 + 1) * 0.25)
    np.testing.assert_allclose(got, [np.mean([w1, w1, w3]), w1, w1, w3], rtol=1e-12)


def test_cafl_per_user_counts_each_users_own_sequence():
    """n_items = 4, arrival 0.5: user 0 at steps 1, 2 (policy q 1.0, 0.5), user 1 at
    step 2 (0.2): W = 4/3·[1 + 2/4/1] = 2, 4/(3·0.5) = 8/3 and 4/(4·0.2) = 5."""
    data = log([0, 0, 1], [1, 3, 0], [1, 2, 2], [0.5, 0.25, 0.1])
    got = weightings.make("cafl-per-user", arrival=0.5)(data, WeightingContext(2, 4))
    np.testing.assert_allclose(got, [2.0, 8 / 3, 5.0], rtol=1e-12)


class _NaNWeights(PropensityWeighting):
    def _logged_weights(self, data, logged, context):
        return np.full(int(logged.sum()), np.nan)


@pytest.mark.parametrize(
    "weighting, data, context, match",
    [
        ("ips", log([0, 1], [0, 1], [1, 1], None), None, "needs propensities.*greedy"),
        ("snips", log([0, 1], [0, 1], [0, 1], [np.nan, np.nan]), None, "only initial data"),
        ("ips", log([0, 1], [0, 1], [1, 1], [0.5, 0.0]), None, r"propensity.*\(0, 1\]"),
        ("cafl", log([0, 1], [0, 1], [1, 1], [0.5, 1.5]), (2, 2), r"propensity.*\(0, 1\]"),
        ("cafl", log([0, 1], [0, 1], [1, 2], [0.5, 0.5]), None, "needs the world's size"),
        ("cafl", log([0, 0, 0], [0, 1, 1], [1, 2, 3], [0.5] * 3), (1, 2), "exceed the pool"),
        ("cafl-per-user", log([0], [0], [1], [0.9]), (1, 2), "arrival"),
    ],
)
def test_bad_input_is_a_clear_error(weighting, data, context, match):
    w = weightings.make(weighting, **({"arrival": 0.5} if weighting == "cafl-per-user" else {}))
    ctx = None if context is None else WeightingContext(*context)
    with pytest.raises(InvalidParameterError, match=match):
        w(data, ctx)


def test_nan_weights_are_a_clear_error_and_fail_the_checker():
    weights = weightings.make("ips")
    bad = _NaNWeights()
    with pytest.raises(InvalidParameterError, match=r"_NaNWeights.*NaN"):
        bad(log([0], [0], [1], [0.5]))
    with pytest.raises(CheckError, match="check_weighting_values"):
        check_weighting(bad)
    check_weighting(weights)


def test_mf_als_takes_a_weighting_by_name_mapping_or_object():
    rng = np.random.default_rng(0)
    pairs = rng.choice(20 * 30, size=150, replace=False)
    user, item = np.divmod(pairs, 30)
    step = np.r_[np.zeros(50, int), np.repeat(np.arange(1, 11), 10)]
    q = np.r_[np.full(50, np.nan), rng.uniform(0.05, 0.5, 100)]
    data = log(user, item, step, q, rng.integers(1, 6, 150).astype(float))
    kw = dict(n_factors=3, n_iter=3, seed=0)
    by_name = ALSMatrixFactorization(weighting="cafl", **kw).fit(data, 20, 30)
    cafl = weightings.make("cafl")
    by_hand = ALSMatrixFactorization(
        weighting=lambda d: cafl(d, WeightingContext(20, 30)), **kw
    ).fit(data, 20, 30)
    np.testing.assert_allclose(by_name.weights_, by_hand.weights_, rtol=1e-6)
    np.testing.assert_allclose(by_name.score([0, 1]), by_hand.score([0, 1]), rtol=1e-5)
    assert by_name.weights_.dtype == np.float32
    spec = make_recommender("mf-als", weighting={"name": "clipped-ips", "cap": 2.0}, **kw).spec
    assert spec.params["weighting"] == {"name": "clipped-ips", "cap": 2.0}  # plain data
    rebuilt = make_recommender(spec.name, **spec.params).fit(data, 20, 30)
    obj = ALSMatrixFactorization(weighting=weightings.make("clipped-ips", cap=2.0), **kw)
    np.testing.assert_allclose(rebuilt.weights_, obj.fit(data, 20, 30).weights_)
    ips = ALSMatrixFactorization(weighting="ips", **kw).fit(data, 20, 30).weights_
    old = ALSMatrixFactorization(weighting="inverse-propensity", **kw).fit(data, 20, 30)
    np.testing.assert_allclose(ips[50:], old.weights_[50:], rtol=1e-6)  # same on logged rows


@pytest.mark.parametrize(
    "weighting, match",
    [
        ("ipw", "unknown weighting 'ipw'. Did you mean 'ips'"),
        ({"name": "cafl", "held_out": -1}, "held_out"),
        ({"name": "cafl", "cap": 3}, "no parameter 'cap'"),
    ],
)
def test_mf_als_names_a_bad_weighting(weighting, match):
    with pytest.raises(InvalidParameterError, match=match):
        make_recommender("mf-als", weighting=weighting)


def test_an_experiment_spec_sweeps_weightings_by_name():
    from recdyn.experiments.spec import load_spec

    spec = load_spec(
        {
            "experiment": {"name": "w", "seed": 0, "steps": 2, "trials": 1},
            "environments": [{"preset": "latent-static-v1"}],
            "recommenders": [
                {
                    "name": "mf-als",
                    "grid": {"weighting": ["cafl", {"name": "clipped-ips", "cap": 5.0}]},
                }
            ],
            "policies": [{"name": "softmax"}],
        }
    )
    assert spec.recommenders[0].grid["weighting"][0] == "cafl"
    with pytest.raises(ValueError, match="cafel"):
        load_spec(
            {
                "experiment": {"name": "w", "seed": 0, "steps": 2, "trials": 1},
                "environments": [{"preset": "latent-static-v1"}],
                "recommenders": [{"name": "mf-als", "params": {"weighting": "cafel"}}],
            }
        )
