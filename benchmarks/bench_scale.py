"""How one simulated step scales with the world: 10³ to 10⁶ users on ``topics-dynamic-v1``.

Worlds (``topics-dynamic-v1`` with overrides, scaled as in issue 22; ``WORLDS``): users ×
items, online users per step, initial ratings — 1e3: 10³ × 1.7·10³, 200, 10⁵; 1e4: 10⁴ ×
1.7·10⁴, 2·10³, 10⁶; 1e5: 10⁵ × 2·10⁴, 2·10⁴, 10⁷; 1e6 (``--allow-1e6``): 10⁶ × 5·10⁴,
2·10⁵, 10⁸.

For each world and recommender (``toppop``, ``item-knn``, ``mf-als``, ``ease``; registered
defaults) a **fresh subprocess** runs :func:`recdyn.simulate` itself (greedy policy, ``k=1``,
``retrain_every=1``, the default metrics ``mean_rating``, ``regret``, ``rmse``) with a timer
wrapped around the methods of each component (``TIMED``):

* **env**: ``online_users`` + ``env.step``;
* **score**: ``recommender.score``;
* **policy**: ``rated_items`` (the sparse exclusion of rated items) + ``policy.select``;
* **metrics**: what the metrics need (``truth_of_step``, ``true_ratings``, ``predict``) +
  the metric calls;
* **update**: ``items_added``/``items_changed`` hooks + ``partial_fit``.

"step total" is the loop's own per-step time (``seconds``), so it also holds what no
component owns (the finiteness check, logging). Reset and the initial fit are timed once.
Each figure is the median over ``--steps`` steps after ``--warmup`` untimed ones (numba is
compiled beforehand on a tiny world). Peak memory is the child's ``ru_maxrss`` (after
reset + fit, and at the end), so worlds and models never share a peak. The growth
exponent of each component is the least-squares slope of log(time) against
log(online users × items) over the sizes run (≥ 2 sizes).

EASE is skipped (with a note) where its dense ``n_items × n_items`` float64 matrices
(≈ 4 live at once while it inverts) would exceed ``--mem-budget-gb``; any world whose
rough estimate exceeds the budget is skipped likewise.

Running::

    nice -n 5 python benchmarks/bench_scale.py --sizes 1e3,1e4 --json /tmp/bench_scale.json
    python benchmarks/bench_scale.py --sizes 1e5 --recommenders toppop --steps 3

Exit status 0 whether or not a child fails (its error is printed in the table).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from benchlib import add_threads_option, machine_info, write_json

ENV_NAME = "topics-dynamic-v1"
#: size label -> (n_users, n_items, users_per_step, n_initial_ratings)
WORLDS: dict[str, tuple[int, int, int, int]] = {
    "1e3": (1_000, 1_700, 200, 100_000),
    "1e4": (10_000, 17_000, 2_000, 1_000_000),
    "1e5": (100_000, 20_000, 20_000, 10_000_000),
    "1e6": (1_000_000, 50_000, 200_000, 100_000_000),
}
RECOMMENDERS = ("toppop", "item-knn", "mf-als", "ease")
COMPONENTS = ("env", "score", "policy", "metrics", "update")
GB = 1024**3


#: dense ``items × items`` float64 matrices alive at a recommender's peak (measured at
#: 1.7·10⁴ items: EASE 10.1 GB, ItemKNN 12.7 GB peak RSS).
ITEM_ITEM_COPIES = {"ease": 4.5, "item-knn": 5.5}


def estimate_bytes(size: str, rec: str) -> int:
    """Rough peak: the rated-pairs bits (``users × items / 8``), the initial ratings while
    they are drawn (≈ 80 B each; the logs keep 16 B a row), one block of a step's dense
    arrays (2^26 cells), and the recommender's dense ``items × items`` matrices."""
    n_users, n_items, _, ratings = WORLDS[size]
    est = n_users * n_items / 8 + ratings * 80 + 2**26 * 12
    return int(est + ITEM_ITEM_COPIES.get(rec, 0) * n_items * n_items * 8)


# ----------------------------------------------------------------------------- child
#: What each component of a step times: (object, method) pairs wrapped in the child.
#: ``metrics`` includes what only the metrics need (the truth, predictions).
TIMED = {
    "env": [("env", "online_users"), ("env", "step")],
    "score": [("rec", "score")],
    "policy": [("env", "rated_items"), ("policy", "select")],
    "metrics": [
        ("env", "truth_of_step"),
        ("env", "true_ratings"),
        ("env", "rated_mask"),
        ("rec", "predict"),
        ("metric", "__call__"),
    ],
    "update": [("rec", "partial_fit"), ("rec", "items_added"), ("rec", "items_changed")],
}


def run_child(size: str, rec_name: str, steps: int, warmup: int, seed: int = 0) -> dict:
    """One world × one recommender, in this (fresh) process: :func:`recdyn.simulate`
    itself, with a timer wrapped around each component's methods (on their classes: the
    loop clones the recommender and the metrics)."""
    import recdyn
    from recdyn.metrics.online import OnlineMetric
    from recdyn.policies import GreedyPolicy
    from recdyn.recommenders import make as make_recommender

    n_users, n_items, online, ratings = WORLDS[size]
    # compile numba kernels outside the timed region
    tiny = recdyn.make(
        ENV_NAME, n_users=100, n_items=170, n_initial_ratings=2000, users_per_step=20
    )
    recdyn.simulate(tiny, rec_name, steps=2, seed=0)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    env = recdyn.make(
        ENV_NAME,
        n_users=n_users,
        n_items=n_items,
        users_per_step=online,
        n_initial_ratings=ratings,
    )
    rec = make_recommender(rec_name)
    owners = {"env": type(env), "rec": type(rec), "policy": GreedyPolicy, "metric": OnlineMetric}
    spent = dict.fromkeys(COMPONENTS, 0.0)
    once: dict[str, float] = {}

    def timed(component: str, method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[component] += time.perf_counter() - start

        return wrapper

    def timed_once(name: str, method: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = method(*args, **kwargs)
            once[name] = time.perf_counter() - start
            once[f"rss_{name}"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return out

        return wrapper

    for component, methods in TIMED.items():
        for owner, name in methods:
            cls = owners[owner]
            setattr(cls, name, timed(component, getattr(cls, name)))
    type(env).reset = timed_once("reset", type(env).reset)
    type(rec).fit = timed_once("fit", type(rec).fit)

    times: dict[str, list[float]] = {c: [] for c in (*COMPONENTS, "total")}

    def record(step: int, row: dict) -> None:
        if step > warmup:
            for c in COMPONENTS:
                times[c].append(spent[c])
            times["total"].append(row["seconds"])
        for c in COMPONENTS:
            spent[c] = 0.0

    recdyn.simulate(env, rec, "greedy", steps=warmup + steps, seed=seed, callback=record)
    return {
        "size": size,
        "recommender": rec_name,
        "params": repr(rec),
        "world": dict(zip(("n_users", "n_items", "online", "initial_ratings"), WORLDS[size])),
        "reset_s": once["reset"],
        "fit_s": once["fit"],
        "rss_baseline_bytes": rss0,
        "peak_rss_after_reset_bytes": once["rss_reset"],
        "peak_rss_after_fit_bytes": once["rss_fit"],
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "steps": steps,
        "warmup": warmup,
        "times": times,
        "median_s": {c: statistics.median(v) for c, v in times.items()},
    }


def spawn(size: str, rec: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--_child", f"{size}:{rec}"]
    cmd += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
    t = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.child_timeout)
    except subprocess.TimeoutExpired:
        return {"size": size, "recommender": rec, "error": f"timeout {args.child_timeout} s"}
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return {"size": size, "recommender": rec, "error": tail}
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["child_wall_s"] = time.perf_counter() - t
    return res


# ----------------------------------------------------------------------------- report
def _t(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |" for line in lines
    )


def exponents(results: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per recommender and component: slope of log(median s) on log(online × items)."""
    import numpy as np

    out: dict[str, dict[str, float | None]] = {}
    for rec in dict.fromkeys(r["recommender"] for r in results):
        ok = [r for r in results if r["recommender"] == rec and "median_s" in r]
        x = [math.log(r["world"]["online"] * r["world"]["n_items"]) for r in ok]
        out[rec] = {}
        for c in (*COMPONENTS, "total"):
            y = [math.log(max(r["median_s"][c], 1e-9)) for r in ok]
            out[rec][c] = float(np.polyfit(x, y, 1)[0]) if len(set(x)) >= 2 else None
    return out


def report(results: list[dict[str, Any]], expo: dict[str, dict[str, float | None]]) -> str:
    header = ["world", "model", "reset", "fit", "peak RSS", *COMPONENTS, "step total"]
    body = []
    for r in results:
        w = WORLDS[r["size"]]
        label = f"{w[0]:,} u × {w[1]:,} i, {w[2]:,} online"
        if "median_s" not in r:
            body.append([label, r["recommender"], f"skipped: {r.get('skipped') or r['error']}"])
            body[-1] += [""] * (len(header) - 3)
            continue
        med = r["median_s"]
        peak = f"{r['peak_rss_bytes'] / GB:.2f} GB"
        body.append(
            [label, r["recommender"], _t(r["reset_s"]), _t(r["fit_s"]), peak]
            + [_t(med[c]) for c in (*COMPONENTS, "total")]
        )
    text = _table(header, body)
    rows = [
        [rec, *(f"{v:.2f}" if v is not None else "" for v in e.values())] for rec, e in expo.items()
    ]
    if any(any(v is not None for v in e.values()) for e in expo.values()):
        text += "\n\nGrowth exponent b in time ∝ (online users × items)^b:\n\n"
        text += _table(["model", *COMPONENTS, "step total"], rows)
    return text


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e3,1e4,1e5", help="of 1e3,1e4,1e5,1e6 (1e3,1e4,1e5)")
    ap.add_argument("--recommenders", default=",".join(RECOMMENDERS), help="comma-separated")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per world (3)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first (1)")
    ap.add_argument("--mem-budget-gb", type=float, default=16.0, help="skip above this (16)")
    ap.add_argument("--allow-1e6", action="store_true", help="permit the 10⁶-user world")
    ap.add_argument("--child-timeout", type=float, default=1800.0, help="s per child (1800)")
    ap.add_argument("--json", metavar="PATH", help="also write all raw numbers as JSON")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    add_threads_option(ap)
    args = ap.parse_args(argv)
    from recdyn.engine.workers import pin_threads, threads_note

    pin_threads(args.threads)
    if args._child:
        size, rec = args._child.split(":")
        print(json.dumps(run_child(size, rec, args.steps, args.warmup)))
        return 0

    sizes = [s.strip() for s in args.sizes.split(",")]
    for s in sizes:
        if s not in WORLDS:
            ap.error(f"--sizes: {s!r} is not one of {', '.join(WORLDS)}")
        if s == "1e6" and not args.allow_1e6:
            ap.error("--sizes 1e6 needs --allow-1e6 (≈ 10⁸ ratings; tens of GB)")
    results: list[dict[str, Any]] = []
    for size in sizes:
        for rec in [r.strip() for r in args.recommenders.split(",")]:
            est = estimate_bytes(size, rec)
            if est > args.mem_budget_gb * GB:
                what = "dense item×item matrices" if rec in ITEM_ITEM_COPIES else "world"
                note = f"est. {est / GB:.1f} GB ({what}) > --mem-budget-gb {args.mem_budget_gb:g}"
                results.append({"size": size, "recommender": rec, "skipped": note})
                print(f"{size} {rec}: skipped, {note}", file=sys.stderr)
                continue
            print(f"{size} {rec} …", file=sys.stderr, flush=True)
            results.append(spawn(size, rec, args))
            r = results[-1]
            print(
                f"  {_t(r['median_s']['total']) if 'median_s' in r else r['error']}",
                file=sys.stderr,
                flush=True,
            )
    expo = exponents(results)
    print(f"\n## Scaling on {ENV_NAME} ({threads_note()}, load {os.getloadavg()[0]:.1f})\n")
    print(report(results, expo))
    if args.json:
        meta = machine_info(threads=threads_note(), steps=args.steps, warmup=args.warmup)
        write_json(args.json, {"machine": meta, "results": results, "exponents": expo})
    return 0


if __name__ == "__main__":
    sys.exit(main())
