"""``recdyn study NAME --option``: options made from a study's declared parameters."""

from __future__ import annotations

from numbers import Integral
from typing import Annotated, Any

import pytest

from recdyn.cli.study_options import parameter_docs, parse_study_args, study_options
from recdyn.constraints import Boolean, Interval, MappingOf, Names
from recdyn.errors import InvalidParameterError
from recdyn.studies import Study
from recdyn.studies.offline_vs_online import ENVIRONMENTS, OfflineVsOnlineStudy


class ToyStudy(Study):
    """A study with one parameter of each kind.

    Parameters
    ----------
    sizes : which sizes, comma-separated.
    shuffle : shuffle first.
    per_size, limit : a number per size; an optional bound.
    """

    def __init__(
        self,
        *,
        sizes: Annotated[tuple[str, ...], Names(("small", "large"))] = ("small",),
        shuffle: Annotated[bool, Boolean()] = False,
        per_size: Annotated[
            int | dict[str, int],
            Interval(Integral, 1, None),
            MappingOf(("small", "large"), Interval(Integral, 1, None)),
        ] = 1,
        limit: Annotated[int | None, None, Interval(Integral, 0, None)] = None,
        **inherited: Any,
    ) -> None:
        pass

    def execute(self, out, options):  # pragma: no cover - not run
        raise AssertionError

    def analyse(self, out):  # pragma: no cover - not run
        raise AssertionError


def test_options_come_from_the_declared_parameters():
    options = {o.flag: o for o in study_options(ToyStudy)}
    assert list(options) == ["--sizes", "--shuffle", "--per-size", "--limit"]
    assert options["--shuffle"].is_flag and not options["--sizes"].is_flag
    assert options["--per-size"].help == "a number per size; an optional bound."
    assert options["--limit"].metavar == "none|N"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sizes", "large,small"], {"sizes": ("large", "small")}),
        (["--shuffle"], {"shuffle": True}),
        (["--no-shuffle"], {"shuffle": False}),
        (["--per-size", "3"], {"per_size": 3}),
        (["--per-size=small=2,large=5"], {"per_size": {"small": 2, "large": 5}}),
        (["--limit", "none"], {"limit": None}),
        (["--limit", "7", "--shuffle"], {"limit": 7, "shuffle": True}),
    ],
)
def test_values_are_read_by_their_constraints(args, expected):
    assert parse_study_args(ToyStudy, args) == expected
    ToyStudy(**expected)  # and the study accepts them


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "small"], "has no option '--size'"),
        (["--limit"], "--limit needs a value"),
        (["--per-size", "many"], "--per-size: 'many' is not valid"),
    ],
)
def test_bad_options_are_named(args, message):
    with pytest.raises(InvalidParameterError, match=message):
        parse_study_args(ToyStudy, args)


def test_a_readable_but_invalid_value_is_left_to_the_study_to_name():
    params = parse_study_args(OfflineVsOnlineStudy, ["--environments", "topics-dynamc-v1"])
    with pytest.raises(InvalidParameterError, match="Did you mean 'topics-dynamic-v1'"):
        OfflineVsOnlineStudy(**params)
    assert parse_study_args(OfflineVsOnlineStudy, ["--trials", f"{ENVIRONMENTS[0]}=2"]) == {
        "trials": {ENVIRONMENTS[0]: 2}
    }


def test_parameter_docs_reads_numpydoc_sections():
    docs = parameter_docs(ToyStudy.__doc__)
    assert docs["sizes"] == "which sizes, comma-separated."
    assert docs["per_size"] == docs["limit"]
