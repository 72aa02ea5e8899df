"""Built-in studies: each one a spec (or an offline protocol), its analysis and its figures.

>>> from recdyn import studies
>>> studies.names()[:3]
['exposure-audit', 'feedback-loops', 'offline-vs-online']
>>> result = studies.make("sampling-bias", quick=True).run("runs/sb")   # doctest: +SKIP
>>> result.report                                                       # doctest: +SKIP
PosixPath('runs/sb/report.html')

From the shell: ``recdyn study sampling-bias --quick --out runs/sb``. A study writes its
raw results, its figures (PNG), a ``findings.csv`` table that sets each claim of its source
against the numbers measured here, and one self-contained ``report.html`` into ``out``;
re-running it with the same arguments resumes where it stopped.
"""

from __future__ import annotations

from typing import Any

from recdyn.registry import Registry
from recdyn.studies.base import Study
from recdyn.studies.result import Finding, StudyResult

studies: Registry[Study] = Registry("study")


studies.register(
    "sampling-bias",
    "recdyn.studies.sampling_bias:SamplingBiasStudy",
    summary="Thesis §2.5: offline nDCG@20 / RMSE on uniform vs MNAR-biased samples of "
    "topics-static (Figs. 2.3, 2.4).",
)
studies.register(
    "offline-vs-online",
    "recdyn.studies.offline_vs_online:OfflineVsOnlineStudy",
    summary="Thesis §2.6: offline nDCG@20 / RMSE vs online mean rating of 13 recommenders "
    "in every environment (Figs. 2.1, 2.5–2.8).",
)
studies.register(
    "feedback-loops",
    "recdyn.studies.feedback_loops:FeedbackLoopsStudy",
    summary="Thesis ch. 3: Feedback vs Uniform vs CAFL over time in ml100k-v1 and beta-rank "
    "(Figs. 3.2–3.4) and Table 3.1's corrections on the Pan/Chaney benchmark.",
)
studies.register(
    "polarization",
    "recdyn.studies.polarization:PolarizationStudy",
    summary="Seed 004: creators polarize under user-creator dual influence; sweeps over top-k, "
    "β, τ, η, uniform traffic and diversity boosting (oracle, MF, real-data start).",
)
studies.register(
    "exposure-audit",
    "recdyn.studies.exposure_audit:ExposureAuditStudy",
    summary="Thesis ch. 5: creators' equilibria in the exposure game of PMF / NMF embeddings "
    "of ML-100K, certified; their concentration vs τ and a gender audit (Fig. 5.3, 5.4).",
)
studies.register(
    "two-stage",
    "recdyn.studies.two_stage:TwoStageStudy",
    summary="Thesis ch. 4: single- vs two-stage bandit recommenders (Figs. 4.3, 4.4: regret vs "
    "|A|, d, d/s, N; nominator vs ranker regret) and learned vs random pools (Fig. 4.5).",
)
studies.register(
    "competing-objectives",
    "recdyn.studies.competing_objectives:CompetingObjectivesStudy",
    summary="Seeds 000-001: calibration, embedding size vs popularity bias, position bias and "
    "re-ranking trade-offs, offline and over time in the loop.",
)


def make(name: str, **params: Any) -> Study:
    """The study ``name`` with its parameters (``quick=True`` for the few-minute version)."""
    return studies.make(name, **params)


def names() -> list[str]:
    return studies.names()


__all__ = ["Finding", "Study", "StudyResult", "make", "names", "studies"]
