"""Issue 22, item 3: the loop gives the same numbers before and after a change.

Runs a grid of small simulations (every preset world, several recommenders, policies,
slate sizes, held-out pairs, the shadow-uniform arm) and writes their metrics and logs to
a JSON digest; run it under two checkouts and compare::

    PYTHONPATH=/path/to/old python benchmarks/check_same_numbers.py --out /tmp/old.json
    python benchmarks/check_same_numbers.py --out /tmp/new.json --compare /tmp/old.json

Exit status 1 if any number differs (each difference is printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import numpy as np

#: every preset world but the dataset ones (ML-100K, …: fitted to files, slow to build)
DATASET_WORLDS = ("ml100k-v1", "ml-latest-small-v1", "lastfm-2k-v1")
RUNS = [  # recommender, policy, k, extra simulate arguments
    ("toppop", "greedy", 1, {}),
    ("mf-als", "greedy", 3, {}),
    ("user-knn", "softmax", 2, {}),
    ("toppop", "epsilon-greedy", 1, {}),
    ("mf-als", "greedy", 1, {"heldout": True}),
    ("toppop", "greedy", 1, {"training": "uniform"}),
]
METRICS = ["mean_rating", "regret", "rmse", "distinct_items", "homogenization"]


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def run_all(steps: int) -> dict[str, dict]:
    import recdyn
    from recdyn.environments.presets import environments
    from recdyn.heldout import HeldOut

    out: dict[str, dict] = {}
    for world in sorted(set(environments.names()) - set(DATASET_WORLDS)):
        for rec, policy, k, extra in RUNS:
            kwargs = dict(extra)
            if kwargs.pop("heldout", False):
                kwargs["heldout"] = HeldOut(n_pairs=50, every=5)
            name = f"{world}|{rec}|{policy}|k={k}|{sorted(kwargs)}"
            try:
                env = recdyn.make(world)
                run = recdyn.simulate(
                    env, rec, policy, steps=steps, seed=11, k=k, metrics=METRICS, **kwargs
                )
            except Exception as err:  # recorded: a run that fails must fail the same way
                out[name] = {"error": f"{type(err).__name__}: {err}"[:200]}
                continue
            table = run.metrics.drop(columns=["seconds"])
            out[name] = {
                "metrics": {c: table[c].astype(float).tolist() for c in table.columns},
                "log": digest(np.stack([run.interactions.user, run.interactions.item])),
                "ratings": digest(run.interactions.rating),
            }
            print(name, "ok", file=sys.stderr, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--compare", help="a digest written by the other checkout")
    ap.add_argument("--steps", type=int, default=12)
    args = ap.parse_args()
    got = run_all(args.steps)
    with open(args.out, "w") as f:
        json.dump(got, f)
    if not args.compare:
        return 0
    with open(args.compare) as f:
        expected = json.load(f)
    bad = 0
    for name in sorted(set(got) | set(expected)):
        a, b = expected.get(name), got.get(name)
        if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
            bad += 1
            print(f"DIFFERS {name}\n  before: {str(a)[:300]}\n  after:  {str(b)[:300]}")
    print(f"{len(got)} runs compared, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
