"""One step's recommendations inside :func:`recdyn.simulate`: scores → exclusions →
slates, by blocks of online users where the whole step would not fit comfortably.

A step of ``n`` online users over ``m`` items holds ``n × m`` scores. Up to
:data:`STEP_BLOCK_CELLS` cells (every world of the thesis's studies) it is done at once,
as it always was. Above it — and where nothing needs the whole score matrix (the policy's
probabilities, a world that observes exposure, held-out pairs) — the users are taken in
blocks: each block is scored, its rated items excluded (sparse: the dense
``[users × items]`` booleans are never built) and its slates chosen. Greedy slates are
identical either way (:func:`~recdyn.policies.top_k` breaks ties in row order, drawing
the same numbers); a stochastic policy draws the same distribution but, above the
threshold, block by block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recdyn._memory import require_memory
from recdyn.errors import CheckError
from recdyn.policies.base import Policy, Selection

__all__ = [
    "DENSE_EXCLUDE_CELLS",
    "STEP_BLOCK_CELLS",
    "Recommendations",
    "recommend",
    "require_step_memory",
    "shown_scores",
]

#: Score cells of one block of a large step (2^26: 256 MB of float32 scores).
STEP_BLOCK_CELLS = 2**26
#: Up to this many cells a block excludes rated items with dense booleans (cheaper to
#: build for small worlds); above it, with a sparse matrix of the rated items.
DENSE_EXCLUDE_CELLS = 2**22


@dataclass
class Recommendations:
    """What a step recommended: the policy's ``selection``, the recommender's score of
    each shown item (``shown``, float64, 0 at an empty slot) and — when the step was done
    at once — the whole ``scores`` and what was excluded (``exclude``: a sparse or dense
    boolean matrix, or ``None``)."""

    selection: Selection
    shown: np.ndarray
    scores: np.ndarray | None = None
    exclude: Any = None

    def dense_exclude(self) -> np.ndarray | None:
        """``exclude`` as a dense boolean array (``None`` stays ``None``)."""
        return None if self.exclude is None else _dense(self.exclude)


def recommend(
    env: Any,
    rec: Any,
    policy: Policy,
    users: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    exclude_rated: bool,
    hidden: np.ndarray | None,
    whole: bool,
    label: str,
    step: int,
) -> Recommendations:
    """Slates for ``users``: scored by ``rec``, chosen by ``policy`` with ``rng``, never
    an item the user rated (``exclude_rated``) or a held-out pair (``hidden``, dense).
    ``whole``: the caller needs the whole score matrix (done at once whatever the size).
    A recommender that returns NaN or infinite scores is a :class:`CheckError` naming it."""

    def block(users: np.ndarray, hidden: np.ndarray | None) -> Recommendations:
        scores = rec.score(users)
        if not _all_finite(scores):
            raise _non_finite(scores, users, label, step)
        exclude = None
        if exclude_rated:  # sparse where the dense booleans would be large
            dense = len(users) * env.n_items <= DENSE_EXCLUDE_CELLS
            exclude = env.rated_mask(users) if dense else env.rated_items(users)
        if hidden is not None:
            exclude = hidden if exclude is None else _dense(exclude) | hidden
        selection = policy.select(scores, k, exclude=exclude, rng=rng)
        return Recommendations(selection, shown_scores(scores, selection.slates), scores, exclude)

    rows = max(1, STEP_BLOCK_CELLS // max(env.n_items, 1))
    if whole or hidden is not None or len(users) <= rows:
        return block(users, hidden)
    selections, shown = [], []
    for lo in range(0, len(users), rows):  # a block's scores are dropped once chosen from
        done = block(users[lo : lo + rows], None)
        selections.append(done.selection)
        shown.append(done.shown)
    selection = Selection(
        np.concatenate([s.slates for s in selections]),
        _joined([s.propensities for s in selections]),
        _joined([s.inclusion for s in selections]),
    )
    return Recommendations(selection, np.concatenate(shown))


#: Bytes per (online user, item) cell of the dense per-step arrays a metric may need:
#: the truth (float64 computed, float32 kept), the first-slot probabilities (float64),
#: the rated mask (bool); and of a step done at once (scores, their ranking copies).
_DENSE_FIELD_BYTES = {"truth": 12, "probabilities": 8 + 12, "rated_before": 1}
_WHOLE_STEP_BYTES = 12


def require_step_memory(
    env: Any, metrics: list[Any], needs: frozenset[str], *, whole: bool, label: str
) -> None:
    """:class:`~recdyn.errors.InsufficientMemoryError` before a run whose steps would
    build dense ``[users_per_step × n_items]`` arrays that do not fit: a metric that needs
    the whole truth, probabilities or rated mask, or a step done at once (``whole``: held
    out pairs, a world that observes exposure)."""
    cells = env.users_per_step * env.n_items
    where = f"users_per_step={env.users_per_step:,} × n_items={env.n_items:,}"
    parts = {}
    for field, per_cell in _DENSE_FIELD_BYTES.items():
        if field in needs:
            readers = ", ".join(m.name for m in metrics if field in m.needs) or "the run"
            parts[f"{field} for {readers}"] = (
                cells * per_cell,
                f"users_per_step, or drop {readers}",
            )
    if whole:
        parts["a step's whole score matrix"] = (cells * _WHOLE_STEP_BYTES, "users_per_step")
    if parts:
        require_memory(f"{label} ({where} per step)", parts)


def _dense(exclude: Any) -> np.ndarray:
    return exclude.toarray().astype(bool, copy=False) if sp.issparse(exclude) else exclude


def _joined(parts: list[np.ndarray | None]) -> np.ndarray | None:
    return None if any(p is None for p in parts) else np.concatenate(parts)


def _all_finite(scores: np.ndarray) -> bool:
    """``np.isfinite(scores).all()`` without its ``[users × items]`` booleans: a row
    broadcast to every user (row stride 0, e.g. TopPop's) is read once, and a finite sum
    in float64 (which float32 scores cannot overflow; NaN and ±inf propagate) proves every
    score finite — only a non-finite sum takes the exact test."""
    if scores.ndim == 2 and len(scores) > 1 and scores.strides[0] == 0:
        scores = scores[0]
    if np.isfinite(scores.sum(dtype=np.float64)):
        return True
    return bool(np.isfinite(scores).all())


def _non_finite(scores: np.ndarray, users: np.ndarray, label: str, step: int) -> CheckError:
    bad = ~np.isfinite(scores)
    row, item = np.argwhere(bad)[0]
    return CheckError(
        f"recommender {label} returned NaN/inf scores at step {step}: {int(bad.sum()):,} of "
        f"{scores.size:,} scores (first: user {int(users[row])}, item {int(item)}, "
        f"score {scores[row, item]}). Its fit may have diverged (e.g. too large a learning "
        "rate); recdyn.recommenders.check_recommender tests a recommender's contract."
    )


def shown_scores(scores: np.ndarray, slates: np.ndarray) -> np.ndarray:
    """The score of each slate entry (float64, the slates' shape); ``0`` where the slot
    shows nothing (``-1``), so that no empty slot reads a real item's score."""
    empty = slates < 0
    shown = np.take_along_axis(scores, np.where(empty, 0, slates), axis=1).astype(np.float64)
    if empty.any():
        shown[empty] = 0.0
    return shown
