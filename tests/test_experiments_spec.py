"""Experiment specs (TOML → validated models) and their plans (tasks, ids, seeds)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import recdyn
from recdyn.cli import app
from recdyn.evaluation.cross_validation import resolve_data
from recdyn.experiments import SpecError, load_spec, make_plan, spec_hash
from recdyn.experiments.spec import ExperimentSpec, parse_toml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def quick() -> dict:
    return parse_toml((EXAMPLES / "quick.toml").read_text())


def test_examples_are_valid_and_expand_to_the_expected_grid():
    quick = make_plan(load_spec(EXAMPLES / "quick.toml"))
    assert len(quick.tasks) == 2 * 2 * 2
    assert len(quick.tuning_jobs) == 2 * 2  # one per environment × recommender, all trials
    thesis = make_plan(load_spec(EXAMPLES / "thesis-topics.toml"))
    exp = thesis.spec.experiment
    assert (exp.steps, exp.trials) == (500, 10)
    assert {t.environment for t in thesis.tasks} == {"topics-static-v1", "topics-dynamic-v1"}
    assert len(thesis.tasks) == 2 * len(thesis.spec.recommenders) * 10


def test_validate_command_prints_the_task_count():
    result = CliRunner().invoke(app, ["validate", str(EXAMPLES / "quick.toml")])
    assert result.exit_code == 0, result.output
    assert "8 tasks = 2 environments × 2 recommender configs × 1 policy × 2 trials" in result.output


def _set(spec: dict, path: str, value) -> dict:
    spec = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    return spec


#: Malformed thesis ch. 3 options (training, held-out pairs, metric tables).
HOMOGENIZATION = {"name": "homogenization"}
CH3_ERRORS = [
    ("experiment.training", "shadow", ["experiment.training", "'feedback' or 'uniform'"]),
    ("experiment.heldout", {"n_pairs": 0}, ["heldout.n_pairs", "greater than or equal to 1"]),
    ("experiment.heldout", {"evry": 5}, ["experiment.heldout.evry", "Did you mean 'every'?"]),
    ("experiment.heldout", {"metrics": ["recall@10"]}, ["experiment.heldout", "ranking"]),
    (
        "experiment.heldout",
        {"n_pairs": 5000},
        ["experiment.heldout.n_pairs", "5,000 pairs exceed", "60 users × 80 items − 600"],
    ),
    (
        "experiment.metrics",
        ["regret", {**HOMOGENIZATION, "params": {"evry": 5}}],
        ["experiment.metrics[1].params.evry", "'every'?"],
    ),
    ("experiment.metrics", [{"name": "homogenizaton"}], ["metrics[0].name", "'homogenization'"]),
    ("experiment.metrics", [{"name": "regret", "parms": {}}], ["metrics[0].parms", "name, params"]),
    (
        "experiment.metrics",
        ["homogenization", HOMOGENIZATION],
        ["experiment.metrics[1]", "already experiment.metrics[0]"],
    ),
]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("experiment.trails", 3, ["experiment.trails", "Did you mean 'trials'?", "Valid keys:"]),
        ("recommenders.0.parms", {}, ["recommenders[0].parms", "Valid keys: name, params, grid"]),
        ("experiment.steps", "ten", ["experiment.steps", "valid integer", "'ten'"]),
        ("experiment.trials", 0, ["experiment.trials", "greater than or equal to 1"]),
        ("experiment.save_interactions", "yes", ["experiment.save_interactions", "boolean"]),
        ("environments.0.preset", "topics-dynamc", ["environments[0].preset", "'topics-dynamic"]),
        ("environments.0.overrides.n_users", 0, ["environments[0].overrides.n_users", "got 0"]),
        ("environments.1.overrides", {"n_userz": 5}, ["[1].overrides.n_userz", "'n_users'?"]),
        ("recommenders.0.name", "top-pop", ["recommenders[0].name", "Did you mean 'toppop'"]),
        ("recommenders.1.grid", {"reg": []}, ["recommenders[1].grid.reg", "empty list"]),
        ("recommenders.1.grid", {"reg": [0.1, -1]}, ["recommenders[1].grid.reg[1]", "reg must be"]),
        ("recommenders.1.params.n_factor", 8, ["recommenders[1].params.n_factor", "'n_factors'"]),
        ("policies", [{"name": "softmx"}], ["policies[0].name", "Did you mean 'softmax'"]),
        ("experiment.metrics", ["regrt"], ["experiment.metrics[0]", "Did you mean 'regret'"]),
        ("tuning.metric", "rmsee", ["tuning.metric", "unknown metric"]),
        ("tuning.grid", {"ease": {"lam": [1.0]}}, ["tuning.grid.ease", "Valid: toppop, mf-sgd"]),
        ("tuning.grid", {"mf-sgd": {"reg": []}}, ["tuning.grid.mf-sgd.reg", "empty list"]),
        *CH3_ERRORS,
    ],
)  # fmt: skip
def test_malformed_specs_name_the_offending_key(quick, path, value, expected):
    with pytest.raises(SpecError) as err:
        load_spec(_set(quick, path, value))
    for text in expected:
        assert text in str(err.value)


def test_every_problem_is_reported_at_once(quick):
    spec = _set(quick, "environments.0.preset", "nope")
    spec = _set(spec, "recommenders.0.name", "nope")
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert "environments[0].preset" in str(err.value)
    assert "recommenders[0].name" in str(err.value)


def test_ambiguous_or_undefined_setups_are_refused(quick):
    twice = _set(quick, "environments.1", dict(quick["environments"][0]))
    with pytest.raises(SpecError, match=r"environments\[1\]: environment 'topics-dynamic-v1' "):
        load_spec(twice)
    renamed = _set(twice, "environments.1.name", "topics-again")
    assert len(make_plan(load_spec(renamed)).tasks) == 8
    ease = _set(quick, "recommenders.1", {"name": "ease"})
    ease = _set(ease, "tuning.grid", {"ease": {"lam": [100.0, 1000.0]}})
    with pytest.raises(SpecError, match="does not predict ratings"):
        load_spec(ease)


def test_toml_syntax_errors_give_the_line(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('[experiment]\nname = "x"\nsteps = \n')
    with pytest.raises(SpecError, match=r"invalid TOML.*line 3"):
        load_spec(path)


def test_validate_command_reports_errors_without_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[experiment]\nname = "x"\nsteps = 5\n[[environments]]\npreset = "topics"\n')
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "environments[0].preset: unknown environment 'topics'" in result.output
    assert "recommenders: required key is missing" in result.output
    assert "Traceback" not in result.output


def test_spec_hash_ignores_layout_but_not_values(quick, tmp_path):
    a = tmp_path / "a.toml"
    a.write_text((EXAMPLES / "quick.toml").read_text().replace("\n", "\n# comment\n"))
    assert spec_hash(load_spec(a)) == spec_hash(load_spec(quick))
    assert spec_hash(load_spec(_set(quick, "experiment.steps", 21))) != spec_hash(load_spec(quick))


def test_task_ids_and_seeds_depend_on_names_not_on_position(quick):
    plan = make_plan(load_spec(quick))
    assert len({t.task_id for t in plan.tasks}) == len(plan.tasks)
    assert [t.task_id for t in make_plan(load_spec(quick)).tasks] == [t.task_id for t in plan.tasks]
    # Dropping a recommender and swapping the environments changes no other task.
    fewer = copy.deepcopy(quick)
    fewer["recommenders"] = fewer["recommenders"][1:]
    fewer["environments"] = fewer["environments"][::-1]
    other = {t.task_id: t for t in make_plan(load_spec(fewer)).tasks}
    kept = [t for t in plan.tasks if t.recommender == "mf-sgd"]
    assert len(kept) == len(other)
    for task in kept:
        twin = other[task.task_id]
        for attr in ("seed", "env_init", "env_dynamics"):
            a, b = getattr(task, attr), getattr(twin, attr)
            assert (a.entropy, a.spawn_key) == (b.entropy, b.spawn_key)
    # A different root seed gives different tasks.
    reseeded = make_plan(load_spec(_set(quick, "experiment.seed", 1)))
    assert not {t.task_id for t in reseeded.tasks} & {t.task_id for t in plan.tasks}


def _initial(task):
    env = recdyn.make(task.preset, **task.overrides)
    return env.reset(seed=(task.env_init, task.env_dynamics))


def _same_data(a, b) -> bool:
    return all(np.array_equal(getattr(a, c), getattr(b, c)) for c in ("user", "item", "rating"))


def test_shared_initial_state_follows_the_thesis_protocol(quick):
    plan = make_plan(load_spec(quick))
    topics = [t for t in plan.tasks if t.environment == "topics-dynamic-v1"]
    first = _initial(topics[0])
    # every recommender and every trial starts from the same initial ratings ...
    assert all(_same_data(first, _initial(t)) for t in topics[1:])
    # ... and the tuning job of a task sees exactly those ratings
    job = topics[0].tuning
    tuned_on, *_ = resolve_data(recdyn.make(job.preset, **job.overrides), None, None, job.seed)
    assert _same_data(first, tuned_on)
    # dynamics: shared by recommenders within a trial, different between trials
    key = {(t.recommender, t.trial): t.env_dynamics.spawn_key for t in topics}
    assert key[("toppop", 0)] == key[("mf-sgd", 0)]
    assert key[("toppop", 0)] != key[("toppop", 1)]
    per_trial = make_plan(load_spec(_set(quick, "experiment.initial_state", "per-trial")))
    topics = [t for t in per_trial.tasks if t.environment == "topics-dynamic-v1"]
    by = {(t.recommender, t.trial): _initial(t) for t in topics}
    assert _same_data(by[("toppop", 1)], by[("mf-sgd", 1)])
    assert not _same_data(by[("toppop", 0)], by[("toppop", 1)])
    assert len(per_trial.tuning_jobs) == 2 * len(plan.tuning_jobs)  # one per trial


def test_seed_name_shares_initial_state_and_dynamics_between_environments():
    small = {"n_users": 50, "n_items": 60, "n_initial_ratings": 500, "users_per_step": 10}
    spec = {
        "experiment": {"name": "x", "steps": 2, "trials": 1},
        "environments": [
            {"preset": "topics-static-v1", "seed_name": "topics", "overrides": small},
            {"preset": "topics-dynamic-v1", "seed_name": "topics", "overrides": small},
            {"preset": "topics-dynamic-v1", "name": "own", "overrides": small},
        ],
        "recommenders": [{"name": "toppop"}],
    }
    static, dynamic, own = make_plan(ExperimentSpec.model_validate(spec)).tasks
    assert dynamic.env_dynamics.spawn_key == static.env_dynamics.spawn_key
    assert own.env_dynamics.spawn_key != static.env_dynamics.spawn_key
    envs = [recdyn.make(t.preset, **t.overrides) for t in (static, dynamic, own)]
    data = [
        e.reset(seed=(t.env_init, t.env_dynamics)) for e, t in zip(envs, (static, dynamic, own))
    ]
    np.testing.assert_array_equal(data[0].rating, data[1].rating)
    np.testing.assert_array_equal(envs[0].state["preference"], envs[1].state["preference"])
    assert not np.array_equal(envs[0].state["preference"], envs[2].state["preference"])


# ---------------------------------------------------------------- thesis ch. 3 options
@pytest.fixture
def sweep() -> dict:
    return parse_toml((EXAMPLES / "feedback-sweep.toml").read_text())


def test_feedback_sweep_example_sweeps_weighting_temperature_and_world(sweep):
    plan = make_plan(load_spec(EXAMPLES / "feedback-sweep.toml"))
    assert len(plan.tasks) == 2 * 2 * 3 * 2  # worlds × weightings × temperatures × trials
    assert {t.policy for t in plan.tasks} == {
        f"softmax(temperature={x})" for x in ("0.5", "1.0", "2.0")
    }
    assert {t.training for t in plan.tasks} == {"feedback"}
    heldout = plan.tasks[0].heldout
    assert heldout == {
        "n_pairs": 1000,
        "every": 20,
        "metrics": ["rmse", "ndcg@20"],
        "truth": "true",
    }
    weightings = {canonical(t.params["weighting"]) for t in plan.tasks}
    assert weightings == {'"naive"', '{"held_out":1000,"name":"cafl"}'}
    assert plan.tasks[0].metrics[1] == {
        "name": "homogenization",
        "params": {"every": 20, "max_users": 100},
    }


def canonical(value) -> str:
    from recdyn.experiments.canonical import canonical_json

    return canonical_json(value)


def test_training_and_heldout_are_part_of_a_task_id_only_when_set(quick):
    base = make_plan(load_spec(quick))
    explicit = make_plan(load_spec(_set(quick, "experiment.training", "feedback")))
    assert explicit.spec_hash == base.spec_hash  # older specs keep their hash and ids
    assert [t.task_id for t in explicit.tasks] == [t.task_id for t in base.tasks]
    assert "training" not in base.spec.canonical()["experiment"]
    uniform = make_plan(load_spec(_set(quick, "experiment.training", "uniform")))
    held = make_plan(load_spec(_set(quick, "experiment.heldout", {"every": 5})))
    more = make_plan(load_spec(_set(quick, "experiment.heldout", {"every": 10})))
    ids = [{t.task_id for t in p.tasks} for p in (base, uniform, held, more)]
    for i in range(4):
        for j in range(i):
            assert not ids[i] & ids[j]
    # seeds are derived by name: the uniform arm of a cell shares the feedback arm's seeds
    assert [t.seed.spawn_key for t in uniform.tasks] == [t.seed.spawn_key for t in base.tasks]
    assert uniform.tasks[0].training == "uniform" and held.tasks[0].heldout["every"] == 5


def test_uniform_training_refuses_weightings_that_need_propensities(sweep):
    spec = _set(sweep, "experiment.training", "uniform")
    with pytest.raises(SpecError, match=r"recommenders\[0\]\.grid\.weighting\[1\]: weighting"):
        load_spec(spec)
    spec["recommenders"][0]["grid"] = {"weighting": ["naive", "pop"]}
    assert len(make_plan(load_spec(spec)).tasks) == 24  # no propensity needed: valid


def test_a_task_runs_the_uniform_arm_with_heldout_pairs_and_metric_params(quick):
    from recdyn.experiments import run_task

    spec = _set(quick, "experiment.training", "uniform")
    spec = _set(spec, "experiment.heldout", {"n_pairs": 300, "every": 5})
    spec = _set(
        spec, "experiment.metrics",
        ["mean_rating", {"name": "homogenization", "params": {"every": 4, "max_users": 20}}],
    )  # fmt: skip
    spec["tuning"] = None
    task = make_plan(load_spec(spec)).tasks[-1]
    table = run_task(task).table
    assert table["heldout_rmse"].notna().sum() == task.steps // 5
    assert table["homogenization"].notna().sum() == task.steps // 4
    assert table["heldout_ndcg@20"].dropna().between(0, 1).all()
