"""What every built-in study is and returns: :class:`Study`, :class:`StudyResult`,
:class:`Finding`.

A study is declared, not hand-built: its parameters are its constructor's (declared once,
with their domains, as every :class:`~recdyn.params.Parametrized` component — the CLI
turns them into ``recdyn study NAME --option`` flags), :meth:`Study.execute` runs its units
of work on the engine and stores them, and :meth:`Study.analyse` turns what is stored into
tables, figures and findings. The base does the rest the same way for every study:
:meth:`Study.run` = execute, then :meth:`Study.report`; ``report`` (also alone:
``--report-only``) writes each table as CSV, ``findings.csv`` (``claim, source, expected,
measured, reproduced``) and one ``report.html`` on the shared page skeleton.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from rich.console import Console

from recdyn.constraints import Boolean, Seed
from recdyn.engine.pools import check_backend
from recdyn.params import Parametrized
from recdyn.studies.page import write_study_page
from recdyn.studies.result import Finding, StudyResult


@dataclass(frozen=True)
class RunOptions:
    """How a study's units run: on which executor (see :func:`recdyn.engine.make_pool`),
    with a progress display on ``console`` or not."""

    backend: str = "local"
    workers: int | None = None
    address: str | None = None
    progress: bool = False
    console: Console | None = None


class Study(Parametrized, abc.ABC):
    """A built-in study (see the module docstring).

    Every study takes ``quick`` (the few-minute version, used by the tests) and ``seed``
    (the root seed); subclasses add their own parameters after ``**inherited``.
    """

    def __init__(
        self,
        *,
        quick: Annotated[bool, Boolean()] = False,
        seed: Annotated[int, Seed()] = 0,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def execute(self, out: Path, options: RunOptions) -> None:
        """Run the study's units that ``out`` does not hold yet, storing each as it ends
        (a rerun resumes)."""

    @abc.abstractmethod
    def analyse(self, out: Path) -> StudyResult:
        """Tables, figures and findings from what ``out`` holds; runs nothing (raises a
        recdyn error naming what is missing)."""

    # ------------------------------------------------------------------ shared
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
        """Run (or resume) the study on ``backend`` and write its outputs into ``out``."""
        check_backend(backend, address)
        out = Path(out)
        self.execute(out, RunOptions(backend, workers, address, progress, console))
        return self.report(out)

    def report(self, out: str | Path) -> StudyResult:
        """Write the outputs from the results already in ``out``, running nothing."""
        result = self.analyse(Path(out))
        for name, table in result.tables.items():
            table.to_csv(result.directory / f"{name}.csv", index=False)
        result.findings_frame().to_csv(result.directory / "findings.csv", index=False)
        write_study_page(result)
        return result


__all__ = ["Finding", "RunOptions", "Study", "StudyResult"]
