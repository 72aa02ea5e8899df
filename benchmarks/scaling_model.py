"""Schedule model: one recdyn world sharded by users across W workers (issue 22, item 4).

Reads ``benchmarks/bench_scale.py --json`` output (measured median seconds of each step
component; several files are merged: for a world × recommender the first file that
measured it wins) and predicts, for a target world and W workers each owning 1/W of the
users, a step's compute, communication and memory per worker: a model, not a
multi-machine run (docs/scaling.md says which inputs are measured, which assumed). A world
has U users, m items, n online users per step, R ratings in the log.

* Work of a component (:data:`BASE_WORK`): user = n, cell = n·m, rating = R, item = m.
  Fit: b = least-squares slope of log t on log x over the measured worlds (1 from one),
  anchored at the largest (x*, t*): t(x) = t* (x / x*)^b.
* compute(W) = g Σ_sharded t_c / W + Σ_replicated t_c (user, cell, rating work sharded;
  item work on every worker); g = 1 + √(2 ln W / (n/W)), the expected largest of W
  binomial shard loads (the slowest shard sets the step).
* comm(W) = Σ_messages r (α log₂W + v (W−1)/W · B / β), 0 at W = 1, over the model's
  messages and :data:`COMMON`: B = m × B/item + n × B/online user; v = 2 for a ring
  allreduce, 1 for a reduce-scatter, all-gather or gather, 0 for scalars; r rounds.
* memory(W) = base + [U (8⌈m/64⌉ + 539 + B/user) + R (32 + B/rating)] / W
  + c min(n m / W, block) + m (8 + B/item + owned B/item / W) + m² B/pair; c = measured
  bytes per step cell ((peak − after-fit RSS) / min(n m, block), the least over the
  recommenders), base = measured interpreter RSS, MF-ALS's B/rating = measured (its
  after-fit RSS − TopPop's − its factors) / R at the largest world both ran.
* Measured vs model: every measured world is also predicted at W = 1 (``--fit-sizes``
  leaves worlds out of the fits and the calibration, to predict them out of sample).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

COMPONENTS = ("env", "score", "policy", "metrics", "update")
SHARDED = frozenset({"user", "cell", "rating"})


class World(NamedTuple):
    users: int
    items: int
    online: int
    ratings: int

    def work(self, kind: str) -> float:
        n, m = self.online, self.items
        return {"user": n, "cell": n * m, "rating": self.ratings, "item": m}[kind]


TARGETS = {  # 1e5, 1e6: bench_scale's worlds; 1e7: our extrapolation of them
    "1e5": World(100_000, 20_000, 20_000, 10_000_000),
    "1e6": World(1_000_000, 50_000, 200_000, 100_000_000),
    "1e7": World(10_000_000, 100_000, 2_000_000, 1_000_000_000),
}
#: topics-dynamic-v1 per user besides its ⌈m/8⌉ rated bits: rated count, log-activity, 19
#: topics × 25 B (2 float64, int8, 2 int32), slate memory 5 × int64 and its cursor
WORLD_USER_BYTES = 8 + 8 + 19 * 25 + 5 * 8 + 8
#: simulate's and the recommender's InteractionLog: int32 user, item, step and float32
#: rating = 16 B a row each (propensity and position are stored only when used)
LOG_ROW_BYTES = 2 * 16
#: MF-ALS bytes per rating besides the logs (its CSR rows by user and by item, the fit's
#: temporaries); replaced by the measured value when both toppop and mf-als ran a world
ALS_RATING_BYTES = 31.0


class Message(NamedTuple):  # a collective of every step: per_item B × m + per_online B × n
    name: str
    per_item: float = 0.0
    per_online: float = 0.0
    volume: float = 2.0  # 2: allreduce; 1: reduce-scatter, all-gather, gather; 0: scalars
    rounds: int = 1


#: each step: the online draw (≈ n top Gumbel (key, id) pairs of 12 B to a root, the
#: k-th key back to all) and the metrics' sums (scalars)
COMMON = (
    Message("online draw: top keys (gather)", per_online=12, volume=1),
    Message("online draw: threshold (broadcast)", volume=0),
    Message("metric sums (allreduce)", volume=0),
)


class RecModel(NamedTuple):  # what its step work follows, what it sends, its bytes
    work: dict[str, str]
    messages: tuple[Message, ...]
    per_user: float = 0.0
    per_item: float = 0.0  # replicated on every worker
    owned_per_item: float = 0.0  # held by the one shard that owns the item
    per_pair: float = 0.0  # dense items × items matrices, replicated
    per_rating: float = 0.0


BASE_WORK = {"env": "user", "score": "cell", "policy": "cell", "metrics": "cell"}


def rec_model(
    name: str,
    params: str,
    world: World,
    als_item_side: str = "normal",
    als_rating_bytes: float = ALS_RATING_BYTES,
) -> RecModel:
    """A recommender's model (``params``: its repr, read for ALS's sizes; docs/scaling.md)."""
    if name == "toppop":  # sums and counts (float64) shared; float32 scores
        sums = Message("item sums+counts (allreduce)", per_item=16)
        return RecModel({**BASE_WORK, "update": "user"}, (sums,), per_item=20)
    if name == "mf-als":
        size = {k: int(v) for k, v in re.findall(r"\b(\w+)=(\d+)\b", params)}
        d, iters = size.get("n_factors", 50) + 1, size.get("partial_iters", 2)
        normal_eq = (d * (d + 1) // 2 + d + 1) * 4  # upper triangle, rhs, weight sum (f32)
        # "cg", as partial_fit does: the residual and each CG step's A·p summed over shards
        rounds = iters * (1 + size.get("partial_cg_steps", 3))
        msgs: tuple[Message, ...] = (Message("item CG vectors (allreduce)", 4 * d, 0, 2, rounds),)
        owned = normal_eq if als_item_side == "normal" else 0
        if owned:  # "normal": each item's owner solves it exactly, then shares it
            ne = Message("item normal equations (reduce-scatter)", normal_eq, 0, 1, iters)
            msgs = (ne, Message("item factors+bias (all-gather)", 4 * d, 0, 1, iters))
        return RecModel({**BASE_WORK, "update": "rating"}, msgs, 4 * d, 4 * d, owned,
                        per_rating=als_rating_bytes)  # fmt: skip
    if name in ("item-knn", "ease"):  # Grams F, P, Q (msd) or G (EASE): items × items
        grams, copies = (3, 5.5) if name == "item-knn" else (1, 4.5)  # measured copies
        # the step's sparse Gram delta DᵀX + XᵀD: n × R/U entries (i, j, float64) of 16 B
        per_new = grams * 16 * world.ratings / world.users
        delta = Message("item×item Gram delta, sparse (all-gather)", 0, per_new, 1)
        return RecModel({**BASE_WORK, "update": "item"}, (delta,), per_pair=8 * copies)
    raise ValueError(f"no schedule model for recommender {name!r}")


class Fit(NamedTuple):
    kind: str
    exponent: float
    x0: float
    t0: float


def fit(points: list[tuple[float, float]], kind: str) -> Fit:
    """Power law through ``(work, seconds)`` points, anchored at the largest work."""
    b = 1.0
    if len({x for x, _ in points}) >= 2:
        lx = [math.log(x) for x, _ in points]
        ly = [math.log(max(t, 1e-9)) for _, t in points]
        mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
        b = sum((a - mx) * (c - my) for a, c in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)
    return Fit(kind, b, *max(points))


@dataclass(frozen=True)
class Assumptions:  # what is not fitted (cell_bytes and base are measured: calibrate)
    alpha: float = 50e-6  # s per tree level of a collective: α log2 W
    beta: float = 1.25e9  # B/s per link (10 GbE)
    cell_bytes: float = 13.0  # bytes per step cell (online user × item) alive at the peak
    base: float = 0.25e9  # RSS of a worker's interpreter and imports
    block_cells: float | None = None  # cap on live step cells per worker; None: dense
    als_rating_bytes: float = ALS_RATING_BYTES  # MF-ALS bytes per rating besides the logs
    imbalance: bool = True  # the slowest of W shards sets the step


def comm_seconds(model: RecModel, world: World, w: int, a: Assumptions) -> float:
    lat, share, total = a.alpha * math.log2(w), (w - 1) / w, 0.0
    for m in (*model.messages, *COMMON) if w > 1 else ():
        size = m.per_item * world.items + m.per_online * world.online
        total += m.rounds * (lat + m.volume * share * size / a.beta)
    return total


def memory_bytes(model: RecModel, world: World, w: int, a: Assumptions) -> dict[str, float]:
    u, m, cells = world.users / w, world.items, world.online * world.items / w
    return {
        "base": a.base,
        "rated bits": u * 8 * math.ceil(m / 64),  # whole 64-bit words per user
        "user state": u * (WORLD_USER_BYTES + model.per_user),
        "logs": world.ratings / w * (LOG_ROW_BYTES + model.per_rating),
        "step arrays": a.cell_bytes * min(cells, a.block_cells or cells),
        "item state": m * (8 + model.per_item + model.owned_per_item / w) + m * m * model.per_pair,
    }


def predict(
    fits: dict[str, Fit], model: RecModel, world: World, w: int, a: Assumptions
) -> tuple[float, float, float]:
    """One step at ``w`` workers: compute and communication seconds, bytes per worker."""
    parts = {c: f.t0 * (world.work(f.kind) / f.x0) ** f.exponent for c, f in fits.items()}
    g = 1 + math.sqrt(2 * math.log(w) / (world.online / w)) if a.imbalance else 1.0
    shard = sum(t for c, t in parts.items() if fits[c].kind in SHARDED)
    compute = g * shard / w + sum(t for c, t in parts.items() if fits[c].kind not in SHARDED)
    memory = sum(memory_bytes(model, world, w, a).values())
    return compute, comm_seconds(model, world, w, a), memory


def world_of(r: dict[str, Any]) -> World:
    return World(*(r["world"][k] for k in ("n_users", "n_items", "online", "initial_ratings")))


def calibrate(results: list[dict[str, Any]], a: Assumptions) -> Assumptions:
    """``a`` with the measured bytes per step cell, interpreter RSS and MF-ALS bytes per
    rating (module docstring)."""
    per_cell = []
    for rec in dict.fromkeys(r["recommender"] for r in results):
        mine = [r for r in results if r["recommender"] == rec]  # largest world whose
        grew = [r for r in mine if r["peak_rss_bytes"] > r["peak_rss_after_fit_bytes"]]
        if grew:  # steps rose above the fit's peak (where the fit is the peak, no reading)
            cells, top = max(((world_of(r).work("cell"), r) for r in grew), key=lambda p: p[0])
            extra = top["peak_rss_bytes"] - top["peak_rss_after_fit_bytes"]
            per_cell.append(extra / min(cells, a.block_cells or cells))
    base = sorted(r["rss_baseline_bytes"] for r in results)[len(results) // 2]
    fitted = {(r["size"], r["recommender"]): r for r in results}
    both = [s for s, rec in fitted if rec == "mf-als" and (s, "toppop") in fitted]
    als = a.als_rating_bytes
    if both:  # the largest world both ran: mf-als's extra after-fit RSS, less its factors
        top = max(both, key=lambda s: world_of(fitted[s, "mf-als"]).users)
        r, world = fitted[top, "mf-als"], world_of(fitted[top, "mf-als"])
        extra = r["peak_rss_after_fit_bytes"] - fitted[top, "toppop"]["peak_rss_after_fit_bytes"]
        factors = rec_model("mf-als", r["params"], world).per_user * (world.users + world.items)
        als = max(extra - factors, 0.0) / world.ratings
    cell_bytes = min(per_cell, default=a.cell_bytes)
    return replace(a, cell_bytes=cell_bytes, base=float(base), als_rating_bytes=als)


def load(paths: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The measured results of ``paths`` (for a world × recommender, the first file that
    measured it wins; each tagged with its ``source``) and those no file measured (an
    error or a skip, first one given)."""
    measured: dict[tuple[str, str], dict[str, Any]] = {}
    missing: dict[tuple[str, str], dict[str, Any]] = {}
    for path in paths:
        for r in json.loads(Path(path).read_text())["results"]:
            key = (r["size"], r["recommender"])
            if "median_s" in r:
                measured.setdefault(key, {**r, "source": path})
            else:
                missing.setdefault(key, {**r, "source": path})
    results = sorted(measured.values(), key=lambda r: world_of(r).users)
    return results, [r for k, r in missing.items() if k not in measured]


def fmt_s(x: float) -> str:
    return f"{x * 1e3:.1f} ms" if x < 1 else (f"{x:.2f} s" if x < 100 else f"{x:,.0f} s")


def table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join("| " + " | ".join(r) + " |" for r in [header, ["---"] * len(header), *rows])


CHECK_HEADER = ["size", "model", "fitted", "measured", "model", "error", "model / measured",
                "peak RSS", "model", "error"]  # fmt: skip


def check_rows(
    measured: list[dict[str, Any]], models: dict[str, dict[str, Fit]],
    a: Assumptions, fit_sizes: set[str] | None,
) -> list[list[str]]:  # fmt: skip
    """Each measured world predicted at W = 1: Σ components and peak RSS, model vs
    measured (``fitted``: whether the world was in the fits)."""
    rows = []
    for r in measured:
        if r["recommender"] not in models:
            continue
        fits = models[r["recommender"]]
        world = world_of(r)
        model = rec_model(r["recommender"], r["params"], world, "normal", a.als_rating_bytes)
        parts = {c: f.t0 * (world.work(f.kind) / f.x0) ** f.exponent for c, f in fits.items()}
        step, mem = sum(parts.values()), sum(memory_bytes(model, world, 1, a).values())
        seen = sum(r["median_s"][c] for c in parts)
        ratios = " ".join(f"{c} {parts[c] / max(r['median_s'][c], 1e-9):.2f}" for c in parts)
        fitted = "yes" if fit_sizes is None or r["size"] in fit_sizes else "**no**"
        peak = r["peak_rss_bytes"]
        rows.append([r["size"], r["recommender"], fitted, fmt_s(seen), fmt_s(step),
                     f"{step / seen - 1:+.0%}", ratios, f"{peak / 1e9:.2f} GB",
                     f"{mem / 1e9:.2f} GB", f"{mem / peak - 1:+.0%}"])  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = ap.add_argument
    add("--json-in", required=True, nargs="+", metavar="JSON",
        help="bench_scale.py --json output(s); the first file measuring a world wins")  # fmt: skip
    add("--fit-sizes", help="fit and calibrate on these sizes only (all measured)")
    add("--workers", default="8,64,512", help="W besides 1 (8,64,512)")
    add("--targets", default="1e5,1e6,1e7", help=f"worlds, of {','.join(TARGETS)}")
    add("--alpha", type=float, default=Assumptions.alpha, help="s per log2 W (50e-6)")
    add("--beta", type=float, default=Assumptions.beta, help="B/s per link (1.25e9: 10 GbE)")
    add("--als-item-side", choices=("normal", "cg"), default="normal", help="(normal)")
    add("--block-cells", type=float, help="cap on live step cells per worker (dense)")
    add("--kind", action="append", default=[], metavar="[MODEL.]COMPONENT=KIND",
        help="a component's work instead: user, cell, rating or item")  # fmt: skip
    args = ap.parse_args(argv)
    measured, missing = load(args.json_in)
    fit_sizes = set(args.fit_sizes.split(",")) if args.fit_sizes else None
    results = [r for r in measured if fit_sizes is None or r["size"] in fit_sizes]
    ws = sorted({1, *(int(x) for x in args.workers.split(","))})
    a = calibrate(results, Assumptions(args.alpha, args.beta, block_cells=args.block_cells))
    fit_rows, rows, models = [], [], {}
    for rec in dict.fromkeys(r["recommender"] for r in results):
        mine = [r for r in results if r["recommender"] == rec]
        kinds = dict(rec_model(rec, mine[0]["params"], world_of(mine[0])).work)
        for key, _, kind in (spec.partition("=") for spec in args.kind):
            owner, _, comp = key.rpartition(".")
            kinds.update({comp: kind} if owner in ("", rec) else {})
        fits = {c: fit([(world_of(r).work(k), r["median_s"][c]) for r in mine], k)
                for c, k in kinds.items()}  # fmt: skip
        fit_rows.append([rec, *(f"{f.kind}^{f.exponent:.2f}" for f in fits.values()),
                         ", ".join(r["size"] for r in mine)])  # fmt: skip
        models[rec] = fits
        for name in args.targets.split(","):
            world = TARGETS[name]
            model = rec_model(rec, mine[0]["params"], world, args.als_item_side,
                              a.als_rating_bytes)  # fmt: skip
            one = sum(predict(fits, model, world, 1, a)[:2])
            for w in ws:
                compute, comm, memory = predict(fits, model, world, w, a)
                label = f"{world.users:,} u × {world.items:,} i, {world.online:,} online"
                rows.append([label if w == 1 else "〃", rec, str(w), fmt_s(compute), fmt_s(comm),
                             fmt_s(compute + comm), f"{one / (compute + comm):.1f}×",
                             f"{memory / 1e9:,.1f} GB"])  # fmt: skip
    print(f"Fits (work^exponent, anchored at the largest world fitted) of "
          f"{', '.join(args.json_in)}:\n")  # fmt: skip
    print(table(["model", *COMPONENTS, "fitted on"], fit_rows))
    for r in missing:
        what = r.get("error") or r.get("skipped")
        print(f"\nNot measured: {r['size']} {r['recommender']} ({r['source']}: {what})")
    print(f"\nMeasured: {a.cell_bytes:.1f} B per step cell, {a.base / 1e9:.2f} GB base RSS, "
          f"MF-ALS {a.als_rating_bytes:.1f} B per rating. Assumed: α = {a.alpha * 1e6:g} "
          f"µs·log2 W, β = {a.beta / 1e9:g} GB/s.\n")  # fmt: skip
    print("Measured vs model at W = 1 (Σ of the component medians; peak RSS):\n")
    print(table(CHECK_HEADER, check_rows(measured, models, a, fit_sizes)) + "\n")
    print(
        table(["world", "model", "W", "compute", "comm", "step", "speed-up", "memory/worker"], rows)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
