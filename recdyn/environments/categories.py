r"""Item side information (issue 21): each item's categories, for the metrics and
re-rankers that read them (intra-list diversity, calibration).

:meth:`ItemCategories.item_categories` is float64 ``[n_items, n_categories]`` (read-only),
each row the item's distribution over categories :math:`p(g \mid i)` (rows sum to 1; an
item without a category has an all-zero row), or ``None`` in a world without categories.
Which worlds have them:

* the topics worlds (``topics-*``): the one-hot of the item's topic ("topic 0", …);
* ``beta-rank-*`` and ``pan-chaney-v1``: each item's Dirichlet topic mixture (the world's
  own ``item_topics``, every component positive), topics named "topic 0", …;
* the dataset-fitted worlds (``ml100k-v1``, ``ml-latest-small-v1``, ``lastfm-2k-v1``):
  the dataset's genres or tags (:func:`recdyn.datasets.item_categories`, defaults) of
  the dataset items the world kept, loaded at the first call and kept;
* every other world (latent factors, dual influence, strategic creators): ``None``.

A world fills in ``_item_categories()`` and ``_category_names()``; the defaults say it has
none.
"""

from __future__ import annotations

import numpy as np

from recdyn.environments.creators import _read_only

__all__ = ["ItemCategories", "topic_names"]


def topic_names(n: int) -> tuple[str, ...]:
    """``("topic 0", …, "topic n-1")``: the category names of a world's topics."""
    return tuple(f"topic {g}" for g in range(n))


class ItemCategories:
    """The item-categories part of :class:`~recdyn.environments.base.Environment` (a mixin:
    it calls the environment's ``_require_reset``)."""

    def item_categories(self) -> np.ndarray | None:
        r"""Each item's distribution over categories, float64 ``[n_items, n_categories]``
        (read-only; rows :math:`p(g \mid i)` sum to 1, or to 0 for an item without a
        category), or ``None`` in a world without categories (the module docstring lists
        which worlds have them)."""
        self._require_reset()
        return _read_only(self._item_categories(), np.float64)

    def category_names(self) -> tuple[str, ...] | None:
        """The names of the columns of :meth:`item_categories`, or ``None``."""
        self._require_reset()
        names = self._category_names()
        return None if names is None else tuple(map(str, names))

    def _item_categories(self) -> np.ndarray | None:
        """``p(g | i)`` of every item, or ``None`` (default: no categories)."""
        return None

    def _category_names(self) -> tuple[str, ...] | None:
        """The category names, or ``None`` (default)."""
        return None
