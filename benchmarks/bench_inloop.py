"""In-loop speed of recommenders on ``topics-dynamic-v1``: what one simulated step costs.

``topics-dynamic-v1`` has 1,000 users, 1,700 items, 100,000 initial ratings and 200 online
users per step; each step adds 200 ratings, so step ``t`` holds ``100,000 + 200 t``.

**Early (default).** For each model, ``recdyn.simulate(recdyn.make("topics-dynamic-v1"),
model, steps=N, seed=0, metrics=())`` and the median of ``traj.metrics["seconds"]``: one
step = score the 200 online users + greedy top-1 over their unrated items + environment
step + ``partial_fit`` on the step's 200 ratings (``retrain_every=1``, the thesis
protocol). ``N`` = 30 (``--steps``), 10 for the slow models EASE and SLIM
(``--slow-steps``), so these steps run at 100k–106k ratings. The initial ``fit`` is not
in the per-step figure (it is reported as ``setup s``). Each model first runs 2 untimed
steps on a tiny world so numba's compilation is not counted.

**Late (``--late``).** ``simulate`` has no warm start, so: build the environment
(seed 0), run TopPop for 450 steps by hand (the same loop as ``simulate``) to grow the
log to 190,000 ratings, then for each model deep-copy that environment, ``fit`` the model
on the whole log (timed, ``fit s``) and time ``--late-iters`` (default 5) iterations of
``online_users`` + ``score`` + ``rated_mask`` + ``select`` + ``env.step`` +
``partial_fit`` by hand (median, with the median of each phase).

Models (registered defaults unless given): ``toppop``, ``item-knn`` (``k=250``, RecLab's
neighbourhood size), ``mf-als``, ``mf-sgd``, ``ease``, ``slim``. Randomised models get
the seed ``simulate`` derives (early) or ``seed=0`` (late).

Targets per step: TopPop ≤ 2 ms, ItemKNN ≤ 50 ms, MF (SGD or ALS, warm-started) ≤ 100 ms,
EASE ≤ 0.5 s, SLIM (retrain) ≤ 2 s. RecLab's published figures for reference (not
measured here): ItemKNN 27 s per step, TopPop 1.0 s per step.

Running::

    python benchmarks/bench_inloop.py --late --json /tmp/bench_inloop.json
    python benchmarks/bench_inloop.py --quick            # 5 steps, 3 models (smoke test)
    python benchmarks/bench_inloop.py --models ease --profile   # + cProfile of the steps

A model that is not registered, or fails, is skipped with its reason printed. The exit
status is 0 whether or not targets are met (this is a report, not a test). Per-step times
are wall-clock: run on a quiet machine (the load average is printed).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
import traceback
from typing import Any

import numpy as np
from benchlib import add_threads_option, machine_info, write_json

from recdyn.engine.workers import pin_threads, threads_note

ENV_NAME = "topics-dynamic-v1"
#: model -> hyperparameters (the rest are the registered defaults).
MODELS: dict[str, dict[str, Any]] = {
    "toppop": {},
    "item-knn": {"k": 250},
    "mf-als": {},
    "mf-sgd": {},
    "ease": {},
    "slim": {},
}
SLOW = ("ease", "slim")
QUICK = ("toppop", "item-knn", "mf-sgd")
#: per-step targets, seconds.
TARGETS = {
    "toppop": 2e-3,
    "item-knn": 50e-3,
    "mf-als": 0.1,
    "mf-sgd": 0.1,
    "ease": 0.5,
    "slim": 2.0,
}
#: RecLab's published per-step figures (seconds), not measured here.
RECLAB_PUBLISHED = {"item-knn": 27.0, "toppop": 1.0}
PHASES = ("online_users", "score", "rated_mask", "select", "env_step", "partial_fit")


def registered() -> list[str]:
    from recdyn.recommenders import recommenders

    return recommenders.names()


def build(name: str, seed: int | None = None):
    from recdyn.recommenders import make

    rec = make(name, **MODELS.get(name, {}))
    if seed is not None and rec.get_params().get("seed", 0) is None:
        rec.set_params(seed=seed)
    return rec


def warm_up(name: str) -> None:
    """Two steps on a tiny world: compiles numba kernels outside the timed region."""
    import recdyn

    env = recdyn.make(ENV_NAME, n_users=100, n_items=170, n_initial_ratings=2000, users_per_step=20)
    recdyn.simulate(env, build(name), steps=2, seed=0, metrics=())


# ----------------------------------------------------------------------------- early
def bench_early(name: str, steps: int) -> dict[str, Any]:
    import recdyn

    warm_up(name)
    t = time.perf_counter()
    traj = recdyn.simulate(recdyn.make(ENV_NAME), build(name), steps=steps, seed=0, metrics=())
    wall = time.perf_counter() - t
    sec = [float(x) for x in traj.metrics["seconds"]]
    n = traj.metrics["n_ratings"]
    return {
        "params": repr(traj.recommender),
        "steps": steps,
        "seconds": sec,
        "median_s": statistics.median(sec),
        "first_s": sec[0],
        "max_s": max(sec),
        "setup_s": traj.info["setup_seconds"],
        "wall_s": wall,
        "n_ratings": [int(n.iloc[0]), int(n.iloc[-1])],
    }


# ----------------------------------------------------------------------------- late
def _step(env, rec, policy, rng, times: dict[str, list[float]] | None):
    """One loop iteration as in ``simulate`` (score, select, step, partial_fit)."""
    pc = time.perf_counter
    t0 = pc()
    users = env.online_users()
    t1 = pc()
    scores = rec.score(users)
    t2 = pc()
    rated = env.rated_mask(users)
    t3 = pc()
    sel = policy.select(scores, 1, exclude=rated, rng=rng)
    t4 = pc()
    new = env.step(sel.slates, scores=np.take_along_axis(scores, sel.slates, axis=1))
    t5 = pc()
    rec.partial_fit(new)
    t6 = pc()
    if times is not None:
        for k, a, b in zip(PHASES, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
            times[k].append(b - a)
        times["total"].append(t6 - t0)
    return new


def grow(grow_steps: int, seed: int = 0):
    """The environment after ``grow_steps`` TopPop steps, and everything rated so far."""
    import recdyn
    from recdyn.interactions import Interactions
    from recdyn.policies import make as make_policy
    from recdyn.recommenders import make

    env = recdyn.make(ENV_NAME)
    parts = [env.reset(seed=seed)]
    rec = make("toppop").fit(parts[0], env.n_users, env.n_items)
    policy, rng = make_policy("greedy"), np.random.default_rng(seed)
    for _ in range(grow_steps):
        parts.append(_step(env, rec, policy, rng, None))
    return env, Interactions.concat(parts)


def bench_late(name: str, env, data, iters: int, seed: int = 0) -> dict[str, Any]:
    from recdyn.policies import make as make_policy

    warm_up(name)
    env = copy.deepcopy(env)
    rec = build(name, seed=seed)
    t = time.perf_counter()
    rec.fit(data, env.n_users, env.n_items)
    fit = time.perf_counter() - t
    policy, rng = make_policy("greedy"), np.random.default_rng(seed)
    times: dict[str, list[float]] = {k: [] for k in (*PHASES, "total")}
    for _ in range(iters):
        _step(env, rec, policy, rng, times)
    return {
        "params": repr(rec),
        "n_ratings_at_fit": len(data),
        "fit_s": fit,
        "iters": iters,
        "times": times,
        "median_s": statistics.median(times["total"]),
        "phase_median_s": {k: statistics.median(times[k]) for k in PHASES},
    }


# ----------------------------------------------------------------------------- profile
def profile(name: str, steps: int, top: int = 18) -> str:
    """cProfile of ``steps`` simulated steps (initial fit excluded), by cumulative time."""
    import recdyn

    warm_up(name)
    prof = cProfile.Profile()

    def on_step(t: int, row: dict[str, float]) -> None:
        if t == 1:
            prof.enable()

    recdyn.simulate(
        recdyn.make(ENV_NAME), build(name), steps=steps + 1, seed=0, metrics=(), callback=on_step
    )
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


# ----------------------------------------------------------------------------- report
def _t(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x * 1e3:.2f} ms" if x < 1 else f"{x:.2f} s"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |" for line in lines
    )


def rows_for(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, res in results.items():
        med, target, reclab = res.get("median_s"), TARGETS.get(name), RECLAB_PUBLISHED.get(name)
        rows.append(
            {
                "model": name,
                "median_s": med,
                "target_s": target,
                "ratio_to_target": med / target if med is not None and target else None,
                "met": None if med is None or target is None else med <= target,
                "reclab_published_s": reclab,
                "speedup_vs_reclab": reclab / med if med and reclab else None,
                "skipped": res.get("skipped"),
            }
        )
    return rows


def print_table(title: str, results: dict[str, dict[str, Any]], late: bool) -> None:
    print(f"\n## {title}\n")
    header = ["model", "steps" if not late else "iters", "median s/step", "target", "ratio"]
    header += ["met?", "RecLab (published)", "speed-up vs RecLab"]
    header += ["fit s at 190k" if late else "setup s", "ratings"]
    body = []
    for r in rows_for(results):
        res = results[r["model"]]
        if r["skipped"]:
            detail = (res.get("error") or "").strip().splitlines()
            reason = r["skipped"] + (f": {detail[-1]}" if detail else "")
            body.append([r["model"], "skipped", reason, "", "", "", "", "", "", ""])
            continue
        if late:
            extra = [_t(res["fit_s"]), f"{res['n_ratings_at_fit']:,}"]
        else:
            lo, hi = res["n_ratings"]
            extra = [_t(res["setup_s"]), f"{lo:,}–{hi:,}"]
        body.append(
            [
                r["model"],
                str(res["iters"] if late else res["steps"]),
                _t(r["median_s"]),
                "≤ " + _t(r["target_s"]) if r["target_s"] else "",
                f"{r['ratio_to_target']:.2f}" if r["ratio_to_target"] is not None else "",
                {True: "yes", False: "NO", None: ""}[r["met"]],
                _t(r["reclab_published_s"]),
                f"{r['speedup_vs_reclab']:,.0f}×" if r["speedup_vs_reclab"] else "",
                *extra,
            ]
        )
    print(_table(header, body))
    if late:
        print("\nPhase medians at ~190k ratings:\n")
        body = [
            [name, *[_t(res["phase_median_s"][k]) for k in PHASES]]
            for name, res in results.items()
            if "phase_median_s" in res
        ]
        print(_table(["model", *PHASES], body))


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", help="comma-separated models (default: all six)")
    ap.add_argument("--steps", type=int, default=30, help="simulated steps (default 30)")
    ap.add_argument("--slow-steps", type=int, default=10, help="steps for EASE/SLIM (10)")
    ap.add_argument("--late", action="store_true", help="also time steps at ~190k ratings")
    ap.add_argument("--grow-steps", type=int, default=450, help="TopPop steps before --late")
    ap.add_argument("--late-iters", type=int, default=5, help="timed iterations in --late")
    ap.add_argument("--profile", action="store_true", help="cProfile models missing targets")
    ap.add_argument("--quick", action="store_true", help="5 steps, 3 models (smoke test)")
    ap.add_argument("--json", metavar="PATH", help="also write all raw numbers as JSON")
    add_threads_option(ap)
    args = ap.parse_args(argv)
    pin_threads(args.threads)


    names = args.models.split(",") if args.models else list(QUICK if args.quick else MODELS)
    steps, slow_steps = (5, 5) if args.quick else (args.steps, args.slow_steps)
    available = registered()
    print(f"registered recommenders: {', '.join(available)}", file=sys.stderr)
    load0 = os.getloadavg()

    early: dict[str, dict[str, Any]] = {}
    for name in names:
        if name not in available:
            early[name] = {"skipped": "not registered"}
            print(f"skipping {name}: not registered", file=sys.stderr)
            continue
        n = slow_steps if name in SLOW else steps
        print(f"{name}: {n} simulated steps …", file=sys.stderr, flush=True)
        try:
            early[name] = bench_early(name, n)
        except Exception:
            early[name] = {"skipped": "failed", "error": traceback.format_exc()}
            print(f"skipping {name}: {traceback.format_exc()}", file=sys.stderr)

    late: dict[str, dict[str, Any]] = {}
    grow_info: dict[str, Any] = {}
    if args.late:
        print(f"growing the log: {args.grow_steps} TopPop steps …", file=sys.stderr, flush=True)
        t = time.perf_counter()
        env, data = grow(args.grow_steps)
        grow_info = {"steps": args.grow_steps, "n_ratings": len(data)}
        grow_info["seconds"] = time.perf_counter() - t
        for name in names:
            if "skipped" in early.get(name, {}) and early[name]["skipped"] == "not registered":
                late[name] = {"skipped": "not registered"}
                continue
            print(f"{name}: fit on {len(data):,} ratings + steps …", file=sys.stderr, flush=True)
            try:
                late[name] = bench_late(name, env, data, args.late_iters)
            except Exception:
                late[name] = {"skipped": "failed", "error": traceback.format_exc()}
                print(f"skipping {name} (late): {traceback.format_exc()}", file=sys.stderr)

    profiles: dict[str, str] = {}
    if args.profile:
        for r in rows_for(early):
            if r["met"] is False or (args.models and r["median_s"] is not None):
                n = min(5, slow_steps if r["model"] in SLOW else steps)
                profiles[r["model"]] = profile(r["model"], n)

    load1 = os.getloadavg()
    cpus = os.cpu_count()
    print_table(
        f"In-loop step time, {ENV_NAME}, 200 online users/step, from 100k ratings "
        f"({cpus} CPUs, {threads_note()}; load average {load0[0]:.1f} before, "
        f"{load1[0]:.1f} after)",
        early,
        late=False,
    )
    if args.late:
        print_table(
            f"Late: per-step time after {grow_info['steps']} TopPop steps "
            f"({grow_info['n_ratings']:,} ratings)",
            late,
            late=True,
        )
    for name, text in profiles.items():
        print(f"\ncProfile of {name}, in-loop steps (initial fit excluded), by cumulative time:")
        print(text)

    if args.json:
        result = {
            "machine": machine_info(
                cpu_count=cpus, threads=threads_note(), load_average_before_after=[load0, load1]
            ),
            "environment": ENV_NAME,
            "targets_s": TARGETS,
            "reclab_published_s": RECLAB_PUBLISHED,
            "early": early,
            "early_summary": rows_for(early),
            "grow": grow_info,
            "late": late,
            "late_summary": rows_for(late) if late else None,
            "profiles": profiles,
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
