r"""Offline data for the mixture-of-experts pool allocation (thesis ch. 4 §4.4, L3137–3146).

From a :class:`~recdyn.bandits.labels.MultiLabelData` (arm ``a`` = label ``a``), the points
are split by a seed into a training pool and a held-out test set:

* training set — ``per_arm`` = :math:`c` examples per arm: for each arm, :math:`c` points
  drawn uniformly without replacement from the training pool (independently across arms,
  so a point may serve several arms); an example is (point, arm, reward =
  ``labels[point, arm]``). The thesis's AmazonCat pool is large enough that examples
  rarely share a point; a smaller pool (e.g. a synthetic one of 20,000 points at
  :math:`c = 750`, 100 arms) reuses each point for a few arms.
* test set — the held-out points, each evaluated on all arms (its whole label row).

The thesis averages over 50,000 test entries; the default here is ``n_test = 5000``,
which keeps the evaluation cheap (milliseconds) while its standard error of precision@5
(≈ 0.003 on the synthetic data) stays below the differences Fig. 4.5 shows.

Streams ``("bandits", "moe", "split")`` and ``("bandits", "moe", "examples")`` of ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import NamedTuple

import numpy as np

from recdyn._validation import check_int
from recdyn.bandits.labels import MultiLabelData
from recdyn.errors import InvalidParameterError
from recdyn.seeding import generator

__all__ = [
    "OfflineExamples",
    "OfflineSplit",
    "OfflineTest",
    "offline_split",
    "precision_recall_at_k",
]

#: Default number of held-out test points (module doc).
N_TEST = 5000


@dataclass(frozen=True)
class OfflineExamples:
    """A training set: ``features`` float32 ``[n, d]`` of the training pool's points;
    ``point`` ``[T]`` (row of ``features``), ``arm`` ``[T]`` and ``reward`` float32 ``[T]``
    of the ``T`` examples; ``n_arms`` the number of arms."""

    features: np.ndarray
    point: np.ndarray
    arm: np.ndarray
    reward: np.ndarray
    n_arms: int

    @property
    def dim(self) -> int:
        return self.features.shape[1]

    def __len__(self) -> int:
        return len(self.point)


@dataclass(frozen=True)
class OfflineTest:
    """Held-out points: ``features`` float32 ``[m, d]`` and ``labels`` bool ``[m, A]``."""

    features: np.ndarray
    labels: np.ndarray

    @property
    def n_arms(self) -> int:
        return self.labels.shape[1]

    @property
    def dim(self) -> int:
        return self.features.shape[1]

    def __len__(self) -> int:
        return len(self.features)


class OfflineSplit(NamedTuple):
    """``train, test = offline_split(...)``."""

    train: OfflineExamples
    test: OfflineTest


def offline_split(
    data: MultiLabelData, per_arm: int, *, n_test: int = N_TEST, seed: int = 0
) -> OfflineSplit:
    """Split ``data``'s points into ``n_test`` test points and a training pool (the rest),
    and draw ``per_arm`` training examples per arm from the pool (module doc)."""
    if not isinstance(data, MultiLabelData):
        raise InvalidParameterError(
            f"data must be a MultiLabelData (e.g. synthetic_multilabel(...)), got "
            f"{type(data).__name__}"
        )
    per_arm = check_int("per_arm", per_arm, low=1)
    n_test = check_int("n_test", n_test, low=1, high=data.n_points - 1)
    seed = check_int("seed", seed, low=0)
    n_pool = data.n_points - n_test
    if per_arm > n_pool:
        raise InvalidParameterError(
            f"per_arm={per_arm} exceeds the {n_pool} training points ({data.n_points} points "
            f"less n_test={n_test}); per_arm must be in [1, {n_pool}]"
        )
    perm = generator(seed, "bandits", "moe", "split").permutation(data.n_points)
    test_rows, pool_rows = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    g = generator(seed, "bandits", "moe", "examples")
    n_arms = data.n_labels
    point = np.concatenate([g.choice(n_pool, per_arm, replace=False) for _ in range(n_arms)])
    arm = np.repeat(np.arange(n_arms, dtype=np.int64), per_arm)
    pool_labels = data.labels[pool_rows]
    train = OfflineExamples(
        features=np.ascontiguousarray(data.features[pool_rows], dtype=np.float32),
        point=point.astype(np.int64),
        arm=arm,
        reward=pool_labels[point, arm].astype(np.float32),
        n_arms=n_arms,
    )
    test = OfflineTest(
        features=np.ascontiguousarray(data.features[test_rows], dtype=np.float32),
        labels=np.asarray(data.labels[test_rows], dtype=bool),
    )
    return OfflineSplit(train, test)


def precision_recall_at_k(
    scores: np.ndarray, labels: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point precision@k and recall@k ``[m]`` of ranking arms by ``scores`` ``[m, A]``
    against ``labels`` bool ``[m, A]``: the ``k`` highest scores (ties to the lower arm, which
    :func:`recdyn.metrics.offline.precision_at_k` does not promise); hits / k and hits /
    #positives, both 0 for a point with no positives (L3144–3146)."""
    scores, labels = np.asarray(scores), np.asarray(labels, dtype=bool)
    if scores.ndim != 2 or scores.shape != labels.shape:
        raise InvalidParameterError(
            f"scores and labels must both be [points, arms], got {scores.shape} and {labels.shape}"
        )
    n_arms = scores.shape[1]
    if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= k <= n_arms:
        raise InvalidParameterError(f"k must be an integer in [1, {n_arms}] (the arms), got {k!r}")
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(labels, top, axis=1).sum(axis=1)
    positives = labels.sum(axis=1)
    covered = positives > 0
    precision = np.where(covered, hits / k, 0.0)
    recall = np.where(covered, hits / np.maximum(positives, 1), 0.0)
    return precision, recall
