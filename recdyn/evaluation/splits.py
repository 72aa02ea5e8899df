"""Train/test splits of an :class:`~recdyn.Interactions` record, deterministic under a seed.

* :func:`random_split` — a uniformly random fraction of the pairs is held out.
* :func:`kfold_split` — the pairs are dealt into ``folds`` disjoint folds (thesis ch. 2:
  5-fold cross-validation of RMSE and nDCG@20).
* :func:`shuffle_split` — ``n_splits`` independent random holdouts of ``test_fraction``
  of the pairs, whose test parts may overlap (scikit-learn's ``ShuffleSplit``; thesis
  ch. 5: "two-fold 90/10 split cross-validation").
* :func:`strong_generalization_split` — whole users are held out; each held-out user's
  ratings are split into a fold-in part (given to the model at scoring time) and a test
  part (Liang et al. 2018, "Variational autoencoders for collaborative filtering").
* :func:`temporal_split` — everything after a time cut-off is held out.

Rows keep their original order inside each part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recdyn import seeding
from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions


def _check_data(data: Any) -> Interactions:
    if not isinstance(data, Interactions):
        raise InvalidParameterError(
            f"data must be recdyn.Interactions, got {type(data).__name__}; "
            "use Interactions.from_pandas(df) for a DataFrame"
        )
    return data


def _split(data: Interactions, test_mask: np.ndarray) -> tuple[Interactions, Interactions]:
    return data.select(~test_mask), data.select(test_mask)


def random_split(
    data: Interactions, test_fraction: float = 0.2, seed: seeding.SeedLike = 0
) -> tuple[Interactions, Interactions]:
    """``(train, test)`` with ``round(test_fraction · len(data))`` pairs drawn uniformly
    at random, without replacement, into ``test``."""
    data = _check_data(data)
    test_fraction = check_float("test_fraction", test_fraction, low=0.0, high=1.0)
    n_test = round(test_fraction * len(data))
    rng = seeding.generator(seed, "split")
    mask = np.zeros(len(data), bool)
    mask[rng.permutation(len(data))[:n_test]] = True
    return _split(data, mask)


def kfold_assignment(n: int, folds: int = 5, seed: seeding.SeedLike = 0) -> np.ndarray:
    """Fold id (``0..folds-1``) of each of ``n`` pairs: a random permutation dealt round
    robin, so fold sizes differ by at most one."""
    n = check_int("n", n, low=0)
    folds = check_int("folds", folds, low=2)
    if folds > n:
        raise InvalidParameterError(f"folds must be at most the number of pairs {n}, got {folds}")
    fold = np.empty(n, np.int64)
    fold[seeding.generator(seed, "split").permutation(n)] = np.arange(n) % folds
    return fold


def kfold_split(
    data: Interactions, folds: int = 5, seed: seeding.SeedLike = 0
) -> list[tuple[Interactions, Interactions]]:
    """``folds`` pairs ``(train, test)``; the test parts partition ``data``."""
    data = _check_data(data)
    fold = kfold_assignment(len(data), folds, seed)
    return [_split(data, fold == f) for f in range(folds)]


def shuffle_split_masks(
    n: int, n_splits: int = 2, test_fraction: float = 0.1, seed: seeding.SeedLike = 0
) -> np.ndarray:
    """Boolean ``[n_splits, n]``: row ``k`` marks the ``round(test_fraction · n)`` test
    pairs of split ``k``, drawn uniformly without replacement and independently of the
    other splits (each from its own stream under ``seed``)."""
    n = check_int("n", n, low=0)
    n_splits = check_int("n_splits", n_splits, low=1)
    test_fraction = check_float("test_fraction", test_fraction, low=0.0, high=1.0)
    if not 0.0 < test_fraction < 1.0:
        raise InvalidParameterError(
            f"test_fraction must be strictly between 0 and 1, got {test_fraction!r}"
        )
    n_test = round(test_fraction * n)
    masks = np.zeros((n_splits, n), bool)
    for k in range(n_splits):
        masks[k, seeding.generator(seed, "split", f"shuffle-{k}").permutation(n)[:n_test]] = True
    return masks


def shuffle_split(
    data: Interactions,
    n_splits: int = 2,
    test_fraction: float = 0.1,
    seed: seeding.SeedLike = 0,
) -> list[tuple[Interactions, Interactions]]:
    """``n_splits`` pairs ``(train, test)``, each an independent uniformly random holdout
    of ``round(test_fraction · len(data))`` pairs (:func:`shuffle_split_masks`): the
    thesis's ch. 5 tuning uses ``n_splits=2, test_fraction=0.1``."""
    data = _check_data(data)
    masks = shuffle_split_masks(len(data), n_splits, test_fraction, seed)
    return [_split(data, mask) for mask in masks]


@dataclass(frozen=True)
class UserHoldoutSplit:
    """Result of :func:`strong_generalization_split`.

    train : every rating of the training users. fold_in : the held-out users' ratings the
    model may see at scoring time. test : their ratings to predict. users : the held-out
    user ids (sorted).
    """

    train: Interactions
    fold_in: Interactions
    test: Interactions
    users: np.ndarray


def strong_generalization_split(
    data: Interactions,
    heldout_users: int | float = 0.2,
    test_fraction: float = 0.2,
    min_ratings: int = 5,
    seed: seeding.SeedLike = 0,
) -> UserHoldoutSplit:
    """Hold out whole users (Liang et al. 2018, ``dawenl/vae_cf``).

    ``heldout_users`` users (a count, or a fraction of the users with ratings) are drawn
    uniformly; for each of them with at least ``min_ratings`` ratings,
    ``floor(test_fraction · n_u)`` ratings drawn uniformly go to ``test`` and the rest to
    ``fold_in``; held-out users with fewer ratings keep everything in ``fold_in``. The
    training users are disjoint from the held-out ones.
    """
    data = _check_data(data)
    test_fraction = check_float("test_fraction", test_fraction, low=0.0, high=1.0)
    min_ratings = check_int("min_ratings", min_ratings, low=1)
    users = np.unique(data.user)
    if isinstance(heldout_users, float):
        frac = check_float("heldout_users", heldout_users, low=0.0, high=1.0)
        n_out = round(frac * len(users))
    else:
        n_out = check_int("heldout_users", heldout_users, low=0, high=len(users))
    rng = seeding.generator(seed, "split")
    out_users = np.sort(rng.permutation(users)[:n_out])
    held = np.isin(data.user, out_users)
    counts = np.bincount(data.user, minlength=data.n_users_seen)
    n_test = np.where(counts >= min_ratings, np.floor(test_fraction * counts), 0).astype(np.int64)
    order = np.lexsort((rng.random(len(data)), data.user))
    first = np.r_[0, np.cumsum(counts)][data.user[order]]
    rank = np.empty(len(data), np.int64)
    rank[order] = np.arange(len(data)) - first
    is_test = held & (rank < n_test[data.user])
    return UserHoldoutSplit(
        train=data.select(~held),
        fold_in=data.select(held & ~is_test),
        test=data.select(is_test),
        users=out_users,
    )


def temporal_split(
    data: Interactions,
    test_fraction: float = 0.2,
    time: Any = None,
    cutoff: float | None = None,
) -> tuple[Interactions, Interactions]:
    """``(train, test)`` with ``test`` the ratings strictly after a time cut-off.

    ``time`` defaults to ``data.step`` (pass timestamps from a dataset to split on them).
    The cut-off defaults to the ``(1 - test_fraction)`` quantile of the times; ratings at
    the cut-off stay in ``train``, so with coarse times (few distinct steps) the test share
    can be below ``test_fraction``. No randomness is involved.
    """
    data = _check_data(data)
    t = data.step if time is None else np.asarray(time)
    if t.shape != (len(data),):
        raise InvalidParameterError(
            f"time must have one entry per rating ({len(data)}), got shape {t.shape}"
        )
    if cutoff is None:
        test_fraction = check_float("test_fraction", test_fraction, low=0.0, high=1.0)
        if not len(t):
            return data, data
        cutoff = np.quantile(t, 1.0 - test_fraction, method="lower")
    return _split(data, t > cutoff)
