"""The :class:`Recommender` contract, modelled on scikit-learn estimators.

* The constructor takes only keyword hyperparameters, each declared once in its
  signature with its domain (``Annotated[float, Interval(Real, 0, None)] = 1.0``); the
  base (:class:`recdyn.params.Parametrized`) checks and stores each as an attribute of the
  same name (``get_params`` / ``set_params`` / ``clone`` read them back).
* ``fit(data, n_users, n_items)`` learns from an :class:`~recdyn.Interactions` record.
* ``partial_fit(new)`` adds interactions; the default refits on everything seen so far,
  models that can update incrementally override ``_partial_fit``.
* ``score(users)`` returns a relevance score for every item, ``[len(users), n_items]``.
* ``predict(users, items)`` returns the predicted rating of each pair (models whose scores
  are not ratings set ``predicts_ratings = False``).
* ``items_changed(items)`` is told which items' features changed in a world whose items
  move (creators who move, seed 004); the default does nothing (see its docstring).
* ``items_added(n_items)`` is told that items arrived (ids ``n_items_`` … ``n_items - 1``);
  the default refits on everything seen at the new size (see its docstring).
Fitted attributes end with an underscore (``n_users_``, ``n_items_``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from recdyn._validation import check_ids, check_int
from recdyn.errors import InvalidParameterError, NotFittedError
from recdyn.interactions import InteractionLog, Interactions
from recdyn.params import Parametrized


class Recommender(Parametrized, ABC):
    """Base class of all recommenders; see the module docstring for the contract."""

    #: ``predict`` returns ratings on the environment's scale (used by RMSE metrics).
    predicts_ratings: bool = True
    #: the model reads the environment's ground truth (Oracle); ``simulate`` attaches it.
    requires_environment: bool = False

    # ------------------------------------------------------------------ public API
    def fit(self, data: Interactions, n_users: int, n_items: int) -> Recommender:
        """Learn from ``data``; users and items are ids in ``[0, n_users)``, ``[0, n_items)``."""
        if not isinstance(data, Interactions):
            raise InvalidParameterError(
                f"data must be recdyn.Interactions, got {type(data).__name__}; "
                "use Interactions.from_pandas(df) for a DataFrame"
            )
        self.n_users_ = check_int("n_users", n_users, low=1)
        self.n_items_ = check_int("n_items", n_items, low=1)
        data.check_shape(self.n_users_, self.n_items_)
        self._log = InteractionLog(max(1024, 2 * len(data)))
        self._log.append(data)
        self._fit(data)
        return self

    def partial_fit(self, new: Interactions) -> Recommender:
        """Add ``new`` interactions to what the model has learnt from."""
        self._require_fitted()
        if not isinstance(new, Interactions):
            raise InvalidParameterError(
                f"new must be recdyn.Interactions, got {type(new).__name__}"
            )
        new.check_shape(self.n_users_, self.n_items_)
        self._log.append(new)
        if len(new):
            self._partial_fit(new)
        return self

    def score(self, users: Any) -> np.ndarray:
        """Relevance of every item for each user: float32 ``[len(users), n_items]``."""
        self._require_fitted()
        users = check_ids("users", users, self.n_users_)
        return np.asarray(self._score(users), dtype=np.float32)

    def predict(self, users: Any, items: Any) -> np.ndarray:
        """Predicted rating of each pair ``(users[j], items[j])``: float32 ``[len(users)]``."""
        self._require_fitted()
        users = check_ids("users", users, self.n_users_)
        items = check_ids("items", items, self.n_items_)
        if users.shape != items.shape or users.ndim != 1:
            raise InvalidParameterError(
                f"users and items must be 1-D arrays of equal length, got shapes "
                f"{users.shape} and {items.shape}"
            )
        return np.asarray(self._predict(users, items), dtype=np.float32)

    def items_changed(self, items: Any) -> Recommender:
        """Hear that the features of ``items`` (int ids) changed at the last step.

        :func:`recdyn.simulate` calls it after every step of a world whose items move
        (``Environment.changed_items()`` non-empty, e.g. ``dual-influence-v1``, where each
        item is its creator's content and creators move towards their audience). The
        default does nothing: a learned recommender keeps learning from the new ratings
        (its ``partial_fit``), so its view of a moved item is updated only as fast as
        ratings of it arrive and older ratings of the item's former self still count; an
        Oracle reads the world's current state anyway. A model that should react faster
        overrides :meth:`_items_changed` (e.g. forget or re-solve those items' factors at
        its next ``partial_fit``; a refit is the simple fallback).
        """
        self._require_fitted()
        items = check_ids("items", items, self.n_items_)
        if items.ndim != 1:
            raise InvalidParameterError(f"items must be a 1-D id array, got shape {items.shape}")
        if len(items):
            self._items_changed(items)
        return self

    def items_added(self, n_items: int) -> Recommender:
        """Hear that items arrived: there are now ``n_items`` (≥ ``n_items_``), the new
        ones with ids ``n_items_`` … ``n_items - 1`` and no ratings yet.

        :func:`recdyn.simulate` calls it after every step at which the world's
        ``n_items`` grew (``Environment.added_items()``, e.g. new creators in
        ``dual-influence-v1``), before ``partial_fit`` hands over that step's ratings.
        The default is the simple fallback: refit from scratch on everything the model
        has been fitted on (``data_``) at the new size, so every model scores the new
        items at once (as it scores items nobody rated) at the cost of one refit per
        arrival. A model that can widen cheaply overrides :meth:`_items_added` (the
        Oracle does nothing: it reads the world).
        """
        self._require_fitted()
        n_items = check_int("n_items", n_items, low=self.n_items_)
        if n_items > self.n_items_:
            old, self.n_items_ = self.n_items_, n_items
            self._items_added(old)
        return self

    @property
    def data_(self) -> Interactions:
        """Everything the model has been fitted on so far."""
        self._require_fitted()
        return self._log.to_interactions()

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _fit(self, data: Interactions) -> None: ...

    @abstractmethod
    def _score(self, users: np.ndarray) -> np.ndarray: ...

    def _partial_fit(self, new: Interactions) -> None:
        """Default fall-back: refit from scratch on all data seen so far."""
        self._fit(self._log.to_interactions())

    def _items_changed(self, items: np.ndarray) -> None:
        """React to moved items (ids, int64); default: nothing (see :meth:`items_changed`)."""

    def _items_added(self, old_n_items: int) -> None:
        """Widen to ``self.n_items_`` items (``old_n_items`` before); default: refit on
        everything seen (see :meth:`items_added`)."""
        self._fit(self._log.to_interactions())

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Default: score each distinct user once and gather."""
        uniq, inv = np.unique(users, return_inverse=True)
        return self._score(uniq)[inv, items]

    def _require_fitted(self) -> None:
        if not hasattr(self, "n_items_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call fit(data, n_users, n_items) first"
            )
