r"""The findings of the ``exposure-audit`` study's Last.fm-2K tag-proxy audit (thesis ch. 5,
Fig. 5.5, L4187–4214; :mod:`recdyn.studies._exposure_lastfm` builds the data).

On a frame of one row per run (model, d, tau, n, seed, init) with ``status``,
``capped``, ``population`` and :func:`~._exposure_lastfm.run_statistics`' ``frac_k{k}`` /
``dist_k{k}`` (optionally ``base_frac_k{k}``: the same for n random learned artists,
shown beside (i)); kept runs are those not *violated* (L4128–4130). Seeds decide as
:mod:`recdyn.studies._exposure_verdicts` says. With the excess :math:`E = F_{k_s} -
F_\infty` at :data:`~._exposure_lastfm.SMALL_K` (signed towards ``towards``, default
group 1):

* (i) incentivised content sits closer to group 1 than the population: :math:`E > 0`;
* (ii) more so at the largest d than the smallest: :math:`E_{d_{max}} - E_{d_{min}} > 0`;
* (iii) more so with PMF than NMF: :math:`E_{pmf} - E_{nmf} > 0`;
* (iv) :math:`F` stabilises on the population's side while :math:`D` reverts towards 0:
  both :math:`\mathrm{sign}(F_\infty) F_{k_l}` and :math:`|\bar D_{k_s}| - |\bar D_{k_l}|`
  (:math:`\bar D`: the per-seed mean) have intervals above 0, :math:`k_l` =
  :data:`LARGE_K` (the thesis's "positive" is its population's sign).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from recdyn.errors import InvalidParameterError
from recdyn.studies._exposure_lastfm import FEMALE, LARGE_K, MALE, SMALL_K
from recdyn.studies._exposure_verdicts import counts, seed_interval
from recdyn.studies.result import Finding

__all__ = ["lastfm_findings"]

SOURCE = "thesis ch. 5"
PROXY = "Last.fm-2K tag proxy"
_NAMES = {FEMALE: "female-vocalists-tagged", MALE: "male-vocalists-tagged"}


def _finding(claim: str, lines: str, expected: str, parts: list, runs: pd.DataFrame) -> Finding:
    texts, verdicts = [], []
    for what, per_seed in parts:
        text, verdict = seed_interval(per_seed)
        texts.append(f"{what} {text}")
        verdicts.append(verdict)
    verdict = None if None in verdicts else all(verdicts)
    measured = "; ".join(texts) + f" {counts(runs)}"
    return Finding(claim, f"{SOURCE} {lines}, Fig. 5.5", expected, measured, verdict)


def lastfm_findings(frame: pd.DataFrame, *, towards: int = MALE) -> list[Finding]:
    """Claims (i)–(iv) of the module doc from the per-run ``frame``; ``towards``: the
    group (i)–(iii) expect favoured (1, the thesis's direction; 0 is the proxy's
    majority, which the thesis's prevalence explanation, L4209–4210, would favour)."""
    if towards not in (FEMALE, MALE):
        raise InvalidParameterError(f"towards must be {FEMALE} or {MALE}, got {towards!r}")
    sign = 1.0 if towards == MALE else -1.0
    fs, fl, ds, dl = (f"{c}_k{k}" for c in ("frac", "dist") for k in (SMALL_K, LARGE_K))
    missing = {"status", "capped", "population", "seed", fs, fl, ds, dl} - set(frame.columns)
    if missing:
        raise InvalidParameterError(f"frame lacks the columns {sorted(missing)}")
    kept = frame[frame["status"] != "violated"].assign(
        excess=lambda f: sign * (f[fs] - f["population"])
    )
    pop = float(frame["population"].mean()) if len(frame) else float("nan")
    group = _NAMES[towards]
    base = f"population F∞ = {pop:+.3f}; excess E = F_{SMALL_K} − F∞ towards {group}:"
    first = _finding(
        f"{PROXY}: incentivised content sits closer to {group} artists than the population",
        "L4196–4209",
        "E > 0 (thesis: bias towards male artists)",
        [(base, kept.groupby("seed")["excess"].mean())],
        frame,
    )
    if f"base_{fs}" in frame:  # n random learned artists per run in place of the strategies
        e_b = sign * (frame[f"base_{fs}"] - frame["population"]).mean()
        first = replace(first, measured=f"{first.measured}; baseline b (all runs): {e_b:+.4f}")
    out = [first]
    dims = sorted(frame["d"].unique()) if len(frame) else [3, 50]
    lo, hi = dims[0], dims[-1]
    for claim, lines, col, (a, b) in (
        (f"{PROXY}: more bias at the larger d", "L4196, L4202–4206", "d", (hi, lo)),
        (f"{PROXY}: more bias with PMF than NMF", "L4203–4214", "model", ("pmf", "nmf")),
    ):
        cells = kept.groupby([col, "seed"])["excess"].mean().unstack(col)
        expected = "E(d = 50) > E(d = 3)" if col == "d" else f"E({col} = {a}) > E({col} = {b})"
        if a == b:
            why = f"this run has one {col} only ({a})"
        if a == b or not {a, b} <= set(cells.columns):
            out.append(
                Finding(
                    claim,
                    f"{SOURCE} {lines}, Fig. 5.5",
                    expected,
                    why if a == b else f"needs kept runs at both {col} = {a} and {b}",
                    None,
                )
            )
        else:
            what = f"E({col} = {a}) − E({col} = {b}):"
            out.append(_finding(claim, lines, expected, [(what, cells[a] - cells[b])], frame))
    by_seed = kept.groupby("seed")
    revert = by_seed[ds].mean().abs() - by_seed[dl].mean().abs()
    settle = np.sign(pop) * by_seed[fl].mean()
    out.append(
        _finding(
            f"{PROXY}: the fraction difference settles on the population's side "
            "while the median distance difference reverts towards 0 as k grows",
            "L4210–4212",
            "F_k stabilises at the imbalance's sign (positive in the thesis), D_k → 0",
            [
                (f"sign(F∞)·F_{LARGE_K} (F∞ = {pop:+.3f}):", settle),
                (f"|D_{SMALL_K}| − |D_{LARGE_K}|:", revert),
            ],
            frame,
        )
    )
    return out
