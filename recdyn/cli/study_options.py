"""A study's own command-line options, made from its declared parameters.

Every parameter of a study's constructor besides ``quick`` and ``seed`` (which every study
has) becomes ``--name-with-dashes VALUE``; the value is read according to the parameter's
declared constraints (:mod:`recdyn.constraints`): a number for an ``Interval``, ``a,b`` for
:class:`~recdyn.constraints.Names`, ``a=10,b=2`` for :class:`~recdyn.constraints.MappingOf`,
``none`` where ``None`` is allowed; a :class:`~recdyn.constraints.Boolean` is a flag
(``--name`` / ``--no-name``). The help text of each option is the parameter's entry in
the study's ``Parameters`` docstring section. No study needs code in the CLI.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from recdyn.cli.formatting import plain
from recdyn.constraints import Boolean, Interval, MappingOf, Names, Options, Pair
from recdyn.errors import InvalidParameterError

#: Parameters every study has; the ``study`` command declares them itself.
COMMON = ("quick", "seed")
_ENTRY = re.compile(r"^(\w+(?:\s*,\s*\w+)*)\s*:\s*(.*)$")


@dataclass(frozen=True)
class StudyOption:
    """One option: its parameter, flag, declared constraints, default and help text."""

    name: str
    constraints: tuple[Any, ...]
    default: Any
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_flag(self) -> bool:
        return any(isinstance(c, Boolean) for c in self.constraints)

    @property
    def metavar(self) -> str:
        """What the value looks like, from the constraints."""
        parts = []
        for c in self.constraints:
            if c is None:
                parts.append("none")
            elif isinstance(c, Interval):
                parts.append("N" if c.kind is Integral else "X")
            elif isinstance(c, Names):
                parts.append("A,B,…")
            elif isinstance(c, MappingOf):
                parts.append("NAME=V,…")
            elif isinstance(c, Pair):
                parts.append("LO,HI")
            elif isinstance(c, Options):
                parts.append("|".join(map(str, c.options)))
        return "|".join(dict.fromkeys(parts)) or "VALUE"


def study_options(cls: type) -> list[StudyOption]:
    """The options of study class ``cls`` (its parameters but :data:`COMMON`)."""
    constraints = cls.parameter_constraints()
    docs = parameter_docs(inspect.getdoc(cls) or "")
    return [
        StudyOption(name, tuple(constraints.get(name, ())), p.default, docs.get(name, ""))
        for name, p in cls.__signature__.parameters.items()
        if name not in COMMON
    ]


def parameter_docs(doc: str) -> dict[str, str]:
    """``name → one-line plain text`` from a docstring's numpydoc ``Parameters`` section
    (``a, b : text`` documents both)."""
    lines = inspect.cleandoc(doc).split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Parameters") + 2
    except StopIteration:
        return {}
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in lines[start:]:
        if not line.strip() or (line.strip().startswith("---") and current):
            break
        match = _ENTRY.match(line) if not line.startswith(" ") else None
        if match:
            current = [match.group(2)]
            for name in re.split(r"\s*,\s*", match.group(1)):
                out[name] = current
        elif current:
            current.append(line.strip())
    return {name: plain(" ".join(text)) for name, text in out.items()}


def parse_study_args(cls: type, args: list[str]) -> dict[str, Any]:
    """The study parameters given by ``args`` (``["--trials", "10", "--no-x", …]``)."""
    options = {o.flag: o for o in study_options(cls)}
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        flag, eq, inline = args[i].partition("=")
        negated = flag.startswith("--no-") and f"--{flag[5:]}" in options
        option = options.get(f"--{flag[5:]}" if negated else flag)
        if option is None:
            valid = ", ".join(options) or "none"
            raise InvalidParameterError(
                f"{cls.__name__} has no option {flag!r}; its options: {valid} "
                "(and --quick, --seed)"
            )
        if option.is_flag:
            out[option.name] = not negated
            i += 1
            continue
        if eq:
            text, i = inline, i + 1
        elif i + 1 < len(args):
            text, i = args[i + 1], i + 2
        else:
            raise InvalidParameterError(f"{flag} needs a value ({option.metavar})")
        out[option.name] = parse_option_value(option, text)
    return out


def parse_option_value(option: StudyOption, text: str) -> Any:
    """``text`` read as the first of ``option``'s constraints that accepts it, else as the
    first that can read it (the study's constructor then says what is wrong with it)."""
    readable = [(c, v) for c in option.constraints if (v := _read(c, text.strip())) is not _NO]
    for c, value in readable:
        if c is None or c.accepts(value):
            return value
    if readable:
        return readable[0][1]
    raise InvalidParameterError(
        f"{option.flag}: {text!r} is not valid; give {option.metavar}"
        + (f" ({option.help})" if option.help else "")
    )


_NO = object()


def _read(constraint: Any, text: str) -> Any:
    """``text`` as the kind of value ``constraint`` takes, or ``_NO``."""
    try:
        if constraint is None:
            return None if text.lower() == "none" else _NO
        if isinstance(constraint, Interval):
            return int(text) if constraint.kind is Integral else float(text)
        if isinstance(constraint, Names):
            return tuple(n.strip() for n in text.split(",") if n.strip())
        if isinstance(constraint, Pair):
            return tuple(float(v) for v in text.split(","))
        if isinstance(constraint, MappingOf):
            pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
            read = {k.strip(): _read(constraint.values, v.strip()) for k, v in pairs}
            return _NO if _NO in read.values() else read
        if isinstance(constraint, Options):
            return text
        return json.loads(text)
    except ValueError:
        return _NO
