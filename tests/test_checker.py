"""check_environment passes on every registered preset and catches broken environments."""

import numpy as np
import pytest

import recdyn
from recdyn.environments import TopicsEnvironment, environments
from recdyn.errors import CheckError, InvalidSlateError
from recdyn.testing import parametrize_with_checks

from .check_helpers import assert_check_fails
from .conftest import SMALL


@parametrize_with_checks([recdyn.make(name) for name in environments.names()], steps=2)
def test_every_preset_at_full_size(component, check):
    check(component)


@parametrize_with_checks([recdyn.make(name, **SMALL) for name in environments.names()], steps=5)
def test_every_preset_when_small(component, check):
    check(component)


class MutatesScores(TopicsEnvironment):
    def step(self, slates, scores=None):
        if scores is not None:
            np.asarray(scores)[0, 0] = -1.0  # writes into the caller's array
        return super().step(slates, scores=scores)


class GlobalRng(TopicsEnvironment):
    def _observe(self, users, items, rng):
        noise = np.random.standard_normal(len(users))  # noqa: NPY002 - the bug under test
        return np.clip(self._true_pairs(users, items) + noise, 1, 5)


class OutOfRange(TopicsEnvironment):
    def _observe(self, users, items, rng):
        return self._true_pairs(users, items) + 10.0


class AcceptsDuplicates(TopicsEnvironment):
    def _check_slates(self, slates, n_online):
        try:
            return super()._check_slates(slates, n_online)
        except InvalidSlateError as err:
            if "twice" in str(err):
                return np.asarray(slates, dtype=np.int64)
            raise


class LeaksDynamicsIntoTruth(TopicsEnvironment):
    def _true_matrix(self, users, items):
        self._rng.random()  # consumes the dynamics stream
        return super()._true_matrix(users, items)


class WritableState(TopicsEnvironment):
    @property
    def state(self):
        return dict(self._state())  # the arrays themselves, writeable


class ForgetsAParameter(TopicsEnvironment):
    def get_params(self):
        params = super().get_params()
        params.pop("n_topics")
        return params


class CategoriesNotDistributions(TopicsEnvironment):
    def _item_categories(self):
        return 2 * super()._item_categories()


class CategoriesUnnamed(TopicsEnvironment):
    def _category_names(self):
        return None


@pytest.mark.parametrize(
    "cls, check, match",
    [
        (MutatesScores, "check_environment_step_arguments", "mutated"),
        (GlobalRng, "check_environment_global_rng", "global numpy RNG"),
        (GlobalRng, "check_environment_determinism", "same seed"),
        (OutOfRange, "check_environment_step", "rating_range"),
        (AcceptsDuplicates, "check_environment_rejects_bad_slates", "invalid slate"),
        (LeaksDynamicsIntoTruth, "check_environment_probes_keep_dynamics", "changed the dynamics"),
        (WritableState, "check_environment_state_read_only", "writeable"),
        (ForgetsAParameter, "check_environment_params", "constructor's parameters"),
        (CategoriesNotDistributions, "check_environment_categories", "sum to 1"),
        (CategoriesUnnamed, "check_environment_categories", "disagree"),
    ],
)
def test_the_broken_rule_is_named_with_the_environment(cls, check, match):
    assert_check_fails(cls(**SMALL), check, match)


def test_check_environment_stops_at_the_first_failing_check():
    env = MutatesScores(**SMALL)
    with pytest.raises(CheckError, match=r"^check_environment_step_arguments failed for "):
        recdyn.check_environment(env)


def test_checker_rejects_non_environments():
    with pytest.raises(CheckError, match=r"check_environment_interface failed .* not a recdyn"):
        recdyn.check_environment(object())
