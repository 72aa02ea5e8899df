"""Items that belong to creators and can move (issue 18; seed 004): the read-only part of
the environment contract that metrics and policies use — each item's creator, the
items' current feature vectors, and which items changed at the last step. A world with
creators overrides the three hooks; every other world keeps the defaults (no creators,
no features, static items)."""

from __future__ import annotations

import numpy as np

__all__ = ["CreatorsAndFeatures"]


class CreatorsAndFeatures:
    """The creators-and-features part of :class:`~recdyn.environments.base.Environment` (a
    mixin: it reads the environment's step counter ``_t`` and calls its ``_require_reset``)."""

    @property
    def item_creators(self) -> np.ndarray | None:
        """Creator id of each item (int64 ``[n_items]``, read-only; every creator in
        ``[0, n_creators)`` owns at least one item), or ``None`` in a world without
        creators (every chapter-2 world)."""
        self._require_reset()
        return _read_only(self._item_creators(), np.int64)

    @property
    def n_creators(self) -> int | None:
        """Number of creators, or ``None`` in a world without creators."""
        creators = self.item_creators
        return None if creators is None else int(creators.max()) + 1

    def item_features(self) -> np.ndarray | None:
        """Current feature vector of each item (float64 ``[n_items, d]``, read-only), or
        ``None`` when the world exposes none. In ``dual-influence-v1`` each item *is* its
        creator's content: the creators' unit vectors."""
        self._require_reset()
        return _read_only(self._item_features(), np.float64)

    def changed_items(self) -> np.ndarray:
        """Ids (int64, sorted, distinct) of the items whose features changed at the last
        step; empty in a static world and right after ``reset``."""
        self._require_reset()
        changed = self._changed_items() if self._t > 0 else None
        return np.empty(0, np.int64) if changed is None else _read_only(changed, np.int64)

    def _item_creators(self) -> np.ndarray | None:
        """Creator of each item, or ``None`` (default: a world without creators)."""
        return None

    def _item_features(self) -> np.ndarray | None:
        """Item feature vectors ``[n_items, d]``, or ``None`` (default)."""
        return None

    def _changed_items(self) -> np.ndarray | None:
        """Items whose features changed at the last step, or ``None`` (default: static)."""
        return None


def _read_only(values: np.ndarray | None, dtype: type) -> np.ndarray | None:
    """``values`` as a read-only array of ``dtype`` (a view when no conversion is needed)."""
    if values is None:
        return None
    out = np.asarray(values, dtype=dtype).view()
    out.flags.writeable = False
    return out
