"""The :class:`Policy` contract: turn scores into slates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recdyn._validation import check_int
from recdyn.constraints import InstanceOf
from recdyn.errors import InvalidParameterError
from recdyn.params import Parametrized
from recdyn.policies.topk import as_exclusion, top_k

__all__ = [
    "NO_ITEM",
    "BasePolicy",
    "Policy",
    "PolicyWrapper",
    "Selection",
    "check_scores",
    "top_k",
]

#: A slate entry meaning "nothing shown in this slot". Only a policy that declares
#: ``may_show_nothing`` returns it (e.g. threshold truncation when no item passes), and
#: only in the last slots of a row; environments consume nothing there.
NO_ITEM = -1


@dataclass(frozen=True)
class Selection:
    """Slates chosen by a policy.

    slates : int64 ``[n_users, k]``, best first; :data:`NO_ITEM` (``-1``) in the trailing
        slots where a policy that may show nothing shows nothing.
    propensities : float ``[n_users, k]`` — the probability that the policy shows each
        slate item — for stochastic policies; ``None`` for deterministic ones.
    inclusion : float ``[n_users, k]`` or ``None`` — what :func:`recdyn.simulate` logs as
        the policy's probability of showing each item, where ``propensities`` are not
        inclusion probabilities (Plackett–Luce factors of softmax slates with ``k > 1``;
        see :class:`~recdyn.policies.SoftmaxPolicy`); ``None``: ``propensities`` are.
        A :data:`NO_ITEM` slot has propensity 1 (given the scores, nothing is shown there).
    """

    slates: np.ndarray
    propensities: np.ndarray | None = None
    inclusion: np.ndarray | None = None


class Policy(Parametrized, ABC):
    """Chooses ``k`` items per user from a score matrix.

    ``exclude`` (bool ``[n_users, n_items]``, or a ``scipy.sparse`` matrix whose stored
    entries are the excluded cells) marks items that must not be shown, normally those the
    user already rated. A user with fewer than ``k`` allowed items gets the
    allowed ones first, then excluded ones (so slates always have ``k`` distinct items),
    unless the policy ``may_show_nothing``: then its last slots may be :data:`NO_ITEM`.

    ``probabilities(scores, exclude)`` gives the exact distribution of the first slate
    position (``None`` where a policy cannot say). A policy that reads the world (e.g. its
    item features) sets ``requires_environment``; :func:`recdyn.simulate` then calls
    ``attach(env)`` on a clone of it after ``reset``.
    """

    #: Whether the policy reads the world; :func:`recdyn.simulate` then calls ``attach``.
    requires_environment: ClassVar[bool] = False
    #: Whether slates may hold :data:`NO_ITEM` (nothing shown in a slot).
    may_show_nothing: ClassVar[bool] = False
    #: Whether ``_select`` takes ``exclude`` as a sparse matrix (a policy that ranks with
    #: :func:`top_k`); others get it dense.
    sparse_exclude: ClassVar[bool] = False

    def attach(self, env: Any) -> Policy:
        """Give the policy the world it reads (called after ``env.reset``); by default it
        reads nothing. Returns the policy."""
        return self

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray | None:
        """The exact probability of each item in the first slate position, float
        ``[n_users, n_items]``: rows sum to 1, or to 0 where nothing is shown (only for a
        policy that ``may_show_nothing``); excluded items have 0 unless no item is allowed.
        ``None``: the policy cannot say (the default)."""
        return None

    def select(
        self,
        scores: Any,
        k: int = 1,
        exclude: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> Selection:
        scores, exclude = check_scores(scores, exclude, sparse=self.sparse_exclude)
        k = check_int("k", k, low=1, high=scores.shape[1])
        if rng is None:
            rng = np.random.default_rng()
        return self._select(scores, k, exclude, rng)

    @abstractmethod
    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection: ...


#: The annotation of a wrapper's ``base_policy`` parameter: a policy or a registered name
#: (which :class:`PolicyWrapper` builds).
BasePolicy = Annotated[
    Policy | str, InstanceOf((Policy, str), "a Policy or a registered policy name")
]


class PolicyWrapper(Policy):
    """A policy built on another one, ``self.base_policy`` (declared by each subclass as
    ``base_policy: BasePolicy``; a registered name is built here): it reads the world when
    its base does (``attach`` is passed on) and may show nothing when its base may."""

    def _check_params(self) -> None:
        if isinstance(self.base_policy, str):
            from recdyn.policies.registry import make as make_policy

            self.base_policy = make_policy(self.base_policy)

    @property
    def requires_environment(self) -> bool:  # type: ignore[override]
        return bool(self.base_policy.requires_environment)

    @property
    def may_show_nothing(self) -> bool:  # type: ignore[override]
        return bool(self.base_policy.may_show_nothing)

    def attach(self, env: Any) -> Policy:
        self.base_policy.attach(env)
        return self


def check_scores(
    scores: Any, exclude: Any, *, sparse: bool = False
) -> tuple[np.ndarray, Any]:
    """``scores`` as a numeric ``[n_users, n_items]`` array and ``exclude`` as a boolean
    array of the same shape (or ``None``); :class:`InvalidParameterError` otherwise.

    ``exclude`` may be a ``scipy.sparse`` matrix whose stored entries are the excluded
    cells (what :func:`recdyn.simulate` passes: the online users' rated items); it stays
    sparse (a canonical boolean CSR array) with ``sparse=True`` — for a policy that ranks
    with :func:`top_k` — and is made dense otherwise."""
    scores = np.asarray(scores)
    if scores.ndim != 2 or not np.issubdtype(scores.dtype, np.number):
        raise InvalidParameterError(
            f"scores must be a numeric [n_users, n_items] array, got shape {scores.shape}"
        )
    if exclude is not None:
        if sp.issparse(exclude):
            exclude = as_exclusion(exclude) if sparse else exclude.toarray().astype(bool)
        else:
            exclude = np.asarray(exclude, dtype=bool)
        if exclude.shape != scores.shape:
            raise InvalidParameterError(
                f"exclude must have the scores' shape {scores.shape}, got {exclude.shape}"
            )
    return scores, exclude
