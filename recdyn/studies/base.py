"""What every built-in study is and returns: Study, StudyResult and Finding."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import pandas as pd
from rich.console import Console

from recdyn.errors import InvalidParameterError
from recdyn.params import Boolean, Parametrized, Seed

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Finding:
    """One claim of the source set against what this run measured.

    ``reproduced`` is ``True``/``False`` when the claim can be checked with the numbers
    here, ``None`` when it cannot (say why in ``measured``).
    """

    claim: str
    source: str  # where the claim is made, e.g. "thesis §2.6, Fig. 2.5"
    expected: str  # what the source reports, in words or numbers
    measured: str  # what this run measured, with the numbers
    reproduced: bool | None


@dataclass
class StudyResult:
    """Where a study wrote its outputs and what it found."""

    name: str
    directory: Path
    report: Path
    figures: list[Path] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def findings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [f.__dict__ for f in self.findings], columns=list(Finding.__annotations__)
        )


class Study(Parametrized, abc.ABC):
    """A built-in study: a protocol (usually an experiment spec) plus its analysis.

    Hyperparameters go to the constructor (``quick``: the few-minute version used by the
    tests; ``seed``: the root seed); :meth:`run` does the work, resumably, and writes
    raw results, figures, ``findings.csv`` and ``report.html`` into ``out``.
    """

    name: str = ""

    def __init__(
        self,
        *,
        quick: Annotated[bool, Boolean()] = False,
        seed: Annotated[int, Seed()] = 0,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    @abc.abstractmethod
    def run(
        self,
        out: str | Path,
        *,
        backend: str = "local",
        workers: int | None = None,
        address: str | None = None,
        progress: bool = False,
        console: Console | None = None,
    ) -> StudyResult:
        """Run (or resume) the study and write its outputs into ``out``."""


def check_backend(backend: str, address: str | None) -> None:
    """Check the executor options every study accepts (as ``recdyn run``)."""
    if backend not in BACKENDS:
        raise InvalidParameterError(
            f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}"
        )
    if address and backend != "ray":
        raise InvalidParameterError("address joins a Ray cluster; use backend='ray'")


def write_findings(result: StudyResult) -> Path:
    path = result.directory / "findings.csv"
    result.findings_frame().to_csv(path, index=False)
    return path


__all__ = ["BACKENDS", "Finding", "Study", "StudyResult", "check_backend", "write_findings"]
