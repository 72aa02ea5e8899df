r"""Item categories of a real dataset: MovieLens genres, Last.fm tags (issue 21).

:func:`item_categories` returns, for every item of a :class:`~recdyn.datasets.Dataset`,
its distribution over categories :math:`p(g \mid i)`, uniform over the item's categories
(Steck 2018, §2: "e.g. uniform over an item's genres"), and the categories' names:

* **ML-100K** — the 19 genre flags of ``u.item`` in ``u.genre``'s order ("unknown",
  "Action", … "Western"; "unknown" is kept as the file's own genre);
* **ML-1M, ml-latest-small** — the genres of ``movies.dat`` / ``movies.csv`` ("a|b|c"),
  sorted by name; "(no genres listed)" is no category;
* **Last.fm 2K** — tags from ``user_taggedartists.dat``: the vocabulary is the ``n_tags``
  tags applied most often over the whole dataset (count of (user, artist) assignments,
  ties by tag id), and an artist's categories are its ``tags_per_item`` vocabulary tags
  applied by most users (ties by the tag's global rank). Other tags are dropped.

An item with no category (no genre listed, an artist with no vocabulary tag) gets an
all-zero row: rows sum to 1 or to 0. Callers that need every item to have a category (a
calibration target) say so with an error naming their argument.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recdyn._validation import check_int
from recdyn.datasets.dataset import Dataset
from recdyn.datasets.lastfm import lastfm_artist_tags
from recdyn.errors import InvalidParameterError

__all__ = ["item_categories"]

_MOVIELENS = ("ml-100k", "ml-1m", "ml-latest-small")


def item_categories(
    dataset: Dataset, *, n_tags: int = 20, tags_per_item: int = 3, verify: bool = True
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The categories of every item of ``dataset`` (see the module docstring).

    Parameters
    ----------
    dataset : a loaded :class:`~recdyn.datasets.Dataset` (``recdyn.datasets.load(name)``).
    n_tags : Last.fm only: the size of the tag vocabulary (the most used tags).
    tags_per_item : Last.fm only: at most this many vocabulary tags per artist.
    verify : Last.fm only: check the tag files' SHA-256 (as ``load`` does).

    Returns
    -------
    (matrix, names) : float64 ``[dataset.n_items, n_categories]``, each row
        :math:`p(g \\mid i)` (uniform over the item's categories; all zero for an item
        without one), and the category names, one per column.
    """
    if not isinstance(dataset, Dataset):
        raise InvalidParameterError(
            f"dataset must be a recdyn.datasets.Dataset (recdyn.datasets.load(name)), got "
            f"{type(dataset).__name__}"
        )
    n_tags = check_int("n_tags", n_tags, low=1)
    tags_per_item = check_int("tags_per_item", tags_per_item, low=1)
    if dataset.name in _MOVIELENS:
        return _genres(dataset)
    if dataset.name == "lastfm-2k":
        return _tags(dataset, n_tags, tags_per_item, verify)
    raise InvalidParameterError(
        f"dataset {dataset.name!r} has no item categories recdyn knows; known: "
        f"{', '.join((*_MOVIELENS, 'lastfm-2k'))}"
    )


def _uniform(member: np.ndarray) -> np.ndarray:
    """Rows of a 0/1 membership matrix normalised to sum to 1 (all-zero rows stay zero)."""
    member = member.astype(np.float64)
    size = member.sum(axis=1, keepdims=True)
    return np.divide(member, size, out=np.zeros_like(member), where=size > 0)


def _genres(dataset: Dataset) -> tuple[np.ndarray, tuple[str, ...]]:
    items = dataset.items
    lists = [g if isinstance(g, list) else [] for g in items.get("genres", pd.Series([]))]
    lists += [[]] * (dataset.n_items - len(lists))
    flags = [c for c in items.columns if c != "genres" and items[c].dtype == bool]
    names = flags if flags else sorted({g for row in lists for g in row})
    column = {name: j for j, name in enumerate(names)}
    rows = np.repeat(np.arange(len(lists)), [len(row) for row in lists])
    cols = np.array([column[g] for row in lists for g in row], dtype=np.int64)
    member = np.zeros((dataset.n_items, len(names)), bool)
    member[rows, cols] = True
    return _uniform(member), tuple(map(str, names))


def _tags(
    dataset: Dataset, n_tags: int, per_item: int, verify: bool
) -> tuple[np.ndarray, tuple[str, ...]]:
    pairs = lastfm_artist_tags(dataset, verify=verify)  # item, tag, value, users
    totals = pairs.groupby("tag")["users"].sum()
    ranked = totals.reset_index().sort_values(["users", "tag"], ascending=[False, True])
    vocab = ranked["tag"].to_numpy()[:n_tags]
    rank = pd.Series(np.arange(len(vocab)), index=vocab)
    kept = pairs[pairs["tag"].isin(vocab)].copy()
    kept["rank"] = rank.reindex(kept["tag"]).to_numpy()
    kept = kept.sort_values(["item", "users", "rank"], ascending=[True, False, True])
    kept = kept[kept.groupby("item").cumcount() < per_item]
    member = np.zeros((dataset.n_items, len(vocab)), bool)
    member[kept["item"].to_numpy(), kept["rank"].to_numpy()] = True
    values = pairs.drop_duplicates("tag").set_index("tag")["value"]
    return _uniform(member), tuple(str(values[t]) for t in vocab)
