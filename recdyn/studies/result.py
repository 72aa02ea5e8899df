r"""What a study returns: :class:`StudyResult` — its tables, figures, :class:`Finding`\ s
and the text of its page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Finding", "StudyResult"]


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
    """What a study found and where it wrote it.

    ``tables`` are written as ``<name>.csv``; ``figures`` are (caption, PNG path) pairs;
    ``title``, ``intro`` (HTML, already escaped) and ``sections`` (heading, blocks of
    :mod:`recdyn.reporting.page`) make the page, with the findings first.
    """

    name: str
    directory: Path
    title: str = ""
    intro: Any = ""
    sections: list[tuple[str, list[Any]]] = field(default_factory=list)
    figures: list[tuple[str, Path]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def report(self) -> Path:
        """The study's page, ``report.html``."""
        return self.directory / "report.html"

    def findings_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [f.__dict__ for f in self.findings], columns=list(Finding.__annotations__)
        )
