"""check_online_metric passes on every registered online metric and catches broken ones."""

import numpy as np
import pytest

from recdyn.errors import CheckError
from recdyn.metrics import OnlineMetric, check_online_metric, online_metrics
from recdyn.metrics.checker import simulated_step
from recdyn.testing import parametrize_with_checks

from .check_helpers import assert_check_fails


@parametrize_with_checks([online_metrics.make(name) for name in online_metrics.names()])
def test_every_registered_online_metric(component, check):
    check(component)


class ReadsUndeclaredTruth(OnlineMetric):
    def value(self, ctx):
        return float(ctx.truth.mean()) if ctx.truth is not None else np.nan


class MutatesTheContext(OnlineMetric):
    def value(self, ctx):
        ctx.slates[:, 0] = 0
        return 1.0


class ReturnsInfinity(OnlineMetric):
    def value(self, ctx):
        return np.inf


class UsesTheGlobalRng(OnlineMetric):
    def value(self, ctx):
        return float(np.random.random())  # noqa: NPY002 - the bug under test


class MisspeltNeeds(OnlineMetric):
    needs = frozenset({"truths"})

    def value(self, ctx):
        return 0.0


class FailsWithoutRatings(OnlineMetric):
    def value(self, ctx):
        return float(ctx.new.rating.sum()) / len(ctx.new)


@pytest.mark.parametrize(
    "metric, check, match",
    [
        (ReadsUndeclaredTruth(), "check_online_metric_needs", r"reads \['truth'\]"),
        (MutatesTheContext(), "check_online_metric_context_unchanged", "changed ctx.slates"),
        (ReturnsInfinity(), "check_online_metric_value", "returned inf"),
        (UsesTheGlobalRng(), "check_online_metric_determinism", "global numpy RNG"),
        (MisspeltNeeds(), "check_online_metric_interface", "unknown fields"),
        (FailsWithoutRatings(), "check_online_metric_value", "ZeroDivisionError"),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, str) else None,
)
def test_the_broken_rule_is_named_with_the_metric(metric, check, match):
    assert_check_fails(metric, check, match)


def test_a_registered_metric_is_named_by_its_registered_name():
    metric = ReturnsInfinity()
    metric.spec = online_metrics.spec("mean_rating")  # as registered
    with pytest.raises(CheckError, match=r"^check_online_metric_value failed for mean_rating\(\)"):
        check_online_metric(metric)


def test_the_simulated_step_is_consistent():
    ctx = simulated_step(3)
    assert len(ctx.new) > 0 and np.all(np.diff(ctx.users) > 0)
    row = np.searchsorted(ctx.users, ctx.new.user)
    assert (ctx.slates[row] == ctx.new.item[:, None]).any(axis=1).all()
    assert not np.take_along_axis(ctx.rated_before, ctx.slates, axis=1).any()
    assert ctx.truth.shape == (len(ctx.users), ctx.n_items) and len(ctx.predictions) == len(ctx.new)
