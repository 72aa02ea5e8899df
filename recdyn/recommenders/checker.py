"""``check_recommender``: does a recommender honour the contract? (after scikit-learn's
``utils/estimator_checks.py``). The test-suite runs it over every registered recommender;
run it on your own models too.

Each rule is a named check ``check_recommender_xxx(rec, **options)`` raising a
:class:`~recdyn.errors.CheckError` that names the check and the recommender;
:func:`recommender_checks` yields them all, :func:`check_recommender` runs them, and
:func:`recdyn.testing.parametrize_with_checks` makes one pytest item of each. The checks
work on clones (the object passed in is never fitted) with :func:`synthetic_ratings`, and
share the models that several of them need — one fitted on all the ratings, one on the
first half — through a small cached context, so the whole set costs fewer fits than a
check of its own each.

Model authors can declare one class attribute that the checks read:

``partial_fit_is_exact = True``
    ``fit(A).partial_fit(B)`` gives the same scores as ``fit(A + B)`` (up to
    ``partial_fit_rtol``): counts, sums, closed-form updates. Models that keep the default
    ``_partial_fit`` (a refit on everything seen) are held to this automatically; other
    models are only required to change their scores when the new ratings matter.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from recdyn.checking import (
    ContextCache,
    GlobalRngGuard,
    check,
    check_params_round_trip,
    raises,
    require,
    run_checks,
    same_params,
)
from recdyn.errors import CheckError, InvalidParameterError, NotFittedError, RecdynError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.check_context import RATING_RANGE, Context, synthetic_ratings

__all__ = ["check_recommender", "recommender_checks", "synthetic_ratings"]

_CONTEXTS = ContextCache()


def _context(rec: Recommender, options: dict[str, Any]) -> Context:
    require(isinstance(rec, Recommender), f"{rec!r} is not a recdyn Recommender")
    return _CONTEXTS.get(rec, options, lambda: Context(rec, **options))


@check
def check_recommender_interface(rec: Recommender, **options: Any) -> None:
    """It is a :class:`Recommender` whose ``predicts_ratings`` and
    ``requires_environment`` flags are booleans."""
    require(isinstance(rec, Recommender), f"{rec!r} is not a recdyn Recommender")
    for flag in ("predicts_ratings", "requires_environment"):
        require(isinstance(getattr(rec, flag), bool), f"{flag} is not a bool")


@check
def check_recommender_params(rec: Recommender, **options: Any) -> None:
    """``get_params`` / ``clone`` / ``set_params`` / ``repr`` round trip, and fitting a
    clone leaves the object itself unfitted and its parameters unchanged."""
    ctx = _context(rec, options)
    before = copy.deepcopy(rec.get_params())
    check_params_round_trip(rec)
    try:
        ctx.fitted  # noqa: B018 - fits a clone
    except Exception:
        pass  # a failing fit is reported by the checks of fit; here only its side effects
    require(same_params(before, rec.get_params()), "fitting a clone changed the object")
    require(not hasattr(rec, "n_items_"), "fitting a clone fitted the object itself")


@check
def check_recommender_not_fitted(rec: Recommender, **options: Any) -> None:
    """``score``, ``predict`` and ``partial_fit`` before ``fit`` raise ``NotFittedError``."""
    ctx = _context(rec, options)
    fresh = ctx.fresh()
    raises(lambda: fresh.score([0]), NotFittedError, "score before fit")
    raises(lambda: fresh.predict([0], [0]), NotFittedError, "predict before fit")
    raises(lambda: fresh.partial_fit(ctx.first), NotFittedError, "partial_fit before fit")


@check
def check_recommender_bad_input(rec: Recommender, **options: Any) -> None:
    """Data that is not ``Interactions``, ``n_users`` too small for the ids, and ids out of
    range in ``score``, ``predict`` and ``partial_fit`` raise ``InvalidParameterError``;
    a rejected ``partial_fit`` leaves the model as it was."""
    ctx = _context(rec, options)
    bad, nu, ni = InvalidParameterError, ctx.n_users, ctx.n_items
    df = ctx.data.to_pandas()
    raises(lambda: ctx.fresh().fit(df, nu, ni), bad, "fit(DataFrame)")
    raises(lambda: ctx.fresh().fit(ctx.data, 2, ni), bad, "fit(n_users too small)")
    model = ctx.fitted.model
    raises(lambda: model.score([nu]), bad, "score(user out of range)")
    raises(lambda: model.score([-1]), bad, "score(negative user)")
    raises(lambda: model.predict([0, 1], [0]), bad, "predict(unequal lengths)")
    raises(lambda: model.predict([0], [ni]), bad, "predict(item out of range)")
    before = model.score(ctx.users)
    deterministic = np.array_equal(before, model.score(ctx.users))
    outside = Interactions([nu], [0], [3.0])
    try:
        raises(lambda: model.partial_fit(outside), bad, "partial_fit(user out of range)")
    except CheckError:
        ctx.discard("fitted")  # it may have taken the ratings in
        raise
    if deterministic and not np.array_equal(model.score(ctx.users), before):
        ctx.discard("fitted")
        raise CheckError("a rejected partial_fit changed the model")


@check
def check_recommender_fit(rec: Recommender, **options: Any) -> None:
    """``fit`` returns ``self`` and changes neither its hyperparameters nor its data (nor
    the DataFrame behind it)."""
    fitted = _context(rec, options).fitted
    require(fitted.returned_self, "fit() must return self")
    require(fitted.params_kept, "fit() changed the hyperparameters")
    require(fitted.data_kept, "fit() modified its data")
    require(fitted.frame_kept, "fit() modified the DataFrame behind its data")


@check
def check_recommender_score(rec: Recommender, **options: Any) -> None:
    """``score(all users)`` is a finite float32 ``[n_users, n_items]`` array, cold users and
    items included; for deterministic scoring, ``score(users)`` gives the same rows and
    writing into the returned array does not change the model."""
    ctx = _context(rec, options)
    fitted = ctx.fitted
    s = fitted.scores
    require(isinstance(s, np.ndarray), f"score returned {type(s).__name__}, not an ndarray")
    shape = (ctx.n_users, ctx.n_items)
    require(s.shape == shape, f"score(all users) has shape {s.shape}, expected {shape}")
    require(s.dtype == np.float32, f"score dtype is {s.dtype}, not float32")
    require(bool(np.isfinite(s).all()), "score holds NaN or inf (cold users/items included)")
    again = fitted.model.score(ctx.users)
    if not np.array_equal(s, again):
        return  # scores are redrawn at each call
    sub = np.array([3, 0, ctx.n_users - 1])
    require(
        np.allclose(fitted.model.score(sub), s[sub], rtol=1e-5, atol=1e-6),
        "score(users) rows differ from the same users' rows of score(all users)",
    )
    if again.flags.writeable:
        again[...] = 12345.0
        if not np.array_equal(fitted.model.score(ctx.users), s):
            ctx.discard("fitted")
            raise CheckError("writing into scores changed the model")


@check
def check_recommender_predict(rec: Recommender, **options: Any) -> None:
    """``predict(users, items)`` is finite float32 of the pairs' shape, and within a sane
    range of the 1–5 ratings for models that predict ratings."""
    ctx = _context(rec, options)
    model = ctx.fitted.model
    users = np.r_[ctx.data.user[:20], ctx.n_users - 1, 0]
    items = np.r_[ctx.data.item[:20], 0, ctx.n_items - 1]
    p = model.predict(users, items)
    require(isinstance(p, np.ndarray) and p.shape == users.shape, "predict shape")
    require(p.dtype == np.float32, f"predict dtype is {p.dtype}, not float32")
    require(bool(np.isfinite(p).all()), "predict holds NaN or inf")
    if model.predicts_ratings:
        lo, hi = RATING_RANGE
        span = hi - lo
        require(
            bool(((p >= lo - span) & (p <= hi + span)).all()),
            f"predictions {p.min():.3g}..{p.max():.3g} are far outside the 1–5 ratings",
        )


@check
def check_recommender_global_rng(rec: Recommender, **options: Any) -> None:
    """``fit``, ``partial_fit``, ``score`` and ``predict`` never use numpy's or Python's
    global random state (draw from ``np.random.default_rng(self.seed)`` made in ``fit``)."""
    ctx = _context(rec, options)
    with GlobalRngGuard() as guard:
        model = ctx.fresh().fit(ctx.first, ctx.n_users, ctx.n_items)
        model.score(ctx.users)
        model.partial_fit(ctx.second)
        model.score(ctx.users)
        model.predict(ctx.data.user[:10], ctx.data.item[:10])
    guard.require_untouched()


@check
def check_recommender_determinism(rec: Recommender, **options: Any) -> None:
    """Two clones fitted with the same ``seed`` give the same scores and predictions."""
    ctx = _context(rec, options)
    a = ctx.fitted
    b = ctx.fit()
    what = "two clones with the same seed" if ctx.has_seed else "two fits"
    require(np.array_equal(a.scores, b.score(ctx.users)), f"{what} gave different scores")
    pb = b.predict(ctx.data.user[:10], ctx.data.item[:10])
    require(np.array_equal(a.predictions, pb), f"{what} gave different predictions")


@check
def check_recommender_refit(rec: Recommender, **options: Any) -> None:
    """A second ``fit`` forgets the first: fit(all) then fit(half) scores as fit(half)."""
    ctx = _context(rec, options)
    model = ctx.fit()
    model.fit(ctx.first, ctx.n_users, ctx.n_items)
    require(
        np.allclose(model.score(ctx.users), ctx.fitted_first.scores, rtol=1e-5, atol=1e-6),
        "fit() on new data kept state from the previous fit",
    )


@check
def check_recommender_partial_fit(rec: Recommender, **options: Any) -> None:
    """``partial_fit`` returns ``self``, keeps every rating in ``data_``, changes the scores
    when the new ratings matter, equals a refit on everything when declared exact (see the
    module docstring) and is a no-op for no ratings."""
    ctx = _context(rec, options)
    first = ctx.fitted_first
    if not np.array_equal(first.scores, first.model.score(ctx.users)):
        return  # scores are redrawn at each call: nothing to compare
    s_first, s_all = first.scores, ctx.fitted.scores
    model = ctx.fit(ctx.first)
    require(model.partial_fit(ctx.second) is model, "partial_fit() must return self")
    s_inc = model.score(ctx.users)
    require(s_inc.shape == s_all.shape and bool(np.isfinite(s_inc).all()), "shape / NaN")
    require(len(model.data_) == len(ctx.data), "data_ does not hold every rating seen")
    tol = dict(rtol=ctx.rtol, atol=ctx.rtol * max(1.0, float(np.abs(s_all).max())))
    if not np.allclose(s_first, s_all, **tol):
        require(not np.array_equal(s_inc, s_first), "partial_fit() ignored the new ratings")
    exact = getattr(rec, "partial_fit_is_exact", False) or (
        type(rec)._partial_fit is Recommender._partial_fit
    )
    if exact:
        require(
            np.allclose(s_inc, s_all, **tol),
            "fit(A).partial_fit(B) differs from fit(A + B) (max abs diff "
            f"{np.abs(s_inc - s_all).max():.3g}) although partial_fit is declared exact",
        )
    model.partial_fit(Interactions.empty())
    require(np.array_equal(model.score(ctx.users), s_inc), "partial_fit(empty) changed scores")


@check
def check_recommender_empty_data(rec: Recommender, **options: Any) -> None:
    """Fitting no ratings works (finite scores of the right shape) or raises a
    ``RecdynError`` that says why."""
    ctx = _context(rec, options)
    model = ctx.fresh()
    try:
        model.fit(Interactions.empty(), ctx.n_users, ctx.n_items)
    except RecdynError:
        return
    except Exception as err:
        raise CheckError(
            f"fit on no ratings raised {type(err).__name__}({err}); it should work or raise "
            "a RecdynError that says why"
        ) from None
    s = model.score(ctx.users)
    require(s.shape == (ctx.n_users, ctx.n_items), "score after fitting no ratings: shape")
    require(bool(np.isfinite(s).all()), "score after fitting no ratings holds NaN or inf")


_CHECKS = (
    check_recommender_interface,
    check_recommender_params,
    check_recommender_not_fitted,
    check_recommender_bad_input,
    check_recommender_fit,
    check_recommender_score,
    check_recommender_predict,
    check_recommender_global_rng,
    check_recommender_determinism,
    check_recommender_refit,
    check_recommender_partial_fit,
    check_recommender_empty_data,
)


_DEFAULTS = dict(seed=0, partial_fit_rtol=1e-4, n_users=30, n_items=40)


def recommender_checks(rec: Recommender, **options: Any) -> Iterator[Callable[[Recommender], None]]:
    """Every check of ``rec``, its options bound: call each as ``check(rec)``.

    Options: ``seed`` (0) of the synthetic ratings; ``n_users`` (30) and ``n_items`` (40),
    their sizes (at least 8 and 10); ``partial_fit_rtol`` (1e-4), the tolerance of the
    exact-``partial_fit`` comparison.
    """
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown recommender check options {unknown}; valid: {list(_DEFAULTS)}")
    for fn in _CHECKS:
        yield functools.partial(fn, **{**_DEFAULTS, **options})


def check_recommender(recommender: Recommender, **options: Any) -> None:
    """Run every recommender check (:func:`recommender_checks`, each described by its
    docstring, which also lists the ``options``) on clones of ``recommender``; the first
    failure raises a :class:`~recdyn.errors.CheckError` naming the check and the
    recommender."""
    try:
        run_checks(recommender, recommender_checks(recommender, **options))
    finally:
        _CONTEXTS.forget(recommender)
