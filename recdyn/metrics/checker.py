"""``check_online_metric``: does an online metric honour the
:class:`~recdyn.metrics.OnlineMetric` contract? (after scikit-learn's ``check_estimator``).

Each rule is a named check ``check_online_metric_xxx(metric)`` raising a
:class:`~recdyn.errors.CheckError` that names the check and the metric;
:func:`online_metric_checks` yields them all, :func:`check_online_metric` runs them, and
:func:`recdyn.testing.parametrize_with_checks` makes one pytest item of each. The metric
is evaluated on small simulated steps (:func:`simulated_step`): a step with ratings, the
same step without predictions (a recommender that does not predict ratings), and a step
in which nobody rated anything.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from recdyn.checking import GlobalRngGuard, check, check_params_round_trip, require, run_checks
from recdyn.errors import CheckError
from recdyn.interactions import Interactions
from recdyn.metrics.online import OnlineMetric, StepContext

__all__ = ["check_online_metric", "online_metric_checks", "simulated_step"]

#: Context fields the loop fills only for metrics that declare them in ``needs``.
OPTIONAL_FIELDS = frozenset(
    {
        "truth",
        "best_truth",
        "shown_truth",
        "rated_before",
        "predictions",
        "environment",
        "recommender",
        "probabilities",
    }
)
#: Of those, the run's objects (read-only handles): compared by their observable state.
_HANDLES = ("environment", "recommender")
_COLUMNS = ("user", "item", "rating", "step")


def simulated_step(
    seed: int = 0,
    *,
    n_users: int = 40,
    n_items: int = 25,
    n_online: int = 8,
    k: int = 3,
    world: tuple[str, dict[str, Any]] | None = None,
) -> StepContext:
    """A :class:`StepContext` as the simulation loop builds it, every field filled:
    ``n_online`` users (sorted ids) shown ``k`` distinct items none of which they rated
    before, each rating one of them (half of the time); noise-free ratings in 1–5 and
    predictions near the observed ratings; first-slot probabilities (a softmax of random
    scores, one row all zero: a user shown nothing); a reset ``latent-static-v1`` world of
    the same size (or ``world``: a preset name and parameters, given ``n_users``,
    ``n_items`` and ``users_per_step=n_online`` too) and a TopPop fitted on its initial
    data as the run's environment and recommender."""
    rng = np.random.default_rng(seed)
    users = np.sort(rng.choice(n_users, size=n_online, replace=False)).astype(np.int64)
    truth = rng.uniform(1.0, 5.0, size=(n_online, n_items)).astype(np.float32)
    rated = rng.random((n_online, n_items)) < 0.3
    key = np.where(rated, -1.0, rng.random((n_online, n_items)))
    slates = np.argsort(-key, axis=1)[:, :k].astype(np.int64)  # unrated items only
    raters = np.flatnonzero(rng.random(n_online) < 0.5)
    if not len(raters):
        raters = np.array([0])
    items = slates[raters, rng.integers(0, k, size=len(raters))]
    ratings = np.clip(np.round(truth[raters, items] + rng.normal(0, 0.5, len(raters))), 1, 5)
    new = Interactions(users[raters], items, ratings, step=np.full(len(raters), 3))
    predictions = (ratings + rng.normal(0, 0.7, len(raters))).astype(np.float32)
    weights = np.exp(2.0 * rng.normal(size=(n_online, n_items)))
    probabilities = weights / weights.sum(axis=1, keepdims=True)
    probabilities[-1] = 0.0
    env, recommender = _world(seed, n_users, n_items, n_online, world)
    best_truth = np.where(rated, -np.inf, truth).max(axis=1).astype(np.float32)
    shown_truth = np.take_along_axis(truth, slates, axis=1)
    return StepContext(
        3,
        users,
        slates,
        new,
        truth,
        rated,
        predictions,
        n_items,
        env,
        recommender,
        seed,
        probabilities,
        best_truth=best_truth,
        shown_truth=shown_truth,
    )


def _world(
    seed: int, n_users: int, n_items: int, n_online: int, world: tuple[str, dict] | None
) -> tuple[Any, Any]:
    """A small reset environment and a recommender fitted on its initial data."""
    from recdyn.environments.presets import make as make_environment
    from recdyn.recommenders.registry import make as make_recommender

    name, params = world or ("latent-static-v1", {"n_initial_ratings": n_users * n_items // 4})
    env = make_environment(
        name, n_users=n_users, n_items=n_items, users_per_step=n_online, **params
    )
    initial = env.reset(seed=seed)
    return env, make_recommender("toppop").fit(initial, n_users, n_items)


def _observable(handle: Any) -> list[np.ndarray]:
    """What a metric could change in a run's environment or recommender: the step count,
    rated pairs and true ratings of an environment, the scores of a recommender."""
    if hasattr(handle, "rated_mask"):
        every = np.arange(handle.n_users)
        state = [np.array(v) for v in handle.state.values()]
        return [
            np.array(handle.step_index),
            handle.rated_mask(every),
            handle.true_ratings(),
            *state,
        ]
    return [handle.score(np.arange(handle.n_users_))]


def _contexts(seed: int = 0, world: tuple[str, dict] | None = None) -> dict[str, StepContext]:
    """The steps every metric is evaluated on, by name."""
    full = simulated_step(seed, world=world)
    nothing = dataclasses.replace(full, new=Interactions.empty(), predictions=None)
    return {
        "a step with ratings": full,
        "a step without predictions": dataclasses.replace(full, predictions=None),
        "a step without ratings": nothing,
    }


class _Recorder(StepContext):
    """A :class:`StepContext` that records which optional fields are read."""

    def __getattribute__(self, name: str) -> Any:
        if name in OPTIONAL_FIELDS:
            object.__getattribute__(self, "_read").add(name)
        return object.__getattribute__(self, name)


def _recording(ctx: StepContext) -> _Recorder:
    rec = _Recorder(**{f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)})
    object.__setattr__(rec, "_read", set())
    return rec


def _checker_world(metric: Any) -> tuple[str, dict] | None:
    return getattr(metric, "checker_world", None)


def _number(metric: OnlineMetric, ctx: StepContext, where: str) -> float:
    value = metric(ctx)
    require(isinstance(value, float), f"on {where}: returned {type(value).__name__}")
    require(not np.isinf(value), f"on {where}: returned {value}")
    return value


def _same(a: float, b: float) -> bool:
    return a == b or (np.isnan(a) and np.isnan(b))


@check
def check_online_metric_interface(metric: OnlineMetric, **options: Any) -> None:
    """It is an :class:`OnlineMetric` whose ``needs`` is a set of names of optional
    context fields (``truth``, ``rated_before``, ``predictions``, ``environment``,
    ``recommender``): a misspelt name would silently never be computed."""
    require(isinstance(metric, OnlineMetric), f"{metric!r} is not a recdyn OnlineMetric")
    needs = metric.needs
    require(isinstance(needs, (set, frozenset)), f"needs is a {type(needs).__name__}, not a set")
    unknown = sorted(map(str, set(needs) - OPTIONAL_FIELDS))
    require(not unknown, f"needs names unknown fields {unknown}; known: {sorted(OPTIONAL_FIELDS)}")


@check
def check_online_metric_params(metric: OnlineMetric, **options: Any) -> None:
    """``get_params`` / ``clone`` / ``set_params`` / ``repr`` round trip."""
    require(isinstance(metric, OnlineMetric), f"{metric!r} is not a recdyn OnlineMetric")
    check_params_round_trip(metric)


@check
def check_online_metric_value(metric: OnlineMetric, seed: int = 0) -> None:
    """Calling the metric returns a Python ``float``, finite or NaN (NaN: not defined at
    this step), on a step with ratings, without predictions and without ratings."""
    for where, ctx in _contexts(seed, _checker_world(metric)).items():
        _number(metric, ctx, where)


@check
def check_online_metric_needs(metric: OnlineMetric, seed: int = 0) -> None:
    """Every optional field the metric reads is declared in ``needs`` (the loop leaves the
    others ``None``), and its value is the same when the undeclared ones are ``None``."""
    undeclared = OPTIONAL_FIELDS - set(metric.needs)
    for where, ctx in _contexts(seed, _checker_world(metric)).items():
        recorder = _recording(ctx)
        value = _number(metric, recorder, where)
        read = sorted(object.__getattribute__(recorder, "_read") & undeclared)
        require(not read, f"on {where}: reads {read} but needs = {sorted(metric.needs)}")
        bare = dataclasses.replace(ctx, **dict.fromkeys(undeclared))
        without = _number(metric, bare, f"{where}, undeclared fields None")
        require(
            _same(value, without),
            f"on {where}: {value} with every field, {without} with the undeclared ones None",
        )


@check
def check_online_metric_context_unchanged(metric: OnlineMetric, seed: int = 0) -> None:
    """The metric does not write into the context (other metrics of the step read it),
    nor changes the run's environment or recommender it may read."""
    for where, ctx in _contexts(seed, _checker_world(metric)).items():
        before = copy.deepcopy(ctx)
        metric(ctx)
        for f in dataclasses.fields(ctx):
            a, b = getattr(before, f.name), getattr(ctx, f.name)
            if f.name in _HANDLES and a is not None and b is not None:
                same = all(map(np.array_equal, _observable(a), _observable(b)))
            elif isinstance(a, Interactions):
                same = all(np.array_equal(getattr(a, c), getattr(b, c)) for c in _COLUMNS)
            elif isinstance(a, np.ndarray):
                same = isinstance(b, np.ndarray) and np.array_equal(a, b)
            else:
                same = a == b
            if not same:
                raise CheckError(f"on {where}: the metric changed ctx.{f.name}")


@check
def check_online_metric_determinism(metric: OnlineMetric, seed: int = 0) -> None:
    """The same step gives the same value, and the global random state is not used."""
    for where, ctx in _contexts(seed, _checker_world(metric)).items():
        with GlobalRngGuard() as guard:
            a, b = metric(ctx), metric(ctx)
        guard.require_untouched()
        require(_same(a, b), f"on {where}: {a} then {b}")


_CHECKS = (
    check_online_metric_interface,
    check_online_metric_params,
    check_online_metric_value,
    check_online_metric_needs,
    check_online_metric_context_unchanged,
    check_online_metric_determinism,
)


def online_metric_checks(
    metric: OnlineMetric, *, seed: int = 0
) -> Iterator[Callable[[OnlineMetric], None]]:
    """Every check of ``metric``, its options bound: call each as ``check(metric)``."""
    for fn in _CHECKS:
        yield functools.partial(fn, seed=seed)


def check_online_metric(metric: OnlineMetric, *, seed: int = 0) -> None:
    """Run every online-metric check (:func:`online_metric_checks`, each described by its
    docstring) on ``metric``; the first failure raises a
    :class:`~recdyn.errors.CheckError` naming the check and the metric."""
    run_checks(metric, online_metric_checks(metric, seed=seed))
