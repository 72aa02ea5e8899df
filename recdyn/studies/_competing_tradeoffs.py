r"""Claim (d) of the ``competing-objectives`` study: the trade-off curves of each re-ranker
— accuracy against diversity, calibration and popularity — at the start and after T steps
(seeds 000–001; issue 21 item 5 (d)).

Sources: seed 001 L10 ("the default behavior of an accuracy-optimized ranker actively
destroys diversity"; "'trending' and 'diversity' … left alone they're what the model drifts
into and away from"), L12 and L27 (Steck 2018: calibration "without much accuracy loss"),
L14 ("diversity … the thing standing between personalization and a feedback loop that eats
itself"); seed 000 L16. The seeds give no numbers; each verdict applies the rule in its
``expected``, stated before any run.

World: ``beta-rank-v1`` (Chaney, Stewart & Engelhardt 2018) at 1000 × 1700 (full) with 10
initial ratings per user. Its users *choose within the slate*: each consumes the unrated
item maximising :math:`j^{-0.8}\kappa_u v_{uj}` over the slate positions ``j``, so every
re-ordering of the slate can change what is consumed. (In the topics worlds users consume the
first item, which MMR never changes: its curve would be flat by construction.) Its items are
Dirichlet topic mixtures (:math:`\mathrm{Dir}(0.1\,\mu_\beta)`, K = 19), the categories that
ILD, :math:`C_{KL}` and the re-rankers read; the truth :math:`\mu_{ui} = 20\,\theta_u^\top
\beta_i + 1` is known.

Loop: :func:`recdyn.simulate` with ``mf-als`` retrained every step, slates of ``k`` = 10,
``greedy`` under each re-ranker of :mod:`recdyn.policies.reranking` (``mmr``,
``calibrated``, ``popularity-penalty``; pool 100, depth ``k``) at each λ of the grid; λ = 0
is plain ``greedy``, one run per replicate that every curve shares (the re-rankers return
the scores unchanged at λ = 0). All runs of a replicate share one seed: the same world,
initial ratings and recommender initialisation.

Measured at every step (registered online metrics), then averaged over the first and the
last ``window`` steps ("start", "end"):

* accuracy: ``regret`` :math:`= \frac1{|N_t|}\sum_{(u,i)}(\max_{j\notin R_u}\mu_{uj} -
  \mu_{ui})` of the consumed items against the truth (lower is better; ``mean_rating``,
  the observed rating rounded and clipped to 1–5, is recorded too);
* diversity: ``ild`` :math:`= \mathrm{mean}_{i<j\in L} (1 - \cos(c_i, c_j))`;
* calibration: ``miscalibration`` :math:`C_{KL}(p_u\|\tilde q_L)`, :math:`\tilde q =
  0.99\,q + 0.01\,p` (Steck 2018), :math:`p_u` from the user's history;
* popularity: ``arp`` (mean raters of the slate's items; Abdollahpouri et al. 2019), also
  as ``arp_rel`` = ARP ÷ the same replicate's λ = 0 ARP in the same window (ARP itself grows
  as ratings accumulate), ``aplt`` (long-tail share), and the cumulative
  ``exposure_gini`` and ``coverage``.

Findings (rules in each ``expected``): (1–3) at the start each re-ranker's own objective
improves and accuracy falls, monotonically in λ (Spearman ρ ≥ 0.9 on the means over
replicates); (4) over time the accuracy price of λ_mid (the λ nearest 0.5) falls for every
re-ranker; (5) the own-objective gain at λ_mid persists after T steps (at least half its
start value, relative to λ = 0); (6) left alone (λ = 0), the loop drifts away from diversity
and towards the popular (ILD and APLT lower at the end than at the start).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn._validation import check_choice, check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.studies.result import Finding

__all__ = ["FULL", "QUICK", "SOURCE", "figures", "findings", "frame", "protocol", "run_unit",
           "units"]  # fmt: skip

TAG = "tradeoffs"
WORLD = "beta-rank-v1"
#: re-ranker → (its own objective, +1 when higher is better, −1 when lower is)
RERANKERS: dict[str, tuple[str, int]] = {
    "mmr": ("ild", 1),
    "calibrated": ("miscalibration", -1),
    "popularity-penalty": ("arp_rel", -1),
}
METRICS = ("regret", "mean_rating", "ild", "miscalibration", "arp", "aplt", "exposure_gini",
           "coverage")  # fmt: skip
OBJECTIVES = {"ild": "ILD (higher: more diverse)", "miscalibration": "miscalibration C_KL",
              "arp_rel": "ARP ÷ ARP at λ = 0"}  # fmt: skip
BASELINE = "greedy"
RHO = 0.9  # the Spearman ρ a monotone curve must reach

FULL: dict[str, Any] = {
    "rerankers": tuple(RERANKERS),
    "tradeoffs": (0.25, 0.5, 0.75, 0.95),  # λ = 0, the shared baseline, is always run
    "seeds": 3,
    "steps": 200,
    "window": 10,
    "world": {"n_users": 1000, "n_items": 1700, "users_per_step": 100, "n_initial_ratings": 10**4},
    "recommender": "mf-als",
    "k": 10,
    "pool": 100,
}
QUICK: dict[str, Any] = {
    **FULL,
    "tradeoffs": (0.5, 0.95),
    "seeds": 1,
    "steps": 60,
    "world": {"n_users": 500, "n_items": 850, "users_per_step": 50, "n_initial_ratings": 5000},
}
SOURCE = "seed 001 L10–L14, L27 (Steck 2018); seed 000 L16"


def _check_grid(grid: dict[str, Any]) -> None:
    """A recdyn error naming the first bad entry of ``grid``."""
    missing = sorted(set(FULL) - set(grid))
    if missing:
        raise InvalidParameterError(f"the tradeoffs grid lacks {missing}; keys: {sorted(FULL)}")
    if not grid["rerankers"]:
        raise InvalidParameterError(f"rerankers must name at least one of {list(RERANKERS)}")
    for name in grid["rerankers"]:
        check_choice("rerankers", name, tuple(RERANKERS))
    lams = [check_float("tradeoffs", x, low=0.0, high=1.0, low_open=True)
            for x in grid["tradeoffs"]]  # fmt: skip
    if len(set(lams)) < 2:
        raise InvalidParameterError(
            f"tradeoffs must hold at least two distinct λ in (0, 1] (λ = 0 is always run), "
            f"got {list(grid['tradeoffs'])!r}"
        )
    if not isinstance(grid["world"], dict):
        raise InvalidParameterError(f"world must be a dict of {WORLD} parameters, got "
                                    f"{grid['world']!r}")  # fmt: skip
    check_int("seeds", grid["seeds"], low=1)
    window = check_int("window", grid["window"], low=1)
    check_int("steps", grid["steps"], low=2 * window)  # start and end windows apart
    k = check_int("k", grid["k"], low=1, high=int(grid["world"].get("n_items", 170)))
    check_int("pool", grid["pool"], low=k)
    import recdyn
    from recdyn.recommenders import make as make_recommender

    recdyn.make(WORLD, **grid["world"])  # names a bad world parameter
    make_recommender(grid["recommender"])


def units(grid: dict[str, Any], seed: int) -> dict[str, dict[str, Any]]:
    """``key → kwargs`` of :func:`run_unit`: per replicate the λ = 0 baseline
    (``tradeoffs-greedy-s0``) and one unit per (re-ranker, λ > 0), all on the replicate's
    seed (paired)."""
    _check_grid(grid)
    common = {k: grid[k] for k in ("steps", "window", "recommender", "k", "pool")}
    out = {}
    for r in range(grid["seeds"]):
        seq = seeding.derive(seed, "competing-objectives", TAG, str(r))
        run = {**common, "world": dict(grid["world"]), "replicate": r,
               "seed": int(seq.generate_state(1, np.uint32)[0])}  # fmt: skip
        out[f"{TAG}-{BASELINE}-s{r}"] = {**run, "reranker": BASELINE, "tradeoff": 0.0}
        for name in grid["rerankers"]:
            for lam in sorted(set(map(float, grid["tradeoffs"]))):
                out[f"{TAG}-{name}-l{lam:g}-s{r}"] = {**run, "reranker": name, "tradeoff": lam}
    return out


def run_unit(
    *, reranker: str, tradeoff: float, steps: int, window: int, world: dict[str, Any],
    recommender: str, k: int, pool: int, replicate: int, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """One loop run: :data:`METRICS` at every step (``None`` where undefined) and the
    seconds it took."""
    import recdyn
    from recdyn.policies import make as make_policy

    check_choice("reranker", reranker, (BASELINE, *RERANKERS))
    check_float("tradeoff", tradeoff, low=0.0, high=1.0)
    start = time.perf_counter()
    env = recdyn.make(WORLD, **world)
    policy = BASELINE if reranker == BASELINE else make_policy(
        reranker, tradeoff=tradeoff, pool=pool, depth=k)  # fmt: skip
    m = recdyn.simulate(env, recommender, policy, steps=steps, seed=seed, k=k,
                        metrics=METRICS).metrics  # fmt: skip
    series = {c: [None if v != v else float(v) for v in m[c]] for c in METRICS}
    return {"reranker": reranker, "tradeoff": float(tradeoff), "replicate": replicate,
            "window": window, "series": series, "seconds": time.perf_counter() - start}  # fmt: skip


def frame(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per (re-ranker, λ, replicate, phase): the window means of :data:`METRICS`
    and ``arp_rel``; the λ = 0 baseline appears once under every re-ranker run."""
    rows = []
    names = sorted({r["reranker"] for r in results.values()} - {BASELINE})
    for result in results.values():
        w, t = result["window"], len(result["series"]["regret"])
        for phase, part in (("start", slice(0, w)), ("end", slice(t - w, t))):
            means = {c: float(pd.Series(v[part], dtype=float).mean())  # NaN: None
                     for c, v in result["series"].items()}  # fmt: skip
            base = {"tradeoff": result["tradeoff"], "replicate": result["replicate"],
                    "phase": phase, "steps": f"{part.start + 1}–{part.stop}", **means,
                    "seconds": result["seconds"]}  # fmt: skip
            owners = names if result["reranker"] == BASELINE else [result["reranker"]]
            rows += [{"reranker": name, **base} for name in owners]
    cols = ["reranker", "tradeoff", "replicate", "phase", "steps", *METRICS, "arp_rel",
            "seconds"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=cols)
    f = pd.DataFrame(rows)
    zero = f[f["tradeoff"] == 0].set_index(["reranker", "replicate", "phase"])["arp"]
    key = pd.MultiIndex.from_frame(f[["reranker", "replicate", "phase"]])
    f["arp_rel"] = f["arp"].to_numpy() / zero.reindex(key).to_numpy()
    return f[cols].sort_values(["reranker", "phase", "tradeoff", "replicate"],
                               ignore_index=True)  # fmt: skip


def _means(f: pd.DataFrame) -> pd.DataFrame:
    """Means over replicates, indexed by (re-ranker, phase, λ)."""
    return f.groupby(["reranker", "phase", "tradeoff"])[[*METRICS, "arp_rel"]].mean()


def _curve(values: pd.Series) -> str:
    return " → ".join(f"{v:.3g}" for v in values)


def _mid(lams: Any) -> float:
    """λ_mid: the λ > 0 nearest 0.5 (the smaller on a tie)."""
    return float(min((x for x in lams if x > 0), key=lambda x: (abs(x - 0.5), x)))


def findings(frame: pd.DataFrame) -> list[Finding]:
    """The six claims of the module doc, in order."""
    from recdyn.reporting.stats import spearman

    if frame.empty:
        return []
    m, out = _means(frame), []
    names = [n for n in RERANKERS if n in set(frame["reranker"])]
    for name in names:
        obj, sign = RERANKERS[name]
        s = m.loc[(name, "start")]
        rho_obj = spearman(s.index, s[obj])[0]
        rho_acc = spearman(s.index, s["regret"])[0]
        checkable = len(s) >= 3
        out.append(Finding(
            f"At the start, {name} buys its own objective ({obj}) with accuracy",
            SOURCE,
            f"over λ ∈ {list(s.index)}, in the first window: {obj} "
            f"{'rises' if sign > 0 else 'falls'} (Spearman ρ {'≥' if sign > 0 else '≤'} "
            f"{sign * RHO:+g}) and regret rises (ρ ≥ {RHO:+g}), means over replicates",
            f"{obj} {_curve(s[obj])} (ρ = {rho_obj:+.2f}); regret {_curve(s['regret'])} "
            f"(ρ = {rho_acc:+.2f})" + ("" if checkable else "; fewer than 3 λ: no ρ"),
            bool(sign * rho_obj >= RHO and rho_acc >= RHO) if checkable else None,
        ))  # fmt: skip
    if not names:
        return out
    lam = _mid(m.index.get_level_values("tradeoff"))
    cost, gain = {}, {}
    for name in names:
        obj, sign = RERANKERS[name]
        for phase in ("start", "end"):
            at, zero = m.loc[(name, phase, lam)], m.loc[(name, phase, 0.0)]
            cost[name, phase] = at["regret"] - zero["regret"]
            gain[name, phase] = sign * (at[obj] - zero[obj]) / abs(zero[obj])
    out.append(Finding(
        f"Over time the accuracy price of each objective falls (λ = {lam:g})",
        SOURCE,
        f"for every re-ranker, the regret cost of λ = {lam:g} over λ = 0 in the last window "
        "is below the cost in the first window",
        "; ".join(f"{n}: {cost[n, 'start']:+.3f} → {cost[n, 'end']:+.3f}" for n in names),
        all(cost[n, "end"] < cost[n, "start"] for n in names),
    ))  # fmt: skip
    out.append(Finding(
        f"Each re-ranker's gain in its own objective persists after T steps (λ = {lam:g})",
        SOURCE,
        f"for every re-ranker, its objective's improvement at λ = {lam:g} relative to λ = 0 "
        "is positive at the start and, in the last window, at least half the start's",
        "; ".join(f"{n} ({RERANKERS[n][0]}): {gain[n, 'start']:+.1%} → {gain[n, 'end']:+.1%}"
                  for n in names),
        all(gain[n, "start"] > 0 and gain[n, "end"] >= gain[n, "start"] / 2 for n in names),
    ))  # fmt: skip
    base = m.xs(0.0, level="tradeoff").groupby(level="phase").first()
    drift = {c: (base.loc["start", c], base.loc["end", c]) for c in ("ild", "aplt")}
    out.append(Finding(
        "Left alone, the loop drifts away from diversity and towards the popular",
        "seed 001 L10 ('trending and diversity … what the model drifts into and away from')",
        "at λ = 0 (greedy), ILD and the long-tail share APLT are both lower in the last "
        "window than in the first",
        "; ".join(f"{c.upper()} {a:.3f} → {b:.3f}" for c, (a, b) in drift.items()),
        all(b < a for a, b in drift.values()),
    ))  # fmt: skip
    return out


def _panel(ax, m: pd.DataFrame, name: str, obj: str, steps: dict[str, str]) -> None:
    """Regret (y) against ``obj`` (x) along λ for ``name``: start solid, end dashed."""
    for phase, ls, colour in (("start", "-", "tab:blue"), ("end", "--", "tab:red")):
        g = m.loc[(name, phase)]
        ax.plot(g[obj], g["regret"], ls=ls, marker="o", ms=4, color=colour, lw=1.4,
                label=f"{phase}: steps {steps[phase]}")  # fmt: skip
        for lam, row in g.iterrows():
            ax.annotate(f"{lam:g}", (row[obj], row["regret"]), fontsize=7, color=colour,
                        xytext=(3, 3), textcoords="offset points")  # fmt: skip
    ax.set_title(f"{name} (labels: λ)", fontsize=10)
    ax.set_xlabel(OBJECTIVES[obj])
    ax.set_ylabel("regret (lower: more accurate)")


def figures(frame: pd.DataFrame, out: Path) -> list[tuple[str, Path]]:
    """The own-objective curves (one panel per re-ranker) and the cross curves (a row per
    objective, a column per re-ranker)."""
    from recdyn.reporting import figures as fig

    names = [n for n in RERANKERS if n in set(frame["reranker"])] if len(frame) else []
    if not names:
        return []
    m, made = _means(frame), []
    steps = frame.groupby("phase")["steps"].first().to_dict()
    for suffix, pairs, caption in (
        ("own", [(n, RERANKERS[n][0]) for n in names],
         "Each re-ranker's accuracy (regret, y) against its own objective (x) along λ, in the "
         "first and the last window of the run (means over replicates)"),
        ("cross", [(n, o) for o in OBJECTIVES for n in names],
         "Each re-ranker (columns) against every beyond-accuracy objective (rows): regret (y) "
         "against ILD, miscalibration and relative ARP along λ, first and last window"),
    ):  # fmt: skip
        figure, axes, legend = fig.grid(len(pairs), width=3.3, height=2.8, n_legend=2)
        for ax, (name, obj) in zip(axes, pairs):
            _panel(ax, m, name, obj, steps)
            fig.style_axes(ax)
        handles, labels = axes[0].get_legend_handles_labels()
        path = fig.save(figure, out / f"tradeoffs_{suffix}.png", handles, labels, legend)
        made.append((caption, path))
    return made


def protocol(grid: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, how) rows of the report's protocol table."""
    w = grid["world"]
    return [
        ("world", f"{WORLD} (users choose within the slate by position-weighted "
         f"utility), {w.get('n_users')} × {w.get('n_items')}, {w.get('users_per_step')} users "
         f"per step, {w.get('n_initial_ratings')} initial ratings, T = {grid['steps']} steps"),
        ("loop", f"{grid['recommender']} retrained every step, greedy slates of "
         f"k = {grid['k']}; re-rankers {', '.join(grid['rerankers'])} (pool {grid['pool']}, "
         f"depth {grid['k']}) at λ ∈ {[0.0, *sorted(map(float, grid['tradeoffs']))]}, λ = 0 "
         f"shared; {grid['seeds']} replicate(s), paired seeds"),
        ("measures", f"regret (accuracy), ILD, C_KL, ARP (÷ λ = 0's), APLT, "
         f"exposure Gini; means over the first and the last {grid['window']} steps"),
        ("verdicts", f"monotone: Spearman ρ ≥ {RHO} over λ on replicate means; "
         "over time: cost and gain at the λ nearest 0.5, first vs last window"),
    ]  # fmt: skip
