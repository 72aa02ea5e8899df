r"""The ``exposure-audit`` study's Last.fm-2K **tag-proxy** audit (thesis ch. 5, Fig. 5.5,
L4187–4214; issue 19 item 6).

Source: Krauth, *The Dynamics of Recommender Systems*, ch. 5
(``shared/seeds/003_a5cce31751248cea.txt``, ``L…`` below), read with
``shared/research/wave2_scoping.md`` §C.

**Substitution.** The thesis audits Last.fm-360K with artist gender (L4977); only
Last.fm-2K is here, without it. The two groups are the artists users tagged
"female vocalists" (group 0) and "male vocalists" (group 1; the group the thesis finds
favoured), artists with both or neither tag unlabelled (−1): a *tag proxy*. In the 2011
files, among artists with ≥ 5 listeners, 567 carry only the first tag and 377 only the
second (26 both): unlike the thesis's data, the proxy's **majority is group 0**.

**Ratings** (L4068: "trained to predict the user ratings (centered in the PMF case)").
Play counts are implicit (1 to 352,698, median 260); the models fit
:func:`~recdyn.environments.fitting.plays_to_ratings`, :math:`\log(\text{plays})` mapped
affinely so that its 5 % / 95 % quantiles land on 1 / 5, clipped — the transform of the
repository's ``lastfm-2k-v1`` world. Measured (2-fold 90/10 CV, ≥ 5 listeners, seed 0)
against ``log1p(plays)``: the same share of variance explained (R² 0.63 / 0.63 PMF d = 3,
0.64 / 0.64 NMF d = 3), but on the 1–5 scale the ML-100K regularisation grids
(:data:`~._exposure_units.TUNING_GRIDS`) bracket the optimum for both models, whereas
``log1p`` puts NMF's at the grid's edge.

**Artists** are restricted to those with ≥ :data:`MIN_LISTENERS` listeners (2,828 of
17,632; 77 % of the play counts; users left with none are dropped: 1,881 of 1,892
remain): the tuning of d = 50 on all artists took 70–120 s per unit on two cores, 35–51 s
on these, and artists with fewer listeners have barely determined embeddings and tags.

**Neighbourhood curves** (Fig. 5.5). For each strategy :math:`s_i` and each baseline
(learned, pre-adaptation) embedding :math:`b_a` of a labelled artist, the cosine distance
:math:`1 - \langle s_i, b_a\rangle / (\|s_i\|\|b_a\|)` ranks the labelled artists;
:math:`N_k(s_i)` are the ``k`` nearest (ties by index). Then (both > 0 means "towards
group 1", the caption's sign, L4200–4205)

* left: :math:`F_k = (\#\{a \in N_k: g_a = 1\} - \#\{a \in N_k: g_a = 0\}) / k`;
* right: :math:`D_k = \mathrm{median}_{a \in N_k, g_a = 0}\, \mathrm{dist}
  - \mathrm{median}_{a \in N_k, g_a = 1}\, \mathrm{dist}` (NaN when either group is
  absent from :math:`N_k`, e.g. always at k = 1),

each averaged over the strategies of a profile (:math:`D_k`: over those where it is
defined). As k reaches the number of labelled artists, :math:`F_k` becomes the
population's difference :math:`F_\infty = (n_1 - n_0) / (n_0 + n_1)` (L4210–4211: "the
gender imbalance also explains why the proportion stabilizes").

**Findings**: :mod:`recdyn.studies._exposure_lastfm_findings`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from recdyn._validation import check_int
from recdyn.errors import InvalidParameterError
from recdyn.reporting import figures as fig
from recdyn.studies._exposure_units import pack

__all__ = [
    "DATASET",
    "FEMALE",
    "FRAME_KS",
    "KS",
    "LARGE_K",
    "MALE",
    "MIN_LISTENERS",
    "PROXY_TAGS",
    "SMALL_K",
    "LastfmRatings",
    "artist_groups",
    "lastfm_figure",
    "lastfm_ratings",
    "neighbourhood_curves",
    "run_lastfm_embedding_unit",
    "run_statistics",
]

DATASET = "lastfm-2k"
#: The proxy's tags (``tags.dat``): the first is group 0, the second group 1.
PROXY_TAGS: dict[str, int] = {"female vocalists": 130, "male vocalists": 306}
FEMALE, MALE, UNLABELLED = 0, 1, -1
#: Artists with fewer listeners (users with a play count) are left out (module doc).
MIN_LISTENERS = 5
#: Neighbourhood sizes of the figure (log-spaced, 1 to 200).
KS: tuple[int, ...] = tuple(int(k) for k in np.unique(np.geomspace(1, 200, 24).round()))
#: Neighbourhood sizes kept per run in the findings' frame; the findings' small / large k.
FRAME_KS: tuple[int, ...] = (1, 10, 100, 200)
SMALL_K, LARGE_K = 10, 200


class LastfmRatings(NamedTuple):
    """What the embedding models fit: ``interactions`` over ``len(users)`` users and
    ``len(artists)`` items, where fit user ``j`` is dataset user ``users[j]`` and fit item
    ``a`` is dataset item ``artists[a]``."""

    interactions: Any
    users: np.ndarray
    artists: np.ndarray


def _listeners(dataset: Any) -> np.ndarray:
    return np.bincount(dataset.interactions.item, minlength=dataset.n_items)


def artist_groups(
    dataset: Any, *, tags: Mapping[str, int] = PROXY_TAGS, min_listeners: int = MIN_LISTENERS
) -> np.ndarray:
    """int8 ``[n_items]`` of the Last.fm-2K ``dataset``: 0 / 1 for artists carrying only
    the first / second tag of ``tags`` (name → ``tagID``), −1 for both, neither, or fewer
    than ``min_listeners`` listeners. An :class:`InvalidParameterError` names ``tags`` when
    a tag is missing from ``tags.dat``, has another text there, or is on no artist."""
    from recdyn.datasets.lastfm import lastfm_artist_tags

    min_listeners = check_int("min_listeners", min_listeners, low=1)
    if len(tags) != 2 or len(set(tags.values())) != 2:
        raise InvalidParameterError(f"tags must map two names to two tag ids, got {tags!r}")
    table = lastfm_artist_tags(dataset)
    has = []
    for name, tag in tags.items():
        rows = table[table["tag"] == tag]
        if rows.empty:
            raise InvalidParameterError(
                f"tags: the audit group label {name!r} (tag id {tag}) is missing from the "
                f"data: no artist of {dataset.path} carries it (tags.dat / "
                "user_taggedartists.dat)"
            )
        if rows["value"].iloc[0] != name:
            raise InvalidParameterError(
                f"tags: tag id {tag} is {rows['value'].iloc[0]!r} in {dataset.path}/tags.dat, "
                f"not {name!r}"
            )
        mark = np.zeros(dataset.n_items, dtype=bool)
        mark[rows["item"].to_numpy()] = True
        has.append(mark)
    groups = np.full(dataset.n_items, UNLABELLED, dtype=np.int8)
    groups[has[0] & ~has[1]] = FEMALE
    groups[has[1] & ~has[0]] = MALE
    groups[_listeners(dataset) < min_listeners] = UNLABELLED
    return groups


def lastfm_ratings(dataset: Any, *, min_listeners: int = MIN_LISTENERS) -> LastfmRatings:
    """The play counts of artists with ≥ ``min_listeners`` listeners as 1–5 ratings
    (:func:`~recdyn.environments.fitting.plays_to_ratings` on these counts), with users and
    artists renumbered to those that remain (module doc)."""
    from recdyn.environments.fitting import plays_to_ratings
    from recdyn.interactions import Interactions

    min_listeners = check_int("min_listeners", min_listeners, low=1)
    x = dataset.interactions
    keep = _listeners(dataset)[x.item] >= min_listeners
    if not keep.any():
        raise InvalidParameterError(
            f"min_listeners={min_listeners} leaves no artist of {dataset.name}"
        )
    users, user = np.unique(x.user[keep], return_inverse=True)
    artists, item = np.unique(x.item[keep], return_inverse=True)
    rating = plays_to_ratings(x.rating[keep]).astype(np.float32)
    data = Interactions(user, item, rating, np.zeros(len(user), dtype=x.step.dtype))
    return LastfmRatings(data, users, artists)


def run_lastfm_embedding_unit(
    *,
    model: str,
    d: int,
    seed: int,
    grid: dict[str, list[float]],
    min_listeners: int = MIN_LISTENERS,
    folds: int = 2,
    test_fraction: float = 0.1,
) -> dict[str, Any]:
    """:func:`~._exposure_units.run_embedding_unit` on Last.fm-2K's ratings
    (:func:`lastfm_ratings`): the tuned ``model``'s user and artist embeddings, each
    artist's group (``groups``, :func:`artist_groups`), its dataset item index
    (``artists``), the chosen parameters, the CV RMSE and the seconds taken."""
    from recdyn.datasets import load
    from recdyn.evaluation import tune_embeddings

    start = time.perf_counter()
    ds = load(DATASET, download=False)
    fit = lastfm_ratings(ds, min_listeners=min_listeners)
    tuned = tune_embeddings(
        model,
        fit.interactions,
        {**grid, "n_factors": [d]},
        len(fit.users),
        len(fit.artists),
        seed=seed,
        folds=folds,
        test_fraction=test_fraction,
    )
    groups = artist_groups(ds, min_listeners=min_listeners)[fit.artists]
    return {
        "users": pack(tuned.user_factors),
        "items": pack(tuned.item_factors),
        "groups": pack(groups, "int8"),
        "artists": pack(fit.artists, "int32"),
        "best_params": {k: float(v) for k, v in tuned.best_params.items()},
        "cv_rmse": float(tuned.search.best_score),
        "seconds": time.perf_counter() - start,
    }


def _medians(dist: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of the first ``counts[r, j]`` entries of each sorted row ``dist[r]``."""
    if dist.shape[1] == 0:
        return np.full(counts.shape, np.nan)
    lo = np.clip((counts - 1) // 2, 0, None)
    hi = np.clip(counts // 2, 0, dist.shape[1] - 1)
    med = (np.take_along_axis(dist, lo, 1) + np.take_along_axis(dist, hi, 1)) / 2
    return np.where(counts > 0, med, np.nan)


def neighbourhood_curves(
    strategies: np.ndarray, items: np.ndarray, groups: np.ndarray, ks: Sequence[int]
) -> dict[str, Any]:
    """The module doc's :math:`F_k` (``fraction``) and :math:`D_k` (``distance``) of
    profiles ``strategies`` ``[..., n, d]`` against baseline ``items`` ``[N, d]`` labelled
    ``groups`` ``[N]`` (0, 1, −1; zero-norm items count as unlabelled), for each ``k`` of
    ``ks`` (1 ≤ k ≤ the labelled count): arrays ``[..., len(ks)]`` averaged over each
    profile's strategies, with ``ks`` and ``population`` (:math:`F_\\infty`)."""
    s = np.asarray(strategies, dtype=np.float64)
    items = np.asarray(items, dtype=np.float64)
    groups = np.asarray(groups)
    if s.ndim < 2 or items.ndim != 2 or s.shape[-1] != items.shape[1]:
        raise InvalidParameterError(
            f"strategies [..., n, d] and items [N, d] must share d, got shapes {s.shape} "
            f"and {items.shape}"
        )
    if groups.shape != (len(items),) or not np.isin(groups, (-1, 0, 1)).all():
        raise InvalidParameterError(f"groups must be {len(items)} values in {{-1, 0, 1}}")
    norm = np.linalg.norm(items, axis=1)
    lab = (groups >= 0) & (norm > 0)
    b, g = items[lab] / norm[lab, None], groups[lab]
    k = np.asarray(ks)
    if k.ndim != 1 or not len(k) or not np.issubdtype(k.dtype, np.integer):
        raise InvalidParameterError(f"ks must be a non-empty list of integers, got {ks!r}")
    if k.min() < 1 or k.max() > len(b):
        raise InvalidParameterError(
            f"ks must lie in [1, {len(b)}] (the labelled artists), got {k.min()}…{k.max()}"
        )
    snorm = np.linalg.norm(s, axis=-1, keepdims=True)
    if (snorm == 0).any():
        raise InvalidParameterError("strategies must be non-zero vectors")
    flat = (s / snorm).reshape(-1, s.shape[-1])
    dist = 1.0 - flat @ b.T  # [R, L]
    order = np.argsort(dist, axis=1, kind="stable")
    dist = np.take_along_axis(dist, order, 1)
    gs = g[order]
    n_male = np.cumsum(gs == MALE, axis=1)[:, k - 1]
    n_female = np.cumsum(gs == FEMALE, axis=1)[:, k - 1]
    fraction = (n_male - n_female) / k
    rows = len(flat)
    female = dist[gs == FEMALE].reshape(rows, -1)
    male = dist[gs == MALE].reshape(rows, -1)
    distance = _medians(female, n_female) - _medians(male, n_male)
    shape = (*s.shape[:-2], s.shape[-2], len(k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN means stay NaN
        dist_mean = np.nanmean(distance.reshape(shape), axis=-2)
    return {
        "ks": k.copy(),
        "fraction": fraction.reshape(shape).mean(axis=-2),
        "distance": dist_mean,
        "population": float(((g == MALE).sum() - (g == FEMALE).sum()) / len(g)),
    }


def run_statistics(
    items: np.ndarray, groups: np.ndarray, strategies: np.ndarray, ks: Sequence[int] = FRAME_KS
) -> dict[str, float]:
    """One profile's frame columns: ``population``, ``frac_k{k}``, ``dist_k{k}``."""
    c = neighbourhood_curves(strategies, items, groups, ks)
    out = {"population": c["population"]}
    out.update({f"frac_k{k}": float(v) for k, v in zip(c["ks"], c["fraction"])})
    out.update({f"dist_k{k}": float(v) for k, v in zip(c["ks"], c["distance"])})
    return out


def lastfm_figure(curves_by_setting: Mapping[str, Mapping[str, Any]], out: Path) -> Path:
    """Fig. 5.5: :math:`F_k` (left) and :math:`D_k` (right) against k (log axis), one line
    per setting label (its curves averaged over runs, NaNs skipped), dashed at the
    population's :math:`F_\\infty` (left) and 0 (right); ``out/lastfm_neighbourhoods.png``."""
    figure, axes, legend = fig.grid(2, n_legend=len(curves_by_setting))
    handles, labels = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for label, c in curves_by_setting.items():
            for ax, key in zip(axes, ("fraction", "distance")):
                y = np.nanmean(np.asarray(c[key], float).reshape(-1, len(c["ks"])), axis=0)
                (line,) = ax.plot(c["ks"], y, marker=".", label=label)
            handles.append(line)
            labels.append(label)
    pops = [c["population"] for c in curves_by_setting.values()]
    if pops:
        axes[0].axhline(float(np.mean(pops)), color="k", linestyle="--", linewidth=1)
    axes[1].axhline(0.0, color="k", linestyle="--", linewidth=1)
    axes[0].set_ylabel("F_k: share male- − female-tagged")
    axes[1].set_ylabel("D_k: median dist. female − male")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("neighbourhood size k (labelled artists)")
        fig.style_axes(ax)
    if not handles:
        axes[0].text(0.5, 0.5, "no kept runs", ha="center", transform=axes[0].transAxes)
    return fig.save(figure, Path(out) / "lastfm_neighbourhoods.png", handles, labels, legend)
