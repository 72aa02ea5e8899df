"""Items that belong to creators and can move (issue 18; seed 004): the read-only part of
the environment contract that metrics and policies use — each item's creator, the
items' current feature vectors, which items changed at the last step and which items
arrived at it. A world with creators overrides the hooks; every other world keeps the
defaults (no creators, no features, static items, no arrivals).

Items arrive at the end of a step (after the dynamics, before the next users are drawn):
the world's :meth:`CreatorsAndFeatures._arrive` appends them to its state and says how
many; the environment then widens ``n_items`` and its rated pairs, and
:meth:`~CreatorsAndFeatures.added_items` lists the new ids (always ``n_items`` before the
step onwards: items are only appended, so every existing id keeps its meaning).

Creators who respond to the recommender (issue 19; ``strategic-creators-v1``) need to see
the exposure it gives them: a world that sets ``observes_exposure = True`` is shown, at
every step of :func:`recdyn.simulate` and before ``step``, the policy's exact first-slot
probabilities of the online users (:meth:`CreatorsAndFeatures.observe_exposure`). No other
world is shown anything, so their runs are unchanged."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

__all__ = ["CreatorsAndFeatures"]


class CreatorsAndFeatures:
    """The creators-and-features part of :class:`~recdyn.environments.base.Environment` (a
    mixin: it reads the environment's step counter ``_t`` and calls its ``_require_reset``;
    arrivals widen its ``_n_items`` and ``_rated``)."""

    #: Whether the world is shown the exposure the recommender gives each item: then
    #: :func:`recdyn.simulate` calls :meth:`observe_exposure` at every step, before
    #: ``step``, and needs a policy that reports its probabilities.
    observes_exposure: ClassVar[bool] = False

    _added: np.ndarray | None = None  # ids of the items that arrived at the last step

    def observe_exposure(self, users: Any, probabilities: Any) -> None:
        """Be shown the exposure of this step: ``probabilities`` (float ``[len(users),
        n_items]``) is the policy's exact distribution of the first slate slot for each
        online user ``users[j]`` (``Policy.probabilities`` with the step's scores and
        exclusions). :func:`recdyn.simulate` calls it once per step, before ``step``, in a
        world that ``observes_exposure``. Default: ignored (and never called)."""

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

    def added_items(self) -> np.ndarray:
        """Ids (int64, sorted, consecutive) of the items that arrived at the last step —
        the last ``len(added_items())`` of ``range(n_items)``; empty in a world where no
        item arrives and right after ``reset``. New items are in ``item_creators``,
        ``item_features()``, ``true_ratings`` and ``rated_mask`` (unrated by everyone)."""
        self._require_reset()
        added = self._added
        return np.empty(0, np.int64) if added is None else _read_only(added, np.int64)

    def _take_arrivals(self) -> None:
        """Called by ``step`` after ``_update``: let :meth:`_arrive` append items, then
        widen ``n_items`` and the rated pairs to cover them (``reset`` clears ``_added``)."""
        n_new = self._arrive()
        if not n_new:
            self._added = None
            return
        start = self._n_items
        self._n_items = start + int(n_new)
        self._rated.grow(self._n_items)
        self._added = np.arange(start, self._n_items, dtype=np.int64)

    def _arrive(self) -> int:
        """Append the items that arrive at this step to the world's state (their creators,
        features and whatever ``_true_pairs`` reads) and return how many (≥ 0). Default:
        none arrive and no random number is drawn, so a world that does not override it
        runs exactly as before arrivals existed. Randomness comes from ``self._rng``
        (the dynamics stream)."""
        return 0

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
