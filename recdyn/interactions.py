"""Columnar interaction records and the growable log the simulator appends to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recdyn.errors import InvalidParameterError

USER_DTYPE = np.int32
ITEM_DTYPE = np.int32
RATING_DTYPE = np.float32
STEP_DTYPE = np.int32
#: float64: a joint propensity (arrival × policy) can be ≈ 1e-7 and its inverse a weight.
PROPENSITY_DTYPE = np.float64
#: int16: a 1-based slate position (0: unknown), at most 32,767.
POSITION_DTYPE = np.int16
COLUMNS = ("user", "item", "rating", "step", "propensity", "position")
#: The optional columns (``None`` when a record has none).
OPTIONAL_COLUMNS = ("propensity", "position")


@dataclass(frozen=True, eq=False)
class Interactions:
    """An immutable columnar record of ratings: equal-length numpy arrays.

    Attributes
    ----------
    user, item : int32 arrays of contiguous ids (``0..n_users-1``, ``0..n_items-1``); an id
        must be below ``2**31`` (remap larger ids first, e.g. with ``pandas.factorize``).
    rating : float32 array, finite.
    step : int32 array, the simulation step of each rating (0 = initial data).
    propensity : float64 array or ``None``; the probability that this pair was observed
        at its step — in :func:`recdyn.simulate`, the user's arrival probability times the
        policy's probability of showing the item (needed by inverse-propensity weighting,
        :mod:`recdyn.debias`). ``NaN`` marks an unknown propensity (e.g. initial data
        mixed with logged online data). Older logs stored it as float32; it is read as
        float64.
    position : int16 array or ``None``; the 1-based slate position at which the item was
        shown, logged by worlds whose users examine a slate by position
        (``position-bias-v1``). ``0`` marks an unknown position (e.g. initial data mixed
        with logged slates, or a world that logs none).

    The arrays are made read-only, so an ``Interactions`` can be shared without copies.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    step: np.ndarray
    propensity: np.ndarray | None = None
    position: np.ndarray | None = None

    def __init__(
        self,
        user: Any,
        item: Any,
        rating: Any,
        step: Any = None,
        propensity: Any = None,
        position: Any = None,
    ) -> None:
        u = _column("user", user, USER_DTYPE)
        n = len(u)
        cols = {
            "user": u,
            "item": _column("item", item, ITEM_DTYPE),
            "rating": _column("rating", rating, RATING_DTYPE),
            "step": (
                np.zeros(n, STEP_DTYPE) if step is None else _column("step", step, STEP_DTYPE)
            ),
            "propensity": None
            if propensity is None
            else _column("propensity", propensity, PROPENSITY_DTYPE),
            "position": None if position is None else _column("position", position, POSITION_DTYPE),
        }
        for name, col in cols.items():
            if col is not None and len(col) != n:
                raise InvalidParameterError(
                    f"Interactions columns must have equal length: user has {n}, "
                    f"{name} has {len(col)}"
                )
        if n and not np.isfinite(cols["rating"]).all():
            raise InvalidParameterError("Interactions.rating holds NaN or infinite values")
        if n and cols["position"] is not None and cols["position"].min() < 0:
            raise InvalidParameterError(
                f"Interactions.position holds {int(cols['position'].min())}: positions are "
                "1-based slate slots, or 0 for an unknown position"
            )
        for name, col in cols.items():
            if col is not None:
                col.flags.writeable = False
            object.__setattr__(self, name, col)

    # ------------------------------------------------------------------ construction
    @classmethod
    def empty(cls) -> Interactions:
        return cls(np.empty(0, USER_DTYPE), np.empty(0, ITEM_DTYPE), np.empty(0, RATING_DTYPE))

    @classmethod
    def concat(cls, parts: Iterable[Interactions]) -> Interactions:
        """Concatenate records; if any part has propensities, the others get ``NaN``; if
        any has positions, the others get ``0`` (unknown)."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        prop = pos = None
        if any(p.propensity is not None for p in parts):
            prop = np.concatenate([_propensity_or_nan(p) for p in parts])
        if any(p.position is not None for p in parts):
            pos = np.concatenate([_position_or_zero(p) for p in parts])
        return cls(
            np.concatenate([p.user for p in parts]),
            np.concatenate([p.item for p in parts]),
            np.concatenate([p.rating for p in parts]),
            np.concatenate([p.step for p in parts]),
            prop,
            pos,
        )

    @classmethod
    def from_pandas(cls, df: pd.DataFrame) -> Interactions:
        """Build from a DataFrame with columns ``user``, ``item``, ``rating`` [, ``step``,
        ``propensity``, ``position``]."""
        missing = [c for c in ("user", "item", "rating") if c not in df.columns]
        if missing:
            raise InvalidParameterError(
                f"DataFrame is missing column(s) {missing}; needs user, item, rating "
                f"and optionally step, propensity, position. Has: {list(df.columns)}"
            )
        return cls(
            df["user"].to_numpy(),
            df["item"].to_numpy(),
            df["rating"].to_numpy(),
            df["step"].to_numpy() if "step" in df else None,
            df["propensity"].to_numpy() if "propensity" in df else None,
            df["position"].to_numpy() if "position" in df else None,
        )

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.user)

    def __repr__(self) -> str:
        return f"Interactions(n={len(self)}, users={self.n_users_seen}, items={self.n_items_seen})"

    @property
    def n_users_seen(self) -> int:
        """``1 + max user id`` (0 when empty)."""
        return int(self.user.max()) + 1 if len(self) else 0

    @property
    def n_items_seen(self) -> int:
        """``1 + max item id`` (0 when empty)."""
        return int(self.item.max()) + 1 if len(self) else 0

    def select(self, mask: np.ndarray) -> Interactions:
        """The rows where the boolean ``mask`` is true (or the given row indices)."""
        prop = None if self.propensity is None else self.propensity[mask]
        pos = None if self.position is None else self.position[mask]
        return Interactions(
            self.user[mask], self.item[mask], self.rating[mask], self.step[mask], prop, pos
        )

    def with_propensity(self, propensity: Any) -> Interactions:
        """The same ratings with ``propensity`` as their propensity column. The other
        columns are shared, not copied or checked again (they are read-only and were
        checked when this record was built): ``simulate`` calls this at every step."""
        q = _column("propensity", propensity, PROPENSITY_DTYPE)
        if len(q) != len(self):
            raise InvalidParameterError(
                f"propensity must have one value per rating ({len(self)}), got {len(q)}"
            )
        q.flags.writeable = False
        out = object.__new__(Interactions)
        for name in COLUMNS:
            object.__setattr__(out, name, q if name == "propensity" else getattr(self, name))
        return out

    def to_csr(self, n_users: int, n_items: int, values: np.ndarray | None = None) -> sp.csr_array:
        """The ``n_users × n_items`` CSR matrix of ratings (or of ``values``).

        A pair rated more than once keeps its **last** rating, the natural reading of a
        log in which a user re-rates an item.
        """
        self._check_shape(n_users, n_items)
        vals = self.rating if values is None else np.asarray(values)
        key = self.user.astype(np.int64) * n_items + self.item
        # keep the last occurrence of each key
        rev = key[::-1]
        _, first_in_rev = np.unique(rev, return_index=True)
        keep = len(key) - 1 - first_in_rev
        mat = sp.csr_array(
            (vals[keep], (self.user[keep], self.item[keep])), shape=(n_users, n_items)
        )
        mat.sort_indices()
        return mat

    def to_pandas(self) -> pd.DataFrame:
        data = {c: getattr(self, c) for c in COLUMNS if getattr(self, c) is not None}
        return pd.DataFrame(data)

    def check_shape(self, n_users: int, n_items: int) -> None:
        """Raise :class:`InvalidParameterError` unless every id fits ``n_users × n_items``."""
        if len(self) and (self.n_users_seen > n_users or self.n_items_seen > n_items):
            raise InvalidParameterError(
                f"Interactions hold ids up to user {self.n_users_seen - 1} and item "
                f"{self.n_items_seen - 1}, which do not fit n_users={n_users}, n_items={n_items}"
            )

    _check_shape = check_shape  # the former name, still called from other packages


#: Integer columns holding ids: never negative.
_IDS = ("user", "item")


def _column(name: str, values: Any, dtype: type) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidParameterError(f"Interactions.{name} must be 1-D, got shape {arr.shape}")
    if np.issubdtype(dtype, np.integer) and arr.size:
        _check_integers(name, arr, dtype)
    return np.array(arr, dtype=dtype, copy=True) if arr.dtype != dtype else arr.copy()


def _check_integers(name: str, arr: np.ndarray, dtype: type) -> None:
    """Raise unless ``arr`` holds integers that ``dtype`` stores as they are (numpy would
    silently turn the user id ``2**40`` into 0 in an int32 column)."""
    if arr.dtype == object and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in arr
    ):
        low, high = min(arr), max(arr)  # Python ints of any size
    elif not np.issubdtype(arr.dtype, np.integer):
        raise InvalidParameterError(
            f"Interactions.{name} must hold integers, got dtype {arr.dtype}"
        )
    elif np.can_cast(arr.dtype, dtype):  # no overflow: only a negative id can be wrong
        low, high = (arr.min() if name in _IDS else 0), 0
    else:
        low, high = arr.min(), arr.max()
    info = np.iinfo(dtype)
    lowest = 0 if name in _IDS else int(info.min)
    if low < lowest or high > info.max:
        bad = int(low if low < lowest else high)
        why = (
            f"ids must be non-negative and fit {info.dtype.name}; remap them to 0..n-1 "
            "first, e.g. with pandas.factorize"
            if name in _IDS
            else f"{name} is stored as {info.dtype.name}"
        )
        raise InvalidParameterError(
            f"Interactions.{name} holds {bad:,}, outside the valid range "
            f"[{lowest:,}, {int(info.max):,}]: {why}"
        )


def _propensity_or_nan(part: Interactions) -> np.ndarray:
    if part.propensity is None:
        return np.full(len(part), np.nan, PROPENSITY_DTYPE)
    return part.propensity


def _position_or_zero(part: Interactions) -> np.ndarray:
    if part.position is None:
        return np.zeros(len(part), POSITION_DTYPE)
    return part.position


class InteractionLog:
    """Append-only, amortised O(1) growable storage behind a simulation's full log.

    The optional columns (propensity, position) are allocated when the first rows that
    carry them arrive (earlier rows: NaN / 0), so a log without them costs 16 bytes a row."""

    def __init__(self, capacity: int = 1024) -> None:
        self._n = 0
        self._cols: dict[str, np.ndarray] = {
            "user": np.empty(capacity, USER_DTYPE),
            "item": np.empty(capacity, ITEM_DTYPE),
            "rating": np.empty(capacity, RATING_DTYPE),
            "step": np.empty(capacity, STEP_DTYPE),
        }

    @property
    def _has_propensity(self) -> bool:
        return "propensity" in self._cols

    @property
    def _has_position(self) -> bool:
        return "position" in self._cols

    def __len__(self) -> int:
        return self._n

    def append(self, new: Interactions) -> None:
        m = len(new)
        if self._n + m > len(self._cols["user"]):
            cap = max(2 * len(self._cols["user"]), self._n + m)
            for k, col in self._cols.items():
                grown = np.empty(cap, col.dtype)
                grown[: self._n] = col[: self._n]
                self._cols[k] = grown
        for name, dtype, before in (
            ("propensity", PROPENSITY_DTYPE, np.nan),
            ("position", POSITION_DTYPE, 0),
        ):
            if getattr(new, name) is not None and name not in self._cols:
                col = np.empty(len(self._cols["user"]), dtype)
                col[: self._n] = before
                self._cols[name] = col
        sl = slice(self._n, self._n + m)
        self._cols["user"][sl] = new.user
        self._cols["item"][sl] = new.item
        self._cols["rating"][sl] = new.rating
        self._cols["step"][sl] = new.step
        if self._has_propensity:
            self._cols["propensity"][sl] = _propensity_or_nan(new)
        if self._has_position:
            self._cols["position"][sl] = _position_or_zero(new)
        self._n += m

    def to_interactions(self) -> Interactions:
        n = self._n
        c = self._cols
        prop = c["propensity"][:n] if self._has_propensity else None
        pos = c["position"][:n] if self._has_position else None
        return Interactions(c["user"][:n], c["item"][:n], c["rating"][:n], c["step"][:n], prop, pos)
