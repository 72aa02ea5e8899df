"""Recommender accuracy benchmark: recdyn against scikit-surprise and myfm, side by side.

Part 1 — rating prediction on the official MovieLens-100K folds ``u1..u5``
-------------------------------------------------------------------------
Each rating model is fitted on ``uK.base`` (80,000 ratings) and predicts ``uK.test``
(20,000 ratings); RMSE and MAE are over all test pairs, ``mean RMSE`` is the mean over
folds (the thesis's offline protocol, ch. 2), ``fit s`` the median fit time over folds.
Before timing, each recdyn model is fitted once on 5,000 ratings (not timed) so numba's
compilation is not counted. Models and their peers:

============  ======================================================  ===========================
recdyn        hyperparameters (others: the registered defaults)         peer (its defaults)
============  ======================================================  ===========================
baseline      —                                                         Surprise ``BaselineOnly``
item-knn      ``similarity="pearson_baseline", centering="baseline"``   Surprise ``KNNBaseline``
                                                                        (item, pearson_baseline)
user-knn      same                                                      Surprise ``KNNBaseline``
                                                                        (user, pearson_baseline)
mf-sgd        —                                                         Surprise ``SVD``
mf-als        —                                                         Surprise ``SVD``
bayes-mf      —                                                         myfm ``MyFMRegressor`` rank
                                                                        10, 200 Gibbs iterations,
                                                                        195 kept, user/item groups
============  ======================================================  ===========================

Models with randomness get ``seed=0``; Surprise's ``SVD`` gets ``random_state=0``, myfm
``random_seed=0``. Targets (mean RMSE): Baseline ≤ 0.945, MF-SGD ≤ 0.935, ItemKNN
(baseline-centred, pearson_baseline) ≤ 0.925, Bayesian MF ≤ 0.90 — each also fitting no
slower than its peer (``speed ratio`` = recdyn fit s / peer fit s, ≤ 1 is met).

Part 2 — top-N ranking on MovieLens-100K (protocol)
---------------------------------------------------
1. Data: all 100,000 ratings of ``recdyn.datasets.load("ml-100k")`` (943 users, 1,682 items).
2. Split: for every user, a uniformly random ``floor(0.2 · n_u)`` of their ratings is held
   out as test (random keys from ``numpy.random.default_rng(0)``, the ``--topn-seed``);
   the other ~80% is the training set (Liang et al. 2018 hold out 20% per user the same
   way; every ML-100K user has ≥ 20 ratings, so ≥ 4 are held out).
3. Positives: held-out ratings ≥ 4 (binary relevance). Users without a positive are left
   out of the averages (their count is reported).
4. Training: every model is fitted on all training ratings (1–5); EASE and SLIM get
   ``binarize=True`` (every training rating → 1, implicit feedback). EASE uses
   λ = 500, Steck's order of magnitude for binary data (RecBole's ML-1M optimum is
   250–1000) — not tuned here, there is no validation split; the registered default
   (λ = 5000, the thesis's value for raw ratings) is shown as a second row. SLIM keeps
   its registered (RecLab/scikit-learn) defaults. The others keep their rating-prediction
   hyperparameters of part 1 (ItemKNN: pearson_baseline, baseline-centred; MF-SGD:
   registered defaults, seed 0). Two references: recdyn's
   ``toppop`` (RecLab's TopPop: the item's shrunk *mean rating*) and ``most-rated``
   (the item's number of training ratings, the "Pop" of top-N papers, computed in this
   script).
   (:mod:`recdyn.evaluation.splits` holds out whole users or a global fraction of pairs,
   not a fraction of every user's ratings, so this split is done in the script.)
5. Ranking: ``score(users)`` over the whole catalogue; the user's training items are
   excluded (ranked last); held-out items rated < 4 stay in the ranking as negatives.
6. Metrics (``recdyn.metrics.offline``): nDCG@10 (binary gains, IDCG with
   ``min(10, |I_u|)`` hits) and Recall@20 ``= hits / min(20, |I_u|)`` (Liang et al. 2018's
   truncated recall), per user then averaged; tied scores count at their expected value
   under a random order (McSherry & Najork 2008), never broken by item id.

Setting up scikit-surprise (once, outside the repository; CI does not run benchmarks)::

    python3.11 -m venv /tmp/surprise-venv
    /tmp/surprise-venv/bin/pip install scikit-surprise==1.1.5

(1.1.5 ships cp311 manylinux wheels built against numpy 2: it installs and runs with
numpy 2.4.6 — no ``numpy<2`` pin and no build needed.) myfm runs in recdyn's own
environment (the ``bayes`` extra).

Running::

    RECDYN_DATA_DIR=../shared/data python benchmarks/bench_recommenders.py \\
        --surprise-python /tmp/surprise-venv/bin/python --json /tmp/bench_recommenders.json
    python benchmarks/bench_recommenders.py --quick     # 1 fold, fewer models (smoke test)

Without ``--surprise-python`` (or ``$SURPRISE_PYTHON``) the Surprise peers are left out.
A model that is not registered, or fails, is skipped with its reason printed. The exit
status is 0 whether or not targets are met (this is a report, not a test).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import add_threads_option, machine_info, write_json

from recdyn.engine.workers import pin_threads, threads_note

KNN_PB = {"similarity": "pearson_baseline", "centering": "baseline"}

#: recdyn rating models: name -> hyperparameters (the rest are the registered defaults).
RATING_MODELS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "item-knn": KNN_PB,
    "user-knn": KNN_PB,
    "mf-sgd": {},
    "mf-als": {},
    "bayes-mf": {},
}
#: the peer each recdyn model is compared with.
PEER_OF = {
    "baseline": "surprise BaselineOnly",
    "item-knn": "surprise KNNBaseline item pb",
    "user-knn": "surprise KNNBaseline user pb",
    "mf-sgd": "surprise SVD",
    "mf-als": "surprise SVD",
    "bayes-mf": "myfm rank 10",
}
#: mean-RMSE targets.
TARGETS = {"baseline": 0.945, "mf-sgd": 0.935, "item-knn": 0.925, "bayes-mf": 0.90}
#: top-N rows: label -> (registered name, hyperparameters; the rest are the defaults).
TOPN_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "ease": ("ease", {"binarize": True, "lam": 500.0}),
    "ease (default lam)": ("ease", {"binarize": True}),
    "slim": ("slim", {"binarize": True}),
    "item-knn": ("item-knn", KNN_PB),
    "mf-sgd": ("mf-sgd", {}),
    "toppop": ("toppop", {}),
}
MOST_RATED = "most-rated (script)"
QUICK_RATING = ("baseline", "item-knn", "mf-sgd")
QUICK_TOPN = ("ease", "mf-sgd", "toppop")
MYFM = {"rank": 10, "n_iter": 200, "n_kept_samples": 195}

# ----------------------------------------------------------------------------- Surprise side
#: Run by the Surprise interpreter as ``python -c SURPRISE_SNIPPET '<json params>'``; prints
#: one line ``SURPRISE_JSON {...}``. Reads the same ``uK.base`` / ``uK.test`` files.
SURPRISE_SNIPPET = r"""
import json, platform, sys, time, traceback
import numpy as np
p = json.loads(sys.argv[1])
import surprise
from surprise import SVD, BaselineOnly, Dataset, KNNBaseline, Reader, accuracy
from surprise.model_selection import PredefinedKFold

def make(name):
    if name == "surprise BaselineOnly":
        return BaselineOnly(verbose=False)
    if name == "surprise SVD":
        return SVD(random_state=0)
    if name.startswith("surprise KNNBaseline"):
        user_based = " user " in name
        sim = {"name": "pearson_baseline", "user_based": user_based}
        return KNNBaseline(sim_options=sim, verbose=False)
    raise ValueError(name)

reader = Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
out = {"python": platform.python_version(), "numpy": np.__version__,
       "surprise": surprise.__version__, "models": {}}
for name in p["models"]:
    rec = {"folds": [], "rmse": [], "mae": [], "fit_s": [], "predict_s": []}
    try:
        for k in p["folds"]:
            files = [(f"{p['dir']}/u{k}.base", f"{p['dir']}/u{k}.test")]
            data = Dataset.load_from_folds(files, reader)
            trainset, testset = next(PredefinedKFold().split(data))
            algo = make(name)
            t = time.perf_counter(); algo.fit(trainset); fit = time.perf_counter() - t
            t = time.perf_counter(); preds = algo.test(testset); pred = time.perf_counter() - t
            rec["folds"].append(k)
            rec["rmse"].append(accuracy.rmse(preds, verbose=False))
            rec["mae"].append(accuracy.mae(preds, verbose=False))
            rec["fit_s"].append(fit)
            rec["predict_s"].append(pred)
    except Exception:
        rec["error"] = traceback.format_exc()
    out["models"][name] = rec
print("SURPRISE_JSON " + json.dumps(out))
"""


def run_surprise(
    python: str, names: list[str], folds: list[int], folder: Path, timeout: float
) -> dict[str, Any]:
    params = {"models": names, "folds": folds, "dir": str(folder)}
    t = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", SURPRISE_SNIPPET, json.dumps(params)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("SURPRISE_JSON "):
            out = json.loads(line[len("SURPRISE_JSON ") :])
            out["wall_s"] = time.perf_counter() - t
            return out
    raise RuntimeError(
        f"Surprise run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}{proc.stdout[-500:]}"
    )


# ----------------------------------------------------------------------------- recdyn side
def registered() -> list[str]:
    from recdyn.recommenders import recommenders

    return recommenders.names()


def build(name: str, params: dict[str, Any]):
    """The registered model with ``params``; ``seed=0`` where it has an unset seed."""
    from recdyn.recommenders import make

    rec = make(name, **params)
    if rec.get_params().get("seed", 0) is None:
        rec.set_params(seed=0)
    return rec


def bench_rating_model(
    name: str, params: dict[str, Any], folds: list, fold_ids: list[int], n_users: int, n_items: int
) -> dict[str, Any]:
    from recdyn.metrics.offline import mae, rmse

    proto = build(name, params)
    if not proto.predicts_ratings:
        raise RuntimeError(f"{name} does not predict ratings (predicts_ratings=False)")
    warm = folds[0][0]
    proto.clone().fit(warm.select(np.arange(len(warm)) < 5000), n_users, n_items)
    out: dict[str, Any] = {"params": repr(proto), "folds": [], "rmse": [], "mae": []}
    out.update({"fit_s": [], "predict_s": []})
    for k in fold_ids:
        train, test = folds[k - 1]
        rec = proto.clone()
        t = time.perf_counter()
        rec.fit(train, n_users, n_items)
        out["fit_s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        pred = rec.predict(test.user, test.item)
        out["predict_s"].append(time.perf_counter() - t)
        out["folds"].append(k)
        out["rmse"].append(rmse(test.rating, pred))
        out["mae"].append(mae(test.rating, pred))
    return out


def bench_myfm(folds: list, fold_ids: list[int], n_users: int, n_items: int) -> dict[str, Any]:
    """Bayesian MF with myfm used directly: one-hot (user | item) features, Gibbs sampling."""
    import myfm
    import scipy.sparse as sp

    def design(data) -> sp.csr_matrix:
        n = len(data)
        cols = np.stack([data.user.astype(np.int64), n_users + data.item.astype(np.int64)], 1)
        return sp.csr_matrix(
            (np.ones(2 * n), cols.ravel(), np.arange(0, 2 * n + 1, 2)),
            shape=(n, n_users + n_items),
        )

    out: dict[str, Any] = {"params": dict(MYFM, random_seed=0), "version": myfm.__version__}
    out.update({"folds": [], "rmse": [], "mae": [], "fit_s": [], "predict_s": []})
    for k in fold_ids:
        train, test = folds[k - 1]
        fm = myfm.MyFMRegressor(rank=MYFM["rank"], random_seed=0)
        x_train = design(train)
        t = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):  # myfm's tqdm progress bar
            fm.fit(
                x_train,
                train.rating.astype(np.float64),
                n_iter=MYFM["n_iter"],
                n_kept_samples=MYFM["n_kept_samples"],
                group_shapes=[n_users, n_items],
            )
        out["fit_s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        pred = fm.predict(design(test))
        out["predict_s"].append(time.perf_counter() - t)
        err = pred - test.rating
        out["folds"].append(k)
        out["rmse"].append(float(np.sqrt(np.mean(err**2))))
        out["mae"].append(float(np.mean(np.abs(err))))
    return out


# ----------------------------------------------------------------------------- top-N
def topn_split(data, n_users: int, frac: float = 0.2, seed: int = 0):
    """Hold out ``floor(frac · n_u)`` uniformly random ratings of each user (part 2, step 2)."""
    key = np.random.default_rng(seed).random(len(data))
    order = np.lexsort((key, data.user))
    counts = np.bincount(data.user, minlength=n_users)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    user_sorted = data.user[order]
    rank = np.arange(len(data)) - start[user_sorted]
    is_test = np.empty(len(data), bool)
    is_test[order] = rank < np.floor(frac * counts).astype(np.int64)[user_sorted]
    return data.select(~is_test), data.select(is_test)


def bench_topn(
    names: list[str], available: list[str], data, n_users: int, n_items: int, seed: int
) -> dict[str, Any]:
    from recdyn.metrics.offline import ndcg_topn, recall_at_k, relevance_matrix

    train, test = topn_split(data, n_users, seed=seed)
    relevant = relevance_matrix(test, n_users, n_items, min_rating=4.0)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    relevant = relevant[users]
    exclude = train.to_csr(n_users, n_items, values=np.ones(len(train), bool))[users]
    out: dict[str, Any] = {
        "protocol": {
            "seed": seed,
            "n_train": len(train),
            "n_test": len(test),
            "n_positives": int(relevant.sum()),
            "n_users_evaluated": len(users),
        },
        "models": {},
    }
    for label in names:
        name, params = TOPN_MODELS.get(label, (label, {}))
        if name not in available:
            out["models"][label] = {"skipped": f"{name!r} is not registered"}
            continue
        try:
            rec = build(name, params)
            rec.clone().fit(train.select(np.arange(len(train)) < 5000), n_users, n_items)
            t = time.perf_counter()
            rec.fit(train, n_users, n_items)
            fit = time.perf_counter() - t
            t = time.perf_counter()
            scores = rec.score(users)
            score_s = time.perf_counter() - t
            out["models"][label] = {
                "params": repr(rec),
                "ndcg@10": ndcg_topn(scores, relevant, k=10, exclude=exclude),
                "recall@20": recall_at_k(scores, relevant, k=20, exclude=exclude),
                "fit_s": fit,
                "score_s": score_s,
            }
        except Exception:
            out["models"][label] = {"skipped": "failed", "error": traceback.format_exc()}
    # reference: the usual "Pop" of top-N papers (count of training ratings), computed here
    counts = np.bincount(train.item, minlength=n_items).astype(np.float64)
    scores = np.broadcast_to(counts, (len(users), n_items))
    out["models"][MOST_RATED] = {
        "params": "item score = number of training ratings (implemented in this script)",
        "ndcg@10": ndcg_topn(scores, relevant, k=10, exclude=exclude),
        "recall@20": recall_at_k(scores, relevant, k=20, exclude=exclude),
        "fit_s": None,
        "score_s": None,
    }
    return out


# ----------------------------------------------------------------------------- report
def _med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def _f(x: float | None, fmt: str) -> str:
    return "" if x is None else format(x, fmt)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |" for line in lines
    )


def summary_rows(recdyn_res: dict, peers: dict) -> list[dict[str, Any]]:
    rows = []
    for name, res in recdyn_res.items():
        peer_name = PEER_OF.get(name)
        peer = peers.get(peer_name, {})
        ours_rmse, ours_fit = _mean(res.get("rmse", [])), _med(res.get("fit_s", []))
        peer_rmse, peer_fit = _mean(peer.get("rmse", [])), _med(peer.get("fit_s", []))
        target = TARGETS.get(name)
        ratio = ours_fit / peer_fit if ours_fit is not None and peer_fit else None
        rmse_ok = None if target is None or ours_rmse is None else ours_rmse <= target
        speed_ok = None if target is None or ratio is None else ratio <= 1.0
        rows.append(
            {
                "model": name,
                "mean_rmse": ours_rmse,
                "target": target,
                "rmse_met": rmse_ok,
                "speed_met": speed_ok,
                "peer": peer_name,
                "peer_rmse": peer_rmse,
                "fit_s": ours_fit,
                "peer_fit_s": peer_fit,
                "speed_ratio": ratio,
                "skipped": res.get("skipped"),
                "peer_skipped": peer.get("skipped") or ("error" if "error" in peer else None),
            }
        )
    return rows


def _met(r: dict[str, Any]) -> str:
    if r["target"] is None:
        return "(no target)"
    if r["mean_rmse"] is None:
        return "n/a"
    parts = ["rmse " + ("yes" if r["rmse_met"] else "NO")]
    parts.append("speed " + {True: "yes", False: "NO", None: "n/a"}[r["speed_met"]])
    return ", ".join(parts)


def print_report(rows: list[dict], recdyn_res: dict, peers: dict, topn: dict | None) -> None:
    load = os.getloadavg()[0]
    print(
        f"\n## Rating prediction, ML-100K u1..u5 ({os.cpu_count()} CPUs, {threads_note()}, "
        f"load average {load:.1f})\n"
    )
    header = ["model", "mean RMSE", "target", "met?", "peer", "peer RMSE"]
    header += ["fit s (recdyn)", "fit s (peer)", "speed ratio"]
    body = []
    for r in rows:
        if r["skipped"]:
            body.append([r["model"], "skipped", _f(r["target"], ".3f"), "", r["peer"] or "", ""])
            body[-1] += ["", "", ""]
            continue
        body.append(
            [
                r["model"],
                _f(r["mean_rmse"], ".4f"),
                "≤ " + _f(r["target"], ".3f") if r["target"] else "",
                _met(r),
                r["peer"] or "",
                _f(r["peer_rmse"], ".4f") or (r["peer_skipped"] or "n/a"),
                _f(r["fit_s"], ".3f"),
                _f(r["peer_fit_s"], ".3f"),
                _f(r["speed_ratio"], ".2f"),
            ]
        )
    print(_table(header, body))

    print("\nPer fold (RMSE; MAE is the mean over folds; fit/predict s are medians):\n")
    everything = {**recdyn_res, **{k: v for k, v in peers.items() if v}}
    fold_ids = sorted({k for v in everything.values() for k in v.get("folds", [])})
    header = ["model", *[f"u{k} RMSE" for k in fold_ids], "mean RMSE", "mean MAE"]
    header += ["fit s", "predict s"]
    body = []
    for name, res in everything.items():
        if not res.get("rmse"):
            continue
        by_fold = dict(zip(res["folds"], res["rmse"]))
        body.append(
            [
                name,
                *[_f(by_fold.get(k), ".4f") for k in fold_ids],
                _f(_mean(res["rmse"]), ".4f"),
                _f(_mean(res["mae"]), ".4f"),
                _f(_med(res["fit_s"]), ".3f"),
                _f(_med(res["predict_s"]), ".3f"),
            ]
        )
    print(_table(header, body))
    for name, res in everything.items():
        if res.get("skipped") or res.get("error"):
            reason = res.get("skipped") or "failed"
            detail = (res.get("error") or "").strip().splitlines()
            print(f"skipped {name}: {reason}" + (f" ({detail[-1]})" if detail else ""))

    if topn:
        p = topn["protocol"]
        print(
            f"\n## Top-N, ML-100K, 20% of each user's ratings held out (seed {p['seed']}); "
            f"positives = held-out ratings ≥ 4\n"
            f"train {p['n_train']:,} ratings, test {p['n_test']:,}, {p['n_positives']:,} "
            f"positives over {p['n_users_evaluated']} users; metrics: recdyn.metrics.offline\n"
        )
        body = []
        for name, res in topn["models"].items():
            if "ndcg@10" not in res:
                detail = (res.get("error") or "").strip().splitlines()
                body.append(
                    [
                        name,
                        "skipped",
                        "",
                        "",
                        res["skipped"] + (f": {detail[-1]}" if detail else ""),
                    ]
                )
                continue
            body.append(
                [
                    name,
                    _f(res["ndcg@10"], ".4f"),
                    _f(res["recall@20"], ".4f"),
                    _f(res["fit_s"], ".3f"),
                    _topn_note(name),
                ]
            )
        print(_table(["model", "nDCG@10", "Recall@20", "fit s", "trained on"], body))


def _topn_note(name: str) -> str:
    if name == MOST_RATED:
        return "count of train ratings per item (reference)"
    if name == "toppop":
        return "train ratings (mean rating, shrunk: RecLab's TopPop)"
    params = dict(TOPN_MODELS.get(name, (name, {}))[1])
    if params.pop("binarize", False):
        extra = ", ".join(f"{k}={v:g}" for k, v in params.items())
        return "binarized train" + (f" ({extra})" if extra else " (registered defaults)")
    return "train ratings" + (
        f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else ""
    )


# ----------------------------------------------------------------------------- main
def _data_dir(arg: str | None) -> str | None:
    if arg:
        return arg
    if os.environ.get("RECDYN_DATA_DIR"):
        return os.environ["RECDYN_DATA_DIR"]
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    return str(shared) if (shared / "ml-100k").is_dir() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--surprise-python",
        default=os.environ.get("SURPRISE_PYTHON"),
        help="interpreter with scikit-surprise==1.1.5 (default: $SURPRISE_PYTHON; none: skip)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write all raw numbers as JSON")
    ap.add_argument("--quick", action="store_true", help="1 fold and fewer models (smoke test)")
    ap.add_argument("--data-dir", help="folder holding ml-100k/ (default: $RECDYN_DATA_DIR)")
    ap.add_argument("--folds", help="comma-separated fold numbers (default 1..5; --quick: 1)")
    ap.add_argument("--models", help="comma-separated rating models (default: all six)")
    ap.add_argument("--topn-models", help="comma-separated top-N models")
    ap.add_argument("--topn-seed", type=int, default=0, help="seed of the top-N split")
    ap.add_argument("--no-topn", action="store_true", help="skip the top-N section")
    ap.add_argument("--no-myfm", action="store_true", help="skip the myfm peer")
    ap.add_argument("--timeout", type=float, default=1800, help="Surprise subprocess limit, s")
    add_threads_option(ap)
    args = ap.parse_args(argv)
    pin_threads(args.threads)

    from recdyn import datasets

    data_dir = _data_dir(args.data_dir)
    fold_ids = [int(k) for k in args.folds.split(",")] if args.folds else None
    fold_ids = fold_ids or ([1] if args.quick else [1, 2, 3, 4, 5])
    names = (
        args.models.split(",")
        if args.models
        else list(QUICK_RATING if args.quick else RATING_MODELS)
    )
    topn_names = (
        args.topn_models.split(",")
        if args.topn_models
        else list(QUICK_TOPN if args.quick else TOPN_MODELS)
    )

    dataset = datasets.load("ml-100k", data_dir=data_dir)
    folds = datasets.ml100k_folds(data_dir=data_dir)
    n_users, n_items = dataset.n_users, dataset.n_items
    available = registered()
    print(f"registered recommenders: {', '.join(available)}", file=sys.stderr)

    recdyn_res: dict[str, dict[str, Any]] = {}
    for name in names:
        if name not in available:
            recdyn_res[name] = {"skipped": f"{name!r} is not registered"}
            print(f"skipping {name}: not registered", file=sys.stderr)
            continue
        print(f"recdyn {name} …", file=sys.stderr, flush=True)
        try:
            recdyn_res[name] = bench_rating_model(
                name, RATING_MODELS.get(name, {}), folds, fold_ids, n_users, n_items
            )
        except Exception:
            recdyn_res[name] = {"skipped": "failed", "error": traceback.format_exc()}
            print(f"skipping {name}: {traceback.format_exc()}", file=sys.stderr)

    peers: dict[str, dict[str, Any]] = {}
    wanted = sorted({PEER_OF[n] for n in names if n in PEER_OF})
    surprise_names = [p for p in wanted if p.startswith("surprise")]
    surprise_info: dict[str, Any] = {}
    if surprise_names and args.surprise_python:
        print(f"Surprise ({args.surprise_python}) …", file=sys.stderr, flush=True)
        try:
            surprise_info = run_surprise(
                args.surprise_python, surprise_names, fold_ids, dataset.path, args.timeout
            )
            peers.update(surprise_info.pop("models"))
        except Exception as err:
            for p in surprise_names:
                peers[p] = {"skipped": "failed", "error": str(err)}
    else:
        for p in surprise_names:
            peers[p] = {"skipped": "no --surprise-python"}
    if "myfm rank 10" in wanted:
        if args.no_myfm:
            peers["myfm rank 10"] = {"skipped": "--no-myfm"}
        else:
            print("myfm …", file=sys.stderr, flush=True)
            try:
                peers["myfm rank 10"] = bench_myfm(folds, fold_ids, n_users, n_items)
            except Exception:
                peers["myfm rank 10"] = {"skipped": "failed", "error": traceback.format_exc()}

    topn = None
    if not args.no_topn:
        print("top-N …", file=sys.stderr, flush=True)
        topn = bench_topn(
            topn_names, available, dataset.interactions, n_users, n_items, args.topn_seed
        )

    rows = summary_rows(recdyn_res, peers)
    print_report(rows, recdyn_res, peers, topn)

    if args.json:
        result = {
            "machine": machine_info(threads=threads_note(), load_average=os.getloadavg()),
            "surprise_env": surprise_info,
            "folds": fold_ids,
            "targets_rmse": TARGETS,
            "summary": rows,
            "recdyn": recdyn_res,
            "peers": peers,
            "topn": topn,
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
