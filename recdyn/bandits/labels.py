r"""Multi-label data for the multi-label bandit: a calibrated synthetic generator and a
Last.fm-2K proxy for AmazonCat-13K (thesis ch. 4, L2484–2505).

The thesis kept AmazonCat-13K's categories ranked 3rd–102nd by frequency, with BERT
features cut to :math:`d = 400`: 10.73 % of (point, category) entries are positive, the
top 5 of the 100 categories hold 19.22 % of the positives and the bottom 50 hold 19.85 %
(Fig. 4.2 right, L2371), and fewer than 5 % of the points have none of the kept categories
(L2503–2505). AmazonCat is not available here, so:

* :func:`synthetic_multilabel` plants low-rank label structure and is calibrated to those
  statistics. Label ``a`` has frequency :math:`p_a = c\,(a + a_0)^{-\gamma}` with
  :math:`(\gamma, a_0)` solved so that, over 100 labels, the top-5 and bottom-50 shares
  are the targets (:func:`power_law_frequencies`; :math:`\gamma = 1.547`, :math:`a_0 =
  19.0`) and :math:`c` so that their mean is the positivity; labels beyond the 100th
  continue the same law (rarer categories), fewer take the most frequent. A point has a
  latent :math:`z_i \sim N(0, I_k)`; label ``a`` is on when

  .. math:: \langle u_a, z_i\rangle + \sqrt{1 - \rho^2}\,\varepsilon_{ia} > \Phi^{-1}(1 - p_a),
            \qquad u_a = \big(c_0,\ \sqrt{\rho^2 - c_0^2}\, v_a\big),\ v_a \in S^{k-2},

  so :math:`P(Y_{ia} = 1) = p_a` exactly; the common loading :math:`c_0` (``common``)
  makes points differ in how many labels they have and sets the share of points with
  none (≈ 3.7 % at the default 0.5). Features are :math:`x_i = B z_i + \sigma\,\xi_i`
  with :math:`B_{jl} \sim N(0, 1/k)`, :math:`\xi_i \sim N(0, I_d)` and
  :math:`\sigma^2 = (d/k)(1 - R^2)/R^2`, so that the best linear prediction of :math:`z`
  from :math:`x` explains a share :math:`R^2` (``recoverability``) of its variance at any
  :math:`d \ge k` (at :math:`d = 400`, :math:`R^2 = 0.75` puts 11 % of a feature's
  variance in the signal); then standardised by one mean and one standard deviation over
  all entries, as the thesis did with BERT's (L3565).
* :func:`lastfm_multilabel` — Last.fm-2K: artists with at least 5 listeners that carry a
  tag are the points (2,818), the tags ranked 3rd–102nd by the number of such artists are
  the labels, and the features are a truncated SVD (``scipy.sparse.linalg.svds``) of the
  users × artists matrix of :math:`\log(1 + \text{plays})`, artist :math:`j`'s row of
  :math:`V_k S_k`, standardised as above. Its statistics: 97.05 % of points covered,
  positivity 8.38 %, top-5 share 14.81 %, bottom-50 share 27.20 % (:func:`label_statistics`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.seeding import generator

__all__ = [
    "AMAZONCAT_TARGETS",
    "MultiLabelData",
    "label_statistics",
    "lastfm_multilabel",
    "power_law_frequencies",
    "synthetic_multilabel",
]

#: AmazonCat-13K's published statistics with 100 kept categories (L2371, L2503–2505).
AMAZONCAT_TARGETS = {
    "positivity": 0.1073,
    "top5_share": 0.1922,
    "bottom50_share": 0.1985,
    "uncovered": 0.05,  # an upper bound: "less than 5 %"
}


@dataclass(frozen=True)
class MultiLabelData:
    """``features`` float ``[n, d]``, ``labels`` bool ``[n, L]`` (label ``a`` is column
    ``a``, most frequent first), ``names`` the labels' names, ``points`` the points' ids in
    their source (e.g. Last.fm item indices)."""

    features: np.ndarray
    labels: np.ndarray
    names: tuple[str, ...]
    points: np.ndarray

    @property
    def n_points(self) -> int:
        return len(self.features)

    @property
    def dim(self) -> int:
        return self.features.shape[1]

    @property
    def n_labels(self) -> int:
        return self.labels.shape[1]


def label_statistics(labels: np.ndarray) -> dict[str, float]:
    """Positivity (share of positive entries), share of the positives held by the 5 most
    frequent labels and by the bottom half of the labels (the bottom 50 of 100), share of
    points with no label (``uncovered``), and mean labels per point."""
    y = np.asarray(labels, dtype=bool)
    counts = np.sort(y.sum(axis=0))[::-1].astype(float)
    total = counts.sum()
    half = y.shape[1] // 2
    return {
        "positivity": float(y.mean()),
        "top5_share": float(counts[:5].sum() / total) if total else 0.0,
        "bottom50_share": float(counts[y.shape[1] - half :].sum() / total) if total else 0.0,
        "uncovered": float(1.0 - y.any(axis=1).mean()),
        "labels_per_point": float(y.sum(axis=1).mean()),
    }


def _standardise(x: np.ndarray) -> np.ndarray:
    """One mean and one standard deviation over all entries (L3565)."""
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


@functools.lru_cache(maxsize=8)
def _power_law(top5: float, bottom50: float) -> tuple[float, float]:
    from scipy.optimize import fsolve

    a = np.arange(100.0)

    def gap(p: np.ndarray) -> list[float]:
        w = (a + np.exp(p[1])) ** (-p[0])
        w /= w.sum()
        return [w[:5].sum() - top5, w[50:].sum() - bottom50]

    (gamma, log_a0), _, ok, msg = fsolve(gap, [1.0, np.log(5.0)], full_output=True)
    if ok != 1 or max(map(abs, gap(np.array([gamma, log_a0])))) > 1e-8:
        raise InvalidParameterError(
            f"top5_share={top5} and bottom50_share={bottom50} admit no power law "
            f"p_a ∝ (a + a0)^-γ over 100 labels ({msg})"
        )
    return float(gamma), float(np.exp(log_a0))


def power_law_frequencies(
    n_labels: int,
    positivity: float = AMAZONCAT_TARGETS["positivity"],
    top5_share: float = AMAZONCAT_TARGETS["top5_share"],
    bottom50_share: float = AMAZONCAT_TARGETS["bottom50_share"],
) -> np.ndarray:
    """Label frequencies :math:`p_a = c (a + a_0)^{-\\gamma}`, ``a = 0 … n_labels-1``,
    calibrated on 100 labels to the shares and ``positivity`` (module doc)."""
    gamma, a0 = _power_law(float(top5_share), float(bottom50_share))
    w100 = (np.arange(100.0) + a0) ** (-gamma)
    scale = positivity / w100.mean()
    p = scale * (np.arange(float(n_labels)) + a0) ** (-gamma)
    if p.max() >= 1:
        raise InvalidParameterError(
            f"positivity={positivity} gives the most frequent label frequency {p.max():.3f} ≥ 1"
        )
    return p


def synthetic_multilabel(
    n_points: int,
    d: int = 400,
    n_arms: int = 100,
    seed: int = 0,
    *,
    positivity: float = AMAZONCAT_TARGETS["positivity"],
    top5_share: float = AMAZONCAT_TARGETS["top5_share"],
    bottom50_share: float = AMAZONCAT_TARGETS["bottom50_share"],
    rank: int = 16,
    label_signal: float = 0.5,
    common: float = 0.5,
    recoverability: float = 0.75,
) -> MultiLabelData:
    """``n_points`` points with ``d`` features and ``n_arms`` labels, calibrated to
    AmazonCat-13K's statistics (module doc). ``rank`` = :math:`k`, ``label_signal`` =
    :math:`\\rho^2` (share of a label's latent variance explained by :math:`z`),
    ``common`` = :math:`c_0` (:math:`c_0^2 \\le \\rho^2`), ``recoverability`` =
    :math:`R^2` in (0, 1]. Streams ``"bandits"/"labels"/…`` of ``seed``."""
    n = check_int("n_points", n_points, low=1)
    d = check_int("d", d, low=1)
    n_labels = check_int("n_arms", n_arms, low=1)
    seed = check_int("seed", seed, low=0)
    k = check_int("rank", rank, low=2)
    rho2 = check_float("label_signal", label_signal, low=0, high=1)
    c0 = check_float("common", common, low=0, high=1)
    r2 = check_float("recoverability", recoverability, low=0, high=1, low_open=True)
    if c0**2 > rho2:
        raise InvalidParameterError(
            f"common={common} needs common² ≤ label_signal, got label_signal={label_signal}"
        )
    from scipy.special import ndtri

    p = power_law_frequencies(n_labels, positivity, top5_share, bottom50_share)
    g_struct = generator(seed, "bandits", "labels", "structure")
    v = g_struct.standard_normal((n_labels, k - 1))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    loadings = np.concatenate([np.full((n_labels, 1), c0), np.sqrt(rho2 - c0**2) * v], axis=1)
    mixing = g_struct.standard_normal((d, k)) / np.sqrt(k)
    z = generator(seed, "bandits", "labels", "latent").standard_normal((n, k))
    eps = generator(seed, "bandits", "labels", "noise").standard_normal((n, n_labels))
    labels = z @ loadings.T + np.sqrt(1.0 - rho2) * eps > ndtri(1.0 - p)
    xi = generator(seed, "bandits", "labels", "features").standard_normal((n, d))
    sigma = np.sqrt(d / k * (1.0 - r2) / r2)
    features = _standardise(z @ mixing.T + sigma * xi)
    names = tuple(f"label{a}" for a in range(n_labels))
    return MultiLabelData(features, labels, names, np.arange(n))


def lastfm_multilabel(
    dataset: Any = None,
    *,
    dim: int = 400,
    min_listeners: int = 5,
    first_rank: int = 3,
    n_labels: int = 100,
) -> MultiLabelData:
    """Last.fm-2K as multi-label data (module doc): ``dataset`` is the loaded
    ``lastfm-2k`` :class:`~recdyn.datasets.Dataset` (``None``: ``recdyn.datasets.load(
    "lastfm-2k", download=False)``); labels are the tags ranked ``first_rank`` …
    ``first_rank + n_labels - 1`` (ties by tag id); ``dim`` ≤ 400 SVD features (at most
    the number of users or points less one). ARPACK starts from a fixed vector, so the
    features are deterministic; ``dim = 400`` takes ≈ 20 s."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    from recdyn.datasets import load
    from recdyn.datasets.lastfm import lastfm_artist_tags

    dim = check_int("dim", dim, low=1, high=400)
    min_listeners = check_int("min_listeners", min_listeners, low=1)
    first_rank = check_int("first_rank", first_rank, low=1)
    n_labels = check_int("n_labels", n_labels, low=1)
    ds = load("lastfm-2k", download=False) if dataset is None else dataset
    tags = lastfm_artist_tags(ds)
    x = ds.interactions
    listeners = np.bincount(x.item, minlength=ds.n_items)
    points = np.intersect1d(np.flatnonzero(listeners >= min_listeners), tags["item"].unique())
    tags = tags[np.isin(tags["item"].to_numpy(), points)]
    freq = tags.groupby("tag", sort=True)["item"].nunique()
    order = freq.sort_values(ascending=False, kind="stable").index.to_numpy()
    kept = order[first_rank - 1 : first_rank - 1 + n_labels]
    if len(kept) < n_labels:
        raise InvalidParameterError(
            f"n_labels={n_labels} from rank {first_rank}: only {len(order)} tags are on the "
            f"{len(points)} artists with ≥ {min_listeners} listeners"
        )
    column = {t: j for j, t in enumerate(kept)}
    hit = tags[tags["tag"].isin(kept)]
    labels = np.zeros((len(points), n_labels), dtype=bool)
    labels[np.searchsorted(points, hit["item"].to_numpy()),
           [column[t] for t in hit["tag"].to_numpy()]] = True  # fmt: skip
    names_of = tags.drop_duplicates("tag").set_index("tag")["value"]
    names = tuple(str(names_of[t]) for t in kept)

    on = np.isin(x.item, points)
    plays = sp.csr_matrix(
        (np.log1p(x.rating[on].astype(float)), (x.user[on], np.searchsorted(points, x.item[on]))),
        shape=(ds.n_users, len(points)),
    )
    if dim >= min(plays.shape):
        raise InvalidParameterError(
            f"dim={dim} must be below min(users, points) = {min(plays.shape)}"
        )
    v0 = np.full(min(plays.shape), 1.0 / np.sqrt(min(plays.shape)))
    _, s, vt = svds(plays, k=dim, v0=v0)
    order_s = np.argsort(s)[::-1]
    features = _standardise(vt[order_s].T * s[order_s])
    return MultiLabelData(features, labels, names, points)
