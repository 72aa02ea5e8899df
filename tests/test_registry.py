import pytest

import recdyn
from recdyn.environments import environments
from recdyn.errors import InvalidParameterError, UnknownNameError


def test_make_applies_overrides_without_mutating_the_preset():
    before = dict(environments.spec("topics-dynamic-v1").params)
    env = recdyn.make("topics-dynamic-v1", n_users=10, noise=0.1, n_initial_ratings=100)
    assert env.n_users == 10 and env.noise == 0.1
    assert dict(environments.spec("topics-dynamic-v1").params) == before
    assert recdyn.make("topics-dynamic-v1").n_users == 1000


def test_spec_records_the_preset_name_and_every_parameter():
    env = recdyn.make("topics-dynamic-v1", n_users=10, n_initial_ratings=100)
    assert env.spec.name == "topics-dynamic-v1"
    assert env.spec.params["n_users"] == 10
    assert env.spec.params["affinity_change"] == 0.1


def test_typo_in_name_suggests_the_close_one():
    with pytest.raises(UnknownNameError, match="topics-dynamic-v1"):
        recdyn.make("topic-dynamic-v1")
    with pytest.raises(KeyError):  # also a KeyError for callers that expect one
        recdyn.make("nope")


def test_unknown_override_is_named_with_a_suggestion():
    with pytest.raises(InvalidParameterError, match="'noise'"):
        recdyn.make("topics-static-v1", nosie=0.3)


@pytest.mark.parametrize(
    "override, name",
    [
        (dict(noise=float("nan")), "noise"),
        (dict(noise=-1.0), "noise"),
        (dict(n_users=0), "n_users"),
        (dict(n_users=2.5), "n_users"),
        (dict(users_per_step=0), "users_per_step"),
        (dict(user_distribution="zipf"), "user_distribution"),
        (dict(initial_sampling="biased"), "initial_sampling"),
        (dict(n_initial_ratings=10**9), "n_initial_ratings"),
        (dict(switch_probability=(0.1, 2.0)), "switch_probability"),
    ],
)
def test_out_of_range_parameters_name_the_argument(override, name):
    with pytest.raises(InvalidParameterError, match=name):
        recdyn.make("topics-dynamic-v1", **override)


def test_recommender_and_policy_registries():
    assert isinstance(
        recdyn.recommenders.make("toppop", prior_weight=2.0), recdyn.recommenders.TopPop
    )
    with pytest.raises(UnknownNameError, match="toppop"):
        recdyn.recommenders.make("topop")
    with pytest.raises(UnknownNameError, match="greedy"):
        recdyn.policies.make("gredy")


def test_entry_points_are_imported_only_when_a_name_is_used(tmp_path, monkeypatch):
    module = tmp_path / "lazy_component_module.py"
    module.write_text(
        "from recdyn.policies.greedy import GreedyPolicy\n"
        "class Lazy(GreedyPolicy):\n"
        "    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import sys

    from recdyn.registry import Registry

    registry = Registry("policy")
    registry.register("lazy", "lazy_component_module:Lazy", summary="a lazy one")
    assert "lazy_component_module" not in sys.modules
    obj = registry.make("lazy")
    assert "lazy_component_module" in sys.modules
    assert obj.spec.name == "lazy" and obj.spec.entry_point == "lazy_component_module:Lazy"


@pytest.mark.parametrize(
    "registry, name, overrides",
    [
        ("environments", "latent-dynamic-v1", {"n_users": 50, "n_initial_ratings": 500}),
        ("recommenders", "mf-sgd", {"n_factors": 4}),
        ("policies", "softmax", {"temperature": 0.5}),
        ("online_metrics", "regret", {}),
        ("offline_metrics", "ndcg", {"k": 10}),
        ("studies", "sampling-bias", {"quick": True, "folds": 3}),
    ],
)
def test_make_records_a_spec_that_rebuilds_the_object(registry, name, overrides):
    import recdyn.environments
    import recdyn.metrics
    import recdyn.policies
    import recdyn.recommenders
    import recdyn.studies

    where = {
        "environments": recdyn.environments.environments,
        "recommenders": recdyn.recommenders.recommenders,
        "policies": recdyn.policies.policies,
        "online_metrics": recdyn.metrics.online_metrics,
        "offline_metrics": recdyn.metrics.offline_metrics,
        "studies": recdyn.studies.studies,
    }[registry]
    obj = where.make(name, **overrides)
    assert obj.spec.name == name
    assert {k: obj.spec.params[k] for k in overrides} == overrides
    again = where.make(obj.spec.name, **obj.spec.params)
    assert type(again) is type(obj) and again.get_params() == obj.get_params()
    assert where.make(obj.spec).get_params() == obj.get_params()  # a Spec is a name too
