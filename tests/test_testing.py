"""recdyn.testing: one pytest item per (component, check), named after both."""

import pytest

from recdyn.environments import environments
from recdyn.errors import InvalidParameterError
from recdyn.metrics import online_metrics
from recdyn.policies import policies
from recdyn.recommenders import recommenders
from recdyn.testing import check_component, component_checks, parametrize_with_checks


def ids(mark):
    return [param.id for param in mark.args[1]]


def test_one_item_per_check_named_component_then_check():
    mark = parametrize_with_checks([policies.make("softmax"), online_metrics.make("regret")])
    assert mark.args[0] == "component, check"
    assert "softmax-check_policy_propensities" in ids(mark)
    assert "regret-check_online_metric_needs" in ids(mark)
    assert len(ids(mark)) == len(set(ids(mark)))


def test_components_sharing_a_name_are_told_apart_by_their_parameters():
    mark = parametrize_with_checks(
        [policies.make("softmax", temperature=0.5), policies.make("softmax", temperature=2.0)]
    )
    assert "softmax(temperature=0.5)-check_policy_slates" in ids(mark)
    assert "softmax(temperature=2.0)-check_policy_slates" in ids(mark)


def test_options_reach_the_checks_of_the_kind():
    env = environments.make("beta-rank-v1")
    (first, *_) = component_checks(env, steps=1)
    assert first.keywords == {"seed": 0, "steps": 1}
    with pytest.raises(TypeError):
        list(component_checks(env, k_values=(1,)))


@pytest.mark.parametrize(
    "component",
    [
        environments.make("beta-rank-v1", n_users=10, n_items=12, n_initial_ratings=20),
        recommenders.make("toppop"),
        policies.make("greedy"),
        online_metrics.make("rmse"),
    ],
    ids=lambda c: c.spec.name,
)
def test_check_component_runs_every_check_of_its_kind(component):
    check_component(component)


def test_an_object_of_no_known_kind_has_no_checks():
    with pytest.raises(InvalidParameterError, match="no checks"):
        component_checks(object())
