"""Beyond-accuracy metrics (issue 21 item 1): hand-computed small cases of every formula,
cross-checks against independent formulas (Gini by the mean absolute difference, entropy
and KL by scipy.stats.entropy, cosine by scipy.spatial, loops over users), bad input, the
metric checker on every online one, and the online values against the offline functions
recomputed from the run's log at every step."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cosine
from scipy.stats import entropy

import recdyn
from recdyn.errors import InvalidParameterError
from recdyn.metrics import (
    OnlineMetric,
    aplt,
    arp,
    calibration_kl,
    effective_catalogue_size,
    exposure_counts,
    exposure_entropy,
    exposure_gini,
    gini_index,
    intra_list_diversity,
    long_tail,
    make_offline_metric,
    miscalibration,
    online_metrics,
    popular_items,
    popularity_lift,
)
from recdyn.metrics.checker import simulated_step
from recdyn.testing import parametrize_with_checks

BEYOND = "recdyn.metrics.beyond_online:"
ONLINE = tuple(s.name for s in online_metrics if str(s.entry_point).startswith(BEYOND))
SLATES = np.array([[0, 1, 2], [0, 1, -1], [3, 0, 1]])
POP = np.array([10.0, 5.0, 3.0, 2.0, 0.0])


# ----------------------------------------------------------------------------- exposure
def test_exposure_gini_entropy_coverage_by_hand():
    assert exposure_counts(SLATES, 5).tolist() == [3, 3, 1, 1, 0]
    # sorted [0, 1, 1, 3, 3], weights 2j - n - 1 = -4, -2, 0, 2, 4: 16 / (5 * 8)
    assert exposure_gini(SLATES, 5) == pytest.approx(0.4)
    h = 0.75 * np.log(8 / 3) + 0.25 * np.log(8)
    assert exposure_entropy(SLATES, 5) == pytest.approx(h)
    assert effective_catalogue_size(SLATES, 5) == pytest.approx(np.exp(h))
    assert exposure_gini(SLATES, 5, k=1) == pytest.approx(gini_index([2, 0, 0, 1, 0]))
    assert gini_index([1, 1, 1]) == 0.0 and gini_index([0, 0, 4]) == pytest.approx(2 / 3)
    assert np.isnan(gini_index([0, 0])) and np.isnan(exposure_entropy([[-1]], 3))
    assert make_offline_metric("exposure_gini@2").combine([SLATES[:, :2]], 5) == pytest.approx(
        exposure_gini(SLATES, 5, k=2)
    )


def test_gini_and_entropy_agree_with_independent_formulas():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(2, 60))
        slates = rng.integers(-1, n, size=(int(rng.integers(1, 30)), int(rng.integers(1, 6))))
        e = exposure_counts(slates, n).astype(float)
        if e.sum() == 0:
            continue
        # Gini as the relative mean absolute difference over n^2 pairs (the /n convention)
        mad = np.abs(e[:, None] - e[None, :]).sum() / (2 * n * e.sum())
        assert exposure_gini(slates, n) == pytest.approx(mad)
        assert exposure_entropy(slates, n) == pytest.approx(entropy(e))


# ----------------------------------------------------------------------------- popularity
def test_long_tail_head_share_by_hand():
    assert long_tail(POP, head_share=0.2).tolist() == [False, True, True, True, True]
    assert long_tail(POP, head_share=0.5).tolist() == [False, True, True, True, True]
    assert long_tail(POP, head_share=0.6).tolist() == [False, False, True, True, True]
    # ties at the boundary join the head together
    assert long_tail([4.0, 4.0, 1.0, 1.0], head_share=0.2).tolist() == [False, False, True, True]
    assert popular_items(POP, share=0.2).tolist() == [True, False, False, False, False]


def test_arp_and_aplt_by_hand_and_by_loops():
    assert arp(SLATES, POP) == pytest.approx((6 + 7.5 + 17 / 3) / 3)
    assert aplt(SLATES, POP) == pytest.approx((2 / 3 + 1 / 2 + 2 / 3) / 3)
    assert arp(SLATES, POP, k=1) == pytest.approx((10 + 10 + 2) / 3)
    assert np.isnan(arp([[-1, -1]], POP, per_user=True)[0])
    rng = np.random.default_rng(1)
    pop = rng.integers(0, 30, 25).astype(float)
    slates = np.array([rng.permutation(25)[:5] for _ in range(12)])
    tail = set(np.flatnonzero(long_tail(pop, head_share=0.3)))
    ref_arp = np.mean([np.mean([pop[i] for i in row]) for row in slates])
    ref_aplt = np.mean([np.mean([i in tail for i in row]) for row in slates])
    assert arp(slates, pop) == pytest.approx(ref_arp)
    assert aplt(slates, pop, head_share=0.3) == pytest.approx(ref_aplt)


def test_popularity_lift_by_hand():
    history = np.zeros((5, 5), bool)
    for u, items in enumerate([[0], [0, 1], [1, 2], [0, 3], [2, 3]]):
        history[u, items] = True
    slates = np.array([[1, 2], [0, 3], [0, 1], [2, 4], [0, -1]])
    # popular item: 0; shares 1, .5, 0, .5, 0 → niche u2, blockbuster u0, diverse u4 u1 u3
    lift = popularity_lift(slates, history, POP)
    assert lift["niche"] == pytest.approx((7.5 - 4) / 4)
    assert lift["blockbuster"] == pytest.approx((4 - 10) / 10)
    assert lift["diverse"] == pytest.approx((17.5 - 16) / 16)
    assert lift["all"] == pytest.approx((5.8 - 6) / 6)
    assert popularity_lift(slates, sp.csr_array(history), POP) == pytest.approx(lift)


# ----------------------------------------------------------------------------- diversity
def test_ild_by_hand_and_against_scipy_cosine():
    c = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    assert intra_list_diversity([[0, 1, 2]], c) == pytest.approx((1 + 2 * (1 - 2**-0.5)) / 3)
    assert intra_list_diversity([[0, 1, 3]], c) == 1.0  # the uncategorised item drops out
    assert np.isnan(intra_list_diversity([[0, 3, -1]], c))
    rng = np.random.default_rng(2)
    vectors = rng.random((30, 6))
    slates = np.array([rng.permutation(30)[:4] for _ in range(9)])
    ref = np.mean(
        [
            np.mean(
                [cosine(vectors[a], vectors[b]) for j, a in enumerate(row) for b in row[j + 1 :]]
            )
            for row in slates
        ]
    )
    assert intra_list_diversity(slates, vectors) == pytest.approx(ref)


# ----------------------------------------------------------------------------- calibration
def test_miscalibration_by_hand_and_against_scipy_kl():
    c = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    history = np.array([[True, False, True]])
    p, q_tilde = np.array([0.75, 0.25]), 0.99 * np.array([0.0, 1.0]) + 0.01 * np.array([0.75, 0.25])
    want = 0.75 * np.log(0.75 / q_tilde[0]) + 0.25 * np.log(0.25 / q_tilde[1])
    assert miscalibration([[1]], history, c) == pytest.approx(want)
    assert miscalibration([[1]], history, c) == pytest.approx(entropy(p, q_tilde))
    assert miscalibration([[0, 2]], history, c) == pytest.approx(0.0)
    assert miscalibration([[2]], history, c, alpha=0.5) == pytest.approx(
        entropy(p, 0.5 * np.array([0.5, 0.5]) + 0.5 * p)
    )
    # a list of uncategorised items misses p entirely: log(1 / alpha)
    c0 = np.vstack([c, [0.0, 0.0]])
    h0 = np.array([[True, False, True, False]])
    assert miscalibration([[3]], h0, c0) == pytest.approx(np.log(100))
    assert np.isnan(miscalibration([[0]], np.zeros((1, 3)), c))  # no history: undefined
    rng = np.random.default_rng(3)
    pp, qq = rng.dirichlet(np.ones(4), 6), rng.dirichlet(np.ones(4), 6)
    ref = [entropy(a, 0.99 * b + 0.01 * a) for a, b in zip(pp, qq)]
    np.testing.assert_allclose(calibration_kl(pp, qq), ref)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: exposure_gini(SLATES, 5, k=4), "k must be in"),
        (lambda: arp(SLATES, POP, k=0), "k must be in"),
        (lambda: exposure_gini(SLATES, 3), "slates holds item id 3"),
        (lambda: arp([[0, -2]], POP), "slates holds item id -2"),
        (lambda: arp([0, 1], POP), "slates must be an integer"),
        (lambda: arp(SLATES, [1.0, -1.0, 0, 0, 0]), "popularity must be"),
        (lambda: aplt(SLATES, POP, head_share=1.0), "head_share must be in"),
        (lambda: aplt(SLATES, POP, head_share=0), "head_share must be in"),
        (lambda: popularity_lift(SLATES, np.zeros((2, 5)), POP), "history must have shape"),
        (lambda: popularity_lift(SLATES, np.zeros((3, 5)), POP, group_share=0.5), "group_share"),
        (lambda: miscalibration(SLATES, np.zeros((3, 5)), np.eye(5), alpha=1.0), "alpha must"),
        (lambda: miscalibration(SLATES, np.zeros((3, 5)), np.eye(5), alpha=0.0), "alpha must"),
        (lambda: miscalibration(SLATES, np.zeros((3, 5)), None), "categories is None"),
        (lambda: intra_list_diversity(SLATES, np.eye(3)), "slates holds item id"),
        (lambda: intra_list_diversity(SLATES, None), "categories is None"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(InvalidParameterError, match=match):
        call()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("aplt", {"head_share": 1.0}),
        ("miscalibration", {"alpha": 0.0}),
        ("popularity_lift", {"group": "x"}),
    ],
)
def test_online_parameters_are_checked(name, params):
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        online_metrics.make(name, **params)


def test_category_metrics_in_a_world_without_categories_say_which_worlds_have_them():
    for name in ("ild", "miscalibration"):
        with pytest.raises(InvalidParameterError, match=rf"'{name}' needs item categories.*topics"):
            recdyn.simulate(
                recdyn.make("latent-static-v1", n_users=30, n_items=20, n_initial_ratings=60),
                "toppop",
                steps=1,
                k=2,
                metrics=[name],
            )


# ----------------------------------------------------------------------------- online
@parametrize_with_checks([online_metrics.make(name) for name in ONLINE])
def test_online_metric_passes_the_checker(component, check):
    check(component)


class Probe(OnlineMetric):
    """Records what each step showed (a class-level list: ``simulate`` runs a clone)."""

    records: ClassVar[list] = []

    def value(self, ctx):
        Probe.records.append((ctx.step, ctx.users.copy(), ctx.slates.copy()))
        return 0.0


def test_online_values_match_the_offline_functions_recomputed_from_the_log():
    Probe.records.clear()
    env = recdyn.make(
        "topics-dynamic-v1", n_users=60, n_items=40, users_per_step=12, n_initial_ratings=300
    )
    lift = online_metrics.make("popularity_lift", group="niche", group_share=0.25)
    lift.__dict__["_registered_as"] = "lift_niche"
    trajectory = recdyn.simulate(
        env, "toppop", "softmax", steps=8, k=4, seed=5, metrics=[Probe(), *ONLINE, lift]
    )
    log, table = trajectory.interactions, trajectory.metrics
    categories = env.item_categories()
    shown = []
    for step, users, slates in Probe.records:
        row = table.loc[table["step"] == step].iloc[0]
        shown.append(slates)
        before = log.step < step
        rated = np.zeros((env.n_users, env.n_items), bool)
        rated[log.user[before], log.item[before]] = True
        pop = rated.sum(axis=0).astype(float)
        history = rated[users]
        so_far = np.vstack(shown)
        want = {
            "coverage": np.count_nonzero(exposure_counts(so_far, env.n_items)) / env.n_items,
            "exposure_gini": exposure_gini(so_far, env.n_items),
            "exposure_entropy": exposure_entropy(so_far, env.n_items),
            "arp": arp(slates, pop),
            "aplt": aplt(slates, pop),
            "popularity_lift": popularity_lift(slates, history, pop)["all"],
            "lift_niche": popularity_lift(slates, history, pop, group_share=0.25)["niche"],
            "ild": intra_list_diversity(slates, categories),
            "miscalibration": miscalibration(slates, history, categories),
        }
        for name, value in want.items():
            np.testing.assert_allclose(row[name], value, rtol=1e-6, err_msg=f"{name} at {step}")


def test_exposure_metrics_are_cumulative_and_a_repeated_step_counts_once():
    ctx = simulated_step(0)
    gini = online_metrics.make("exposure_gini")
    first = gini(ctx)
    assert gini(ctx) == first  # the same step again replaces its own contribution
    later = dataclasses.replace(ctx, step=ctx.step + 1)
    counts = exposure_counts(np.vstack([ctx.slates, ctx.slates]), ctx.n_items)
    assert gini(later) == pytest.approx(gini_index(counts)) == pytest.approx(first)
    moved = dataclasses.replace(ctx, step=ctx.step + 2, slates=ctx.slates[:, ::-1] * 0)
    both = exposure_counts(np.vstack([ctx.slates, ctx.slates, moved.slates]), ctx.n_items)
    assert gini(moved) == pytest.approx(gini_index(both))
