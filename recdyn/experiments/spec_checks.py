"""The checks of an experiment spec that its types cannot express.

Each problem is one line ``key.path: message``. Parameters are checked against each
class's declared constraints (:class:`recdyn.params.Parametrized`), one key at a time, so
a problem names the exact key without building anything; an entry whose keys all pass is
built once, for the checks that tie several parameters together. Grids must be non-empty;
names must be unique where they identify results; tuning must refer to the spec's
recommenders and use a selection metric they define. The thesis ch. 3 options: online
metrics' parameters; held-out pairs (:class:`recdyn.heldout.HeldOut`'s checks, and no more
pairs than a world has outside its initial data); the uniform arm trains on shadow ratings
that carry no propensity, so a weighting computed from propensities cannot train on it.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from recdyn.constraints import check_value
from recdyn.errors import RecdynError
from recdyn.experiments.canonical import canonical_json, policy_label, tuples
from recdyn.registry import Registry, check_names


def check(spec: Any) -> list[str]:
    """Every problem the types cannot express in ``spec`` (an
    :class:`~recdyn.experiments.spec.ExperimentSpec`), as ``path: message`` lines."""
    from recdyn.environments import environments
    from recdyn.policies import policies
    from recdyn.recommenders import recommenders

    problems: list[str] = []
    for i, module in enumerate(spec.experiment.imports):
        try:
            importlib.import_module(module)
        except Exception as err:  # any import failure is the user's to see
            problems.append(f"experiment.imports[{i}]: cannot import {module!r}: {err}")

    labels: dict[str, int] = {}
    for i, env in enumerate(spec.environments):
        where = f"environments[{i}]"
        if env.label in labels:
            problems.append(
                f"{where}: environment {env.label!r} appears twice (also environments"
                f'[{labels[env.label]}]); give each a distinct name = "..."'
            )
        labels.setdefault(env.label, i)
        problems += entry_problems(environments, env.preset, env.overrides, f"{where}.overrides")

    seen_recs: dict[str, int] = {}
    for i, rec in enumerate(spec.recommenders):
        where = f"recommenders[{i}]"
        key = canonical_json([rec.name, rec.params, rec.grid])
        if key in seen_recs:
            problems.append(f"{where}: same as recommenders[{seen_recs[key]}]")
        seen_recs.setdefault(key, i)
        for name, values in rec.grid.items():
            if not values:
                problems.append(f"{where}.grid.{name}: empty list; give at least one value")
            if name in rec.params:
                problems.append(f"{where}.grid.{name}: also fixed in {where}.params; keep one")
        found = entry_problems(recommenders, rec.name, rec.params, f"{where}.params")
        problems += found
        if found:
            continue
        for name, values in rec.grid.items():
            for j, value in enumerate(values):
                problems += entry_problems(
                    recommenders, rec.name, {**rec.params, name: value}, f"{where}.grid",
                    at={name: f"{where}.grid.{name}[{j}]"},
                )

    policy_labels: dict[str, int] = {}
    for i, pol in enumerate(spec.policies):
        where = f"policies[{i}]"
        found = entry_problems(policies, pol.name, pol.params, f"{where}.params")
        problems += found
        if not found:
            label = policy_label(pol.name, pol.params)
            if label in policy_labels:
                problems.append(f"{where}: same as policies[{policy_labels[label]}]")
            policy_labels.setdefault(label, i)

    if spec.tuning is not None:
        problems += _check_tuning(spec)
    problems += _check_metrics(spec)
    if spec.experiment.heldout is not None:
        problems += _check_heldout(spec)
    if spec.experiment.training == "uniform":
        problems += _check_uniform_training(spec)
    return problems


def _check_metrics(spec: Any) -> list[str]:
    """Each metric table's parameters; no two metrics with one column name."""
    from recdyn.metrics.online import online_metrics

    problems: list[str] = []
    columns: dict[str, int] = {}
    for i, metric in enumerate(spec.experiment.metrics):
        where = f"experiment.metrics[{i}]"
        name = metric if isinstance(metric, str) else metric.name
        if not isinstance(metric, str):
            problems += entry_problems(online_metrics, name, metric.params, f"{where}.params")
        if name in columns:
            problems.append(
                f"{where}: {name!r} is already experiment.metrics[{columns[name]}] (one "
                "column per metric name); keep one"
            )
        columns.setdefault(name, i)
    return problems


def _check_heldout(spec: Any) -> list[str]:
    """:class:`~recdyn.heldout.HeldOut`'s own checks, then ``n_pairs`` against each
    world's pairs outside its initial data."""
    from recdyn.environments import environments
    from recdyn.heldout import HeldOut

    section = spec.experiment.heldout
    try:
        HeldOut(**tuples(section.kwargs()))
    except RecdynError as err:
        return [f"experiment.heldout: {err}"]
    if section.n_pairs is None:
        return []
    problems: list[str] = []
    for i, env in enumerate(spec.environments):
        try:
            world = environments.make(env.preset, **tuples(env.overrides))
        except (RecdynError, TypeError, ValueError):
            continue  # reported at environments[i]
        params = world.get_params()
        initial = int(params.get("n_initial_ratings", 0) or 0)
        free = world.n_users * world.n_items - initial
        if section.n_pairs > free:
            problems.append(
                f"experiment.heldout.n_pairs: {section.n_pairs:,} pairs exceed the "
                f"{free:,} pairs of environments[{i}] ({env.label}: {world.n_users} users × "
                f"{world.n_items} items − {initial:,} initial ratings) that can be held out"
            )
    return problems


def _check_uniform_training(spec: Any) -> list[str]:
    """``training = "uniform"``: no weighting that needs the (absent) propensities."""
    from recdyn.debias import PropensityWeighting, resolve_weighting

    problems: list[str] = []
    for i, rec in enumerate(spec.recommenders):
        values = [("params.weighting", rec.params.get("weighting"))]
        values += [(f"grid.weighting[{j}]", v) for j, v in enumerate(rec.grid.get("weighting", []))]
        for where, value in values:
            if not isinstance(value, (str, dict)):
                continue
            try:
                needs = isinstance(resolve_weighting(value), PropensityWeighting)
            except RecdynError:
                continue  # not a debias weighting name (e.g. "inverse-propensity"), or bad
            if needs:
                problems.append(
                    f"recommenders[{i}].{where}: weighting {value!r} is computed from "
                    'logged propensities, but with experiment.training = "uniform" the '
                    "model trains on shadow ratings, which carry none; use training = "
                    '"feedback" or no weighting'
                )
    return problems


def entry_problems(
    registry: Registry[Any],
    name: str,
    params: dict[str, Any],
    where: str,
    at: dict[str, str] | None = None,
) -> list[str]:
    """Problems of building ``registry``'s ``name`` with ``params``: unknown keys and
    values outside their declared domain (each at ``where.key``, or ``at[key]``), then —
    when those pass — whatever the constructor's cross-parameter checks raise (skipped
    for a grid value, ``at``, whose domain is declared: the grid's other values are
    checked once with the entry's fixed parameters)."""
    try:
        factory = registry.load(name)
    except RecdynError as err:
        return [f"{where}: {err}"]
    except ImportError as err:
        return [f"{where}: cannot import {name!r}: {err}"]
    values = tuples(params)
    at = at or {}
    declared = getattr(factory, "parameter_constraints", dict)()
    problems = []
    for key, value in values.items():
        try:
            check_names(name, factory, {key: value}, registry.kind)
            if key in declared:
                check_value(key, value, declared[key])
        except RecdynError as err:
            problems.append(f"{at.get(key, f'{where}.{key}')}: {err}")
    if problems or (at and all(key in declared for key in at)):
        return problems
    try:
        registry.make(name, **values)
    except (RecdynError, TypeError, ValueError) as err:
        where = next(iter(at.values())) if at else where
        problems.append(f"{where}: {err}")
    return problems


def _check_tuning(spec: Any) -> list[str]:
    from recdyn.evaluation import expand_grid
    from recdyn.metrics import make_offline_metric
    from recdyn.recommenders import recommenders

    tuning = spec.tuning
    assert tuning is not None
    problems: list[str] = []
    names = [r.name for r in spec.recommenders]
    for name, grid in tuning.grid.items():
        where = f"tuning.grid.{name}"
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(
                f"{where}: {name!r} is not one of the spec's [[recommenders]].{hint} "
                f"Valid: {', '.join(dict.fromkeys(names))}"
            )
            continue
        for key, values in grid.items():
            if not values:
                problems.append(f"{where}.{key}: empty list; give at least one value")
            for i, rec in enumerate(spec.recommenders):
                if rec.name == name and (key in rec.params or key in rec.grid):
                    problems.append(
                        f"{where}.{key}: also set in recommenders[{i}]; tune it or fix it"
                    )
        if not grid:
            problems.append(f"{where}: empty grid; give at least one parameter")
            continue
        try:
            model = recommenders.make(name)
            expand_grid(model, tuples(grid))
        except RecdynError as err:
            problems.append(f"{where}: {err}")
            continue
        try:
            undefined = make_offline_metric(tuning.metric).kind == "rating"
        except RecdynError:
            continue
        if undefined and not model.predicts_ratings:
            problems.append(
                f"tuning.metric: {tuning.metric!r} is undefined for {name!r}, which does not "
                "predict ratings; select by a ranking metric such as 'ndcg@20'"
            )
    return problems
