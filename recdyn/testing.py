"""Check your own components in your own test-suite, one pytest item per check
(scikit-learn's ``parametrize_with_checks`` is the model)::

    from recdyn.testing import parametrize_with_checks

    @parametrize_with_checks([MyRecommender(), MyPolicy(), make("softmax", temperature=0.5)])
    def test_my_components(component, check):
        check(component)

Each item is named ``<component>-<check>`` (``softmax-check_policy_propensities``) and a
failure reads ``check_policy_propensities failed for softmax(temperature=0.5): …``.
Environments, recommenders, policies, online metrics and weightings are recognised by
their base class; :func:`component_checks` lists the checks of one component and
:func:`check_component` runs them (the same as ``check_environment``,
``check_recommender``, ``check_policy``, ``check_online_metric`` or ``check_weighting``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from recdyn.checking import check_name, describe, run_checks, same_params
from recdyn.debias.base import Weighting
from recdyn.debias.checker import weighting_checks
from recdyn.environments.base import Environment
from recdyn.environments.checker import environment_checks
from recdyn.errors import InvalidParameterError
from recdyn.metrics.checker import online_metric_checks
from recdyn.metrics.online import OnlineMetric
from recdyn.policies.base import Policy
from recdyn.policies.checker import policy_checks
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.checker import recommender_checks

__all__ = [
    "check_component",
    "component_checks",
    "component_name",
    "describe",
    "parametrize_with_checks",
]

_KINDS: tuple[tuple[type, Callable[..., Iterator[Callable[[Any], None]]]], ...] = (
    (Environment, environment_checks),
    (Recommender, recommender_checks),
    (Policy, policy_checks),
    (OnlineMetric, online_metric_checks),
    (Weighting, weighting_checks),
)


def component_checks(component: Any, **options: Any) -> Iterator[Callable[[Any], None]]:
    """The checks of ``component`` (an environment, recommender, policy, online metric or
    weighting), each called as ``check(component)``; ``options`` go to its kind's
    generator (e.g. ``steps=`` for environments, ``k_values=`` for policies)."""
    for base, checks in _KINDS:
        if isinstance(component, base):
            return checks(component, **options)
    kinds = ", ".join(base.__name__ for base, _ in _KINDS)
    raise InvalidParameterError(f"{component!r} is none of {kinds}: there are no checks for it")


def check_component(component: Any, **options: Any) -> None:
    """Run every check of ``component``; the first failure raises a
    :class:`~recdyn.errors.CheckError` naming the check and the component."""
    run_checks(component, component_checks(component, **options))


def parametrize_with_checks(components: Iterable[Any], **options: Any) -> Any:
    """A ``pytest.mark.parametrize`` decorator over ``(component, check)``: one item per
    check of each component, with ids ``<name>-<check>``. ``<name>`` is the registered
    name (or class name); components that share it are told apart by their parameters.
    ``options`` go to every component's check generator (see :func:`component_checks`)."""
    import pytest

    components = list(components)
    names = [component_name(c) for c in components]
    params = []
    for i, (component, name) in enumerate(zip(components, names)):
        label = name if names.count(name) == 1 else _distinct_label(component, i)
        for fn in component_checks(component, **options):
            params.append(pytest.param(component, fn, id=f"{label}-{check_name(fn)}"))
    return pytest.mark.parametrize("component, check", params)


def component_name(component: Any) -> str:
    """The registered name of ``component`` (its class name if it was built directly)."""
    spec = getattr(component, "spec", None)
    return spec.name if spec is not None else type(component).__name__


def _distinct_label(component: Any, index: int) -> str:
    """The name with the parameters that differ from the class defaults (the index where
    they would not make a stable id, e.g. a default object repr with an address)."""
    defaults = type(component).param_defaults()
    changed = {
        k: v
        for k, v in component.get_params().items()
        if k not in defaults or not same_params(defaults[k], v)
    }
    label = f"{component_name(component)}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"
    return label if " at 0x" not in label else f"{component_name(component)}#{index}"
