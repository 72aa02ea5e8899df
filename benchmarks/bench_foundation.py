"""Foundation benchmark: recdyn against RecLab 0.1.2, side by side, in one run.

What it measures (``topics-dynamic-v1``: 1000 users, 1700 items, 200 online users per step,
100,000 initial ratings), each quoted as the median over repeats after a warm-up:

* ``reset``          building the environment's initial state and initial ratings;
* ``env step``       one environment step, 200 online users, random top-1 slates
                     (slate generation is outside the timed region);
* ``TopPop loop``    one closed-loop step: recommend (score + greedy top-1 over unrated items)
                     + environment step + model update. recdyn is timed both as the manual
                     loop (``score`` / ``policy.select`` / ``env.step`` / ``partial_fit``) and
                     as ``recdyn.simulate`` total time / steps (with its default per-step
                     metrics, and with ``metrics=()`` for the bare loop; these totals include
                     the reset and the initial fit);
* peak memory of a 500-step recdyn TopPop run (``tracemalloc`` peak of Python/numpy
  allocations and the process's peak RSS) against the number of ratings it holds.

RecLab runs in its own interpreter (it needs ``numpy<1.24``), as a subprocess that executes
the timing snippet embedded below and prints JSON. If no RecLab interpreter is given, the
RecLab column shows the figures published for recdyn's design (marked "published (not
measured here)").

Setting up RecLab (once, outside the repository; CI does not run benchmarks)::

    python3.11 -m venv /tmp/reclab-venv
    /tmp/reclab-venv/bin/pip install "reclab==0.1.2" "numpy<1.24"

(``reclab`` 0.1.2 only requires numpy, pandas and scipy; its heavy ``[recommenders]`` extra --
tensorflow, torch, keras, wpyfm -- is not needed for ``reclab.make`` and ``TopPop``.
numpy 1.23.5 has cp311 wheels.)

Running::

    python benchmarks/bench_foundation.py --reclab-python /tmp/reclab-venv/bin/python
    RECLAB_PYTHON=/tmp/reclab-venv/bin/python python benchmarks/bench_foundation.py --json out.json
    python benchmarks/bench_foundation.py --quick      # fewer repeats, for a smoke test
    python benchmarks/bench_foundation.py --profile    # + cProfile of the recdyn TopPop loop

Targets (recdyn, a 2-core machine): reset <= 0.2 s, env step <= 0.5 ms, TopPop loop step
<= 2 ms. Exit status is 0 whether or not targets are met (this is a report, not a test).
Run it on a quiet machine: the ``simulate`` totals are one sample per 500-step run, so other
processes competing for the cores inflate them; the per-step medians (manual loop, and
``metrics['seconds']`` inside ``simulate``) are robust to that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from typing import Any

from benchlib import machine_info, write_json

ENV_NAME = "topics-dynamic-v1"

#: Published RecLab figures (seconds), used when RecLab is not run here.
PUBLISHED_RECLAB = {"reset": 6.9, "env_step": 16e-3, "toppop_step": 1.0}

#: recdyn targets (seconds).
TARGETS = {"reset": 0.2, "env_step": 0.5e-3, "toppop_step": 2e-3}

# ----------------------------------------------------------------------------- RecLab side
#: Executed by the RecLab interpreter as ``python -c RECLAB_SNIPPET '<json params>'``; prints
#: one line ``RECLAB_JSON {...}`` with raw samples in seconds.
RECLAB_SNIPPET = r"""
import json, platform, sys, time
import numpy as np
p = json.loads(sys.argv[1])
t0 = time.perf_counter()
import reclab
try:
    from reclab.recommenders.top_pop import TopPop
except ImportError:
    from reclab.recommenders import TopPop
out = {"python": platform.python_version(), "numpy": np.__version__,
       "reclab": getattr(reclab, "__version__", None), "import_s": time.perf_counter() - t0}
try:
    from importlib.metadata import version
    out["reclab"] = version("reclab")
except Exception:
    pass
pc = time.perf_counter
env_name = p["env"]

# reset: median of n_reset fresh resets
env = reclab.make(env_name)
resets = []
for r in range(p["n_reset"]):
    env.seed((0, r))
    t = pc(); env.reset(); resets.append(pc() - t)
out["reset"] = resets

# env step with random top-1 slates
rng = np.random.default_rng(0)
n_items = len(env.items)
steps = []
for s in range(p["warmup_step"] + p["n_step"]):
    n_online = len(env.online_users)
    recs = rng.integers(0, n_items, size=(n_online, 1))
    t = pc(); env.step(recs); dt = pc() - t
    if s >= p["warmup_step"]:
        steps.append(dt)
out["env_step"] = steps
out["n_online"] = n_online
out["n_items"] = n_items

# TopPop closed loop: recommend + env step + update
env = reclab.make(env_name)
env.seed((0, 0))
users, items, ratings = env.reset()
rec = TopPop()
t = pc(); rec.reset(users, items, ratings); out["toppop_fit"] = [pc() - t]
loop, phases = [], {"recommend": [], "env_step": [], "update": []}
for s in range(p["warmup_loop"] + p["n_loop"]):
    t = pc()
    recs, _ = rec.recommend(env.online_users, num_recommendations=1)
    t1 = pc()
    new_users, new_items, new_ratings, _ = env.step(np.asarray(recs, dtype=int).reshape(-1, 1))
    t2 = pc()
    rec.update(new_users, new_items, new_ratings)
    t3 = pc()
    if s >= p["warmup_loop"]:
        loop.append(t3 - t)
        phases["recommend"].append(t1 - t)
        phases["env_step"].append(t2 - t1)
        phases["update"].append(t3 - t2)
out["toppop_step"] = loop
out["toppop_phases"] = phases
print("RECLAB_JSON " + json.dumps(out))
"""


def run_reclab(python: str, quick: bool, timeout: float) -> dict[str, Any]:
    params = {
        "env": ENV_NAME,
        "n_reset": 2 if quick else 3,
        "warmup_step": 2,
        "n_step": 10 if quick else 20,
        "warmup_loop": 1,
        "n_loop": 2 if quick else 5,
    }
    t = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", RECLAB_SNIPPET, json.dumps(params)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - t
    for line in proc.stdout.splitlines():
        if line.startswith("RECLAB_JSON "):
            out = json.loads(line[len("RECLAB_JSON ") :])
            out["wall_s"] = wall
            out["params"] = params
            return out
    raise RuntimeError(
        f"RecLab run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}{proc.stdout[-1000:]}"
    )


# ----------------------------------------------------------------------------- recdyn side
def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def bench_recdyn_env(quick: bool) -> dict[str, Any]:
    import numpy as np

    import recdyn

    pc = time.perf_counter
    out: dict[str, Any] = {}
    env = recdyn.make(ENV_NAME)
    env.reset(seed=0)  # warm-up (imports, caches)
    resets = []
    for r in range(3 if quick else 7):
        t = pc()
        env.reset(seed=r)
        resets.append(pc() - t)
    out["reset"] = resets

    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps = []
    n_warm, n = 5, (50 if quick else 300)
    for s in range(n_warm + n):
        n_online = len(env.online_users())
        slates = rng.integers(0, env.n_items, size=(n_online, 1))
        t = pc()
        env.step(slates)
        dt = pc() - t
        if s >= n_warm:
            steps.append(dt)
    out["env_step"] = steps
    out["n_online"] = n_online
    out["n_items"] = env.n_items
    return out


def _toppop_loop(env: Any, n_warm: int, n: int, seed: int = 0) -> dict[str, Any]:
    """The manual closed loop; returns per-step totals and per-phase samples."""
    import numpy as np

    import recdyn.policies
    import recdyn.recommenders

    pc = time.perf_counter
    data = env.reset(seed=seed)
    rec = recdyn.recommenders.make("toppop")
    t = pc()
    rec.fit(data, env.n_users, env.n_items)
    fit = pc() - t
    policy = recdyn.policies.make("greedy")
    rng = np.random.default_rng(seed)
    names = ("online_users", "score", "rated_mask", "select", "env_step", "partial_fit")
    phases: dict[str, list[float]] = {k: [] for k in names}
    totals = []
    for s in range(n_warm + n):
        t0 = pc()
        users = env.online_users()
        t1 = pc()
        scores = rec.score(users)
        t2 = pc()
        exclude = env.rated_mask(users)
        t3 = pc()
        sel = policy.select(scores, k=1, exclude=exclude, rng=rng)
        t4 = pc()
        new = env.step(sel.slates)
        t5 = pc()
        rec.partial_fit(new)
        t6 = pc()
        if s >= n_warm:
            totals.append(t6 - t0)
            for k, a, b in zip(names, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
                phases[k].append(b - a)
    return {"toppop_step": totals, "toppop_phases": phases, "toppop_fit": [fit]}


def bench_recdyn_toppop(quick: bool) -> dict[str, Any]:
    import recdyn

    env = recdyn.make(ENV_NAME)
    _toppop_loop(env, 5, 20)  # warm-up
    return _toppop_loop(env, 10, 100 if quick else 490)


def bench_recdyn_simulate(quick: bool, steps: int) -> dict[str, Any]:
    import recdyn

    pc = time.perf_counter
    out: dict[str, Any] = {"simulate_steps": steps}
    env = recdyn.make(ENV_NAME)
    recdyn.simulate(env, "toppop", policy="greedy", steps=20, seed=0)  # warm-up
    reps = 2 if quick else 5
    for key, kwargs in (("simulate_step", {}), ("simulate_bare_step", {"metrics": ()})):
        per_step, in_loop = [], []
        for r in range(reps):
            t = pc()
            traj = recdyn.simulate(env, "toppop", policy="greedy", steps=steps, seed=r, **kwargs)
            per_step.append((pc() - t) / steps)
            if "seconds" in getattr(traj.metrics, "columns", ()):
                in_loop.extend(float(x) for x in traj.metrics["seconds"])
        out[key] = per_step  # total (reset + fit + loop) / steps, one sample per run
        if in_loop:  # simulate's own per-step timing (excludes reset and initial fit)
            out[key + "_in_loop"] = in_loop
        if key == "simulate_step":
            out["simulate_metric_columns"] = [str(c) for c in getattr(traj.metrics, "columns", [])]
    return out


def profile_recdyn_toppop(n: int = 300, top: int = 25) -> str:
    import cProfile
    import io
    import pstats

    import recdyn

    env = recdyn.make(ENV_NAME)
    _toppop_loop(env, 5, 20)
    prof = cProfile.Profile()
    prof.enable()
    _toppop_loop(env, 0, n)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# ----------------------------------------------------------------------------- memory (child)
def _proc_status_bytes(field: str) -> int | None:
    """``VmHWM`` / ``VmRSS`` of this process from /proc (Linux), in bytes."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def memory_child(steps: int) -> None:
    """Run in a fresh interpreter: peak memory of one ``steps``-step TopPop ``simulate``.

    The peak RSS is read from /proc/self/status ``VmHWM`` where available: on Linux
    ``ru_maxrss`` survives ``exec`` and would report the parent benchmark's peak.
    """
    import resource
    import tracemalloc

    import numpy as np

    import recdyn

    env = recdyn.make(ENV_NAME)
    recdyn.simulate(env, "toppop", policy="greedy", steps=2, seed=0)  # import everything lazy
    rss_before = _proc_status_bytes("VmRSS")
    tracemalloc.start()
    traj = recdyn.simulate(env, "toppop", policy="greedy", steps=steps, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = _proc_status_bytes("VmHWM")
    if hwm is None:  # ru_maxrss: bytes on macOS, KiB elsewhere
        scale = 1 if sys.platform == "darwin" else 1024
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    inter = traj.interactions
    cols = [getattr(inter, c, None) for c in ("user", "item", "rating", "step", "propensity")]
    held_bytes = int(sum(c.nbytes for c in cols if isinstance(c, np.ndarray)))
    print(
        "MEMORY_JSON "
        + json.dumps(
            {
                "steps": steps,
                "n_ratings": len(inter),
                "interactions_bytes": held_bytes,
                "tracemalloc_peak_bytes": int(peak),
                "rss_peak_bytes": int(hwm),
                "rss_before_run_bytes": rss_before,
            }
        )
    )


def bench_recdyn_memory(steps: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-child", str(steps)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("MEMORY_JSON "):
            return json.loads(line[len("MEMORY_JSON ") :])
    raise RuntimeError(f"memory run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


# ----------------------------------------------------------------------------- report
def _fmt_time(s: float | None) -> str:
    if s is None:
        return "n/a"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def _fmt_bytes(b: float) -> str:
    return f"{b / 2**20:.1f} MiB"


def build_rows(rd: dict[str, Any], rl: dict[str, Any] | None) -> list[dict[str, Any]]:
    reclab_label = "measured" if rl is not None and "reset" in rl else "published"

    def reclab_value(key: str) -> float | None:
        if rl is not None and key in rl:
            return _median(rl[key])
        if rl is None or "reset" not in rl:
            return PUBLISHED_RECLAB.get(key)
        return None

    spec = [
        ("reset", "reset", "reset", "reset"),
        ("env step (200 users, random top-1)", "env_step", "env_step", "env_step"),
        ("TopPop loop step (manual)", "toppop_step", "toppop_step", "toppop_step"),
        ("TopPop loop step (simulate / steps)", "simulate_step", "toppop_step", "toppop_step"),
        (
            "TopPop loop step (simulate, metrics=())",
            "simulate_bare_step",
            "toppop_step",
            "toppop_step",
        ),
        (
            "  per step inside simulate (metrics['seconds'])",
            "simulate_step_in_loop",
            "toppop_step",
            "toppop_step",
        ),
        ("  same, metrics=()", "simulate_bare_step_in_loop", "toppop_step", "toppop_step"),
        ("TopPop initial fit", "toppop_fit", "toppop_fit", None),
    ]
    rows = []
    for label, rd_key, rl_key, target_key in spec:
        ours = _median(rd[rd_key]) if rd.get(rd_key) else None
        theirs = reclab_value(rl_key)
        target = TARGETS.get(target_key) if target_key else None
        rows.append(
            {
                "operation": label,
                "recdyn_s": ours,
                "reclab_s": theirs,
                "reclab_source": reclab_label if theirs is not None else None,
                "speedup": (theirs / ours) if ours and theirs else None,
                "target_s": target,
                "met": (ours <= target) if (ours is not None and target is not None) else None,
                "recdyn_error": rd.get(f"error_{rd_key}"),
            }
        )
    return rows


def print_report(rows, rd, rl, mem, profile_text) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain fallback
        Console = Table = None

    src = rows[0]["reclab_source"]
    rl_head = "RecLab (published, not measured here)" if src == "published" else "RecLab median"
    header = ["operation", "recdyn median", rl_head, "speed-up", "target", "met?"]
    body = []
    for r in rows:
        ours = (
            _fmt_time(r["recdyn_s"])
            if r["recdyn_s"] is not None
            else ("error" if r["recdyn_error"] else "n/a")
        )
        body.append(
            [
                r["operation"],
                ours,
                _fmt_time(r["reclab_s"]),
                f"{r['speedup']:,.0f}×" if r["speedup"] else "",
                f"≤ {_fmt_time(r['target_s'])}" if r["target_s"] else "",
                {True: "yes", False: "NO", None: ""}[r["met"]],
            ]
        )
    title = f"recdyn vs RecLab 0.1.2 — {ENV_NAME} ({os.cpu_count()} CPUs, medians)"
    if Table is not None:
        table = Table(title=title)
        for h in header:
            table.add_column(h, justify="left" if h == "operation" else "right")
        for b in body:
            table.add_row(*b)
        # wide enough for one line per row even when piped (rich defaults to 80 columns)
        Console(width=None if sys.stdout.isatty() else 130).print(table)
    else:
        print(title)
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        for line in [header, ["-" * w for w in widths], *body]:
            print(
                "  ".join(
                    str(x).rjust(w) if i else str(x).ljust(w)
                    for i, (x, w) in enumerate(zip(line, widths))
                )
            )

    # phase breakdowns
    for name, d in (("recdyn", rd), ("RecLab", rl or {})):
        ph = d.get("toppop_phases")
        if ph:
            tot = sum(_median(v) for v in ph.values())
            parts = ", ".join(
                f"{k} {_fmt_time(_median(v))} ({_median(v) / tot:.0%})" for k, v in ph.items()
            )
            print(f"{name} TopPop loop phases (medians): {parts}")
    if mem:
        print(
            f"recdyn memory, {mem['steps']}-step TopPop simulate: {mem['n_ratings']:,} ratings "
            f"held ({_fmt_bytes(mem['interactions_bytes'])} of columns, "
            f"{mem['interactions_bytes'] / max(mem['n_ratings'], 1):.0f} B/rating); tracemalloc "
            f"peak {_fmt_bytes(mem['tracemalloc_peak_bytes'])} "
            f"({mem['tracemalloc_peak_bytes'] / max(mem['n_ratings'], 1):.0f} B/rating); "
            f"process peak RSS {_fmt_bytes(mem['rss_peak_bytes'])}"
            + (
                f" (RSS before the run, after imports: {_fmt_bytes(mem['rss_before_run_bytes'])})"
                if mem.get("rss_before_run_bytes")
                else ""
            )
        )
    if rl and "wall_s" in rl:
        print(
            f"RecLab subprocess wall time: {rl['wall_s']:.1f} s "
            f"(python {rl.get('python')}, numpy {rl.get('numpy')}, reclab {rl.get('reclab')})"
        )
    for k, v in rd.items():
        if k.startswith("error_"):
            print(f"recdyn {k[6:]} not measured: {v.strip().splitlines()[-1]}")
    if profile_text:
        print("\ncProfile of the recdyn manual TopPop loop (sorted by tottime):")
        print(profile_text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--reclab-python",
        default=os.environ.get("RECLAB_PYTHON"),
        help="interpreter with reclab==0.1.2 installed (default: $RECLAB_PYTHON; "
        "without it the RecLab column shows published figures)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write all results (raw samples) as JSON")
    ap.add_argument("--quick", action="store_true", help="fewer repeats (smoke test)")
    ap.add_argument(
        "--steps",
        type=int,
        default=500,
        help="steps of the simulate timing and memory runs (default 500)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="print a cProfile of the recdyn manual TopPop loop"
    )
    ap.add_argument("--reclab-timeout", type=float, default=300.0)
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_child is not None:
        memory_child(args.memory_child)
        return 0

    rd: dict[str, Any] = {}
    benches = [
        ("reset", lambda: bench_recdyn_env(args.quick)),
        ("toppop_step", lambda: bench_recdyn_toppop(args.quick)),
        ("simulate_step", lambda: bench_recdyn_simulate(args.quick, args.steps)),
    ]
    for key, fn in benches:
        try:
            rd.update(fn())
        except Exception:  # an API piece not there yet: report, keep going
            rd[f"error_{key}"] = traceback.format_exc()
            if key == "simulate_step":
                rd["error_simulate_bare_step"] = rd[f"error_{key}"]
    mem = None
    try:
        mem = bench_recdyn_memory(args.steps)
    except Exception:
        rd["error_memory"] = traceback.format_exc()
    profile_text = None
    if args.profile:
        try:
            profile_text = profile_recdyn_toppop()
        except Exception:
            rd["error_profile"] = traceback.format_exc()

    rl: dict[str, Any] | None = None
    if args.reclab_python:
        print(f"running RecLab via {args.reclab_python} (about a minute) ...", file=sys.stderr)
        try:
            rl = run_reclab(args.reclab_python, args.quick, args.reclab_timeout)
        except Exception as e:
            print(f"RecLab run failed, showing published figures instead: {e}", file=sys.stderr)
            rl = {"error": str(e)}
    else:
        print(
            "RecLab not run (no --reclab-python / $RECLAB_PYTHON): the RecLab column shows "
            "published figures, not measured here.",
            file=sys.stderr,
        )

    rows = build_rows(rd, rl)
    print_report(rows, rd, rl, mem, profile_text)

    if args.json:
        result = {
            "env": ENV_NAME,
            "machine": machine_info(),
            "targets_s": TARGETS,
            "published_reclab_s": PUBLISHED_RECLAB,
            "rows": rows,
            "memory": mem,
            "recdyn_raw": rd,
            "reclab_raw": rl,
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
