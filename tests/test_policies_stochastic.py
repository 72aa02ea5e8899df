"""ε-greedy, softmax and top-m truncation: slates and exact propensities.

The contract every policy shares (valid slates, exclusions, determinism under a seed,
propensities that match observed frequencies) is checked by ``check_policy`` for every
registered policy in ``test_policies_checker.py``; here: what each policy's numbers mean.
"""

import itertools

import numpy as np
import pytest

import recdyn
from recdyn.errors import InvalidParameterError
from recdyn.policies import (
    EpsilonGreedyPolicy,
    SoftmaxPolicy,
    TopKTruncation,
    policies,
)

from .conftest import SMALL


def brute_force_inclusion(scores, k, eps, allowed):
    """Enumerate every tie-break order, explore/exploit pattern and uniform draw."""
    items = [i for i in range(len(scores)) if allowed[i]]
    orders = [
        p
        for p in itertools.permutations(items)
        if all(scores[p[a]] >= scores[p[a + 1]] for a in range(len(p) - 1))
    ]
    incl = np.zeros(len(scores))

    def walk(slate, prob, order):
        if len(slate) == k:
            incl[slate] += prob
            return
        rest = [i for i in items if i not in slate]
        walk([*slate, next(i for i in order if i not in slate)], prob * (1 - eps), order)
        for i in rest:
            walk([*slate, i], prob * eps / len(rest), order)

    for order in orders:
        walk([], 1 / len(orders), order)
    return incl


def tile(row, n):
    return np.tile(np.asarray(row), (n, 1))


# --------------------------------------------------------------------------- ε-greedy
def test_epsilon_greedy_k1_propensity_is_the_closed_form_with_ties_spread():
    scores = np.array([[1.0, 3.0, 3.0, 2.0, 0.0]])
    exclude = np.array([[False, False, False, False, True]])
    eps = 0.2
    sel = EpsilonGreedyPolicy(eps).select(tile(scores[0], 200), 1, tile(exclude[0], 200))
    n_allowed = 4
    expected = np.array([eps / n_allowed, (1 - eps) / 2 + eps / 4, (1 - eps) / 2 + eps / 4, 0.05])
    np.testing.assert_allclose(sel.propensities[:, 0], expected[sel.slates[:, 0]], rtol=1e-12)
    assert not (sel.slates == 4).any()


@pytest.mark.parametrize("case", range(12))
def test_epsilon_greedy_inclusion_matches_brute_force_enumeration(case):
    rng = np.random.default_rng(case)
    n = int(rng.integers(4, 7))
    k = int(rng.integers(2, 4))
    eps = float(rng.random())
    scores = rng.integers(0, 3, size=n).astype(float)  # many ties
    allowed = np.ones(n, bool)
    allowed[rng.integers(n)] = False
    policy = EpsilonGreedyPolicy(eps)
    expected = brute_force_inclusion(scores, k, eps, allowed)
    got = policy.inclusion_probabilities(scores[None], k, ~allowed[None])[0]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert got.sum() == pytest.approx(k)
    sel = policy.select(tile(scores, 40), k, tile(~allowed, 40), rng)
    np.testing.assert_allclose(sel.propensities, expected[sel.slates], atol=1e-12)


@pytest.mark.parametrize("policy", [EpsilonGreedyPolicy(0.5), SoftmaxPolicy()])
def test_user_with_fewer_allowed_items_than_k_sees_all_of_them_first(policy):
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    exclude = np.array([[True, False, True, False, True, True]])
    sel = policy.select(tile(scores[0], 50), 3, tile(exclude[0], 50), np.random.default_rng(0))
    assert set(sel.slates[:, :2].ravel()) == {1, 3}
    assert np.isin(sel.slates[:, 2], [0, 2, 4, 5]).all()
    assert len(set(sel.slates[:, 2])) > 1  # the filler is random, not always the same
    if isinstance(policy, EpsilonGreedyPolicy):
        np.testing.assert_allclose(sel.propensities[:, :2], 1.0)
        np.testing.assert_allclose(sel.propensities[:, 2], 1 / 4)


def test_epsilon_zero_is_greedy_and_one_is_uniform():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    greedy = EpsilonGreedyPolicy(0.0).select(tile(scores[0], 20), 2)
    assert (greedy.slates == [1, 3]).all() and (greedy.propensities == 1).all()
    uniform = EpsilonGreedyPolicy(1.0).inclusion_probabilities(scores, 2)
    np.testing.assert_allclose(uniform, 0.5)


# --------------------------------------------------------------------------- softmax
def test_softmax_k1_propensity_is_the_exact_boltzmann_probability():
    rng = np.random.default_rng(5)
    scores = np.array([1.0, 2.0, 0.0, 3.0, 2.5])
    exclude = np.array([False, False, True, False, False])
    temp = 0.7
    w = np.where(exclude, 0.0, np.exp(scores / temp))
    p = w / w.sum()
    n = 40_000
    sel = SoftmaxPolicy(temp).select(tile(scores, n), 1, tile(exclude, n), rng)
    np.testing.assert_allclose(sel.propensities[:, 0], p[sel.slates[:, 0]], rtol=1e-12)
    freq = np.bincount(sel.slates[:, 0], minlength=5) / n
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-9)
    np.testing.assert_allclose(SoftmaxPolicy(temp).probabilities(scores[None], exclude[None])[0], p)


def test_softmax_k2_reports_plackett_luce_factors_whose_product_is_the_slate_probability():
    rng = np.random.default_rng(6)
    scores = np.array([0.0, 1.0, 2.0, 0.5])
    p = np.exp(scores) / np.exp(scores).sum()
    n = 60_000
    sel = SoftmaxPolicy().select(tile(scores, n), 2, rng=rng)
    a, b = sel.slates[:, 0], sel.slates[:, 1]
    np.testing.assert_allclose(sel.propensities[:, 0], p[a], rtol=1e-12)
    np.testing.assert_allclose(sel.propensities[:, 1], p[b] / (1 - p[a]), rtol=1e-12)
    pair_p = {(i, j): p[i] * p[j] / (1 - p[i]) for i in range(4) for j in range(4) if i != j}
    counts = np.bincount(a * 4 + b, minlength=16) / n
    for (i, j), q in pair_p.items():
        assert abs(counts[i * 4 + j] - q) <= 4 * np.sqrt(q * (1 - q) / n)
    assert counts[[0, 5, 10, 15]].sum() == 0  # never the same item twice


def test_softmax_is_stable_for_huge_scores_and_tiny_temperature():
    scores = np.array([[1e6, 1e6 - 1.0, -1e6, 0.0]])
    sel = SoftmaxPolicy(1e-3).select(tile(scores[0], 10), 2, rng=np.random.default_rng(0))
    assert np.isfinite(sel.propensities).all()
    assert (sel.slates[:, 0] == 0).all() and (sel.slates[:, 1] == 1).all()
    np.testing.assert_allclose(sel.propensities, 1.0)


def test_softmax_temperature_controls_greediness():
    scores = np.array([[0.0, 1.0, 2.0]])
    hot = SoftmaxPolicy(100.0).probabilities(scores)[0]
    cold = SoftmaxPolicy(0.01).probabilities(scores)[0]
    assert hot.max() - hot.min() < 0.02
    assert cold[2] > 0.999


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SoftmaxPolicy(0.0), "temperature"),
        (lambda: SoftmaxPolicy(-1.0), "temperature"),
        (lambda: EpsilonGreedyPolicy(1.5), "epsilon"),
        (lambda: TopKTruncation("softmax", m=0), "m must"),
        (lambda: TopKTruncation(object(), m=3), "base_policy"),
    ],
)
def test_bad_parameters_are_named(make, match):
    with pytest.raises(InvalidParameterError, match=match):
        make()


def test_softmax_rejects_nan_scores_with_a_clear_message():
    with pytest.raises(InvalidParameterError, match="finite"):
        SoftmaxPolicy().select(np.array([[1.0, np.nan]]), 1)


# --------------------------------------------------------------------------- truncation
def test_truncation_only_shows_top_m_and_renormalises_the_base_policy():
    rng = np.random.default_rng(8)
    scores = rng.random((500, 30))
    exclude = rng.random((500, 30)) < 0.2
    policy = TopKTruncation(SoftmaxPolicy(0.5), m=5)
    sel = policy.select(scores, 2, exclude, rng)
    masked = np.where(exclude, -np.inf, scores)
    fifth = -np.sort(-masked, axis=1)[:, 4:5]
    shown = np.take_along_axis(masked, sel.slates, axis=1)
    assert (shown >= fifth).all()
    keep = masked >= fifth
    w = np.where(keep, np.exp(scores / 0.5), 0.0)
    p = w / w.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sel.propensities[:, 0], np.take_along_axis(p, sel.slates, 1)[:, 0])


def test_truncation_keeps_every_item_tied_at_the_boundary():
    scores = np.array([[3.0, 2.0, 2.0, 2.0, 1.0]])
    keep = TopKTruncation("greedy", m=2).candidates(scores)
    assert keep.tolist() == [[True, True, True, True, False]]


def test_truncation_with_epsilon_greedy_explores_only_inside_the_top_m():
    scores = np.arange(10.0)[None]
    policy = policies.make("truncated", base_policy="epsilon-greedy", m=3)
    sel = policy.select(tile(scores[0], 500), 1, rng=np.random.default_rng(0))
    assert set(sel.slates.ravel()) == {7, 8, 9}
    inner = EpsilonGreedyPolicy(0.1).inclusion_probabilities(scores[:, 7:], 1)[0]
    np.testing.assert_allclose(sel.propensities[:, 0], inner[sel.slates[:, 0] - 7])


def test_truncation_rejects_k_larger_than_m():
    with pytest.raises(InvalidParameterError, match="k must be at most"):
        TopKTruncation("softmax", m=2).select(np.zeros((1, 5)), 3)


def test_policies_are_registered_and_log_propensities_in_a_simulation():
    assert {"epsilon-greedy", "softmax", "truncated"} <= set(policies.names())
    env = recdyn.make("topics-static-v1", **SMALL)
    traj = recdyn.simulate(env, "toppop", policies.make("softmax", temperature=0.5), steps=3)
    online = traj.interactions.select(traj.interactions.step > 0)
    assert len(online) and np.all((online.propensity > 0) & (online.propensity <= 1))
