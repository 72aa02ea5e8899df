"""``mf-als``'s ``partial_fit`` at scale: incremental rows vs the full rebuild (issue 22).

Builds ``topics-dynamic-v1`` at one of the sizes of ``bench_scale.py`` (default 10⁵ users
× 2·10⁴ items, 2·10⁴ online users per step, 10⁷ initial ratings), fits ``mf-als``
(registered defaults; ``--fit-iters`` shortens the fit, which does not change what a
``partial_fit`` costs), then feeds it ``--steps`` batches of one rating per online user
(``env.step`` with random one-item slates, so some pairs are re-ratings) and times each
``partial_fit``, split into the numba sweep (``_cg_rows``, every call timed) and the rest
(keeping the rows and weights up to date). The first ``partial_fit`` is a warm-up.

``--check`` also runs the full rebuild (the rows rebuilt from the whole log before each
``partial_fit``, as before issue 22) from the same fitted state, times it the same way
and checks that factors, biases and global mean are bit-identical.

Running::

    nice -n 5 python benchmarks/bench_mf_als_scale.py --check --json /tmp/mf_als_1e5.json
    python benchmarks/bench_mf_als_scale.py --size 1e4 --check
"""

from __future__ import annotations

import argparse
import copy
import resource
import statistics
import sys
import time
from typing import Any

from benchlib import machine_info, write_json

ENV_NAME = "topics-dynamic-v1"
#: size label -> (n_users, n_items, users_per_step, n_initial_ratings), as bench_scale.py
WORLDS: dict[str, tuple[int, int, int, int]] = {
    "1e3": (1_000, 1_700, 200, 100_000),
    "1e4": (10_000, 17_000, 2_000, 1_000_000),
    "1e5": (100_000, 20_000, 20_000, 10_000_000),
}


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1024**3


def _partial_fits(rec: Any, batches: list, rebuild: bool, sweep_s: list) -> list[dict]:
    """Time ``rec.partial_fit`` on each batch (``rebuild``: drop the rows first)."""
    out = []
    for new in batches:
        if rebuild:
            rec._rows = None
        sweep_s.clear()
        t = time.perf_counter()
        rec.partial_fit(new)
        total = time.perf_counter() - t
        out.append({"total_s": total, "sweep_s": sum(sweep_s), "rest_s": total - sum(sweep_s)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1e5", choices=sorted(WORLDS), help="world (1e5)")
    ap.add_argument("--steps", type=int, default=3, help="timed partial_fits (3)")
    ap.add_argument("--fit-iters", type=int, help="n_iter of the fit (model default: 15)")
    ap.add_argument("--check", action="store_true", help="also run the full rebuild, compare")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = ap.parse_args()

    import numpy as np

    import recdyn
    from recdyn.recommenders import make, mf_als

    n_users, n_items, online, n_ratings = WORLDS[args.size]
    params = {} if args.fit_iters is None else {"n_iter": args.fit_iters}

    # compile the kernels outside the timings
    tiny = recdyn.make(ENV_NAME, n_users=100, n_items=170, n_initial_ratings=2000)
    tiny_rec = make("mf-als", seed=0).fit(tiny.reset(seed=0), 100, 170)
    tiny_rec.partial_fit(tiny.step(np.zeros((len(tiny.online_users()), 1), int)))

    sweep_s: list[float] = []
    kernel = mf_als._cg_rows

    def timed_kernel(*a: Any) -> None:
        t = time.perf_counter()
        kernel(*a)
        sweep_s.append(time.perf_counter() - t)

    mf_als._cg_rows = timed_kernel  # _sweep looks the kernel up at every call

    env = recdyn.make(
        ENV_NAME, n_users=n_users, n_items=n_items, users_per_step=online,
        n_initial_ratings=n_ratings,
    )  # fmt: skip
    t = time.perf_counter()
    initial = env.reset(seed=args.seed)
    reset_s = time.perf_counter() - t
    rng = np.random.default_rng(args.seed)
    batches = []
    for _ in range(args.steps + 1):
        slates = rng.integers(0, env.n_items, size=(len(env.online_users()), 1))
        batches.append(env.step(slates))
    rec = make("mf-als", seed=args.seed, **params)
    t = time.perf_counter()
    rec.fit(initial, env.n_users, env.n_items)
    fit_s = time.perf_counter() - t
    rss_fit = _rss_gb()
    del initial
    ref = copy.deepcopy(rec) if args.check else None

    runs = {"incremental": _partial_fits(rec, batches, False, sweep_s)}
    rss_end = _rss_gb()
    if ref is not None:
        runs["full rebuild"] = _partial_fits(ref, batches, True, sweep_s)
        same = {
            name: bool(np.array_equal(getattr(rec, name), getattr(ref, name)))
            for name in ("user_factors_", "item_factors_", "user_bias_", "item_bias_")
        }
        same["global_mean_"] = rec.global_mean_ == ref.global_mean_
    result = {
        "machine": machine_info(),
        "world": dict(zip(("n_users", "n_items", "online", "initial_ratings"), WORLDS[args.size])),
        "params": repr(rec),
        "reset_s": reset_s,
        "fit_s": fit_s,
        "peak_rss_after_fit_gb": rss_fit,
        "peak_rss_after_partial_fits_gb": rss_end,
        "runs": runs,
        "median_after_warmup": {
            name: {
                part: statistics.median(step[part] for step in steps[1:])
                for part in ("total_s", "sweep_s", "rest_s")
            }
            for name, steps in runs.items()
        },
        "bit_identical": same if ref is not None else None,
    }
    w = result["world"]
    print(
        f"{w['n_users']:,} users × {w['n_items']:,} items, {len(batches[0]):,} ratings per "
        f"step: reset {reset_s:.2f} s, fit {fit_s:.1f} s, peak RSS {rss_fit:.2f} GB after "
        f"fit, {rss_end:.2f} GB after the partial fits"
    )
    for name, med in result["median_after_warmup"].items():
        print(
            f"partial_fit ({name}), median of {args.steps}: {med['total_s']:.3f} s "
            f"= sweep {med['sweep_s']:.3f} s + rest {med['rest_s']:.3f} s"
        )
    if ref is not None:
        print("bit-identical to the full rebuild:", same)
    if args.json:
        write_json(args.json, result)
    if ref is not None and not all(same.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
