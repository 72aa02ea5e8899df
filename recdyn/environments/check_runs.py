"""The recorded runs that :mod:`recdyn.environments.checker` judges: ``reset`` and a few
steps of random slates, made once per environment and shared by the checks — a plain
run, the same run again, a run that probes the read-only API at every step, and a run of
an environment rebuilt from ``env.spec``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recdyn.checking import ContextCache, GlobalRngGuard, require
from recdyn.environments.base import Environment
from recdyn.errors import CheckError, InvalidSlateError
from recdyn.interactions import Interactions

__all__ = [
    "CONTEXTS",
    "Arrivals",
    "Run",
    "RunContext",
    "Step",
    "rollout",
    "run_context",
    "same_interactions",
    "same_run",
]


@dataclass
class Step:
    users: np.ndarray  # online users, as returned
    slates: np.ndarray  # what was shown
    new: Interactions  # what step() returned
    step_index: int  # env.step_index after the step
    mutated: bool  # step() changed its slates or scores argument
    features: np.ndarray | None = None  # a copy of item_features() after the step
    changed: np.ndarray | None = None  # changed_items() after the step
    arrivals: Arrivals | None = None  # items that arrived at the step, and what covers them


@dataclass
class Arrivals:
    """What a step's arrivals looked like right after the step."""

    n_items: int  # env.n_items
    added: np.ndarray  # added_items()
    creators: np.ndarray | None  # a copy of item_creators
    rated_width: int  # columns of rated_mask
    rated_new: bool  # some online user has an arrived item marked as rated


@dataclass
class Run:
    initial: Interactions | None = None
    steps: list[Step] = field(default_factory=list)
    error: str | None = None  # where the run stopped and why
    global_rng: str | None = None  # how the global random state was used, if it was
    probes: dict[str, str] = field(default_factory=dict)  # probe → its first failure
    features: np.ndarray | None = None  # a copy of item_features() after reset
    added: np.ndarray | None = None  # added_items() after reset
    n_items: int | None = None  # env.n_items after reset

    def complete(self) -> Run:
        require(self.error is None, f"the run stopped: {self.error}")
        return self


def rollout(env: Environment, seed: int, steps: int, probe: bool) -> Run:
    """``reset(seed)`` then ``steps`` steps of random slates of 1–3 items (the same
    slates for the same environment; at step 2 the last user is shown nothing and, with
    several users, the first user's last slot is empty); ``probe`` calls the read-only API
    before each step."""
    run = Run()
    rng = np.random.default_rng(12345)
    where = "reset()"
    guard = GlobalRngGuard()
    try:
        with guard:
            run.initial = env.reset(seed=seed)
            run.features = _features(env)
            run.added, run.n_items = np.array(env.added_items()), env.n_items
            for t in range(1, steps + 1):
                where = f"step {t}"
                users = env.online_users()
                k = min(1 + (t % 3), env.n_items)
                slates = np.stack(
                    [rng.choice(env.n_items, size=k, replace=False) for _ in range(len(users))]
                )
                scores = rng.random(slates.shape)
                if t == 2:  # empty slots: -1 shows nothing
                    slates[-1] = -1
                    if len(slates) > 1 and k > 1:
                        slates[0, -1] = -1
                if probe:
                    for name, fn in _PROBES.items():
                        _probe(run, name, fn, env, users, slates)
                shown, given = slates.copy(), scores.copy()
                new = env.step(shown, scores=given)
                mutated = not (np.array_equal(shown, slates) and np.array_equal(given, scores))
                run.steps.append(
                    Step(
                        users,
                        slates,
                        new,
                        env.step_index,
                        mutated,
                        _features(env),
                        np.array(env.changed_items()),
                        _arrivals(env, users),
                    )
                )
    except Exception as err:
        run.error = f"{where} raised {type(err).__name__}: {err}"
    run.global_rng = guard.violation
    return run


def _features(env: Environment) -> np.ndarray | None:
    features = env.item_features()
    return None if features is None else np.array(features)


def _arrivals(env: Environment, users: np.ndarray) -> Arrivals:
    added = np.array(env.added_items())
    creators = env.item_creators
    mask = env.rated_mask(users)
    return Arrivals(
        env.n_items,
        added,
        None if creators is None else np.array(creators),
        mask.shape[1],
        bool(len(added) and mask[:, added[(added >= 0) & (added < mask.shape[1])]].any()),
    )


def _probe(run: Run, name: str, fn: Callable[..., None], *args: Any) -> None:
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
    sparse = env.rated_items(users)
    require(np.array_equal(sparse.toarray(), mask), "rated_items(users) disagrees with rated_mask")
    for exclude in (True, False):
        best, shown = env.truth_of_step(users, slates, exclude_rated=exclude)
        allowed = np.where(mask, -np.inf, truth) if exclude else truth
        expected = allowed.max(axis=1)
        has = np.isfinite(expected)
        require(
            np.array_equal(best[has], expected[has]),
            f"truth_of_step(exclude_rated={exclude}) best differs from true_ratings' maximum",
        )
    picked = np.take_along_axis(truth, np.maximum(slates, 0), axis=1)
    require(
        np.array_equal(np.where(slates >= 0, picked, np.nan), shown, equal_nan=True),
        "truth_of_step's shown ratings differ from true_ratings (or an empty slot is not NaN)",
    )


def _probe_state(env: Environment, users: np.ndarray, slates: np.ndarray) -> None:
    for name, view in env.state.items():
        require(not view.flags.writeable, f"state[{name!r}] is writeable")
    for name, view in (
        ("item_creators", env.item_creators),
        ("item_features()", env.item_features()),
    ):
        require(view is None or not view.flags.writeable, f"{name} is writeable")


def _probe_bad_slates(env: Environment, users: np.ndarray, slates: np.ndarray) -> None:
    bad = [
        slates[:-1] if len(slates) > 1 else np.zeros((2, 1), np.int64),  # wrong row count
        np.full_like(slates, env.n_items),  # out of range
        np.full_like(slates, -2),  # negative (-1 is an empty slot)
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


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def same_interactions(a: Interactions | None, b: Interactions | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(
        np.array_equal(getattr(a, c), getattr(b, c)) for c in ("user", "item", "rating", "step")
    ) and _same_array(a.position, b.position)


def same_run(a: Run, b: Run) -> bool:
    return (
        a.error == b.error
        and same_interactions(a.initial, b.initial)
        and _same_array(a.features, b.features)
        and len(a.steps) == len(b.steps)
        and all(
            np.array_equal(x.users, y.users)
            and same_interactions(x.new, y.new)
            and _same_array(x.features, y.features)
            and _same_array(x.changed, y.changed)
            and _same_arrivals(x.arrivals, y.arrivals)
            for x, y in zip(a.steps, b.steps)
        )
    )


def _same_arrivals(a: Arrivals | None, b: Arrivals | None) -> bool:
    if a is None or b is None:
        return a is b
    return (
        a.n_items == b.n_items
        and np.array_equal(a.added, b.added)
        and _same_array(a.creators, b.creators)
    )


class RunContext:
    """The runs of one environment, each made on first use."""

    def __init__(self, env: Environment, seed: int, steps: int) -> None:
        self.env, self.seed, self.steps = env, seed, steps

    @functools.cached_property
    def first(self) -> Run:
        return rollout(self.env, self.seed, self.steps, probe=False)

    @functools.cached_property
    def repeat(self) -> Run:
        return rollout(self.env, self.seed, self.steps, probe=False)

    @functools.cached_property
    def probed(self) -> Run:
        return rollout(self.env, self.seed, self.steps, probe=True)

    @functools.cached_property
    def rebuilt(self) -> Run:
        return rollout(type(self.env)(**self.env.spec.params), self.seed, self.steps, False)


CONTEXTS = ContextCache()


def run_context(env: Environment, seed: int, steps: int) -> RunContext:
    require(isinstance(env, Environment), f"{env!r} is not a recdyn Environment")
    return CONTEXTS.get(env, {"seed": seed, "steps": steps}, lambda: RunContext(env, seed, steps))
