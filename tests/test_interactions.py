import numpy as np
import pandas as pd
import pytest

from recdyn import Interactions
from recdyn.errors import InvalidParameterError
from recdyn.interactions import InteractionLog


def make(n=5, step=0):
    return Interactions(np.arange(n) % 3, np.arange(n), np.linspace(1, 5, n), np.full(n, step))


def test_columns_have_fixed_dtypes_and_are_read_only():
    data = make()
    assert data.user.dtype == np.int32 and data.item.dtype == np.int32
    assert data.rating.dtype == np.float32 and data.step.dtype == np.int32
    with pytest.raises(ValueError):
        data.rating[0] = 2.0


def test_input_arrays_are_copied_not_aliased():
    ratings = np.array([1.0, 2.0], np.float32)
    data = Interactions([0, 1], [0, 1], ratings)
    ratings[0] = 5.0
    assert data.rating[0] == 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(user=[0, 1], item=[0], rating=[1, 2]), "equal length"),
        (dict(user=[0], item=[0], rating=[np.nan]), "NaN"),
        (dict(user=[-1], item=[0], rating=[1]), "non-negative"),
        (dict(user=[0.5], item=[0], rating=[1]), "integers"),
        (dict(user=[[0]], item=[0], rating=[1]), "1-D"),
    ],
)
def test_bad_columns_are_rejected(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Interactions(**kwargs)


def test_concat_and_pandas_round_trip():
    a, b = make(3, step=0), make(4, step=1)
    both = Interactions.concat([a, b])
    assert len(both) == 7 and both.step.tolist() == [0, 0, 0, 1, 1, 1, 1]
    back = Interactions.from_pandas(both.to_pandas())
    for col in ("user", "item", "rating", "step"):
        np.testing.assert_array_equal(getattr(back, col), getattr(both, col))


def test_concat_fills_unknown_propensities_with_nan():
    a = make(2)
    b = Interactions([0], [1], [3.0], [1], propensity=[0.25])
    both = Interactions.concat([a, b])
    assert np.isnan(both.propensity[:2]).all() and both.propensity[2] == 0.25


def test_from_pandas_names_missing_columns():
    with pytest.raises(InvalidParameterError, match="rating"):
        Interactions.from_pandas(pd.DataFrame({"user": [0], "item": [0]}))


def test_to_csr_keeps_the_last_rating_of_a_repeated_pair():
    data = Interactions([0, 0, 1], [2, 2, 0], [1.0, 4.0, 5.0])
    mat = data.to_csr(2, 3)
    assert mat.shape == (2, 3) and mat.nnz == 2
    assert mat[0, 2] == 4.0 and mat[1, 0] == 5.0


def test_to_csr_rejects_ids_that_do_not_fit():
    with pytest.raises(InvalidParameterError, match="n_items=2"):
        make(5).to_csr(3, 2)


def test_log_grows_and_matches_concat():
    log = InteractionLog(capacity=2)
    parts = [make(3, s) for s in range(10)]
    for p in parts:
        log.append(p)
    out = log.to_interactions()
    ref = Interactions.concat(parts)
    assert len(log) == 30
    np.testing.assert_array_equal(out.rating, ref.rating)
    assert out.propensity is None


def test_with_propensity_shares_columns_and_checks_the_new_one():
    data = make(4, step=2)
    q = [0.5, 0.25, 1e-7, 1.0]
    out = data.with_propensity(q)
    assert out.user is data.user and out.rating is data.rating and out.step is data.step
    assert out.propensity.dtype == np.float64 and not out.propensity.flags.writeable
    np.testing.assert_array_equal(out.propensity, q)
    assert data.propensity is None
    with pytest.raises(InvalidParameterError, match="one value per rating"):
        data.with_propensity([0.5])
