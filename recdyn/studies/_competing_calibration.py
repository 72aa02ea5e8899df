r"""Claim (a) of the ``competing-objectives`` study: accuracy-ranked lists crowd out users'
secondary interests; calibrated re-ranking restores them at a small accuracy cost (seed 001
L10, L25–27; Steck, "Calibrated recommendations", RecSys 2018). The seeds give no numbers;
each verdict applies the rule in its ``expected``, stated before any run.

**Offline** (ML-100K, 19 genres, :math:`p(g \mid i)` uniform over an item's genres): per
replicate a seeded 80/20 random split; ``ease`` (binarised, λ_EASE = 300: the strongest
registered top-N model, closed form; its docstring's ML-100K range) scores every item;
history :math:`H_u` = the user's train items (excluded); ``CalibratedReRanker`` (pool 100,
depth ``k`` = 10, α = 0.01) re-ranks via :class:`GenreCatalogue` at each λ (λ = 0: the
accuracy ranking). Per λ, means over users of

* :math:`C_{KL}(p_u \| \tilde q_u)`, :math:`\tilde q = 0.99\,q + 0.01\,p` (Steck eq. 3;
  :func:`~recdyn.metrics.beyond_accuracy.miscalibration`);
* *secondary interests*: the minor genres :math:`M_u = \{g : p(g \mid u) \ge 0.05, g \ne
  \arg\max_{g'} p(g' \mid u)\}`; ``minor_share`` :math:`= |\{g \in M_u : q(g \mid L_u) >
  0\}| / |M_u|` (the share present in the list), ``minor_mass`` :math:`= \sum_{g \in M_u}
  q(g \mid L_u) / \sum_{g \in M_u} p(g \mid u)` (1: the list gives them the history's
  weight), over users with :math:`M_u \ne \emptyset`;
* nDCG@k and P@k on the test part, relevant = test rating ≥ 4; and as a reference the
  first two for the *history sample*, ``k`` items drawn uniformly from the user's history.

**Over time**: :func:`recdyn.simulate` in ``topics-static-v1`` and ``topics-dynamic-v1``
(drift, boredom), ``mf-als`` retrained every step, slates of ``k`` = 10; arms ``greedy`` and
greedy under the calibrated re-ranker at λ = 0.5 with the library's pool of 100 and with
every item (ours: one topic per item, so the top 100 of 1,700 items hold one or two topics
and leave little to calibrate with). Arms of a replicate share its seed (world, initial
data, model). Per step: ``miscalibration`` (history = items rated before the step),
``mean_rating`` and ``regret`` of the consumed (first) items.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.studies.result import Finding

__all__ = ["FULL", "QUICK", "SOURCE", "GenreCatalogue", "figures", "findings", "frame",
           "interests", "protocol", "run_unit", "units"]  # fmt: skip

TAG = "calib"
SOURCE = "seed 001 L10, L25–27 (Steck 2018)"
ALPHA = 0.01  # Steck's α of q̃
MINOR = 0.05  # p(g|u) from which a genre counts as an interest
REF = 0.5  # the λ every rule reads, offline and online
COST = 0.9  # "small accuracy cost": at least 90 % of the accuracy ranking's accuracy
OFFLINE_MODEL = ("ease", {"binarize": True, "lam": 300.0})
ONLINE_METRICS = ("miscalibration", "mean_rating", "regret")
WORLDS = ("topics-static-v1", "topics-dynamic-v1")
COLUMNS = ["unit", "part", "world", "arm", "tradeoff", "replicate", "step", "metric", "value"]

FULL: dict[str, Any] = {
    "tradeoffs": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99),
    "splits": 5, "k": 10, "pool": 100,  # offline (k also online)
    "worlds": WORLDS, "world": {},  # {}: the presets' 1000 × 1700, 200 users a step
    "recommender": "mf-als", "pools": (100, None),  # None: every item
    "steps": 200, "seeds": 2,
}  # fmt: skip
QUICK: dict[str, Any] = {
    **FULL, "tradeoffs": (0.0, 0.25, 0.5, 0.75, 0.99), "splits": 1, "steps": 40, "seeds": 1,
    "world": {"n_users": 300, "n_items": 510, "users_per_step": 60, "n_initial_ratings": 9000},
}  # fmt: skip


class GenreCatalogue:
    """What :class:`~recdyn.policies.reranking.CalibratedReRanker` reads from a world,
    offline: ``item_categories()`` (float ``[n_items, n_categories]``, :math:`p(g \\mid
    i)`, e.g. :func:`recdyn.datasets.item_categories`'s) and ``repeat_consumption = False``
    (the history is the excluded items)."""

    repeat_consumption = False

    def __init__(self, categories: Any) -> None:
        c = np.asarray(categories, dtype=np.float64)
        if c.ndim != 2 or not c.size or not np.isfinite(c).all() or (c < 0).any():
            raise InvalidParameterError(
                "categories must be a non-empty [n_items, n_categories] array of finite "
                f"non-negative weights, got shape {c.shape}"
            )
        self._categories = c

    def item_categories(self) -> np.ndarray:
        return self._categories.copy()


def _check_grid(grid: dict[str, Any]) -> None:
    """A recdyn error naming the first bad entry of ``grid``."""
    if missing := sorted(set(FULL) - set(grid)):
        raise InvalidParameterError(f"the calibration grid lacks {missing}; keys: {sorted(FULL)}")
    lams = [check_float("tradeoffs", x, low=0.0, high=1.0) for x in grid["tradeoffs"]]
    if 0.0 not in lams or REF not in lams:
        raise InvalidParameterError(f"tradeoffs must hold λ = 0 and λ = {REF} (the findings "
                                    f"compare them), got {list(grid['tradeoffs'])!r}")  # fmt: skip
    for key in ("splits", "steps", "seeds"):
        check_int(key, grid[key], low=1)
    k = check_int("k", grid["k"], low=1)
    for pool in (grid["pool"], *grid["pools"]):
        if pool is not None and check_int("pool", pool, low=1) < k:
            raise InvalidParameterError(f"pool={pool} is smaller than the slate (k={k})")
    if None not in grid["pools"]:
        raise InvalidParameterError("pools must hold None (every item: the findings read it)")
    if not grid["worlds"] or set(grid["worlds"]) - set(WORLDS):
        raise InvalidParameterError(f"worlds must be some of {WORLDS}, got {grid['worlds']!r}")


def units(grid: dict[str, Any], seed: int) -> dict[str, dict[str, Any]]:
    """``key → kwargs`` of :func:`run_unit`: one offline unit per split, one online unit
    per (world, arm, replicate), the largest (pool of every item) first; the arms of a
    replicate share its seed."""
    _check_grid(grid)
    out: dict[str, dict[str, Any]] = {}
    arms = [("greedy", 0.0, None), *((f"calibrated-{p or 'all'}", REF, p) for p in grid["pools"])]
    for r in range(grid["seeds"]):
        for world in grid["worlds"]:
            s = _seed(seed, "online", world, str(r))
            for arm, lam, pool in arms:
                out[f"{TAG}-online-{world.split('-')[1]}-{arm}-s{r}"] = {
                    "part": "online", "world": world, "overrides": dict(grid["world"]),
                    "arm": arm, "tradeoff": lam, "pool": pool, "steps": grid["steps"],
                    "k": grid["k"], "recommender": grid["recommender"], "seed": s,
                }  # fmt: skip
    for r in range(grid["splits"]):
        out[f"{TAG}-offline-s{r}"] = {
            "part": "offline", "tradeoffs": [float(x) for x in grid["tradeoffs"]],
            "k": grid["k"], "pool": grid["pool"], "seed": _seed(seed, "offline", str(r)),
        }  # fmt: skip
    return dict(sorted(out.items(), key=lambda u: u[1].get("arm") != "calibrated-all"))


def _seed(seed: int, *names: str) -> int:
    seq = seeding.derive(seed, "competing-objectives", "calibration", *names)
    return int(seq.generate_state(1, np.uint32)[0])


def run_unit(*, part: str, seed: int, **params: Any) -> dict[str, Any]:
    """One unit: ``part="offline"`` (every λ on one split) or ``"online"`` (one arm's
    run); deterministic from ``seed``."""
    start, run = time.perf_counter(), {"offline": _offline, "online": _online}.get(part)
    if run is None:
        raise InvalidParameterError(f"part must be 'offline' or 'online', got {part!r}")
    return {"part": part, **run(seed=seed, **params), "seconds": time.perf_counter() - start}


@lru_cache(maxsize=1)
def _ml100k() -> tuple[Any, GenreCatalogue]:
    from recdyn import datasets

    data = datasets.load("ml-100k")
    return data, GenreCatalogue(datasets.item_categories(data)[0])


def _offline(*, tradeoffs: list[float], k: int, pool: int, seed: int) -> dict[str, Any]:
    from recdyn.evaluation.splits import random_split
    from recdyn.metrics import ndcg_topn, precision_at_k, relevance_matrix
    from recdyn.policies.reranking import CalibratedReRanker
    from recdyn.recommenders import make

    data, catalogue = _ml100k()
    n_users, n_items = data.n_users, data.n_items
    train, test = random_split(data.interactions, 0.2, seed)
    history = train.to_csr(n_users, n_items, values=np.ones(len(train), bool)).toarray()
    relevant = relevance_matrix(test, n_users, n_items, min_rating=4)
    model = make(OFFLINE_MODEL[0], **OFFLINE_MODEL[1]).fit(train, n_users, n_items)
    scores = model.score(np.arange(n_users))
    cats = catalogue.item_categories()
    rows = []
    for lam in tradeoffs:
        ranker = CalibratedReRanker(tradeoff=lam, alpha=ALPHA, pool=pool, depth=k)
        s = ranker.attach(catalogue).reranked_scores(scores, history)
        lists = np.argsort(np.where(history, np.inf, -s), axis=1, kind="stable")[:, :k]
        rows.append({
            "tradeoff": float(lam), **interests(lists, history, cats),
            "ndcg": ndcg_topn(s, relevant, k, exclude=history),
            "precision": precision_at_k(s, relevant, k, exclude=history),
        })  # fmt: skip
    rng = seeding.generator(seed, "history-sample")
    draw = np.where(history, rng.random(history.shape), -1.0)
    picks = np.argsort(-draw, axis=1)[:, :k]  # -1 pads a history shorter than k
    sample = interests(np.where(np.take_along_axis(history, picks, 1), picks, -1), history, cats)
    return {"rows": rows, "sample": sample}


def interests(lists: np.ndarray, history: np.ndarray, categories: np.ndarray) -> dict[str, float]:
    """Mean ``c_kl``, ``minor_share``, ``minor_mass`` (module doc) of ``lists`` (int ``[n_users,
    k]``, -1 empty) against the users' ``history`` (bool ``[n_users, n_items]``)."""
    from recdyn.metrics.beyond_accuracy import list_distribution, miscalibration

    p = history @ categories
    p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
    q = list_distribution(lists, categories)
    minor = p >= MINOR
    minor[np.arange(len(p)), p.argmax(axis=1)] = False
    ok = minor.any(axis=1)
    share = ((q > 0) & minor)[ok].sum(axis=1) / minor[ok].sum(axis=1)
    mass = (q * minor).sum(axis=1)[ok] / (p * minor).sum(axis=1)[ok]
    c_kl = miscalibration(lists, history, categories, alpha=ALPHA)
    return {"c_kl": float(c_kl), "minor_share": float(share.mean()),
            "minor_mass": float(mass.mean())}  # fmt: skip


def _online(
    *, world: str, overrides: dict[str, Any], arm: str, tradeoff: float, pool: int | None,
    steps: int, k: int, recommender: str, seed: int,
) -> dict[str, Any]:  # fmt: skip
    import recdyn
    from recdyn.policies.reranking import CalibratedReRanker

    env = recdyn.make(world, **overrides)
    policy = "greedy" if arm == "greedy" else CalibratedReRanker(
        tradeoff=tradeoff, alpha=ALPHA, pool=pool or env.n_items, depth=k)  # fmt: skip
    m = recdyn.simulate(env, recommender, policy, steps=steps, k=k, seed=seed,
                        metrics=ONLINE_METRICS).metrics  # fmt: skip
    return {"world": world, "arm": arm, "tradeoff": tradeoff, "pool": pool,
            "step": m["step"].astype(int).tolist(),
            **{name: m[name].astype(float).tolist() for name in ONLINE_METRICS}}  # fmt: skip


def frame(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tidy rows ``unit, part, world, arm, tradeoff, replicate, step, metric, value``:
    offline one per (split, λ or the history sample, metric) at step 0; online one per
    (run, step, metric)."""
    parts = []
    for key, res in results.items():
        if res["part"] == "offline":
            f = pd.DataFrame([*res["rows"], {"tradeoff": np.nan, **res["sample"]}])
            f = f.assign(world="ml-100k", step=0, arm=np.where(
                f["tradeoff"].isna(), "history sample", "calibrated"))  # fmt: skip
        else:
            f = pd.DataFrame({n: res[n] for n in ("step", *ONLINE_METRICS)})
            f = f.assign(world=res["world"], arm=res["arm"], tradeoff=res["tradeoff"])
        f = f.melt(id_vars=["world", "arm", "tradeoff", "step"], var_name="metric")
        rep = int(key.rsplit("-s", 1)[1])
        parts.append(f.dropna(subset=["value"]).assign(unit=key, part=res["part"], replicate=rep))
    return pd.concat(parts, ignore_index=True)[COLUMNS] if parts else pd.DataFrame(columns=COLUMNS)


def _offline_means(f: pd.DataFrame) -> pd.DataFrame:
    """Offline means over splits: a row per λ (NaN: the history sample), a column per metric."""
    off = f[f["part"] == "offline"].fillna({"tradeoff": -1.0})
    m = off.groupby(["tradeoff", "metric"])["value"].mean().unstack("metric")
    return m.rename(index={-1.0: np.nan})


def _online_means(f: pd.DataFrame, world: str, lo: float = 0.0, hi: float = 1.0) -> pd.DataFrame:
    """Per arm, each online metric's mean over replicates and the ``(lo, hi]`` share of steps."""
    on = f[(f["part"] == "online") & (f["world"] == world)]
    t = on["step"].max()
    part = on[(on["step"] > lo * t) & (on["step"] <= hi * t)]
    return part.groupby(["arm", "metric"])["value"].mean().unstack("metric")


def findings(frame: pd.DataFrame) -> list[Finding]:
    """Offline: λ = 0 lists crowd out minor genres; λ = 0.5 restores them at a small accuracy
    cost. Per world: greedy slates stay miscalibrated; λ = 0.5 restores them at a small cost
    in rating. Each judged by the rule in its ``expected``."""
    out: list[Finding] = []
    if (frame["part"] == "offline").any():
        m = _offline_means(frame)
        b, r, h = m.loc[0.0], m.loc[REF], m.loc[np.nan]  # λ = 0, λ = REF, history sample
        out += [Finding(
            "Offline (ML-100K): accuracy-ranked lists are miscalibrated and crowd out "
            "users' minor genres", SOURCE,
            "at λ = 0: mean C_KL ≥ 1.5 × that of k-item random samples of the user's own "
            "history, and a smaller share of the user's minor genres in the list",
            f"C_KL {b['c_kl']:.3f} vs {h['c_kl']:.3f} for history samples (× "
            f"{b['c_kl'] / h['c_kl']:.2f}); minor genres present {b['minor_share']:.1%} vs "
            f"{h['minor_share']:.1%}; minor-genre mass {b['minor_mass']:.2f} vs "
            f"{h['minor_mass']:.2f} of the history's",
            bool(b["c_kl"] >= 1.5 * h["c_kl"] and b["minor_share"] < h["minor_share"]),
        ), Finding(
            f"Offline (ML-100K): calibrated re-ranking (λ = {REF}) restores them", SOURCE,
            f"at λ = {REF}: mean C_KL at most half of λ = 0's, and a larger share of minor "
            "genres present than at λ = 0",
            f"C_KL {b['c_kl']:.3f} → {r['c_kl']:.3f} (× {r['c_kl'] / b['c_kl']:.2f}); minor "
            f"genres present {b['minor_share']:.1%} → {r['minor_share']:.1%}; minor-genre "
            f"mass {b['minor_mass']:.2f} → {r['minor_mass']:.2f}",
            bool(r["c_kl"] <= 0.5 * b["c_kl"] and r["minor_share"] > b["minor_share"]),
        ), Finding(
            f"Offline (ML-100K): … at a small accuracy cost (λ = {REF})", SOURCE,
            f"at λ = {REF}: nDCG@k and P@k at least {COST:.0%} of λ = 0's",
            f"nDCG@k {b['ndcg']:.4f} → {r['ndcg']:.4f} ({r['ndcg'] / b['ndcg']:.1%}); P@k "
            f"{b['precision']:.4f} → {r['precision']:.4f} "
            f"({r['precision'] / b['precision']:.1%})",
            bool(r["ndcg"] >= COST * b["ndcg"] and r["precision"] >= COST * b["precision"]),
        )]  # fmt: skip
    for world in sorted(frame.loc[frame["part"] == "online", "world"].unique()):
        out.extend(_online_findings(frame, world))
    return out


def _online_findings(frame: pd.DataFrame, world: str) -> list[Finding]:
    run, first, last = (_online_means(frame, world, lo, hi)
                        for lo, hi in ((0, 1), (0, 0.25), (0.75, 1)))  # fmt: skip
    g, c = run.loc["greedy"], run.loc["calibrated-all"]
    ends = first.loc["greedy", "miscalibration"], last.loc["greedy", "miscalibration"]
    bar = np.log(1 / ALPHA) / 2
    o = run.loc["calibrated-100"] if "calibrated-100" in run.index else None
    other = "" if o is None else (f"; pool 100: C_KL {o['miscalibration']:.3f}, mean rating "
                                  f"{o['mean_rating']:.3f}, regret {o['regret']:.3f}")  # fmt: skip
    return [Finding(
        f"Over time ({world}): greedy slates stay miscalibrated", SOURCE,
        f"greedy's mean C_KL ≥ ln(1/α)/2 = {bar:.2f} (≈ half the history's topic mass or more "
        "absent from the slate) over the first and over the last quarter of steps",
        f"greedy C_KL {ends[0]:.3f} (first quarter), {ends[1]:.3f} (last quarter)",
        bool(min(ends) >= bar),
    ), Finding(
        f"Over time ({world}): calibrated re-ranking (λ = {REF}) restores calibration", SOURCE,
        "pool of every item: mean C_KL over the run at most half of greedy's",
        f"C_KL {g['miscalibration']:.3f} → {c['miscalibration']:.3f} "
        f"(× {c['miscalibration'] / g['miscalibration']:.2f}){other}",
        bool(c["miscalibration"] <= 0.5 * g["miscalibration"]),
    ), Finding(
        f"Over time ({world}): … at a small cost in rating (λ = {REF})", SOURCE,
        f"pool of every item: mean rating over the run at least {COST:.0%} of greedy's",
        f"mean rating {g['mean_rating']:.3f} → {c['mean_rating']:.3f} "
        f"({c['mean_rating'] / g['mean_rating']:.1%}); regret {g['regret']:.3f} → "
        f"{c['regret']:.3f}",
        bool(c["mean_rating"] >= COST * g["mean_rating"]),
    )]  # fmt: skip


ARM_STYLE = {"greedy": ("tab:red", "greedy (accuracy)"),
             "calibrated-100": ("tab:orange", f"calibrated λ = {REF}, pool 100"),
             "calibrated-all": ("tab:blue", f"calibrated λ = {REF}, pool all items")}  # fmt: skip
OFFLINE_AXES = {"c_kl": "miscalibration C_KL (lower: calibrated)",
                "minor_share": "share of minor genres in the list"}  # fmt: skip
ONLINE_AXES = {"miscalibration": "C_KL of the slate", "mean_rating": "mean rating consumed"}


def figures(frame: pd.DataFrame, out: Path) -> list[tuple[str, Path]]:
    """Offline: C_KL and the minor-genre share against nDCG@k along λ; over time:
    miscalibration and mean rating per step, a line per arm (means over replicates)."""
    from recdyn.reporting import figures as fig

    made = []
    if (frame["part"] == "offline").any():
        m = _offline_means(frame)
        curve, sample = m.loc[m.index.notna()], m.loc[np.nan]
        figure, axes, legend = fig.grid(2, width=3.6, height=3.0, n_legend=2)
        for ax, (col, label) in zip(axes, OFFLINE_AXES.items()):
            ax.plot(curve["ndcg"], curve[col], "o-", ms=4, label="calibrated, λ marked")
            for lam, row in curve.iterrows():
                ax.annotate(f"{lam:g}", (row["ndcg"], row[col]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))  # fmt: skip
            ax.axhline(sample[col], color="k", ls="--", lw=1, label="k items of the history")
            ax.set(xlabel="nDCG@k (test ratings ≥ 4)", ylabel=label)
            fig.style_axes(ax)
        handles = axes[0].get_legend_handles_labels()  # one legend for both panels
        path = fig.save(figure, out / "calibration_offline.png", *handles, legend)
        made.append(("Calibration offline (ML-100K, EASE): C_KL and the share of users' minor "
                     "genres in the top k against nDCG@k along λ; dashed: k items of the "
                     "user's history", path))  # fmt: skip
    online = frame[frame["part"] == "online"]
    if len(worlds := sorted(online["world"].unique())):
        arms = [a for a in ARM_STYLE if a in set(online["arm"])]
        figure, axes, legend = fig.grid(2 * len(worlds), 3.6, 3.0, n_legend=len(arms))
        for ax, (world, metric) in zip(axes, [(w, m) for w in worlds for m in ONLINE_AXES]):
            part = online[(online["world"] == world) & (online["metric"] == metric)]
            means = part.groupby(["arm", "step"])["value"].mean()
            for arm in arms:
                ax.plot(means.loc[arm], color=ARM_STYLE[arm][0], lw=1.2, label=ARM_STYLE[arm][1])
            ax.set(title=world, ylabel=ONLINE_AXES[metric])
            fig.style_axes(ax, steps=True)
        handles = axes[0].get_legend_handles_labels()
        path = fig.save(figure, out / "calibration_online.png", *handles, legend)
        made.append(("Calibration over time (topics worlds): C_KL of the slates and rating "
                     "of the consumed items per step, mean over replicates", path))  # fmt: skip
    return made


def protocol(grid: dict[str, Any]) -> list[tuple[str, str]]:
    """The (what, how) rows of claim (a) for the report's protocol table."""
    name, params = OFFLINE_MODEL
    size = ", ".join(f"{k} = {v}" for k, v in grid["world"].items()) or "the presets' sizes"
    pools = ", ".join("every item" if p is None else str(p) for p in grid["pools"])
    k = grid["k"]
    return [
        ("calibration offline",
         f"ML-100K, 19 genres; {grid['splits']} seeded 80/20 random splits; {name} "
         f"({', '.join(f'{a}={v}' for a, v in params.items())}) on train; history = train "
         f"items; calibrated re-ranking (α = {ALPHA}, pool {grid['pool']}, depth {k}) at "
         f"λ ∈ {{{', '.join(f'{x:g}' for x in grid['tradeoffs'])}}}; top {k}; nDCG@{k}, P@{k} "
         "on the test split, relevant = rating ≥ 4"),
        ("secondary interests",
         f"minor genres: p(g|u) ≥ {MINOR} other than the top one; share of them in the list "
         f"and their list mass ÷ history mass; reference: {k} random items of the history"),
        ("calibration over time",
         f"{', '.join(grid['worlds'])} ({size}); {grid['recommender']} retrained every step; "
         f"k = {k}; greedy vs calibrated λ = {REF} with pool {pools}; {grid['steps']} steps "
         f"× {grid['seeds']} seeds (arms share a seed); {', '.join(ONLINE_METRICS)} per step"),
    ]  # fmt: skip
