"""Helpers for the tests of the checkers: run one named check, expect it to fail."""

import re

import pytest

from recdyn.checking import check_name, describe
from recdyn.errors import CheckError
from recdyn.testing import component_checks


def run_check(component, name, **options):
    """Run the check called ``name`` among ``component``'s checks."""
    for fn in component_checks(component, **options):
        if check_name(fn) == name:
            return fn(component)
    raise LookupError(f"no check {name!r} for {component!r}")


def assert_check_fails(component, name, match, **options):
    """The check ``name`` fails with a message that names it and the component, then
    matches ``match``."""
    with pytest.raises(CheckError) as info:
        run_check(component, name, **options)
    prefix = f"{name} failed for {describe(component)}: "
    assert str(info.value).startswith(prefix), str(info.value)
    assert re.search(match, str(info.value)[len(prefix) :]), str(info.value)
    assert info.value.check == name
    return info.value
