"""``simulate``: the recommend → observe → retrain loop, and its :class:`Trajectory`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn._json import json_params
from recdyn._progress import progress_bar
from recdyn._validation import check_choice, check_int
from recdyn.environments.base import Environment
from recdyn.environments.presets import make as make_environment
from recdyn.errors import InvalidParameterError, NoEligibleUsersError
from recdyn.heldout import HeldOut
from recdyn.interactions import InteractionLog, Interactions
from recdyn.metrics.online import DEFAULT_METRICS, OnlineMetric, StepContext, resolve
from recdyn.policies.base import Policy
from recdyn.policies.registry import make as make_policy
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.registry import make as make_recommender
from recdyn.shadow import TRAINING_MODES, UniformShadow
from recdyn.stepping import recommend, require_step_memory
from recdyn.trajectory import Trajectory

#: The most steps one :func:`simulate` run takes (ten million: far beyond any study, and a
#: count whose log still fits in memory at a few users per step).
MAX_STEPS = 10**7
#: Rows of the interaction log allocated up front; a longer run grows it as it goes.
_PREALLOCATED_RATINGS = 2**22
#: Context fields read from :meth:`Environment.truth_of_step` (before the step).
_ORACLE_FIELDS = frozenset({"best_truth", "shown_truth"})
#: The columns every trajectory has besides its metrics.
_LOOP_COLUMNS = ("step", "n_ratings", "seconds")


def simulate(
    env: Environment | str,
    recommender: Recommender | str,
    policy: Policy | str = "greedy",
    *,
    steps: int,
    seed: int | np.random.SeedSequence = 0,
    k: int = 1,
    retrain_every: int = 1,
    metrics: Sequence[str | OnlineMetric] = DEFAULT_METRICS,
    exclude_rated: bool | None = None,
    training: str = "feedback",
    heldout: HeldOut | None = None,
    env_seed: Any = None,
    progress: bool = False,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> Trajectory:
    r"""Run the recommendation loop for ``steps`` steps and return its :class:`Trajectory`.

    Each step: the environment names its online users; the recommender scores all items
    for them; the policy picks a slate of ``k`` items (never an item the user already rated,
    when ``exclude_rated``); the environment returns the ratings; the online metrics are
    computed; every ``retrain_every`` steps the recommender's ``partial_fit`` receives the
    ratings since its last update (the thesis protocol retrains every step). A slate
    entry ``-1`` (:data:`~recdyn.policies.base.NO_ITEM`) shows nothing in that slot (a
    user shown nothing rates nothing). In a world whose items move (creators who move),
    the recommender's ``items_changed`` hook is told after each step which items' features
    changed (:meth:`~recdyn.environments.base.Environment.changed_items`), and its
    ``items_added`` the new ``n_items`` after a step at which items arrived (new creators;
    before ``partial_fit``; an arrived item is never held out). A world that
    ``observes_exposure`` (strategic creators) is shown the policy's first-slot
    probabilities of each step before it steps, so its policy must report them.

    ``training="uniform"`` is the shadow-uniform arm of the thesis's Definition 1 (L1903):
    the recommender trains instead on as many uniformly drawn, never-recommended pairs per
    step, rated by the world without changing it (:mod:`recdyn.shadow`), while
    recommendations, dynamics and online metrics still follow its scores. Two runs on the
    same seed give the feedback effect :math:`M(R_t) - M(\hat R_t)` of any recommender in
    any world::

        fb = simulate("latent-static-v1", "mf-als", steps=300, seed=1, heldout=HeldOut())
        un = simulate("latent-static-v1", "mf-als", steps=300, seed=1, heldout=HeldOut(),
                      training="uniform")
        effect = fb.metrics["heldout_rmse"] - un.metrics["heldout_rmse"]

    Large worlds (issue 22): a step of more than
    :data:`~recdyn.stepping.STEP_BLOCK_CELLS` users × items cells is scored and selected
    in blocks of users (unless a metric needs the policy's probabilities, the world
    observes exposure or pairs are held out), rated items are excluded as a sparse matrix,
    and regret reads the truth of the best allowed and the shown items only. Greedy slates
    are identical either way; a stochastic policy draws per block above the threshold. A
    run whose dense per-step arrays would not fit in memory fails before it starts
    (:class:`~recdyn.errors.InsufficientMemoryError`, naming the metric and the parameter).

    ``heldout`` (a :class:`~recdyn.heldout.HeldOut`) holds out pairs that are never shown
    nor trained on and evaluates the recommender on them every ``every`` steps (columns
    ``heldout_<metric>``).

    Parameters
    ----------
    env : an :class:`Environment` or a preset name (``"topics-dynamic-v1"``).
    recommender : a :class:`Recommender` or a registered name (``"toppop"``). It is cloned,
        so the object passed in is left untouched; the fitted copy is in the result.
    policy : a :class:`Policy` or a registered name. One that ``requires_environment``
        (``diversity-boost``) runs as a clone attached to the world after ``reset``; a
        metric that needs ``probabilities`` gets ``policy.probabilities`` of each step.
    steps : number of online steps, in ``[0, MAX_STEPS]`` (ten million).
    seed : root seed. The environment, recommender and policy get independent streams
        derived from it by name (see :mod:`recdyn.seeding`): same seed, same trajectory.
    k : slate size. retrain_every : steps between recommender updates.
    metrics : names of online metrics (``recdyn.metrics.online_metrics``) or instances
        (each run uses a clone, so metrics that keep state start afresh).
    exclude_rated : never show a user an item they already rated; ``None`` (default):
        unless the world lets items be consumed again (``env.repeat_consumption``), so
        every world without repeat consumption excludes them as before.
    training : ``"feedback"`` (the ratings of its recommendations) or ``"uniform"`` (the
        shadow arm, stream ``training``).
    heldout : held-out pairs evaluated inside the loop (stream ``heldout``), or ``None``.
    env_seed : overrides the environment's seed, e.g. ``(0, trial)`` to share the initial
        state across trials while the dynamics differ (RecLab's protocol).
    progress : show a progress bar. callback : called as ``callback(step, row)``.

    Raises :class:`~recdyn.errors.CheckError` naming the recommender and the step when its
    scores hold NaN or infinite values (e.g. a diverged fit);
    :class:`~recdyn.errors.InvalidParameterError` when more pairs are held out than the
    world has, or when a user has fewer than ``k`` items that are neither held out nor
    (with ``exclude_rated``) rated, so that a slate would have to show a held-out pair.
    """
    env = make_environment(env) if isinstance(env, str) else env
    if not isinstance(env, Environment):
        raise InvalidParameterError(f"env must be an Environment or a preset name, got {env!r}")
    policy = make_policy(policy) if isinstance(policy, str) else policy
    if not isinstance(policy, Policy):
        raise InvalidParameterError(f"policy must be a Policy or a policy name, got {policy!r}")
    rec_name = recommender if isinstance(recommender, str) else type(recommender).__name__
    rec_label = _label(recommender)
    rec = _prepare_recommender(recommender, seed)
    steps = check_int("steps", steps, low=0, high=MAX_STEPS)
    k = check_int("k", k, low=1)
    retrain_every = check_int("retrain_every", retrain_every, low=1)
    if exclude_rated is not None and not isinstance(exclude_rated, (bool, np.bool_)):
        raise InvalidParameterError(
            f"exclude_rated must be True, False or None (exclude unless the world has "
            f"repeat consumption), got {exclude_rated!r}"
        )
    training = check_choice("training", training, TRAINING_MODES)
    if heldout is not None and not isinstance(heldout, HeldOut):
        raise InvalidParameterError(
            f"heldout must be a recdyn.heldout.HeldOut or None, got {heldout!r}"
        )
    metric_objs = [m.clone() for m in resolve(metrics)]
    metric_names = [m.name for m in metric_objs]  # looked up once: ``spec`` is not free
    clash = sorted(set(metric_names) & set(_LOOP_COLUMNS))
    if clash:
        raise InvalidParameterError(
            f"metrics: {clash[0]!r} clashes with the {clash[0]} column every trajectory has "
            f"({', '.join(_LOOP_COLUMNS)}); drop it (the per-step count of ratings is "
            "the difference of n_ratings)"
        )
    needs = frozenset().union(*(m.needs for m in metric_objs)) if metric_objs else frozenset()
    if "predictions" in needs and not rec.predicts_ratings:
        needs = needs - {"predictions"}

    whole_steps = heldout is not None or env.observes_exposure or "probabilities" in needs
    require_step_memory(env, metric_objs, needs, whole=whole_steps, label="simulate")
    policy_rng = seeding.generator(seed, "policy")
    t0 = time.perf_counter()
    initial = env.reset(seed=seeding.derive(seed, "environment") if env_seed is None else env_seed)
    if exclude_rated is None:
        exclude_rated = not env.repeat_consumption
    if k > env.n_items:
        raise InvalidParameterError(f"k must be in [1, n_items={env.n_items}], got {k}")
    if rec.requires_environment:
        rec.attach(env)
    if policy.requires_environment:  # a clone: the caller's policy stays unattached
        policy = policy.clone().attach(env)
    held = heldout.draw(env, initial, seed) if heldout is not None else None
    shadow = UniformShadow(env, initial, held, seed) if training == "uniform" else None
    rec.fit(initial, env.n_users, env.n_items)
    log = InteractionLog(len(initial) + min(steps * env.users_per_step, _PREALLOCATED_RATINGS) + 1)
    log.append(initial)
    del initial  # the log holds it; a large world need not keep two copies
    shadow_log = InteractionLog(min(steps * env.users_per_step, _PREALLOCATED_RATINGS) + 1)
    setup_seconds = time.perf_counter() - t0

    rows: list[dict[str, float]] = []
    pending: list[Interactions] = []
    bar = progress_bar(progress, steps, f"{rec_name} on {env.spec.name}")
    try:
        for t in range(1, steps + 1):
            start = time.perf_counter()
            try:
                users = env.online_users()
            except NoEligibleUsersError as err:
                raise NoEligibleUsersError(f"step {t} of {steps}: {err}") from None
            # what the metrics read at this step (a metric measured every few steps needs
            # nothing in between)
            now = needs & frozenset().union(*(m.needs_at(t) for m in metric_objs))
            rated = env.rated_mask(users) if "rated_before" in now else None
            truth = env.true_ratings(users) if "truth" in now else None
            hidden = held.mask(users, env.n_items) if held is not None else None
            whole = "probabilities" in now or env.observes_exposure
            step_recs = recommend(
                env, rec, policy, users, k, policy_rng, exclude_rated=exclude_rated,
                hidden=hidden, whole=whole, label=rec_label, step=t,
            )
            sel, shown_scores = step_recs.selection, step_recs.shown
            if now & _ORACLE_FIELDS:
                oracle = env.truth_of_step(users, sel.slates, exclude_rated=exclude_rated)
            else:
                oracle = (None, None)
            probs = None
            if whole:
                scores, exclude = step_recs.scores, step_recs.dense_exclude()
                if "probabilities" in now:
                    probs = policy.probabilities(scores, exclude)
                if env.observes_exposure:  # creators who respond to their exposure (issue 19)
                    probs = _exposure(policy, scores, exclude, probs, env, t)
                    env.observe_exposure(users, probs)
                del scores, exclude
            del step_recs  # the step's scores: not kept while the world steps and retrains
            if held is not None:
                _check_not_held_out(sel.slates, hidden, users, t)
            if shadow is not None:
                candidates = shadow.candidates(env, users, sel.slates)
            arrival = env.online_probabilities() if sel.propensities is not None else None
            new = env.step(sel.slates, scores=shown_scores)
            if env.n_items > rec.n_items_:  # items arrived (env.added_items())
                rec.items_added(env.n_items)
            changed = env.changed_items()
            if len(changed):
                rec.items_changed(changed)
            if sel.propensities is not None and len(new):
                new = _with_propensities(new, users, sel, arrival)
            preds = rec.predict(new.user, new.item) if "predictions" in now and len(new) else None
            handles = (
                env if "environment" in now else None,
                rec if "recommender" in now else None,
            )
            ctx = StepContext(
                t, users, sel.slates, new, truth, rated, preds, env.n_items, *handles, seed, probs,
                exclude_rated=exclude_rated, best_truth=oracle[0], shown_truth=oracle[1],
            )
            row: dict[str, float] = {"step": t}
            for name, m in zip(metric_names, metric_objs):
                row[name] = m(ctx)
            log.append(new)
            if shadow is not None:
                new = shadow.keep(candidates, new, t)
                shadow_log.append(new)
            pending.append(new)
            if t % retrain_every == 0 or t == steps:
                rec.partial_fit(Interactions.concat(pending) if len(pending) > 1 else pending[0])
                pending = []
            if held is not None and held.due(t):
                row.update(held.evaluate(rec, env, t, seed))
            row["n_ratings"] = len(log)
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            if callback is not None:
                callback(t, row)
            if bar is not None:
                bar[0].update(bar[1], advance=1)
    finally:
        if bar is not None:
            bar[0].stop()

    heldout_columns = held.config.columns if held is not None else []
    columns = ["step", *metric_names, *heldout_columns, *_LOOP_COLUMNS[1:]]
    table = pd.DataFrame(rows, columns=columns)
    table["step"] = table["step"].astype(np.int64)
    table["n_ratings"] = table["n_ratings"].astype(np.int64)
    info = {
        "environment": env.spec.to_dict(),
        "recommender": {"name": rec_name, "params": json_params(rec.get_params())},
        "policy": {"name": type(policy).__name__, "params": json_params(policy.get_params())},
        "seed": seed if isinstance(seed, int) else str(seed),
        "steps": steps,
        "k": k,
        "retrain_every": retrain_every,
        "training": training,
        "setup_seconds": setup_seconds,
    }
    if shadow is not None:
        info["training_shortfall"] = shadow.shortfall
    if held is not None:
        info["heldout"] = {"params": json_params(held.config.get_params()), "n_pairs": len(held)}
    training_log = shadow_log.to_interactions() if shadow is not None else None
    return Trajectory(table, log.to_interactions(), rec, info, training_log)


def _prepare_recommender(recommender: Recommender | str, seed: Any) -> Recommender:
    rec = make_recommender(recommender) if isinstance(recommender, str) else recommender
    if not isinstance(rec, Recommender):
        raise InvalidParameterError(
            f"recommender must be a Recommender or a registered name, got {recommender!r}"
        )
    rec = rec.clone()
    params = rec.get_params()
    if "seed" in params and params["seed"] is None:
        derived = int(seeding.derive(seed, "recommender").generate_state(1, np.uint32)[0])
        rec.set_params(seed=derived)
    return rec


def _label(recommender: Any) -> str:
    """How an error names a recommender or policy: its registered name (if known) and
    class."""
    if isinstance(recommender, str):
        return repr(recommender)
    name = getattr(getattr(recommender, "spec", None), "name", None)
    cls = type(recommender).__name__
    return f"{name!r} ({cls})" if isinstance(name, str) else cls


def _exposure(
    policy: Policy,
    scores: np.ndarray,
    exclude: np.ndarray | None,
    probs: np.ndarray | None,
    env: Environment,
    step: int,
) -> np.ndarray:
    """The policy's first-slot probabilities of this step for a world that observes
    exposure (those already computed for the metrics, else computed now); a policy that
    cannot say is an error naming it."""
    if probs is None:
        probs = policy.probabilities(scores, exclude)
    if probs is None:
        raise InvalidParameterError(
            f"step {step}: world {env.spec.name} observes the exposure its creators get, but "
            f"policy {_label(policy)} reports no probabilities (its probabilities() "
            "returned None); use a policy that does: softmax, greedy, epsilon-greedy, "
            "uniform-mix, truncated or threshold on such a base"
        )
    return probs


def _check_not_held_out(slates: np.ndarray, hidden: np.ndarray, users: np.ndarray, step: int):
    """A policy shows excluded items only to a user with fewer than ``k`` allowed ones; a
    held-out pair must never be shown, so that is an error naming the user and the step
    (an empty slot, ``-1``, shows nothing)."""
    shown = (np.take_along_axis(hidden, np.maximum(slates, 0), axis=1) & (slates >= 0)).any(axis=1)
    if shown.any():
        row = int(np.flatnonzero(shown)[0])
        raise InvalidParameterError(
            f"step {step}: user {int(users[row])} has fewer than k={slates.shape[1]} items "
            f"that are neither held out ({int(hidden[row].sum())} items) nor rated, so a "
            "slate would show a held-out pair; hold out fewer pairs (heldout n_pairs), use "
            "a smaller k or fewer steps"
        )


def _with_propensities(
    new: Interactions, users: np.ndarray, sel: Any, arrival: np.ndarray
) -> Interactions:
    """``new`` with the joint propensity of each rating (issue 17): the probability that
    the pair was observed at this step, ``q = ρ_t(u) · π_t(i | u)`` — the user's arrival
    probability (``Environment.online_probabilities``, aligned with ``users``) times the
    policy's probability of showing the item (``sel.inclusion`` where the policy reports
    one, e.g. softmax slates with ``k > 1``; else ``sel.propensities``, which are
    inclusion probabilities). float64: ``q`` can be ≈ 1e-7. Deterministic policies
    report no propensities, and their ratings are logged without any (a weighting or an
    estimator that needs them then says so)."""
    row = np.searchsorted(users, new.user)
    policy = sel.propensities if sel.inclusion is None else sel.inclusion
    if sel.slates.shape[1] == 1:
        shown = policy[row, 0]
    else:
        shown = policy[row, np.argmax(sel.slates[row] == new.item[:, None], axis=1)]
    return new.with_propensity(np.asarray(arrival, np.float64)[row] * shown)
