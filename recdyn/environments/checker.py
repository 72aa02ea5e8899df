"""``check_environment``: does an environment honour the contract? (after Gymnasium's
``utils/env_checker.py`` and scikit-learn's ``check_estimator``).

Each rule is a named check ``check_environment_xxx(env, seed=0, steps=3)`` raising a
:class:`~recdyn.errors.CheckError` that names the check and the environment;
:func:`environment_checks` yields them all, :func:`check_environment` runs them, and
:func:`recdyn.testing.parametrize_with_checks` makes one pytest item of each. The checks
judge a few recorded runs (``reset`` and ``steps`` steps with random slates) that are
made once per environment and shared: a plain run, the same run again, a run that probes
the read-only API at every step, and a run of an environment rebuilt from ``env.spec``.
The slates of step 2 hold empty slots (``-1``): the last user is shown nothing. Worlds
with creators who move (issue 18) are also checked on ``item_creators``,
``item_features()`` and ``changed_items()``, worlds where items arrive on ``added_items()``
growing everything consistently (a world whose parameters turn arrivals on is checked as
such: arrivals are then part of the deterministic run), and worlds with repeat consumption
on keeping their users online beyond ``n_items`` steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from recdyn.checking import check, check_params_round_trip, require, run_checks
from recdyn.environments.base import Environment
from recdyn.environments.check_runs import CONTEXTS, Run, run_context, same_interactions, same_run
from recdyn.errors import CheckError
from recdyn.interactions import Interactions

__all__ = ["check_environment", "environment_checks"]


def _check_interactions(env: Environment, data: Any, where: str, step: int) -> None:
    require(isinstance(data, Interactions), f"{where} did not return Interactions")
    require(data.user.dtype == np.int32 and data.item.dtype == np.int32, f"{where}: id dtypes")
    require(data.rating.dtype == np.float32, f"{where}: rating dtype {data.rating.dtype}")
    if len(data):
        lo, hi = env.rating_range
        require(data.user.min() >= 0 and data.user.max() < env.n_users, f"{where}: user id")
        require(data.item.min() >= 0 and data.item.max() < env.n_items, f"{where}: item id")
        require(
            bool((data.rating >= lo).all() and (data.rating <= hi).all()),
            f"{where}: ratings outside rating_range {env.rating_range}",
        )
        require(bool((data.step == step).all()), f"{where}: step column should be {step}")


# ----------------------------------------------------------------------------- the checks
@check
def check_environment_interface(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """It is an :class:`Environment` with positive integer sizes, ``1 ≤ users_per_step ≤
    n_users`` and a ``rating_range`` ``(low, high)`` with ``low < high``."""
    require(isinstance(env, Environment), f"{env!r} is not a recdyn Environment")
    for name in ("n_users", "n_items", "users_per_step"):
        value = getattr(env, name)
        require(isinstance(value, (int, np.integer)) and value >= 1, f"{name} is {value!r}")
    require(env.users_per_step <= env.n_users, "users_per_step exceeds n_users")
    lo, hi = env.rating_range
    require(lo < hi, f"rating_range {env.rating_range} is empty")


@check
def check_environment_params(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``get_params`` / ``clone`` / ``set_params`` / ``repr`` round trip."""
    require(isinstance(env, Environment), f"{env!r} is not a recdyn Environment")
    check_params_round_trip(env)


@check
def check_environment_reset(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``reset(seed)`` returns ``n_initial_ratings`` well-typed ratings (int32 ids in range,
    float32 ratings inside ``rating_range``, step 0), no (user, item) pair twice."""
    data = run_context(env, seed, steps).first.complete().initial
    _check_interactions(env, data, "reset()", step=0)
    key = data.user.astype(np.int64) * env.n_items + data.item
    require(len(np.unique(key)) == len(key), "reset() returned a (user, item) pair twice")
    require(
        len(data) == env.n_initial_ratings,
        f"reset() returned {len(data)} ratings, not n_initial_ratings={env.n_initial_ratings}",
    )


@check
def check_environment_online_users(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """At every step ``online_users()`` is a non-empty 1-D integer array of distinct ids in
    ``[0, n_users)``, at most ``users_per_step`` of them."""
    for t, s in enumerate(run_context(env, seed, steps).first.complete().steps, 1):
        users = s.users
        require(users.ndim == 1 and np.issubdtype(users.dtype, np.integer), "online_users dtype")
        require(len(users) >= 1, f"no online users at step {t}")
        require(len(np.unique(users)) == len(users), "online_users() repeats a user")
        require(users.min() >= 0 and users.max() < env.n_users, "online user id out of range")
        require(len(users) <= env.users_per_step, "more online users than users_per_step")


@check
def check_environment_step(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``step(slates)`` returns well-typed ratings of step ``t``, only by online users and
    only of items in their slates, and ``step_index`` advances by one."""
    for t, s in enumerate(run_context(env, seed, steps).first.complete().steps, 1):
        _check_interactions(env, s.new, f"step() {t}", step=t)
        require(np.isin(s.new.user, s.users).all(), f"step {t} rated by a user not online")
        row = np.searchsorted(s.users, s.new.user)
        require(
            (s.slates[row] == s.new.item[:, None]).any(axis=1).all(),
            f"step {t} returned a rating of an item not in the user's slate",
        )
        require(s.step_index == t, f"step_index is {s.step_index} after step {t}")
        shown_nothing = s.users[(s.slates < 0).all(axis=1)]
        require(
            not np.isin(s.new.user, shown_nothing).any(),
            f"step {t} returned a rating by a user shown nothing (a slate of -1)",
        )


@check
def check_environment_step_arguments(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``step`` does not write into the slates or scores it is given."""
    for t, s in enumerate(run_context(env, seed, steps).first.complete().steps, 1):
        require(not s.mutated, f"step() {t} mutated its slates or scores argument")


@check
def check_environment_true_ratings(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``true_ratings(users)`` is finite float32 ``[len(users), n_items]`` and agrees with
    ``true_ratings(users, items)``; ``rated_mask(users)`` is bool of the same shape and
    equals ``rated_items(users)``; ``truth_of_step`` gives exactly the maximum over allowed
    items and the shown items' values of ``true_ratings`` (NaN at an empty slot)."""
    _require_probe(run_context(env, seed, steps).probed, "true_ratings")


@check
def check_environment_state_read_only(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """Every view in ``env.state`` is read-only (metrics must not change the dynamics)."""
    _require_probe(run_context(env, seed, steps).probed, "state")


@check
def check_environment_rejects_bad_slates(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``step`` raises :class:`~recdyn.errors.InvalidSlateError` for slates of the wrong
    shape, ids out of range, negative or non-integer ids and an item twice in a slate."""
    _require_probe(run_context(env, seed, steps).probed, "bad_slates")


def _require_probe(run: Run, name: str) -> None:
    require(name not in run.probes, run.probes.get(name, ""))
    run.complete()


@check
def check_environment_creators(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``item_creators`` is ``None`` or int64 ``[n_items]`` with every creator in ``[0,
    n_creators)`` owning an item; ``item_features()`` is ``None`` or finite float64
    ``[n_items, d]``; ``changed_items()`` is sorted distinct int64 ids, and an item's
    features change at a step only if it is listed (static worlds: never)."""
    run = run_context(env, seed, steps).first.complete()
    creators = env.item_creators
    if creators is None:
        require(env.n_creators is None, "n_creators is set but item_creators is None")
    else:
        require(
            creators.dtype == np.int64 and creators.shape == (env.n_items,),
            f"item_creators has dtype {creators.dtype} and shape {creators.shape}",
        )
        n = env.n_creators
        require(isinstance(n, (int, np.integer)) and n >= 1, f"n_creators is {n!r}")
        require(creators.min() >= 0 and creators.max() < n, "item_creators outside [0, n_creators)")
        require(len(np.unique(creators)) == n, "a creator owns no item")
    before = run.features
    for t, s in enumerate(run.steps, 1):
        changed = s.changed
        require(changed.ndim == 1 and changed.dtype == np.int64, f"changed_items() dtype at {t}")
        require(
            bool((np.diff(changed) > 0).all()), f"changed_items() at step {t} not sorted/distinct"
        )
        require(
            not len(changed) or (changed.min() >= 0 and changed.max() < s.arrivals.n_items),
            f"changed_items() at step {t} holds an id outside [0, n_items)",
        )
        if s.features is None:
            require(before is None and len(changed) == 0, f"item_features() is None at step {t}")
            continue
        f = s.features
        require(
            f.ndim == 2 and f.shape[0] == s.arrivals.n_items and f.dtype == np.float64,
            f"item_features() has dtype {f.dtype} and shape {f.shape}",
        )
        require(bool(np.isfinite(f).all()), f"item_features() holds NaN or inf at step {t}")
        if before is not None and before.shape[1:] == f.shape[1:]:
            # items that arrived at the step are new, not changed
            moved = np.flatnonzero((before != f[: len(before)]).any(axis=1))
            require(
                bool(np.isin(moved, changed).all()),
                f"items {moved[~np.isin(moved, changed)][:5].tolist()} changed features at "
                f"step {t} but changed_items() does not list them",
            )
        before = f


@check
def check_environment_categories(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``item_categories()`` is ``None`` or read-only finite float64 ``[n_items,
    n_categories]`` whose rows are distributions (non-negative, summing to 1, or to 0 for
    an item without a category); ``category_names()`` is ``None`` exactly when it is, else
    one distinct name per column."""
    run_context(env, seed, steps).first.complete()
    p, names = env.item_categories(), env.category_names()
    require((p is None) == (names is None), "item_categories and category_names disagree "
            f"on having categories ({type(p).__name__} vs {type(names).__name__})")  # fmt: skip
    if p is None:
        return
    require(isinstance(p, np.ndarray) and p.dtype == np.float64 and p.ndim == 2
            and p.shape[0] == env.n_items, "item_categories() must be float64 [n_items "
            f"= {env.n_items}, n_categories], got {getattr(p, 'dtype', type(p))} "
            f"{getattr(p, 'shape', '')}")  # fmt: skip
    require(not p.flags.writeable, "item_categories() must be read-only")
    require(np.isfinite(p).all() and (p >= 0).all(), "item_categories() must be finite, ≥ 0")
    sums = p.sum(axis=1)
    require(
        bool(np.all(np.isclose(sums, 1) | (sums == 0))),
        "item_categories() rows must sum to 1 (or 0 for an item without a category)",
    )
    require(
        len(names) == p.shape[1] and len(set(names)) == len(names),
        f"category_names() must name the {p.shape[1]} columns once each, got {names}",
    )


@check
def check_environment_arrivals(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``added_items()`` is empty after ``reset`` and, after each step, the int64 ids
    ``n_items_before … n_items - 1`` of the items that arrived (none in most worlds);
    ``item_creators``, ``item_features()``, ``true_ratings`` and ``rated_mask`` cover the
    new items (nobody has rated them; existing items keep their creators). Runs with the
    same seed arrive alike (checked by ``check_environment_determinism``)."""
    run = run_context(env, seed, steps).first.complete()
    require(run.added is not None and len(run.added) == 0, "added_items() not empty after reset")
    n, creators = run.n_items, None
    for t, s in enumerate(run.steps, 1):
        a = s.arrivals
        added = a.added
        require(added.ndim == 1 and added.dtype == np.int64, f"added_items() dtype at step {t}")
        require(
            np.array_equal(added, np.arange(n, a.n_items)),
            f"at step {t} n_items went from {n} to {a.n_items} but added_items() is "
            f"{added[:5].tolist()} (should be the ids in between)",
        )
        require(a.rated_width == a.n_items, f"rated_mask has {a.rated_width} columns at step {t}")
        require(not a.rated_new, f"an item that arrived at step {t} is already rated")
        if s.features is not None:
            require(s.features.shape[0] == a.n_items, f"item_features() misses items at step {t}")
        if a.creators is not None:
            require(len(a.creators) == a.n_items, f"item_creators misses items at step {t}")
            require(
                creators is None or np.array_equal(a.creators[: len(creators)], creators),
                f"an existing item changed creator at step {t}",
            )
            creators = a.creators
        n = a.n_items


@check
def check_environment_repeat_consumption(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """A world with ``repeat_consumption`` keeps users online after they have rated every
    item: ``n_items + 1`` steps (at most 1,000) of each online user shown item
    ``t mod n_items`` never run out of users. (Other worlds: nothing to check.)"""
    if not env.repeat_consumption:
        return
    n_steps = min(env.n_items + 1, 1000)
    try:
        env.reset(seed=seed)
        for t in range(n_steps):
            users = env.online_users()
            env.step(np.full(len(users), t % env.n_items, np.int64))
        require(len(env.online_users()) >= 1, "no user online")
    except CheckError:
        raise
    except Exception as err:
        raise CheckError(
            f"after {env.step_index} steps of a repeat-consumption world: "
            f"{type(err).__name__}: {err}"
        ) from None


@check
def check_environment_global_rng(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``reset`` and ``step`` draw only from the environment's own generators, never from
    numpy's or Python's global random state."""
    run = run_context(env, seed, steps).first
    require(run.global_rng is None, f"reset/step: {run.global_rng}")


@check
def check_environment_determinism(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """The same seed gives the same run (ratings, and item features — moving creators —
    after every step); another seed gives other initial data."""
    ctx = run_context(env, seed, steps)
    first = ctx.first.complete()
    require(same_run(first, ctx.repeat), "the same seed gave different runs")
    if env.n_initial_ratings and env.n_users * env.n_items > 1:
        other = env.reset(seed=seed + 1)
        require(not same_interactions(first.initial, other), "different seeds gave the same data")


@check
def check_environment_probes_keep_dynamics(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """Calling ``true_ratings``, ``rated_mask``, ``state`` or a rejected ``step`` between
    steps does not change what happens next."""
    ctx = run_context(env, seed, steps)
    require(
        same_run(ctx.first.complete(), ctx.probed),
        "calling true_ratings / rated_mask / state, or a rejected step, changed the dynamics",
    )


@check
def check_environment_rebuild(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """An environment built from ``type(env)(**env.spec.params)`` behaves identically."""
    ctx = run_context(env, seed, steps)
    require(
        same_run(ctx.first.complete(), ctx.rebuilt),
        "an environment rebuilt from env.spec.params behaves differently",
    )


_CHECKS = (
    check_environment_interface,
    check_environment_params,
    check_environment_reset,
    check_environment_online_users,
    check_environment_step,
    check_environment_step_arguments,
    check_environment_true_ratings,
    check_environment_state_read_only,
    check_environment_rejects_bad_slates,
    check_environment_creators,
    check_environment_categories,
    check_environment_arrivals,
    check_environment_repeat_consumption,
    check_environment_global_rng,
    check_environment_determinism,
    check_environment_probes_keep_dynamics,
    check_environment_rebuild,
)


def environment_checks(
    env: Environment, *, seed: int = 0, steps: int = 3
) -> Iterator[Callable[[Environment], None]]:
    """Every check of ``env``, its options bound: call each as ``check(env)``."""
    for fn in _CHECKS:
        yield functools.partial(fn, seed=seed, steps=steps)


def check_environment(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """Run every environment check on ``env`` (reset and ``steps`` steps from ``seed``);
    the first failure raises a :class:`~recdyn.errors.CheckError` naming the check and the
    environment. The checks are listed by :func:`environment_checks`; each is described by
    its docstring."""
    try:
        run_checks(env, environment_checks(env, seed=seed, steps=steps))
    finally:
        CONTEXTS.forget(env)
