r"""Beyond-accuracy metrics of ranked lists (issue 21): exposure, popularity, diversity,
calibration. Pure functions over arrays.

Every function reads ``slates``, int ``[n_users, k]``: row ``u`` is user ``u``'s list
:math:`L_u`, best first, ``-1`` an empty slot (nothing shown; it is not an item). ``k``
(optional) keeps the first ``k`` columns. Per-user values are averaged over the users for
whom they are defined (``per_user=True``: the per-user array, NaN where undefined).
Notation: :math:`e_i = \sum_u \mathbb 1[i \in L_u]` the exposure of item ``i``,
:math:`pop(i)` its popularity (number of interactions, or of users who rated it),
:math:`H_u` the history (profile) of user ``u``, :math:`n` the number of items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError

__all__ = [
    "GROUPS",
    "aplt",
    "arp",
    "calibration_kl",
    "effective_catalogue_size",
    "entropy_index",
    "exposure_counts",
    "exposure_entropy",
    "exposure_gini",
    "gini_index",
    "intra_list_diversity",
    "list_distribution",
    "long_tail",
    "miscalibration",
    "popular_items",
    "popularity_lift",
    "popularity_lift_of",
]

#: The user groups of :func:`popularity_lift`, least to most popularity-minded.
GROUPS = ("niche", "diverse", "blockbuster")


# ----------------------------------------------------------------------------- checks
def check_slates(slates: Any, n_items: int, k: int | None = None) -> np.ndarray:
    """``slates`` as int64 ``[n_users, k]`` (the first ``k`` columns when given), every
    entry an item id in ``[0, n_items)`` or ``-1``; else an error naming the argument."""
    s = np.asarray(slates)
    if s.ndim != 2 or not (np.issubdtype(s.dtype, np.integer) or s.size == 0):
        raise InvalidParameterError(
            f"slates must be an integer [n_users, k] array, got shape {s.shape} of {s.dtype}"
        )
    s = s.astype(np.int64, copy=False)
    if k is not None:
        k = check_int("k", k, low=1, high=max(1, s.shape[1]))
        s = s[:, :k]
    if s.size and (s.min() < -1 or s.max() >= n_items):
        bad = s[(s < -1) | (s >= n_items)][0]
        raise InvalidParameterError(
            f"slates holds item id {int(bad)}, outside [0, {n_items}) (-1: an empty slot)"
        )
    return s


def _vector(name: str, values: Any) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or not np.isfinite(v).all() or (v < 0).any():
        raise InvalidParameterError(
            f"{name} must be a 1-D array of finite non-negative numbers (one per item), "
            f"got shape {v.shape}"
        )
    return v


def _share(name: str, value: Any) -> float:
    return check_float(name, value, low=0.0, high=1.0, low_open=True, high_open=True)


def _rows(name: str, matrix: Any, shape: tuple[int, int]) -> Any:
    m = (
        sp.csr_array(matrix, dtype=np.float64, copy=True)
        if sp.issparse(matrix)
        else np.asarray(matrix)
    )
    if m.shape != shape:
        raise InvalidParameterError(f"{name} must have shape {shape}, got {m.shape}")
    if not sp.issparse(m):
        m = m.astype(np.float64)
    return m


def _categories(categories: Any, n_items: int | None = None) -> np.ndarray:
    if categories is None:
        raise InvalidParameterError(
            "categories is None: this metric needs each item's categories, float [n_items, "
            "n_categories] (environment.item_categories(), recdyn.datasets.item_categories)"
        )
    c = np.asarray(categories, dtype=np.float64)
    if c.ndim != 2 or (n_items is not None and c.shape[0] != n_items):
        want = "[n_items, n_categories]" if n_items is None else f"[{n_items}, n_categories]"
        raise InvalidParameterError(f"categories must have shape {want}, got {c.shape}")
    if not np.isfinite(c).all() or (c < 0).any():
        raise InvalidParameterError("categories must hold finite non-negative weights")
    return c


def _mean(values: np.ndarray, per_user: bool) -> float | np.ndarray:
    if per_user:
        return values
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else float("nan")


# ----------------------------------------------------------------------------- exposure
def exposure_counts(slates: Any, n_items: int, *, k: int | None = None) -> np.ndarray:
    r"""Exposure :math:`e_i = \sum_u \mathbb 1[i \in L_u]` of every item, int64 ``[n_items]``
    (empty slots are not counted)."""
    n_items = check_int("n_items", n_items, low=1)
    s = check_slates(slates, n_items, k)
    return np.bincount(s[s >= 0], minlength=n_items).astype(np.int64)


def gini_index(values: Any) -> float:
    r"""Gini index of non-negative values (exposures), sorted ascending
    :math:`e_{(1)} \le \dots \le e_{(n)}`:

    .. math:: G = \frac{\sum_{j=1}^{n} (2j - n - 1)\, e_{(j)}}{n \sum_j e_{(j)}}
              \in [0, 1 - 1/n]

    (divided by :math:`n`, as RecBole's ``GiniIndex`` and the seeds' digest §4.2; dividing
    by :math:`n-1` instead would reach 1). 0: every item equally exposed; :math:`1 - 1/n`:
    one item gets everything. NaN when nothing was exposed."""
    e = np.sort(_vector("values", values))
    n, total = len(e), e.sum()
    if not n or total <= 0:
        return float("nan")
    return float(np.dot(2.0 * np.arange(1, n + 1) - n - 1.0, e) / (n * total))


def exposure_gini(slates: Any, n_items: int, *, k: int | None = None) -> float:
    """:func:`gini_index` of the exposures :func:`exposure_counts` of every item (items
    never shown count, with exposure 0)."""
    return gini_index(exposure_counts(slates, n_items, k=k))


def entropy_index(values: Any) -> float:
    r"""Shannon entropy (nats) of the shares :math:`q_i = e_i / \sum_j e_j`:
    :math:`H = -\sum_i q_i \ln q_i` (:math:`0 \ln 0 = 0`); NaN when the sum is 0."""
    e = _vector("values", values)
    total = e.sum()
    if total <= 0:
        return float("nan")
    q = e[e > 0] / total
    return float(-np.sum(q * np.log(q)))


def exposure_entropy(slates: Any, n_items: int, *, k: int | None = None) -> float:
    r"""Entropy of exposure :math:`H = -\sum_i q_i \ln q_i`, :math:`q_i = e_i/\sum_j e_j`
    (nats; the seeds' digest §4.1, RecBole's ``ShannonEntropy``); at most :math:`\ln n`."""
    return entropy_index(exposure_counts(slates, n_items, k=k))


def effective_catalogue_size(slates: Any, n_items: int, *, k: int | None = None) -> float:
    r"""Effective catalogue size :math:`\exp(H)` of :func:`exposure_entropy`: the number of
    equally exposed items with the same entropy (1 to ``n_items``)."""
    return float(np.exp(exposure_entropy(slates, n_items, k=k)))


# ----------------------------------------------------------------------------- popularity
def long_tail(popularity: Any, *, head_share: float = 0.2) -> np.ndarray:
    r"""Boolean ``[n_items]``: the long tail :math:`\Gamma`, the items outside the *head*.

    The head is the most popular items that together carry ``head_share`` of all
    interactions: items sorted by popularity (descending) join the head until their
    cumulative popularity reaches ``head_share`` of the total; every item as popular as
    the last one to join joins too (ties are never split by id). Items of popularity 0
    are always in the tail. (Abdollahpouri, Burke & Mobasher 2019, with the head share a
    parameter, default 0.2.)"""
    pop = _vector("popularity", popularity)
    head_share = _share("head_share", head_share)
    total = pop.sum()
    if total <= 0:
        return np.ones(len(pop), bool)
    ordered = np.sort(pop)[::-1]
    last = int(np.searchsorted(np.cumsum(ordered), head_share * total * (1 - 1e-12)))
    threshold = ordered[min(last, len(pop) - 1)]
    return ~((pop >= threshold) & (pop > 0))


def _list_means(s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over each row's shown items (NaN for an empty row)."""
    shown = s >= 0
    got = np.where(shown, values[np.maximum(s, 0)], 0.0).sum(axis=1)
    count = shown.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, got / count, np.nan)


def arp(
    slates: Any, popularity: Any, *, k: int | None = None, per_user: bool = False
) -> float | np.ndarray:
    r"""Average recommendation popularity (Abdollahpouri, Burke & Mobasher, FLAIRS 2019):
    :math:`\mathrm{ARP} = \frac{1}{|U|}\sum_u \frac{1}{|L_u|}\sum_{i \in L_u} pop(i)`
    (users with an empty list left out)."""
    pop = _vector("popularity", popularity)
    return _mean(_list_means(check_slates(slates, len(pop), k), pop), per_user)


def aplt(
    slates: Any,
    popularity: Any,
    *,
    head_share: float = 0.2,
    k: int | None = None,
    per_user: bool = False,
) -> float | np.ndarray:
    r"""Average percentage of long-tail items (Abdollahpouri et al., FLAIRS 2019):
    :math:`\mathrm{APLT} = \frac{1}{|U|}\sum_u \frac{|L_u \cap \Gamma|}{|L_u|}`, with
    :math:`\Gamma` the :func:`long_tail` of ``popularity`` for ``head_share``."""
    pop = _vector("popularity", popularity)
    tail = long_tail(pop, head_share=head_share).astype(np.float64)
    return _mean(_list_means(check_slates(slates, len(pop), k), tail), per_user)


def popular_items(popularity: Any, *, share: float = 0.2) -> np.ndarray:
    """Boolean ``[n_items]``: the ``ceil(share · n_items)`` most popular items (every item
    tied with the last of them too; never an item of popularity 0) — Abdollahpouri et al.
    2019's popular items :math:`I_H`, "the top 20 %" by number of ratings."""
    pop = _vector("popularity", popularity)
    share = _share("share", share)
    m = max(1, int(np.ceil(share * len(pop) - 1e-9)))
    threshold = np.sort(pop)[::-1][m - 1]
    return (pop >= threshold) & (pop > 0)


def popularity_lift_of(
    history_share: np.ndarray,
    history_pop: np.ndarray,
    list_pop: np.ndarray,
    *,
    group_share: float = 0.2,
) -> dict[str, float]:
    r"""Popularity lift per user group from per-user arrays (:func:`popularity_lift` on
    what it computes): ``history_share`` the share of popular items in each user's
    history, ``history_pop`` / ``list_pop`` the mean popularity of the history / list
    items (NaN where empty; such users are left out). Users are ordered by
    ``history_share`` (ties by row order); the first :math:`\lfloor g m \rfloor` of the
    :math:`m` users are *niche*, the last :math:`\lfloor g m \rfloor` *blockbuster*, the rest
    *diverse* (``g`` = ``group_share`` < 0.5); ``"all"`` is every user. Each value is
    :math:`(GAP_r - GAP_p)/GAP_p`, NaN for an empty group or :math:`GAP_p = 0`."""
    group_share = check_float(
        "group_share", group_share, low=0.0, high=0.5, low_open=True, high_open=True
    )
    ok = ~(np.isnan(history_pop) | np.isnan(list_pop) | np.isnan(history_share))
    share, gap_p, gap_r = history_share[ok], history_pop[ok], list_pop[ok]
    order = np.argsort(share, kind="stable")
    m = len(order)
    cut = int(np.floor(group_share * m + 1e-9))
    members = {
        "niche": order[:cut],
        "diverse": order[cut : m - cut],
        "blockbuster": order[m - cut :] if cut else order[:0],
        "all": order,
    }
    out = {}
    for name, rows in members.items():
        p = gap_p[rows].mean() if len(rows) else np.nan
        r = gap_r[rows].mean() if len(rows) else np.nan
        out[name] = float((r - p) / p) if len(rows) and p > 0 else float("nan")
    return out


def popularity_lift(
    slates: Any,
    history: Any,
    popularity: Any,
    *,
    popular_share: float = 0.2,
    group_share: float = 0.2,
    k: int | None = None,
) -> dict[str, float]:
    r"""Popularity lift per user group (Abdollahpouri, Mansoury, Burke & Mobasher, "The
    Unfairness of Popularity Bias in Recommendation", RMSE workshop 2019, arXiv
    1907.13286):

    .. math:: GAP_p(G) = \frac{1}{|G|}\sum_{u \in G}\frac{\sum_{i \in H_u} pop(i)}{|H_u|},
              \quad GAP_r(G) = \frac{1}{|G|}\sum_{u \in G}\frac{\sum_{i \in L_u} pop(i)}{|L_u|},
              \quad PL(G) = \frac{GAP_r(G) - GAP_p(G)}{GAP_p(G)}.

    Groups: the popular items are :func:`popular_items` (top ``popular_share`` of items,
    default 20 %); users are ranked by the share of popular items in their history; the
    bottom ``group_share`` (20 %) are *niche*, the top 20 % *blockbuster*, the rest
    *diverse* (:func:`popularity_lift_of`; ``"all"``: every user). Users with an empty
    history or list are left out.

    Parameters
    ----------
    slates : the lists, one row per user. history : bool (or 0/1) ``[n_users, n_items]``,
        dense or scipy sparse: each user's profile :math:`H_u`. popularity : ``[n_items]``.

    Returns ``{"niche", "diverse", "blockbuster", "all"} → PL``.
    """
    pop = _vector("popularity", popularity)
    s = check_slates(slates, len(pop), k)
    h = _rows("history", history, (s.shape[0], len(pop)))
    if sp.issparse(h):
        h.data = (h.data != 0).astype(np.float64)
    else:
        h = (h != 0).astype(np.float64)
    size = np.asarray(h.sum(axis=1)).ravel()
    popular = popular_items(pop, share=popular_share).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(size > 0, np.asarray(h @ popular).ravel() / size, np.nan)
        hist = np.where(size > 0, np.asarray(h @ pop).ravel() / size, np.nan)
    return popularity_lift_of(share, hist, _list_means(s, pop), group_share=group_share)


# ----------------------------------------------------------------------------- diversity
def intra_list_diversity(
    slates: Any, item_vectors: Any, *, k: int | None = None, per_user: bool = False
) -> float | np.ndarray:
    r"""Intra-list diversity (Ziegler et al., WWW 2005; the seeds' digest §4.3): the mean
    over each list's pairs of items of :math:`1 - \cos(v_i, v_j)`,

    .. math:: ILD(L) = \frac{2}{|L|(|L|-1)} \sum_{i < j \in L} \big(1 - \cos(v_i, v_j)\big),

    averaged over users. ``item_vectors`` ``[n_items, d]``: the item categories
    :math:`p(\cdot \mid i)` (``environment.item_categories()``; by default in the online
    ``ild``) or any item embeddings. Pairs with an item whose vector is zero (no
    category) are left out; a list with no pair left (fewer than two shown items) is
    undefined."""
    v = _categories(item_vectors)
    s = check_slates(slates, v.shape[0], k)
    x = v[np.maximum(s, 0)]  # [n_users, k, d]
    norm = np.sqrt(np.einsum("nkd,nkd->nk", x, x))
    valid = (s >= 0) & (norm > 0)
    scale = np.divide(1.0, norm, out=np.zeros_like(norm), where=valid)
    # sum over pairs i < j of cos = (|sum of unit vectors|^2 - m) / 2, m = valid items
    summed = np.einsum("nkd,nk->nd", x, scale)
    m = valid.sum(axis=1)
    n_pairs = m * (m - 1) / 2
    cos = (np.einsum("nd,nd->n", summed, summed) - m) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(n_pairs > 0, 1.0 - cos / n_pairs, np.nan)
    return _mean(np.clip(values, 0.0, 2.0), per_user)


# ----------------------------------------------------------------------------- calibration
def list_distribution(slates: np.ndarray, categories: np.ndarray) -> np.ndarray:
    r"""Each list's category distribution :math:`q(g \mid u) = \sum_{i \in L_u} p(g \mid
    i) / \sum_{i \in L_u} \sum_{g'} p(g' \mid i)` (uniform rank weights; items without a
    category add nothing), float ``[n_users, n_categories]``; a zero row when no shown
    item has a category. ``slates`` already checked (:func:`check_slates`)."""
    shown = (slates >= 0)[..., None]
    q = np.where(shown, categories[np.maximum(slates, 0)], 0.0).sum(axis=1)
    total = q.sum(axis=1, keepdims=True)
    return np.divide(q, total, out=np.zeros_like(q), where=total > 0)


def calibration_kl(p: np.ndarray, q: np.ndarray, *, alpha: float = 0.01) -> np.ndarray:
    r"""Steck's miscalibration of each row (Steck, "Calibrated recommendations", RecSys
    2018, eq. 3): :math:`C_{KL}(p, q) = \sum_g p(g) \ln \frac{p(g)}{\tilde q(g)}`,
    :math:`\tilde q = (1-\alpha) q + \alpha p` (:math:`0 \ln 0 = 0`; at most
    :math:`\ln(1/\alpha)`, where ``q`` misses all of ``p``); NaN for a zero row of ``p``."""
    alpha = _share("alpha", alpha)
    q_tilde = (1.0 - alpha) * q + alpha * p
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(p > 0, p * np.log(p / q_tilde), 0.0)
    return np.where(p.sum(axis=1) > 0, terms.sum(axis=1), np.nan)


def miscalibration(
    slates: Any,
    history: Any,
    categories: Any,
    *,
    alpha: float = 0.01,
    k: int | None = None,
    per_user: bool = False,
) -> float | np.ndarray:
    r"""Mean miscalibration :math:`C_{KL}` of the lists against the users' histories
    (Steck, RecSys 2018; :func:`calibration_kl` with :math:`\alpha` = 0.01):
    :math:`p(g \mid u) = \sum_{i \in H_u} w_{ui}\, p(g \mid i) / \sum_{i, g'} w_{ui}\,
    p(g' \mid i)`, :math:`q(g \mid u)` by :func:`list_distribution`, averaged over users.

    Parameters
    ----------
    history : ``[n_users, n_items]`` weights :math:`w_{ui}` (bool or 0/1: the items each
        user rated; dense or scipy sparse), one row per row of ``slates``.
    categories : ``[n_items, n_categories]``, :math:`p(g \mid i)` per row
        (``environment.item_categories()``, :func:`recdyn.datasets.item_categories`).

    A user whose history has no item with a category is undefined (left out).
    """
    c = _categories(categories)
    s = check_slates(slates, c.shape[0], k)
    alpha = _share("alpha", alpha)
    h = _rows("history", history, (s.shape[0], c.shape[0]))
    p = np.asarray(h @ c)
    total = p.sum(axis=1, keepdims=True)
    p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    return _mean(calibration_kl(p, list_distribution(s, c), alpha=alpha), per_user)
