"""Top-N accuracy under Liang et al.'s strong-generalization protocol (held-out users).

For each dataset and model, :func:`recdyn.evaluation.strong_generalization.
strong_generalization_eval` is run with several split seeds (the model's ``seed`` is the
split seed); the table gives the mean test nDCG@100, Recall@20 and Recall@50 over the
seeds, the mean validation nDCG@100 and the mean fit time. Ratings ≥ 4 are clicks; EASE
is given ``binarize=True``. A model spec is ``name`` or ``name:key=value|key=value``.
Last, for each model name the spec with the best mean validation nDCG@100 is selected
(EASE's λ; Mult-VAE's architecture, the paper's one hidden layer or none) and its test
nDCG@100 given as a share of the selected EASE's.

Running::

    RECDYN_DATA_DIR=../shared/data python benchmarks/bench_topn.py
    python benchmarks/bench_topn.py --datasets ml-100k --heldout 150 --seeds 0,1,2 \\
        --models "ease:lam=400;mult-dae;mult-vae:total_anneal_steps=0" --threads 1
    python benchmarks/bench_topn.py --csv path/to/ml-20m/ratings.csv --heldout 10000

``--json FILE`` also writes the rows as JSON. The exit status is 0 (a report, not a test).
"""

from __future__ import annotations

import argparse
import ast
import json

import numpy as np

DEFAULT_MODELS = (
    "ease:lam=200|binarize=True;ease:lam=400|binarize=True;mult-dae;mult-vae;mult-vae:hidden=0"
)


def parse_model(spec: str) -> tuple[str, dict]:
    """``"ease:lam=400|binarize=True"`` → ``("ease", {"lam": 400, "binarize": True})``."""
    name, _, rest = spec.partition(":")
    params = {}
    for item in filter(None, rest.split("|")):
        key, _, value = item.partition("=")
        params[key.strip()] = ast.literal_eval(value.strip())
    if name == "ease":
        params.setdefault("binarize", True)
    return name.strip(), params


def run(dataset, label: str, models: list[str], heldout: int, seeds: list[int]) -> list[dict]:
    from recdyn.evaluation.strong_generalization import strong_generalization_eval
    from recdyn.recommenders import make, recommenders

    rows = []
    for spec in models:
        name, params = parse_model(spec)
        if name not in recommenders:
            print(f"{spec}: skipped, not registered")
            continue
        results = []
        try:
            for seed in seeds:
                extra = {"seed": seed} if "seed" in recommenders.spec(name).parameters() else {}
                rec = make(name, **{**extra, **params})
                results.append(
                    strong_generalization_eval(
                        rec,
                        dataset.interactions,
                        dataset.n_users,
                        dataset.n_items,
                        n_heldout_users=heldout,
                        seed=seed,
                    )
                )
        except Exception as err:  # a report: show why and go on
            print(f"{spec}: skipped, {type(err).__name__}: {err}")
            continue
        row = {"dataset": label, "model": spec, "seeds": seeds}
        for m in ("ndcg@100", "recall@20", "recall@50"):
            row[m] = float(np.mean([r.metrics[m] for r in results]))
            row[f"{m} per seed"] = [round(r.metrics[m], 4) for r in results]
        row["val ndcg@100"] = float(np.mean([r.validation["ndcg@100"] for r in results]))
        row["fit s"] = float(np.mean([r.fit_seconds for r in results]))
        rows.append(row)
        print(
            f"{label:16s} {spec:40s} nDCG@100 {row['ndcg@100']:.4f}  R@20 {row['recall@20']:.4f}"
            f"  R@50 {row['recall@50']:.4f}  val nDCG@100 {row['val ndcg@100']:.4f}"
            f"  fit {row['fit s']:.1f} s",
            flush=True,
        )
    return rows


def selected_by_validation(rows: list[dict], reference: str = "ease") -> list[dict]:
    """Per dataset and model name, the spec with the best mean validation nDCG@100 (the
    test users play no part in the choice), with its test nDCG@100 as a share of the
    selected ``reference`` model's."""
    best: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["dataset"], parse_model(row["model"])[0])
        if key not in best or row["val ndcg@100"] > best[key]["val ndcg@100"]:
            best[key] = row
    out = []
    for (dataset, name), row in best.items():
        ref = best.get((dataset, reference))
        share = row["ndcg@100"] / ref["ndcg@100"] if ref else float("nan")
        out.append({"dataset": dataset, "name": name, "model": row["model"], "share": share})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="ml-100k,ml-latest-small")
    parser.add_argument("--csv", default=None, help="a MovieLens ratings.csv instead")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="specs separated by ';'")
    parser.add_argument("--heldout", default="150,100", help="test users per dataset")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    from recdyn import datasets
    from recdyn.evaluation.strong_generalization import read_movielens_csv

    models = [m for m in args.models.split(";") if m]
    seeds = [int(s) for s in args.seeds.split(",")]
    heldout = [int(h) for h in args.heldout.split(",")]
    if args.csv:
        sources = [(args.csv, lambda: read_movielens_csv(args.csv))]
    else:
        sources = [(n, lambda n=n: datasets.load(n)) for n in args.datasets.split(",")]
    rows = []
    for k, (label, load) in enumerate(sources):
        rows += run(load(), label, models, heldout[min(k, len(heldout) - 1)], seeds)
    print("\nselected on validation nDCG@100 (test nDCG@100 as a share of EASE's):")
    for sel in selected_by_validation(rows):
        print(f"{sel['dataset']:16s} {sel['name']:10s} {sel['model']:40s} {sel['share']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
