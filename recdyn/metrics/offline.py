r"""Offline accuracy metrics: pure functions over arrays.

Two ranking protocols, kept apart by name because their numbers are not comparable:

* **Rating ranking** (thesis ch. 2, RecLab ``experiments/tuner.py``):
  :func:`ndcg_rating_ranking` ranks each test user's *held-out* items by predicted rating
  and uses the true ratings as graded gains. Only the held-out items are ranked.
* **Top-N over the catalogue** (Liang et al. 2018, EASE, RecBole): :func:`ndcg_topn`,
  :func:`recall_at_k`, :func:`precision_at_k`, :func:`map_at_k`, :func:`mrr` rank *every*
  item (minus ``exclude``, normally the training items) by score and count the held-out
  items as binary relevant.

Tied scores are never broken by item id: every ranking metric returns its exact expected
value when tied items are ordered uniformly at random (McSherry & Najork, ECIR 2008,
"Computing information retrieval performance measures efficiently in the presence of tied
scores"). Metrics are computed per user and averaged over users for whom they are defined
(at least one relevant item / positive ideal DCG); ``per_user=True`` returns the per-user
values, NaN where undefined. Work is vectorised over users (batches of rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recdyn._arrays import tie_groups
from recdyn._validation import check_choice, check_int
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions

_BATCH_CELLS = 1 << 22


# ----------------------------------------------------------------------------- ratings
def _pairwise(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 1:
        raise InvalidParameterError(
            f"y_true and y_pred must be 1-D arrays of equal length, got shapes {t.shape} "
            f"and {p.shape}"
        )
    if not len(t):
        raise InvalidParameterError("y_true and y_pred are empty; the metric is undefined")
    if not np.isfinite(p).all():
        raise InvalidParameterError("y_pred holds NaN or infinite predictions")
    return t, p


def rmse(y_true: Any, y_pred: Any) -> float:
    r"""Root mean squared error :math:`\sqrt{\frac1n\sum_j (\hat r_j - r_j)^2}` over rating
    pairs (the thesis's offline RMSE, over all test-fold pairs)."""
    t, p = _pairwise(y_true, y_pred)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    r"""Mean absolute error :math:`\frac1n\sum_j |\hat r_j - r_j|` over rating pairs."""
    t, p = _pairwise(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def _discount(rank0: np.ndarray) -> np.ndarray:
    return 1.0 / np.log2(rank0 + 2.0)


def ndcg_rating_ranking(
    users: Any,
    ratings: Any,
    predictions: Any,
    k: int = 20,
    gain: str = "linear",
    per_user: bool = False,
) -> float | tuple[np.ndarray, np.ndarray]:
    r"""nDCG@k of each user's held-out items ranked by predicted rating (thesis protocol).

    For user :math:`u` with held-out items :math:`T_u` ranked by prediction,

    .. math:: \mathrm{DCG@k} = \sum_{r=1}^{\min(k, |T_u|)} \frac{g(r^{true}_{(r)})}{\log_2(r+1)},
              \qquad \mathrm{nDCG@k} = \mathrm{DCG@k} / \mathrm{IDCG@k},

    with IDCG the DCG of :math:`T_u` ordered by true rating. ``gain="linear"`` uses
    :math:`g(r) = r` (thesis ch. 2, RecLab ``experiments/tuner.py``; ch2_ch3_digest §4.1);
    ``"exponential"`` uses :math:`g(r) = 2^r - 1` (Burges et al. 2005). Equal predictions
    get their expected gain under a random order. A user with a single held-out item always
    scores 1; users with zero ideal DCG are left out.

    Parameters
    ----------
    users, ratings, predictions : equal-length arrays, one entry per held-out pair.
    k : cut-off (default 20, the thesis's nDCG@20).
    per_user : return ``(user_ids, ndcg)`` (sorted ids) instead of the mean over users.
    """
    k = check_int("k", k, low=1)
    check_choice("gain", gain, ("linear", "exponential"))
    u = np.asarray(users)
    r, p = _pairwise(ratings, predictions)
    if u.shape != r.shape:
        raise InvalidParameterError(
            f"users must have one entry per rating, got {u.shape} and {r.shape}"
        )
    g = r if gain == "linear" else np.exp2(r) - 1.0
    uniq, uid = np.unique(u, return_inverse=True)

    def dcg(order: np.ndarray, tie_values: np.ndarray) -> np.ndarray:
        su, sv, sg = uid[order], tie_values[order], g[order]
        first = np.r_[True, su[1:] != su[:-1]]
        rank0 = np.arange(len(su)) - np.maximum.accumulate(np.where(first, np.arange(len(su)), 0))
        group_start = np.flatnonzero(first | np.r_[True, sv[1:] != sv[:-1]])
        sizes = np.diff(np.r_[group_start, len(su)])
        mean_gain = np.repeat(np.add.reduceat(sg, group_start) / sizes, sizes)
        w = np.where(rank0 < k, _discount(rank0), 0.0)
        return np.bincount(su, weights=mean_gain * w, minlength=len(uniq))

    got = dcg(np.lexsort((-p, uid)), p)
    ideal = dcg(np.lexsort((-g, uid)), g)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(ideal > 0, got / ideal, np.nan)
    return (uniq, values) if per_user else _mean(values)


# ----------------------------------------------------------------------------- top-N
def relevance_matrix(
    test: Interactions, n_users: int, n_items: int, min_rating: float | None = None
) -> sp.csr_array:
    """Boolean ``n_users × n_items`` CSR matrix of held-out pairs (with rating ≥
    ``min_rating`` if given): the ``relevant`` argument of the top-N metrics."""
    keep = np.ones(len(test), bool) if min_rating is None else test.rating >= min_rating
    return test.select(keep).to_csr(n_users, n_items, values=np.ones(int(keep.sum()), bool))


def _rows(matrix: Any, name: str, shape: tuple[int, int]) -> Any:
    if matrix is None:
        return None
    if not sp.issparse(matrix):
        matrix = np.asarray(matrix, dtype=bool)
    else:
        matrix = sp.csr_array(matrix)
    if matrix.shape != shape:
        raise InvalidParameterError(
            f"{name} must have the scores' shape {shape}, got {matrix.shape}"
        )
    return matrix


def _dense(matrix: Any, rows: slice) -> np.ndarray | None:
    if matrix is None:
        return None
    block = matrix[rows]
    return block.toarray().astype(bool) if sp.issparse(block) else block


def _ranked_groups(scores: np.ndarray, rel: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """The top-``k`` positions of each row with their tie groups.

    ``scores`` has excluded items at ``-inf``. For position ``p`` (0-based): ``size`` and
    ``count`` are the number of items and of relevant items in ``p``'s tie group (over the
    whole row, for the group cut by the ``k``-th position), ``before`` the relevant items
    ranked strictly above the group and ``offset`` = ``p`` − group start.
    """
    n, m = scores.shape
    if k < m:
        idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        idx = np.tile(np.arange(m), (n, 1))
    top = np.take_along_axis(scores, idx, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    top = np.take_along_axis(top, order, axis=1)
    relk = np.take_along_axis(rel, idx, axis=1)
    last = top[:, -1:]
    pos = np.broadcast_to(np.arange(k), (n, k))
    start, end = tie_groups(top)
    cum = np.cumsum(relk, axis=1)
    before = np.take_along_axis(cum - relk, start, axis=1)
    count = np.take_along_axis(cum, end, axis=1) - before
    size = end - start + 1
    at_cut = top == last
    on_cut = scores == last
    size = np.where(at_cut, on_cut.sum(axis=1, keepdims=True), size)
    count = np.where(at_cut, (on_cut & rel).sum(axis=1, keepdims=True), count)
    return {"size": size, "count": count, "before": before, "offset": pos - start}


def _topn(
    kind: str,
    scores: Any,
    relevant: Any,
    k: int | None,
    exclude: Any,
    per_user: bool,
    truncated: bool = True,
) -> float | np.ndarray:
    s = np.asarray(scores)
    if s.ndim != 2 or not np.issubdtype(s.dtype, np.number):
        raise InvalidParameterError(
            f"scores must be a numeric [n_users, n_items] array, got shape {s.shape}"
        )
    n, m = s.shape
    k = m if k is None else check_int("k", k, low=1)
    depth = min(k, m)
    rel_all = _rows(relevant, "relevant", s.shape)
    excl_all = _rows(exclude, "exclude", s.shape)
    out = np.empty(n)
    step = max(1, _BATCH_CELLS // m)
    for lo in range(0, n, step):
        rows = slice(lo, min(n, lo + step))
        key = np.array(s[rows], dtype=np.float64)
        key[np.isnan(key)] = -np.inf
        rel = _dense(rel_all, rows)
        excl = _dense(excl_all, rows)
        if excl is not None:
            key[excl] = -np.inf
            rel = rel & ~excl
        n_rel = rel.sum(axis=1)
        grp = _ranked_groups(key, rel, depth)
        mean_rel = grp["count"] / grp["size"]
        pos = np.arange(depth)
        if kind == "ndcg":
            ideal = np.cumsum(_discount(pos))[np.minimum(n_rel, k) - 1]
            value = (mean_rel * _discount(pos)).sum(axis=1) / ideal
        elif kind in ("recall", "precision"):
            hits = mean_rel.sum(axis=1)
            denom = k if kind == "precision" else (np.minimum(n_rel, k) if truncated else n_rel)
            value = hits / np.maximum(denom, 1)
        elif kind == "map":
            c, z = grp["count"], grp["size"]
            pair = np.where(z > 1, c * (c - 1) / np.maximum(z * (z - 1), 1), 0.0)
            e_rel_hits = mean_rel * (1 + grp["before"]) + grp["offset"] * pair
            value = (e_rel_hits / (pos + 1)).sum(axis=1) / np.maximum(np.minimum(n_rel, k), 1)
        else:  # mrr: P(first relevant item at p) within the first group holding one
            c, z, j = grp["count"], grp["size"], grp["offset"]
            ok = (grp["before"] == 0) & (c >= 1) & (z - 1 - j >= c - 1)
            with np.errstate(invalid="ignore"):
                log_p = _log_comb(z - 1 - j, c - 1) - _log_comb(z, c)
            value = (np.where(ok, np.exp(np.where(ok, log_p, 0.0)), 0.0) / (pos + 1)).sum(axis=1)
        out[rows] = np.where(n_rel > 0, value, np.nan)
    return out if per_user else _mean(out)


def _log_comb(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln  # imported here: scipy.special costs ~0.1 s at import

    return gammaln(a + 1.0) - gammaln(b + 1.0) - gammaln(a - b + 1.0)


def _mean(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else float("nan")


_TOPN_PARAMS = """
    Parameters
    ----------
    scores : float ``[n_users, n_items]``, higher is better (e.g. ``rec.score(users)``).
    relevant : bool ``[n_users, n_items]`` (dense or scipy sparse) of held-out items, e.g.
        ``relevance_matrix(test, n_users, n_items)[users]``.
    k : cut-off (a ``k`` above ``n_items`` ranks the whole catalogue).
    exclude : bool, same shape, items removed from the ranking (normally training items).
    per_user : return the per-user array (NaN for users without relevant items).
"""


def ndcg_topn(
    scores: Any, relevant: Any, k: int = 100, exclude: Any = None, per_user: bool = False
) -> float | np.ndarray:
    r"""Binary-relevance nDCG@k over the whole catalogue (Liang et al. 2018, Mult-VAE; EASE):

    .. math:: \mathrm{DCG@k} = \sum_{r=1}^{k} \frac{\mathbb 1[\omega(r) \in I_u]}{\log_2(r+1)},
              \quad \mathrm{IDCG@k} = \sum_{r=1}^{\min(k, |I_u|)} \frac{1}{\log_2(r+1)}.
    """
    return _topn("ndcg", scores, relevant, k, exclude, per_user)


def recall_at_k(
    scores: Any,
    relevant: Any,
    k: int = 20,
    exclude: Any = None,
    per_user: bool = False,
    truncated: bool = True,
) -> float | np.ndarray:
    r"""Recall@k :math:`= |L_u^k \cap I_u| / \min(k, |I_u|)` — Liang et al.'s truncated
    recall, which reaches 1 when the top ``k`` is all relevant; ``truncated=False`` divides
    by :math:`|I_u|` (RecBole's recall)."""
    return _topn("recall", scores, relevant, k, exclude, per_user, truncated)


def precision_at_k(
    scores: Any, relevant: Any, k: int = 20, exclude: Any = None, per_user: bool = False
) -> float | np.ndarray:
    r"""Precision@k :math:`= |L_u^k \cap I_u| / k`."""
    return _topn("precision", scores, relevant, k, exclude, per_user)


def map_at_k(
    scores: Any, relevant: Any, k: int = 20, exclude: Any = None, per_user: bool = False
) -> float | np.ndarray:
    r"""Mean average precision@k:
    :math:`\mathrm{AP@k} = \frac{1}{\min(k,|I_u|)}\sum_{r=1}^{k} \mathrm{P@r}\;
    \mathbb 1[\omega(r) \in I_u]` (the normalisation of RecBole and of ``ml_metrics``)."""
    return _topn("map", scores, relevant, k, exclude, per_user)


def mrr(
    scores: Any,
    relevant: Any,
    k: int | None = None,
    exclude: Any = None,
    per_user: bool = False,
) -> float | np.ndarray:
    r"""Mean reciprocal rank :math:`1/\mathrm{rank}` of the first relevant item (Voorhees,
    TREC-8 QA 1999); over the full ranking when ``k`` is ``None``, else 0 when it is below
    position ``k`` (MRR@k)."""
    return _topn("mrr", scores, relevant, k, exclude, per_user)


for _fn in (ndcg_topn, recall_at_k, precision_at_k, map_at_k, mrr):
    _fn.__doc__ = (_fn.__doc__ or "") + "\n" + _TOPN_PARAMS


def catalogue_coverage(recommended: Any, n_items: int) -> float:
    r"""Catalogue coverage :math:`|\bigcup_u L_u| / n_{items}`: the fraction of items that
    appear in at least one list (Herlocker et al. 2004; Ge et al. 2010). ``recommended`` is
    any integer array of item ids, e.g. slates ``[n_users, k]``."""
    n_items = check_int("n_items", n_items, low=1)
    ids = np.asarray(recommended).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= n_items):
        raise InvalidParameterError(f"recommended holds ids outside [0, {n_items})")
    return len(np.unique(ids)) / n_items
