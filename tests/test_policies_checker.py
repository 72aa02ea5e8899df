"""check_policy passes on every registered policy and names the rule a broken one breaks."""

import numpy as np
import pytest

from recdyn.errors import CheckError
from recdyn.policies import (
    EpsilonGreedyPolicy,
    GreedyPolicy,
    Selection,
    SoftmaxPolicy,
    ThresholdTruncation,
    check_policy,
    make,
    policies,
)
from recdyn.testing import parametrize_with_checks

from .check_helpers import assert_check_fails


@parametrize_with_checks([make(name) for name in policies.names()])
def test_every_registered_policy(component, check):
    check(component)


SETTINGS = [
    make("softmax", temperature=0.3),
    make("epsilon-greedy", epsilon=0.0),
    make("epsilon-greedy", epsilon=1.0),
    make("truncated", base_policy="epsilon-greedy", m=3),
    make("truncated", base_policy="softmax", m=3),
]


@parametrize_with_checks(SETTINGS, k_values=(1, 2, 3))
def test_policies_with_other_settings(component, check):
    check(component)


class ClonesWithAnotherTemperature(SoftmaxPolicy):
    def clone(self, **params):
        return type(self)(temperature=self.temperature + 1.0)


class OffByAFactor(SoftmaxPolicy):
    def _select(self, scores, k, exclude, rng):
        sel = super()._select(scores, k, exclude, rng)
        return Selection(sel.slates, sel.propensities * 0.9)


class ReportsFirstPositionProbability(SoftmaxPolicy):
    """For k > 1 reports P(first item = i), which is neither meaning of a propensity."""

    def _select(self, scores, k, exclude, rng):
        sel = super()._select(scores, k, exclude, rng)
        first = np.take_along_axis(self.probabilities(scores, exclude), sel.slates, axis=1)
        return Selection(sel.slates, np.where(first > 0, first, sel.propensities))


class HidesItsRandomness(SoftmaxPolicy):
    def _select(self, scores, k, exclude, rng):
        return Selection(super()._select(scores, k, exclude, rng).slates)


class ShowsExcludedItems(GreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        return super()._select(scores, k, None, rng)


class RepeatsAnItem(GreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        slates = super()._select(scores, k, exclude, rng).slates
        slates[:, -1] = slates[:, 0]
        return Selection(slates)


class OneItemTooMany(GreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        return Selection(np.argsort(-scores, axis=1)[:, : k + 1])


class IgnoresTheSeed(EpsilonGreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        return super()._select(scores, k, exclude, np.random.default_rng())


class UsesTheGlobalRng(EpsilonGreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        np.random.random()  # noqa: NPY002 - the bug under test
        return super()._select(scores, k, exclude, rng)


class WritesIntoScores(GreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        scores[:, 0] = 0.0
        return super()._select(scores, k, exclude, rng)


class ShowsNothingUndeclared(GreedyPolicy):
    def _select(self, scores, k, exclude, rng):
        slates = super()._select(scores, k, exclude, rng).slates
        slates[:, -1] = -1
        return Selection(slates)


class ShowsAfterNothing(ThresholdTruncation):
    def _select(self, scores, k, exclude, rng):
        sel = super()._select(scores, k, exclude, rng)
        return Selection(sel.slates[:, ::-1].copy(), sel.propensities)


class WrongFirstSlotProbabilities(SoftmaxPolicy):
    def probabilities(self, scores, exclude=None):
        return SoftmaxPolicy(temperature=2.0).probabilities(scores, exclude)


class ProbabilitiesNotSummingToOne(GreedyPolicy):
    def probabilities(self, scores, exclude=None):
        return 0.5 * super().probabilities(scores, exclude)


# each broken policy, the check it fails and what the failure says
BROKEN = {
    OffByAFactor: ("check_policy_propensities", "reported probability .* observed"),
    ReportsFirstPositionProbability: ("check_policy_propensities", "k=3.*observed"),
    HidesItsRandomness: ("check_policy_propensities", "no propensities are reported"),
    ShowsExcludedItems: ("check_policy_exclusions", "shown an excluded item"),
    RepeatsAnItem: ("check_policy_slates", "shows an item twice"),
    OneItemTooMany: ("check_policy_slates", "shape"),
    IgnoresTheSeed: ("check_policy_determinism", "same seed gave other slates"),
    UsesTheGlobalRng: ("check_policy_determinism", "global numpy RNG"),
    WritesIntoScores: ("check_policy_inputs_unchanged", "scores argument"),
    ClonesWithAnotherTemperature: ("check_policy_params", "changed parameter .temperature"),
    ShowsNothingUndeclared: ("check_policy_slates", "does not declare may_show_nothing"),
    WrongFirstSlotProbabilities: ("check_policy_probabilities", "first slot showed item"),
    ProbabilitiesNotSummingToOne: ("check_policy_probabilities", "sums to 0.5, not 1"),
}


def test_nothing_may_only_fill_the_last_slots():
    broken = ShowsAfterNothing("softmax", tau=1.0)
    assert_check_fails(broken, "check_policy_slates", "shows an item after a NO_ITEM slot")


@pytest.mark.parametrize("cls", BROKEN, ids=lambda cls: cls.__name__)
def test_the_broken_rule_is_named_with_the_policy(cls):
    check, match = BROKEN[cls]
    assert_check_fails(cls(), check, match)


def test_a_failure_names_the_registered_name_and_parameters():
    policy = OffByAFactor(temperature=0.5)
    policy.spec = policies.spec("softmax")  # as registered
    with pytest.raises(CheckError, match=r"^check_policy_propensities failed for softmax\("):
        check_policy(policy)


def test_a_non_policy_is_rejected():
    with pytest.raises(CheckError, match=r"check_policy_interface failed .* not a recdyn Policy"):
        check_policy(object())
