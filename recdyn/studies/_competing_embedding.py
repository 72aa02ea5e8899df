r"""Claim (b) of the ``competing-objectives`` study: a small embedding dimension drives
popularity bias (seeds 000 L10 and 001 L10; Ohsaka & Togashi, "Curse of 'low'
dimensionality in recommender systems", SIGIR 2023, digest §2.7) — offline on ML-100K and
then inside the loop, where the seeds say it compounds ("niche items get starved of
exposure in a way that compounds over time").

**Model.** ``mf-sgd`` (biased MF by SGD, :math:`\hat r_{ui} = \mu + b_u + b_i + p_u^\top
q_i`) with ``n_factors = d`` and every other hyperparameter fixed at recdyn's defaults
(30 epochs, lr 0.015, λ = 0.12, init σ₀ = 0.1). Why this MF: its cost is linear in d
(:math:`O(|R|\, d)` an epoch: 0.7 s at d = 512 on ML-100K), where ``mf-als``'s exact
solves cost :math:`O(|R|\, d^2 + n\, d^3)` (6.5 s at d = 128, minutes at 512) and
``pmf`` / ``bayes-mf`` share that cost; its penalty is per rating (each user's and item's
prior precision grows with its ratings, the weighted-λ that carries over across sizes), so
one λ serves every d without rescaling; and it is the fitter of the loop's world, so at
d = 100 the recommender's model class holds the truth. No per-d tuning: the claim is
about d alone.

**Second arm: ``ials``** (implicit ALS, Hu, Koren & Volinsky 2008: confidence
:math:`1 + \alpha` on rated pairs, preference 1 there, 0 elsewhere, L2 λ), added *after*
every finding of ``mf-sgd`` came out ✗: the source's claim concerns implicit dot-product
models (iALS in Ohsaka & Togashi and Rendle et al.), where the zeros of all unobserved
pairs pull small-d embeddings to popularity, whereas explicit MF at small d ranks by its
item biases (high mean rating). Same rules, splits and worlds (seeds). Fixed across d:
15 CG sweeps (the library's), α = 1, λ = 10 — the best nDCG@10 of α ∈ {1, 10, 40} ×
λ ∈ {0.01, 1, 10, 100} at d = 64 on one extra split (seed 12345), chosen before any other
d ran; in the loop ``partial_fit`` runs 2 warm-started sweeps (a refit costs 6× more) and
d ≤ 128 (:data:`LOOP_MAX_D`: cost). ρ is compared rounded to 9 decimals (added with this
arm: ranks gave −0.7999999999999999 for −0.8; no ``mf-sgd`` verdict at test/quick moves).

**Offline** (one unit per (d, split)). A seeded random 80/20 split of ML-100K
(:func:`~recdyn.evaluation.splits.random_split`); top-10 lists of every user over the
items not in their training data. nDCG@10 with relevant = test rating ≥ 4
(:func:`~recdyn.metrics.ndcg_topn`); ARP :math:`= \frac1{|U|}\sum_u \frac1{|L_u|}
\sum_{i\in L_u} pop(i)` with :math:`pop(i)` the training ratings of ``i``; the Gini index
of the lists' exposure and the catalogue coverage :math:`|\bigcup_u L_u| / n`
(:mod:`recdyn.metrics.beyond_accuracy`, Abdollahpouri et al. 2019; Herlocker et al. 2004).

**Loop** (one unit per (d, seed); the same world and streams for every d of a seed).
``ml100k-v1`` (biased MF with d = 100 fitted to ML-100K: the truth is known) with uniform
initial ratings and a share of the users online each step, the same MF at each d, greedy
top-10 slates (the first consumed), ``partial_fit`` every step; online ``arp``,
``exposure_gini``, ``coverage`` (exposure cumulative over the run), ``mean_rating`` and
``regret`` per step.

**Rules** (stated before any number was seen; means over splits / seeds; ρ is Spearman's
over the grid's d, :func:`~recdyn.reporting.stats.spearman`):

1. offline popularity bias: ρ(d, ARP) ≤ −0.8, ρ(d, Gini) ≤ −0.8 and ρ(d, coverage) ≥ 0.8;
2. offline accuracy does not pay for it: nDCG@10 at the smallest d ≥ 0.9 × at the largest;
3. in the loop, rule 1 with ARP over the last fifth of the steps, Gini and coverage at T;
4. it compounds: :math:`R_t = ARP_t(d_{min}) / ARP_t(d_{max})` has a higher mean over the
   last fifth of the steps than over the first fifth, and above 1. A ratio, not the
   difference: every ARP grows as ratings accumulate, so a constant ratio would make the
   difference grow too.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn.errors import InvalidParameterError
from recdyn.studies.result import Finding

__all__ = ["FULL", "QUICK", "SOURCE", "figures", "findings", "frame", "protocol", "run_unit",
           "units"]  # fmt: skip

_WORLD = {"n_users": 943, "n_items": 1682, "users_per_step": 188, "n_initial_ratings": 20_000}
FULL: dict[str, Any] = {
    "models": ("mf-sgd", "ials"),  # keys of MODELS
    "dims": (1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
    "splits": 5,  # offline repetitions (split and model seed)
    "seeds": 5,  # loop repetitions (world and streams)
    "steps": 200,
    "world": _WORLD,
}
QUICK: dict[str, Any] = {**FULL, "dims": (1, 4, 16, 64), "splits": 2, "seeds": 1, "steps": 40}
SOURCE = "seed 000 L10, seed 001 L10 (Ohsaka & Togashi, SIGIR 2023)"
TAG = "emb"
MODEL = "mf-sgd"  # the first arm; its units keep their keys and payloads
MODELS = {MODEL: {}, "ials": {"reg": 10.0, "alpha": 1.0, "partial_iterations": 2}}  # fixed
LOOP_MAX_D = {"ials": 128}  # the largest d of a model's loop units (cost; module doc)
WORLD = "ml100k-v1"
PARTS = ("offline", "loop")
K = 10  # list length, offline and in the loop
RELEVANT = 4.0  # a test rating at least this is relevant
TEST_FRACTION = 0.2
LOOP_METRICS = ("arp", "exposure_gini", "coverage", "mean_rating", "regret")
OFFLINE_METRICS = ("ndcg", "arp", "exposure_gini", "coverage")
LABELS = {"ndcg": f"nDCG@{K}", "arp": "ARP", "exposure_gini": "exposure Gini",
          "coverage": "coverage", "mean_rating": "mean rating", "regret": "regret"}  # fmt: skip
RHO, NDCG_SHARE = 0.8, 0.9  # the rules' thresholds (module doc)


def _count(x: Any) -> bool:
    """``x`` is an integer ≥ 1 (not a bool)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 1


def _check_grid(grid: dict[str, Any]) -> None:
    missing = sorted(set(FULL) - set(grid))
    if missing:
        raise InvalidParameterError(f"the embedding grid lacks {missing}; keys: {sorted(FULL)}")
    models = grid["models"]
    bad = isinstance(models, (str, bytes)) or not len(models)
    if bad or not all(isinstance(m, str) and m in MODELS for m in models):
        raise InvalidParameterError(f"models must be some of {sorted(MODELS)}, got {models!r}")
    dims = grid["dims"]
    if isinstance(dims, (str, bytes)) or not len(dims) or not all(_count(d) for d in dims):
        raise InvalidParameterError(f"dims must be embedding sizes ≥ 1, got {dims!r}")
    for key in ("splits", "seeds", "steps"):
        if not _count(grid[key]):
            raise InvalidParameterError(f"{key} must be an integer ≥ 1, got {grid[key]!r}")
    if not isinstance(grid["world"], dict):
        raise InvalidParameterError(f"world must be a dict of {WORLD} overrides")
    if set(grid["world"]) != set(_WORLD):
        raise InvalidParameterError(
            f"world must give exactly {sorted(_WORLD)} (overrides of {WORLD}), got "
            f"{sorted(grid['world'])}"
        )


def units(grid: dict[str, Any], seed: int) -> dict[str, dict[str, Any]]:
    """``key → kwargs`` of :func:`run_unit`: one per (model, d, split) offline, one per
    (model, d, seed) in the loop; the seed of a repetition is the same for every model and
    d (paired comparisons); the largest d first. ``mf-sgd``'s keys and kwargs are those
    it had before the ``ials`` arm (no ``model``), so its stored units stay valid."""
    _check_grid(grid)
    out = {}
    for model in dict.fromkeys(grid["models"]):
        arm = {} if model == MODEL else {"model": model}
        tag = TAG if model == MODEL else f"{TAG}-{model}"
        for part, reps in (("loop", grid["seeds"]), ("offline", grid["splits"])):
            top = LOOP_MAX_D.get(model, np.inf) if part == "loop" else np.inf
            for d in sorted({int(d) for d in grid["dims"] if d <= top}, reverse=True):
                for r in range(reps):
                    seq = seeding.derive(seed, "competing-objectives", TAG, part, str(r))
                    kwargs = {"part": part, "d": d, "rep": r, **arm,
                              "seed": int(seq.generate_state(1, np.uint32)[0])}  # fmt: skip
                    if part == "loop":
                        kwargs.update(steps=int(grid["steps"]), world=dict(grid["world"]))
                    out[f"{tag}-{part}-d{d}-s{r}"] = kwargs
    return out


@lru_cache(maxsize=2)
def _split(seed: int):
    """ML-100K's ratings, split 80/20 by ``seed`` (kept per process for every d)."""
    from recdyn import datasets
    from recdyn.evaluation.splits import random_split

    ds = datasets.load("ml-100k")
    train, test = random_split(ds.interactions, TEST_FRACTION, seed=seed)
    return train, test, len(ds.user_ids), len(ds.item_ids)


def _offline(model_name: str, d: int, seed: int) -> dict[str, float]:
    from recdyn import metrics, recommenders
    from recdyn.metrics import beyond_accuracy as ba
    from recdyn.policies import top_k

    train, test, n_users, n_items = _split(seed)
    model = recommenders.make(model_name, n_factors=d, seed=seed, **MODELS[model_name])
    model.fit(train, n_users, n_items)
    scores = model.score(np.arange(n_users))
    seen = train.to_csr(n_users, n_items, values=np.ones(len(train), bool)).toarray()
    relevant = metrics.relevance_matrix(test, n_users, n_items, min_rating=RELEVANT)
    lists = top_k(scores, K, seen, seeding.generator(seed, "ties"))
    popularity = np.bincount(train.item, minlength=n_items)
    return {
        "ndcg": float(metrics.ndcg_topn(scores, relevant, k=K, exclude=seen)),
        "arp": float(ba.arp(lists, popularity)),
        "exposure_gini": float(ba.exposure_gini(lists, n_items)),
        "coverage": float(metrics.catalogue_coverage(lists, n_items)),
    }


def _loop(model_name: str, d: int, seed: int, steps: int, world: dict[str, Any]
          ) -> dict[str, list[float]]:  # fmt: skip
    import recdyn
    from recdyn import recommenders

    env = recdyn.make(WORLD, **world)
    model = recommenders.make(model_name, n_factors=d, **MODELS[model_name])
    run = recdyn.simulate(env, model, "greedy", steps=steps, seed=seed, k=K,
                          metrics=list(LOOP_METRICS))  # fmt: skip
    return {m: [float(v) for v in run.metrics[m]] for m in LOOP_METRICS}


def run_unit(
    *, part: str, d: int, rep: int, seed: int, steps: int = 0,
    world: dict[str, Any] | None = None, model: str = MODEL,
) -> dict[str, Any]:  # fmt: skip
    """One unit: ``part="offline"`` fits ``model`` (of :data:`MODELS`) at dimension ``d``
    on split ``seed`` of ML-100K and returns nDCG@10, ARP, Gini and coverage of its top-10
    lists; ``part="loop"`` runs ``steps`` steps of the world (``world``: overrides of
    ``ml100k-v1``) with it and returns each online metric per step. Deterministic."""
    if model not in MODELS:
        raise InvalidParameterError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    if part not in PARTS:
        raise InvalidParameterError(f"part must be one of {PARTS}, got {part!r}")
    if not _count(d):
        raise InvalidParameterError(f"d must be an integer ≥ 1 (the MF dimension), got {d!r}")
    start = time.perf_counter()
    if part == "offline":
        values: dict[str, Any] = _offline(model, int(d), seed)
    else:
        _check_grid({**FULL, "steps": steps, "world": {} if world is None else world})
        values = _loop(model, int(d), seed, int(steps), dict(world or {}))
    arm = {} if model == MODEL else {"model": model}  # mf-sgd's results as before
    return {"part": part, "d": int(d), "rep": int(rep), **arm, "values": values,
            "seconds": time.perf_counter() - start}  # fmt: skip


def frame(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tidy rows ``model, part, d, rep, step, metric, value``: offline rows at step 0,
    loop rows at steps 1..T; each unit's wall time as metric ``seconds`` at step 0."""
    rows = []
    for result in results.values():
        key = (result.get("model", MODEL), result["part"], result["d"], result["rep"])
        for metric, value in result["values"].items():
            steps = enumerate(value, 1) if isinstance(value, list) else [(0, value)]
            rows.extend((*key, t, metric, v) for t, v in steps)
        rows.append((*key, 0, "seconds", result["seconds"]))
    return pd.DataFrame(rows, columns=["model", "part", "d", "rep", "step", "metric", "value"])


def _means(frame: pd.DataFrame, part: str) -> pd.DataFrame:
    """Means over repetitions of one model's ``frame``: index (d, step), metric columns."""
    f = frame[(frame["part"] == part) & (frame["metric"] != "seconds")]
    return f.groupby(["d", "step", "metric"])["value"].mean().unstack("metric")


def _bias(table: pd.DataFrame, where: str) -> Finding:
    """Rules 1 and 3: ``table`` one row per d with ``arp``, ``exposure_gini``, ``coverage``."""
    from recdyn.reporting.stats import spearman

    d = table.index.to_numpy(float)
    rho = {m: round(spearman(d, table[m])[0], 9) for m in ("arp", "exposure_gini", "coverage")}
    ok = None if len(d) < 3 else bool(
        rho["arp"] <= -RHO and rho["exposure_gini"] <= -RHO and rho["coverage"] >= RHO
    )  # fmt: skip
    lo, hi = table.iloc[0], table.iloc[-1]
    measured = (
        f"ρ(d, ARP) = {rho['arp']:+.2f}, ρ(d, Gini) = {rho['exposure_gini']:+.2f}, "
        f"ρ(d, coverage) = {rho['coverage']:+.2f} over d = {', '.join(f'{x:g}' for x in d)}; "
        f"d = {d[0]:g} → {d[-1]:g}: ARP {lo['arp']:.1f} → {hi['arp']:.1f}, Gini "
        f"{lo['exposure_gini']:.3f} → {hi['exposure_gini']:.3f}, coverage "
        f"{lo['coverage']:.3f} → {hi['coverage']:.3f}"
    )
    if ok is None:
        measured += " (fewer than 3 dimensions: ρ undefined)"
    return Finding(
        f"Smaller embedding dimension → more popularity bias ({where})", SOURCE,
        f"ρ(d, ARP) ≤ −{RHO}, ρ(d, exposure Gini) ≤ −{RHO}, ρ(d, coverage) ≥ +{RHO} "
        "(Spearman over d, means over repetitions)", measured, ok,
    )  # fmt: skip


def _models(frame: pd.DataFrame) -> list[str]:
    """The models in ``frame``, in :data:`MODELS`'s order."""
    return [m for m in MODELS if len(frame) and (frame["model"] == m).any()]


def findings(frame: pd.DataFrame) -> list[Finding]:
    """The four rules of the module doc for each model (only those whose part is in
    ``frame``), ``mf-sgd``'s first; each claim names its model."""
    return [f for m in _models(frame) for f in _model_findings(frame[frame["model"] == m], m)]


def _model_findings(frame: pd.DataFrame, model: str) -> list[Finding]:
    out, parts = [], set(frame["part"])
    if "offline" in parts:
        off = _means(frame, "offline").droplevel("step")
        out.append(_bias(off, f"offline, ML-100K top-{K}; {model}"))
        lo, hi = off.index.min(), off.index.max()
        n_lo, n_hi = off.loc[lo, "ndcg"], off.loc[hi, "ndcg"]
        out.append(Finding(
            f"nDCG does not collapse at small d (comparable or higher; {model})", SOURCE,
            f"nDCG@{K} at d = {lo} ≥ {NDCG_SHARE} × nDCG@{K} at d = {hi}",
            f"nDCG@{K} {n_lo:.4f} at d = {lo}, {n_hi:.4f} at d = {hi} (ratio "
            f"{n_lo / n_hi:.2f}); highest {off['ndcg'].max():.4f} at d = "
            f"{off['ndcg'].idxmax()}", None if lo == hi else bool(n_lo >= NDCG_SHARE * n_hi),
        ))  # fmt: skip
    if "loop" in parts:
        loop = _means(frame, "loop")
        steps = loop.index.get_level_values("step")
        T = int(steps.max())
        n = max(1, T // 5)
        last = loop[steps > T - n].groupby("d").mean()
        at_t = loop.xs(T, level="step")
        out.append(_bias(at_t.assign(arp=last["arp"]), f"in the loop, after {T} steps; {model}"))
        lo, hi = loop.index.get_level_values("d").min(), loop.index.get_level_values("d").max()
        ratio = loop.xs(lo, level="d")["arp"] / loop.xs(hi, level="d")["arp"]
        first, end = float(ratio.iloc[:n].mean()), float(ratio.iloc[-n:].mean())
        out.append(Finding(
            f"Inside the loop the popularity gap of small d compounds over time ({model})",
            SOURCE,
            f"R_t = ARP_t(d = {lo}) / ARP_t(d = {hi}): mean over the last {n} steps > over "
            "the first and > 1",
            f"R_t {first:.3f} over steps 1–{n}, {end:.3f} over steps {T - n + 1}–{T}; "
            f"ARP at T {at_t.loc[lo, 'arp']:.1f} (d = {lo}) vs {at_t.loc[hi, 'arp']:.1f} "
            f"(d = {hi}); mean regret {loop.xs(lo, level='d')['regret'].mean():.3f} vs "
            f"{loop.xs(hi, level='d')['regret'].mean():.3f}",
            None if lo == hi else bool(end > first and end > 1),
        ))  # fmt: skip
    return out


def _d_axis(ax, dims: list[int]) -> None:
    """A log₂ axis of d, a tick at each d (labels on every other one beyond six)."""
    ax.set_xscale("log", base=2)
    every = 1 if len(dims) <= 6 else 2
    ax.set_xticks(dims, [f"{d:g}" if j % every == 0 else "" for j, d in enumerate(dims)])
    ax.minorticks_off()
    ax.set_xlabel("embedding dimension d")


def figures(frame: pd.DataFrame, out: Path) -> list[tuple[str, Path]]:
    """Offline nDCG@10, ARP, Gini and coverage against d (mean ± 2 s.e. over splits) per
    model; a loop figure per model: ARP, Gini, coverage per step for each d, and R_t."""
    from recdyn.reporting import figures as fig
    from recdyn.studies._two_stage_frames import summary

    done = []
    off = frame[frame["part"] == "offline"]
    if len(off):
        reps = off["rep"].nunique()
        models = _models(off)
        figure, axes, legend = fig.grid(4, width=3.4, height=2.7, n_legend=len(models))
        for ax, metric in zip(axes, OFFLINE_METRICS):
            of_metric = off[off["metric"] == metric]
            for model, colour in zip(models, ("tab:blue", "tab:orange")):
                s = summary(of_metric[of_metric["model"] == model], ["d"], "value")
                ax.errorbar(s["d"], s["mean"], yerr=2 * s["se"].fillna(0), marker="o", ms=3.5,
                            capsize=2, color=colour, label=f"{model}, mean ± 2 s.e. over "
                            f"{reps} split(s)")  # fmt: skip
            _d_axis(ax, sorted(off["d"].unique()))
            ax.set_ylabel(LABELS[metric])
            fig.style_axes(ax)
        handles, labels = axes[0].get_legend_handles_labels()
        path = fig.save(figure, out / "embedding_offline.png", handles, labels, legend)
        done.append((f"ML-100K, top-{K} lists of MF ({', '.join(models)}) against its "
                     "dimension d: accuracy and popularity bias", path))  # fmt: skip
    loop = frame[frame["part"] == "loop"]
    for model in _models(loop):
        means = _means(loop[loop["model"] == model], "loop")
        dims = sorted(means.index.get_level_values("d").unique())
        colours = fig.pyplot().get_cmap("viridis")(np.linspace(0, 0.9, len(dims)))
        figure, axes, legend = fig.grid(4, width=3.4, height=2.7, n_legend=len(dims) + 1)
        for ax, metric in zip(axes, ("arp", "exposure_gini", "coverage")):
            for d, colour in zip(dims, colours):
                g = means.xs(d, level="d")[metric]
                ax.plot(g.index, g.to_numpy(), color=colour, lw=1.3, label=f"d = {d}")
            ax.set_ylabel(LABELS[metric])
            fig.style_axes(ax, steps=True)
        ratio = means.xs(dims[0], level="d")["arp"] / means.xs(dims[-1], level="d")["arp"]
        axes[3].plot(ratio.index, ratio.to_numpy(), color="k", lw=1.3,
                     label=f"ARP(d = {dims[0]}) / ARP(d = {dims[-1]})")  # fmt: skip
        axes[3].axhline(1.0, color="k", lw=0.6, alpha=0.4)
        axes[3].set_ylabel("ARP ratio R_t")
        fig.style_axes(axes[3], steps=True)
        handles, labels = axes[0].get_legend_handles_labels()
        extra = axes[3].get_legend_handles_labels()
        path = fig.save(figure, out / f"embedding_loop_{model}.png", handles + extra[0],
                        labels + extra[1], legend)  # fmt: skip
        n = loop["rep"].nunique()
        done.append((f"Inside the loop ({WORLD}, greedy top-{K}, {model}): popularity and "
                     f"exposure per step for each d, mean over {n} seed(s)", path))  # fmt: skip
    return done


def protocol(grid: dict[str, Any]) -> list[tuple[str, str]]:
    """The (what, how) rows of this claim for the report's protocol table."""
    _check_grid(grid)
    w = grid["world"]
    dims = ", ".join(str(d) for d in grid["dims"])
    arms = {MODEL: "mf-sgd (biased MF by SGD; recdyn's defaults: 30 epochs, lr 0.015, λ 0.12)",
            "ials": "ials (implicit ALS, rated = observed; 15 CG sweeps, α 1, λ 10; 2 warm "
            f"sweeps a step; loop d ≤ {LOOP_MAX_D['ials']}), added after mf-sgd's ✗"}  # fmt: skip
    return [
        ("model", f"{'; '.join(arms[m] for m in dict.fromkeys(grid['models']))}; d ∈ "
         f"{{{dims}}}, other hyperparameters fixed"),
        ("offline", f"ML-100K, {grid['splits']} seeded random 80/20 splits; top-{K} of "
         f"unrated items; nDCG@{K} (relevant: rating ≥ {RELEVANT:g}), ARP (training "
         "popularity), exposure Gini, catalogue coverage"),
        ("loop", f"{WORLD} at {w['n_users']} users × {w['n_items']} items, "
         f"{w['n_initial_ratings']} uniform initial ratings, {w['users_per_step']} users a "
         f"step, {grid['steps']} steps, greedy top-{K}, retrained every step; "
         f"{grid['seeds']} seed(s), the same world for every d and model"),
        ("verdicts", f"per model: Spearman ρ over d of ARP, Gini (≤ −{RHO}) and coverage "
         f"(≥ {RHO}); nDCG@{K} at the smallest d ≥ {NDCG_SHARE} × at the largest; ARP ratio "
         "smallest / largest d: last fifth of the steps > first fifth, and > 1"),
    ]  # fmt: skip
