"""``check_environment``: does an environment honour the contract? (after Gymnasium's
``utils/env_checker.py`` and scikit-learn's ``check_estimator``).

Each rule is a named check ``check_environment_xxx(env, seed=0, steps=3)`` raising a
:class:`~recdyn.errors.CheckError` that names the check and the environment;
:func:`environment_checks` yields them all, :func:`check_environment` runs them, and
:func:`recdyn.testing.parametrize_with_checks` makes one pytest item of each. The checks
judge a few recorded runs (``reset`` and ``steps`` steps with random slates) that are
made once per environment and shared: a plain run, the same run again, a run that probes
the read-only API at every step, and a run of an environment rebuilt from ``env.spec``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recdyn.checking import (
    ContextCache,
    GlobalRngGuard,
    check,
    check_params_round_trip,
    require,
    run_checks,
)
from recdyn.environments.base import Environment
from recdyn.errors import CheckError, InvalidSlateError
from recdyn.interactions import Interactions

__all__ = ["check_environment", "environment_checks"]


# ----------------------------------------------------------------------------- recorded runs
@dataclass
class _Step:
    users: np.ndarray  # online users, as returned
    slates: np.ndarray  # what was shown
    new: Interactions  # what step() returned
    step_index: int  # env.step_index after the step
    mutated: bool  # step() changed its slates or scores argument


@dataclass
class _Run:
    initial: Interactions | None = None
    steps: list[_Step] = field(default_factory=list)
    error: str | None = None  # where the run stopped and why
    global_rng: str | None = None  # how the global random state was used, if it was
    probes: dict[str, str] = field(default_factory=dict)  # probe → its first failure

    def complete(self) -> _Run:
        require(self.error is None, f"the run stopped: {self.error}")
        return self


def _rollout(env: Environment, seed: int, steps: int, probe: bool) -> _Run:
    """``reset(seed)`` then ``steps`` steps of random slates of 1–3 items (the same
    slates for the same environment); ``probe`` calls the read-only API before each step."""
    run = _Run()
    rng = np.random.default_rng(12345)
    where = "reset()"
    guard = GlobalRngGuard()
    try:
        with guard:
            run.initial = env.reset(seed=seed)
            for t in range(1, steps + 1):
                where = f"step {t}"
                users = env.online_users()
                k = min(1 + (t % 3), env.n_items)
                slates = np.stack(
                    [rng.choice(env.n_items, size=k, replace=False) for _ in range(len(users))]
                )
                scores = rng.random(slates.shape)
                if probe:
                    for name, fn in _PROBES.items():
                        _probe(run, name, fn, env, users, slates)
                shown, given = slates.copy(), scores.copy()
                new = env.step(shown, scores=given)
                mutated = not (np.array_equal(shown, slates) and np.array_equal(given, scores))
                run.steps.append(_Step(users, slates, new, env.step_index, mutated))
    except Exception as err:
        run.error = f"{where} raised {type(err).__name__}: {err}"
    run.global_rng = guard.violation
    return run


def _probe(run: _Run, name: str, fn: Callable[..., None], *args: Any) -> None:
    try:
        fn(*args)
    except Exception as err:
        msg = str(err) if isinstance(err, CheckError) else f"{type(err).__name__}: {err}"
        run.probes.setdefault(name, f"at step {len(run.steps) + 1}: {msg}")


def _probe_true_ratings(env: Environment, users: np.ndarray, slates: np.ndarray) -> None:
    truth = env.true_ratings(users)
    require(truth.shape == (len(users), env.n_items), "true_ratings(users) has the wrong shape")
    require(truth.dtype == np.float32, f"true_ratings dtype is {truth.dtype}, not float32")
    require(np.isfinite(truth).all(), "true_ratings holds NaN or inf")
    sub = env.true_ratings(users[:2], np.arange(min(3, env.n_items)))
    require(np.allclose(sub, truth[:2, : sub.shape[1]]), "true_ratings(users, items) disagrees")
    mask = env.rated_mask(users)
    require(mask.shape == truth.shape and mask.dtype == bool, "rated_mask shape or dtype")


def _probe_state(env: Environment, users: np.ndarray, slates: np.ndarray) -> None:
    for name, view in env.state.items():
        require(not view.flags.writeable, f"state[{name!r}] is writeable")


def _probe_bad_slates(env: Environment, users: np.ndarray, slates: np.ndarray) -> None:
    bad = [
        slates[:-1] if len(slates) > 1 else np.zeros((2, 1), np.int64),  # wrong row count
        np.full_like(slates, env.n_items),  # out of range
        np.full_like(slates, -1),  # negative
        slates.astype(float) + 0.5,  # not integers
    ]
    if env.n_items > 1:
        bad.append(np.zeros((len(slates), 2), np.int64))  # an item twice in a slate
    for slate in bad:
        try:
            env.step(slate)
        except InvalidSlateError:
            continue
        raise CheckError(f"step() accepted an invalid slate {np.asarray(slate)[:1].tolist()}…")


_PROBES = {
    "true_ratings": _probe_true_ratings,
    "state": _probe_state,
    "bad_slates": _probe_bad_slates,
}


def _same_interactions(a: Interactions | None, b: Interactions | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(
        np.array_equal(getattr(a, c), getattr(b, c)) for c in ("user", "item", "rating", "step")
    )


def _same_run(a: _Run, b: _Run) -> bool:
    return (
        a.error == b.error
        and _same_interactions(a.initial, b.initial)
        and len(a.steps) == len(b.steps)
        and all(
            np.array_equal(x.users, y.users) and _same_interactions(x.new, y.new)
            for x, y in zip(a.steps, b.steps)
        )
    )


class _Context:
    """The runs of one environment, each made on first use."""

    def __init__(self, env: Environment, seed: int, steps: int) -> None:
        self.env, self.seed, self.steps = env, seed, steps

    @functools.cached_property
    def first(self) -> _Run:
        return _rollout(self.env, self.seed, self.steps, probe=False)

    @functools.cached_property
    def repeat(self) -> _Run:
        return _rollout(self.env, self.seed, self.steps, probe=False)

    @functools.cached_property
    def probed(self) -> _Run:
        return _rollout(self.env, self.seed, self.steps, probe=True)

    @functools.cached_property
    def rebuilt(self) -> _Run:
        return _rollout(type(self.env)(**self.env.spec.params), self.seed, self.steps, False)


_CONTEXTS = ContextCache()


def _context(env: Environment, seed: int, steps: int) -> _Context:
    require(isinstance(env, Environment), f"{env!r} is not a recdyn Environment")
    return _CONTEXTS.get(env, {"seed": seed, "steps": steps}, lambda: _Context(env, seed, steps))


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
    data = _context(env, seed, steps).first.complete().initial
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
    for t, s in enumerate(_context(env, seed, steps).first.complete().steps, 1):
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
    for t, s in enumerate(_context(env, seed, steps).first.complete().steps, 1):
        _check_interactions(env, s.new, f"step() {t}", step=t)
        require(np.isin(s.new.user, s.users).all(), f"step {t} rated by a user not online")
        row = np.searchsorted(s.users, s.new.user)
        require(
            (s.slates[row] == s.new.item[:, None]).any(axis=1).all(),
            f"step {t} returned a rating of an item not in the user's slate",
        )
        require(s.step_index == t, f"step_index is {s.step_index} after step {t}")


@check
def check_environment_step_arguments(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``step`` does not write into the slates or scores it is given."""
    for t, s in enumerate(_context(env, seed, steps).first.complete().steps, 1):
        require(not s.mutated, f"step() {t} mutated its slates or scores argument")


@check
def check_environment_true_ratings(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``true_ratings(users)`` is finite float32 ``[len(users), n_items]`` and agrees with
    ``true_ratings(users, items)``; ``rated_mask(users)`` is bool of the same shape."""
    _require_probe(_context(env, seed, steps).probed, "true_ratings")


@check
def check_environment_state_read_only(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """Every view in ``env.state`` is read-only (metrics must not change the dynamics)."""
    _require_probe(_context(env, seed, steps).probed, "state")


@check
def check_environment_rejects_bad_slates(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``step`` raises :class:`~recdyn.errors.InvalidSlateError` for slates of the wrong
    shape, ids out of range, negative or non-integer ids and an item twice in a slate."""
    _require_probe(_context(env, seed, steps).probed, "bad_slates")


def _require_probe(run: _Run, name: str) -> None:
    require(name not in run.probes, run.probes.get(name, ""))
    run.complete()


@check
def check_environment_global_rng(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """``reset`` and ``step`` draw only from the environment's own generators, never from
    numpy's or Python's global random state."""
    run = _context(env, seed, steps).first
    require(run.global_rng is None, f"reset/step: {run.global_rng}")


@check
def check_environment_determinism(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """The same seed gives the same run; another seed gives other initial data."""
    ctx = _context(env, seed, steps)
    first = ctx.first.complete()
    require(_same_run(first, ctx.repeat), "the same seed gave different runs")
    if env.n_initial_ratings and env.n_users * env.n_items > 1:
        other = env.reset(seed=seed + 1)
        require(not _same_interactions(first.initial, other), "different seeds gave the same data")


@check
def check_environment_probes_keep_dynamics(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """Calling ``true_ratings``, ``rated_mask``, ``state`` or a rejected ``step`` between
    steps does not change what happens next."""
    ctx = _context(env, seed, steps)
    require(
        _same_run(ctx.first.complete(), ctx.probed),
        "calling true_ratings / rated_mask / state, or a rejected step, changed the dynamics",
    )


@check
def check_environment_rebuild(env: Environment, seed: int = 0, steps: int = 3) -> None:
    """An environment built from ``type(env)(**env.spec.params)`` behaves identically."""
    ctx = _context(env, seed, steps)
    require(
        _same_run(ctx.first.complete(), ctx.rebuilt),
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
        _CONTEXTS.forget(env)
