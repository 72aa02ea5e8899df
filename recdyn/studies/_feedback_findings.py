r"""The findings of the ``feedback-loops`` study: each claim of thesis ch. 3 (§3.4) set
against this run's numbers, with its verdict.

Rules (the same at every size; a claim is ✓ only when the run shows it):

* **"A beats B"** on a metric in a world: the paired difference of the two arms' run
  averages (:mod:`recdyn.studies._feedback_data`) lies on the claimed side of 0 *and* its
  95 % interval excludes 0. Fewer than two runs: not checkable.
* **"Uniform best in most cases"** (L1989–1992): Uniform's mean is the best of the three
  arms at more than half of the evaluation steps, over both worlds and both held-out
  metrics.
* **Homogenization** (L2013–2029) uses the *current top-10* reading (each user's
  recommended set at the evaluation step); the cumulative reading is in the tables and
  Fig. 3.4's lower row.
* **Table 3.1's order** Naive ≥ Pop ≥ PF > CAFL (L2126–2136): the means in that order,
  and PF − CAFL > 0 with a paired 95 % interval (over repeats) that excludes 0.
* **CAFL's gain over Naive** (thesis 9.1 % in MSE): the mean of the per-repeat relative
  gains :math:`1 - \mathrm{MSE}_{CAFL} / \mathrm{MSE}_{Naive}`, with its interval above
  0, within a factor of two of 9.1 % (4.6 %–18.3 %): the absolute errors depend on the
  rating scale, which the thesis does not state, the ratio does not.

World roles: the beta-rank claims are judged on a world whose name contains
``beta-rank``, the ml100k claims on ``ml100k-v1`` or another latent world (``latent-*``,
a stand-in with the same generative model); a claim whose world the run lacks is left out.
"""

from __future__ import annotations

import math
from typing import Any

from recdyn.reporting.formatting import fmt_ci
from recdyn.studies._feedback_data import FigureData, best_shares, effect
from recdyn.studies._feedback_protocol import BY_KEY, THESIS_GAIN
from recdyn.studies._feedback_table_data import TableData
from recdyn.studies.result import Finding

__all__ = ["figure_findings", "role", "table_findings"]

RMSE, NDCG, HOMOGENIZATION = "heldout_rmse", "heldout_ndcg@20", "homogenization"
#: Fig. 3.2 (RMSE, L1986–1989), Fig. 3.3 (nDCG), Fig. 3.4 (homogenization, L2009–2029).
SOURCES = {
    RMSE: "thesis §3.4, Fig. 3.2 (L1986–1989)",
    NDCG: "thesis §3.4, Fig. 3.3 (L1986–1989)",
}


def role(world: str) -> str | None:
    """``"beta-rank"``, ``"ml100k"`` (a latent world) or ``None``: which of the thesis's
    two worlds' claims ``world`` is judged on."""
    if "beta-rank" in world:
        return "beta-rank"
    if world.startswith(("ml100k", "latent")):
        return "ml100k"
    return None


def _shown(world: str, thesis: str) -> str:
    return world if world == thesis else f"{thesis} (here {world})"


def _difference(e: dict[str, Any], name: str, unit: str = "runs") -> str:
    if e["n"] == 0:
        return f"{name}: no paired {unit}"
    return f"{name} = {fmt_ci(e['mean'], e['ci'])} (paired over {e['n']} {unit})"


def _beats(e: dict[str, Any], sign: int) -> bool | None:
    """``sign·difference > 0`` with the interval excluding 0; None below two runs."""
    if e["n"] < 2 or not math.isfinite(e["ci"]):
        return None
    return bool(sign * e["mean"] > 0 and abs(e["mean"]) > e["ci"])


def figure_findings(data: FigureData) -> list[Finding]:
    """The claims of Figs. 3.2–3.4 on ``data``."""
    out = []
    for world in data.worlds:
        thesis = "ml100k-v1" if role(world) == "ml100k" else "beta-rank-v1"
        for metric, sign, what in ((RMSE, -1, "lower"), (NDCG, 1, "higher")):
            e = effect(data, world, metric, "CAFL", "Feedback")
            out.append(
                Finding(
                    f"CAFL beats Feedback on held-out {_title(metric)} in {_shown(world, thesis)}",
                    SOURCES[metric],
                    f"CAFL's {_title(metric)} {what} than Feedback's over the run",
                    _difference(e, "CAFL − Feedback, run average")
                    + _final(data, world, metric, ("CAFL", "Feedback")),
                    _beats(e, sign),
                )
            )
    out.append(_uniform_best(data))
    for world in data.worlds:
        if role(world) == "ml100k":
            out += _ml100k_homogenization(data, world)
        elif role(world) == "beta-rank":
            out.append(_beta_homogenization(data, world))
    return out


def _title(metric: str) -> str:
    return {RMSE: "RMSE", NDCG: "nDCG@20"}[metric]


def _final(data: FigureData, world: str, metric: str, arms: tuple[str, ...]) -> str:
    s = data.summary
    rows = s[(s["world"] == world) & (s["metric"] == metric)].set_index("arm")
    parts = [f"{a} {rows.loc[a, 'final']:.4f}" for a in arms if a in rows.index]
    return f"; at step {data.steps}: " + ", ".join(parts) if parts else ""


def _uniform_best(data: FigureData) -> Finding:
    shares = best_shares(data, "Uniform", (RMSE, NDCG))
    if shares.empty:
        return Finding(
            "Uniform (trained on random pairs) is still best in most cases",
            "thesis §3.4 (L1989–1992)",
            "Uniform's RMSE and nDCG better than CAFL's and Feedback's in most cases",
            "no Uniform arm with held-out evaluations",
            None,
        )
    share = float(shares["share"].mean())
    each = "; ".join(
        f"{r.world} {_title(r.metric)} {r.share:.0%}" for r in shares.itertuples(index=False)
    )
    return Finding(
        "Uniform (trained on random pairs) is still best in most cases",
        "thesis §3.4 (L1989–1992)",
        "Uniform's held-out RMSE and nDCG the best of the three arms in most cases",
        f"Uniform best at {share:.0%} of the evaluation steps ({each})",
        share > 0.5,
    )


def _ml100k_homogenization(data: FigureData, world: str) -> list[Finding]:
    up = effect(data, world, HOMOGENIZATION, "Feedback", "Uniform")
    down = effect(data, world, HOMOGENIZATION, "CAFL", "Feedback")
    where = _shown(world, "ml100k-v1")
    source = "thesis §3.4, Fig. 3.4 right (L2013–2016)"
    return [
        Finding(
            f"Feedback raises homogenization in {where} (vs Uniform)",
            source,
            "Feedback's homogenization above Uniform's",
            _difference(up, "Feedback − Uniform, run average (current top-10)"),
            _beats(up, 1),
        ),
        Finding(
            f"CAFL lowers homogenization in {where} (vs Feedback)",
            source,
            "CAFL's homogenization below Feedback's",
            _difference(down, "CAFL − Feedback, run average (current top-10)"),
            _beats(down, -1),
        ),
    ]


def _beta_homogenization(data: FigureData, world: str) -> Finding:
    vs_uniform = effect(data, world, HOMOGENIZATION, "Feedback", "Uniform")
    vs_cafl = effect(data, world, HOMOGENIZATION, "CAFL", "Feedback")
    a, b = _beats(vs_uniform, -1), _beats(vs_cafl, 1)
    verdict = None if a is None or b is None else a and b
    return Finding(
        f"In {_shown(world, 'beta-rank-v1')} feedback can reduce homogenization: Feedback "
        "below both Uniform and CAFL",
        "thesis §3.4, Fig. 3.4 left (L2018–2029)",
        "CAFL and Uniform more homogeneous than Feedback",
        _difference(vs_uniform, "Feedback − Uniform")
        + "; "
        + _difference(vs_cafl, "CAFL − Feedback")
        + " (run averages, current top-10)",
        verdict,
    )


def _sensitivity(table: TableData) -> str:
    """``"; with GMF λ = 0.03, 0.5: 4.1 ± 1.5 %, …"`` from the sensitivity rows."""
    if table.sensitivity is None or table.sensitivity.empty:
        return ""
    parts = []
    for reg, units in table.sensitivity.groupby("reg"):
        gain = table.gain("mse", units)
        parts.append(f"λ = {reg:g}: {fmt_ci(100 * gain['mean'], 100 * gain['ci'])} %")
    main = ", ".join(f"{r:g}" for r in sorted(set(table.units["reg"])))
    return f" with GMF λ = {main}; refitted with " + ", ".join(parts)


def table_findings(table: TableData) -> list[Finding]:
    """The claims of Table 3.1 on ``table``."""
    source = "thesis §3.4, Table 3.1 (L2126–2136)"
    out = []
    for metric in ("mse", "mae"):
        means = table.means(metric)
        order = " ≥ ".join(f"{BY_KEY[c].label} {means[c]:.4g}" for c in ("naive", "pop", "pf"))
        e = table.paired(metric, "pf", "cafl")
        ordered = means["naive"] >= means["pop"] >= means["pf"]
        verdict = _beats(e, 1)
        thesis = [f"{c.label} {getattr(c, metric)[0]:.3f}" for c in table.thesis_rows()]
        out.append(
            Finding(
                f"Order of the corrections by {metric.upper()}: Naive ≥ Pop ≥ PF > CAFL",
                source,
                " ≥ ".join(thesis[:-1]) + " > " + thesis[-1],
                f"{order} > CAFL {means['cafl']:.4g}; "
                + _difference(e, "PF − CAFL", "repeats")
                + f"{'' if ordered else ' (Naive ≥ Pop ≥ PF does not hold)'}",
                None if verdict is None else ordered and verdict,
            )
        )
    gain = table.gain("mse")
    lo, hi = THESIS_GAIN / 2, THESIS_GAIN * 2
    ok = None
    if gain["n"] >= 2 and math.isfinite(gain["ci"]):
        ok = gain["mean"] - gain["ci"] > 0 and lo <= gain["mean"] <= hi
    out.append(
        Finding(
            "CAFL's MSE is about 9 % below Naive's",
            source,
            f"(2.001 − 1.818) / 2.001 = {THESIS_GAIN:.1%}; judged: a gain above 0 within "
            f"a factor of 2 ({lo:.1%}–{hi:.1%})",
            f"1 − MSE(CAFL)/MSE(Naive) = {fmt_ci(100 * gain['mean'], 100 * gain['ci'])} % "
            f"(paired over {gain['n']} repeats); ratings on {table.scale_text()}"
            + _sensitivity(table),
            ok,
        )
    )
    out.append(
        Finding(
            "Absolute MSE and MAE of Table 3.1",
            "thesis Table 3.1 (L2126–2136) vs L2048",
            "Naive 2.001 / 1.087, CAFL 1.818 / 1.015 on an unstated rating scale",
            f"Naive {table.means('mse')['naive']:.4g} / {table.means('mae')['naive']:.4g}, "
            f"CAFL {table.means('mse')['cafl']:.4g} / {table.means('mae')['cafl']:.4g} on "
            f"{table.scale_text()}; the thesis's Beta′ ratings lie in (0, 1) (L2048) but its "
            "errors need a wider scale, which it does not state: not comparable",
            None,
        )
    )
    out.append(
        Finding(
            "Pan et al.'s correction: MSE 1.896 ± 0.042, MAE 1.042 ± 0.011",
            "thesis Table 3.1 (L2129–2130), Pan et al. (2021)",
            "between PF and CAFL",
            "not run: " + BY_KEY["pan"].note,
            None,
        )
    )
    return out
