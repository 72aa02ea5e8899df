"""The strong-generalization protocol of Liang et al. (2018) as a reusable runner.

Liang, Krishnan, Hoffman & Jebara, "Variational Autoencoders for Collaborative
Filtering", WWW 2018 (code ``dawenl/vae_cf``), evaluate top-N recommenders on users never
seen in training:

1. binarize: keep ratings ≥ ``threshold`` (4 on MovieLens: the code keeps ``> 3.5``),
   drop the rest; keep users with at least ``min_user_positives`` (5) of them;
2. shuffle the users; ``n_heldout_users`` become test users, as many validation users,
   the rest training users; the item set is the items of the training users (held-out
   users' interactions with other items are dropped);
3. each held-out user with ≥ 5 interactions gives ``floor((1 - fold_in) · n_u)`` random
   interactions as held-out targets and keeps the rest as fold-in input;
4. the model learns from the training users; each test user is scored from the fold-in
   input, fold-in items are removed from the ranking, and nDCG@100, Recall@20 and
   Recall@50 are computed on the held-out targets — Recall@k divides by
   :math:`\\min(k, |I_u|)` — and averaged over users (with standard errors).

**How recdyn fits this into** ``fit``/``score``. A recdyn recommender scores the users it
has data for, so the runner fits it on the training users' interactions **plus the
fold-in interactions of the validation and test users** — information the protocol hands
the model at scoring time anyway — and then calls ``score`` on the held-out users. For
Mult-VAE/DAE this is the paper's fold-in (their encoder reads the fold-in row); for
EASE/SLIM/item-KNN it is exactly item-item scoring of the fold-in row, with the fold-in
rows also in the item-item statistics (a few percent of all rows). Models whose ``fit``
accepts ``validation=`` (Mult-VAE, Mult-DAE) get the validation users' held-out
interactions for early stopping on nDCG@100, the paper's model selection. Ratings are
passed unchanged (all ≥ ``threshold``): give models a binarizing setting (EASE
``binarize=True``; Mult-VAE's ``threshold`` ≤ this one).

:func:`read_movielens_csv` reads MovieLens CSV ratings (``userId,movieId,rating,
timestamp``: ML-20M, ML-25M, ml-latest, ml-latest-small), so the same code runs the
paper's ML-20M experiment::

    ds = read_movielens_csv("ml-20m/ratings.csv")
    res = strong_generalization_eval(make("mult-vae"), ds.interactions, ds.n_users,
                                     ds.n_items, n_heldout_users=10_000, seed=98765)
"""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recdyn import seeding
from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.evaluation.splits import strong_generalization_split
from recdyn.interactions import Interactions
from recdyn.metrics.offline import ndcg_topn, recall_at_k
from recdyn.recommenders.base import Recommender

_SCORE_CELLS = 1 << 23  # score at most this many (user, item) entries at once


def read_movielens_csv(path: str | os.PathLike[str]) -> Any:
    """Read a MovieLens ``ratings.csv`` (header ``userId,movieId,rating,timestamp``) into a
    :class:`~recdyn.datasets.Dataset` with contiguous ids (rank of the raw id), as
    ``recdyn.datasets.load("ml-latest-small")`` does, but for any file of that format
    (ML-20M, ML-25M, ml-latest …). No checksum is checked."""
    from recdyn.datasets.dataset import build_dataset, read_table
    from recdyn.datasets.errors import DatasetError

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} does not exist or is not a file")
    df = read_table(
        path,
        path.parent.name or "movielens",
        header=0,
        names=["user", "item", "rating", "timestamp"],
        dtype={"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.int64},
    )
    if not len(df):
        raise DatasetError(f"{path} holds no ratings")
    if df["rating"].isna().any():
        raise DatasetError(f"{path} has missing ratings")
    r = df["rating"].to_numpy()
    return build_dataset(
        path.stem,
        df["user"].to_numpy(),
        df["item"].to_numpy(),
        r,
        df["timestamp"].to_numpy(),
        None,
        None,
        rating_scale=(float(r.min()), float(r.max())),
        path=path.parent,
    )


@dataclass(frozen=True)
class StrongGeneralizationResult:
    """Outcome of :func:`strong_generalization_eval`.

    metrics : mean over test users of ``ndcg@k`` and ``recall@k`` for each ``k``.
    stderr : their standard errors (std / √n, as Liang et al.).
    validation : the same means over the validation users (for model selection).
    per_user : one row per evaluated test user: ``user``, ``n_fold_in``, ``n_heldout``
        and each metric.
    recommender : the fitted recommender (a clone of the one passed in).
    train_users, validation_users, test_users : sorted user ids of each role (disjoint;
        held-out users left without a target are not evaluated).
    fold_in : the held-out users' fold-in interactions (given to the model).
    validation_targets, test_targets : their held-out interactions.
    n_train_items : size of the item set (items of the training users).
    fit_seconds : time spent in ``fit``.
    """

    metrics: dict[str, float]
    stderr: dict[str, float]
    validation: dict[str, float]
    per_user: pd.DataFrame = field(repr=False)
    recommender: Recommender = field(repr=False)
    train_users: np.ndarray = field(repr=False)
    validation_users: np.ndarray = field(repr=False)
    test_users: np.ndarray = field(repr=False)
    fold_in: Interactions = field(repr=False)
    validation_targets: Interactions = field(repr=False)
    test_targets: Interactions = field(repr=False)
    n_train_items: int
    fit_seconds: float


def strong_generalization_eval(
    recommender: Recommender,
    data: Interactions,
    n_users: int,
    n_items: int,
    n_heldout_users: int,
    seed: seeding.SeedLike = 0,
    *,
    threshold: float | None = 4.0,
    fold_in: float = 0.8,
    k_values: tuple[int, ...] = (20, 50, 100),
    n_validation_users: int | None = None,
    min_user_positives: int = 5,
    early_stopping: bool = True,
) -> StrongGeneralizationResult:
    """Run Liang et al.'s strong-generalization protocol (see the module docstring).

    Parameters
    ----------
    recommender : any recdyn recommender; it is cloned, the object passed in stays unfitted.
    data, n_users, n_items : all interactions and the size of their id space.
    n_heldout_users : number of test users (Liang et al.: 10,000 on ML-20M).
    seed : the user shuffle and the fold-in/held-out draws derive from it.
    threshold : keep ratings ≥ this (``None`` keeps every rating, e.g. implicit data).
    fold_in : share of each held-out user's interactions given as input (0.8).
    k_values : cut-offs of ``ndcg@k`` and ``recall@k`` (20, 50, 100 give the paper's
        Recall@20, Recall@50 and NDCG@100).
    n_validation_users : validation users (default ``n_heldout_users``; 0 for none).
    min_user_positives : users with fewer kept interactions are dropped (5).
    early_stopping : give the validation targets to models whose ``fit`` accepts
        ``validation=`` (Mult-VAE/DAE).
    """
    if not isinstance(recommender, Recommender):
        raise InvalidParameterError(
            f"recommender must be a recdyn Recommender, got {type(recommender).__name__}"
        )
    if not isinstance(data, Interactions):
        raise InvalidParameterError(
            f"data must be recdyn.Interactions, got {type(data).__name__}; "
            "use Interactions.from_pandas(df) for a DataFrame"
        )
    n_users = check_int("n_users", n_users, low=1)
    n_items = check_int("n_items", n_items, low=1)
    data.check_shape(n_users, n_items)
    n_test = check_int("n_heldout_users", n_heldout_users, low=1)
    n_val = n_test if n_validation_users is None else n_validation_users
    n_val = check_int("n_validation_users", n_val, low=0)
    fold_in = check_float("fold_in", fold_in, low=0, high=1, low_open=True, high_open=True)
    min_pos = check_int("min_user_positives", min_user_positives, low=1)
    ks = tuple(check_int("k_values[]", k, low=1) for k in k_values)
    if not ks:
        raise InvalidParameterError("k_values must name at least one cut-off")

    pos = _positives(data, None if threshold is None else check_float("threshold", threshold))
    counts = np.bincount(pos.user, minlength=n_users)
    users = np.flatnonzero(counts >= min_pos)
    if len(users) <= n_test + n_val:
        raise InvalidParameterError(
            f"n_heldout_users={n_test} and n_validation_users={n_val} leave no training "
            f"user: only {len(users)} users have ≥ {min_pos} ratings ≥ {threshold}"
        )
    shuffled = seeding.generator(seed, "strong-generalization", "users").permutation(users)
    test_users, val_users = shuffled[:n_test], shuffled[n_test : n_test + n_val]
    role = np.zeros(n_users, np.int8)  # 0 dropped, 1 train, 2 validation, 3 test
    role[shuffled[n_test + n_val :]] = 1
    role[val_users] = 2
    role[test_users] = 3
    pos = pos.select(role[pos.user] > 0)
    is_train = role[pos.user] == 1
    train = pos.select(is_train)
    train_items = np.zeros(n_items, bool)
    train_items[train.item] = True
    heldout = pos.select(~is_train & train_items[pos.item])
    split = strong_generalization_split(
        heldout,
        heldout_users=1.0,
        test_fraction=round(1.0 - fold_in, 12),  # 1 - 0.8 = 0.19999…: floor(0.2 · 5) must be 1
        min_ratings=5,
        seed=seed,
    )
    fit_data = Interactions.concat([train, split.fold_in])
    in_val = role[split.test.user] == 2
    val_targets, test_targets = split.test.select(in_val), split.test.select(~in_val)

    rec = recommender.clone()
    kwargs = {}
    if early_stopping and len(val_targets) and _accepts_validation(rec):
        kwargs["validation"] = val_targets
    t0 = time.perf_counter()
    rec.fit(fit_data, n_users, n_items, **kwargs)
    fit_seconds = time.perf_counter() - t0

    exclude_items = ~train_items
    test_table = _evaluate(rec, split.fold_in, test_targets, exclude_items, ks)
    val_table = _evaluate(rec, split.fold_in, val_targets, exclude_items, ks)
    names = [c for c in test_table.columns if "@" in c]
    n = max(len(test_table), 1)
    return StrongGeneralizationResult(
        metrics={m: float(test_table[m].mean()) for m in names},
        stderr={m: float(test_table[m].std(ddof=1) / np.sqrt(n)) for m in names},
        validation={m: float(val_table[m].mean()) for m in names},
        per_user=test_table,
        recommender=rec,
        train_users=np.flatnonzero(role == 1),
        validation_users=np.sort(val_users),
        test_users=np.sort(test_users),
        fold_in=split.fold_in,
        validation_targets=val_targets,
        test_targets=test_targets,
        n_train_items=int(train_items.sum()),
        fit_seconds=fit_seconds,
    )


def _positives(data: Interactions, threshold: float | None) -> Interactions:
    """The last rating of each ``(user, item)`` pair, kept if ≥ ``threshold``."""
    key = data.user.astype(np.int64) * (int(data.item.max()) + 1 if len(data) else 1) + data.item
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    last = np.sort(len(key) - 1 - first_in_reversed)
    data = data.select(last)
    return data if threshold is None else data.select(data.rating >= threshold)


def _accepts_validation(rec: Recommender) -> bool:
    try:
        return "validation" in inspect.signature(rec.fit).parameters
    except (TypeError, ValueError):
        return False


def _evaluate(
    rec: Recommender,
    fold_in: Interactions,
    targets: Interactions,
    exclude_items: np.ndarray,
    ks: tuple[int, ...],
) -> pd.DataFrame:
    """Per-user ``ndcg@k`` / ``recall@k`` of ``targets`` with fold-in items excluded."""
    n_users, n_items = rec.n_users_, rec.n_items_
    users = np.unique(targets.user)
    ones = np.ones
    relevant = targets.to_csr(n_users, n_items, values=ones(len(targets), bool))
    seen = fold_in.to_csr(n_users, n_items, values=ones(len(fold_in), bool))
    columns: dict[str, list[np.ndarray]] = {f"{m}@{k}": [] for m in ("ndcg", "recall") for k in ks}
    step = max(1, _SCORE_CELLS // n_items)
    for lo in range(0, len(users), step):
        u = users[lo : lo + step]
        scores = rec.score(u)
        excl = seen[u].toarray() | exclude_items[None, :]
        rel = sp.csr_array(relevant[u])
        for k in ks:
            columns[f"ndcg@{k}"].append(ndcg_topn(scores, rel, k, excl, per_user=True))
            columns[f"recall@{k}"].append(recall_at_k(scores, rel, k, excl, per_user=True))
    table = pd.DataFrame(
        {
            "user": users,
            "n_fold_in": np.bincount(fold_in.user, minlength=n_users)[users],
            "n_heldout": np.bincount(targets.user, minlength=n_users)[users],
        }
    )
    for name, parts in columns.items():
        table[name] = np.concatenate(parts) if parts else np.empty(0)
    return table
