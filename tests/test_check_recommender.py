"""check_recommender passes on every registered recommender and catches broken ones."""

import importlib.util
import random

import numpy as np
import pytest

from recdyn.errors import CheckError, NotFittedError
from recdyn.recommenders import Recommender, TopPop, check_recommender, make, recommenders
from recdyn.testing import parametrize_with_checks

from .check_helpers import assert_check_fails

# The checker tests the contract, not accuracy: slow models get small, short training.
FAST = {
    "autorec": dict(hidden=16, n_epochs=3),
    "cf-nade": dict(hidden=16, n_epochs=3),
    "llorma": dict(n_anchor=4, n_epochs=2, pre_epochs=2),
    "mult-vae": dict(hidden=16, latent=8, n_epochs=3),
    "mult-dae": dict(hidden=16, n_epochs=3),
    "bayes-mf": dict(n_iter=20),
}
HAS_TORCH = importlib.util.find_spec("torch") is not None


def registered():
    """Every registered recommender (the neural ones when torch is installed)."""
    return [
        make(spec.name, **FAST.get(spec.name, {}))
        for spec in recommenders
        if HAS_TORCH or ".neural." not in str(spec.entry_point)
    ]


@parametrize_with_checks(registered())
def test_every_registered_recommender(component, check):
    check(component)


def test_the_checked_object_is_left_unfitted_and_unchanged():
    rec = TopPop(prior_weight=2.5)
    check_recommender(rec)
    assert rec.get_params() == {"prior_weight": 2.5}
    with pytest.raises(NotFittedError):
        rec.score([0])


class WrongShape(TopPop):
    def _score(self, users):
        return super()._score(users)[:, :-1]


class GlobalRng(TopPop):
    def _fit(self, data):
        super()._fit(data)
        noise = np.random.rand(self.n_items_)  # noqa: NPY002 - the bug under test
        self.item_scores_ = self.item_scores_ + noise.astype(np.float32)


class PythonRandom(TopPop):
    def _fit(self, data):
        super()._fit(data)
        self.item_scores_ = self.item_scores_ + np.float32(random.random())


class MutatesParams(TopPop):
    def _fit(self, data):
        self.prior_weight = 3.0
        super()._fit(data)


class NaNScores(TopPop):
    def _score(self, users):
        s = np.array(super()._score(users))
        s[:, -1] = np.nan
        return s


class IgnoresNewRatings(TopPop):
    def _fit(self, data):
        self._sum = np.zeros(self.n_items_)
        self._count = np.zeros(self.n_items_)
        TopPop._partial_fit(self, data)

    def _partial_fit(self, new):
        pass


class InexactButDeclaredExact(TopPop):
    partial_fit_is_exact = True

    def _partial_fit(self, new):
        super()._partial_fit(new)
        if len(self._log) != len(new):  # an update after fit drifts
            self.item_scores_ = self.item_scores_ + np.float32(0.1)


class ExposesState(TopPop):
    def _fit(self, data):
        super()._fit(data)
        self.table_ = np.tile(self.item_scores_, (self.n_users_, 1))

    def _partial_fit(self, new):
        super()._partial_fit(new)
        self.table_ = np.tile(self.item_scores_, (self.n_users_, 1))

    def _score(self, users):
        return self.table_ if len(users) == self.n_users_ else self.table_[users]


class CrashesOnEmptyData(TopPop):
    def _fit(self, data):
        self.mean_ = data.rating.sum() / len(data) if len(data) else 1 / 0
        super()._fit(data)


class UnseededRandomness(Recommender):
    def __init__(self):
        pass

    def _fit(self, data):
        self.v_ = np.random.default_rng().random(self.n_items_)

    def _score(self, users):
        return np.tile(self.v_, (len(users), 1))


class SkipsValidation(TopPop):
    def fit(self, data, n_users, n_items):
        self.n_users_, self.n_items_ = n_users, n_items
        self._sum = np.zeros(n_items)
        self._count = np.zeros(n_items)
        self.item_scores_ = np.zeros(n_items, np.float32)
        return self


class ClonesWithoutParameters(TopPop):
    def clone(self, **params):
        return type(self)()  # drops prior_weight


@pytest.mark.parametrize(
    "rec, check, match",
    [
        (WrongShape(), "check_recommender_score", "shape"),
        (GlobalRng(), "check_recommender_global_rng", "numpy"),
        (PythonRandom(), "check_recommender_global_rng", "random"),
        (MutatesParams(), "check_recommender_fit", "hyperparameters"),
        (NaNScores(), "check_recommender_score", "NaN"),
        (IgnoresNewRatings(), "check_recommender_partial_fit", "ignored the new ratings"),
        (InexactButDeclaredExact(), "check_recommender_partial_fit", "declared exact"),
        (ExposesState(), "check_recommender_score", "writing into scores"),
        (CrashesOnEmptyData(), "check_recommender_empty_data", "ZeroDivisionError"),
        (UnseededRandomness(), "check_recommender_determinism", "different scores"),
        (SkipsValidation(), "check_recommender_bad_input", "fit"),
        (
            ClonesWithoutParameters(prior_weight=2.5),
            "check_recommender_params",
            "clone\\(\\) changed parameter 'prior_weight'",
        ),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Recommender) else None,
)
def test_the_broken_rule_is_named_with_the_recommender(rec, check, match):
    assert_check_fails(rec, check, match)
    with pytest.raises(CheckError, match=f"^{check} failed for "):
        check_recommender(rec)  # the first check to fail is that one


def test_a_non_recommender_is_rejected():
    with pytest.raises(CheckError, match=r"interface failed .* not a recdyn Recommender"):
        check_recommender(object())
