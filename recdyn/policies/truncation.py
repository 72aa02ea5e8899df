"""Top-m truncation: restrict each user's candidates to their ``m`` best-scored items."""

from __future__ import annotations

from numbers import Integral
from typing import Annotated

import numpy as np

from recdyn.constraints import InstanceOf, Interval
from recdyn.errors import InvalidParameterError
from recdyn.policies.base import Policy, Selection
from recdyn.policies.registry import make as make_policy
from recdyn.policies.stochastic import ranking_key


class TopKTruncation(Policy):
    r"""Wrap a policy so that it only chooses among each user's top-``m`` allowed items.

    The truncation of seed 004 (and thesis ch. 5): :math:`p_{ui} = 0` unless item ``i`` is
    among the ``m`` most relevant for ``u``; the base policy (softmax by default) then
    works on the truncated set, e.g. softmax renormalised over the top ``m``. ``m = n_items``
    is the base policy itself.

    Items tied with the ``m``-th best score are all kept (the candidate set is a
    deterministic function of the scores), so the propensities that the base policy reports
    on the truncated set are exact probabilities under the truncated policy. Excluded items
    stay excluded; a user with fewer than ``m`` allowed items keeps all of them.

    Parameters
    ----------
    base_policy : a :class:`Policy` or the registered name of one (default ``"softmax"``).
    m : number of candidates kept per user, ``m ≥ k`` at selection time (default 10).
    """

    def __init__(
        self,
        base_policy: Annotated[
            Policy | str, InstanceOf((Policy, str), "a Policy or a registered policy name")
        ] = "softmax",
        m: Annotated[int, Interval(Integral, 1, None)] = 10,
    ) -> None:
        if isinstance(base_policy, str):
            self.base_policy = make_policy(base_policy)

    def candidates(self, scores: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """Boolean ``[n_users, n_items]``: the items the base policy may choose from."""
        key = ranking_key(np.asarray(scores), exclude)
        if self.m >= key.shape[1]:
            return np.isfinite(key)
        kth = -np.partition(-key, self.m - 1, axis=1)[:, self.m - 1 : self.m]
        return np.isfinite(key) & (key >= kth)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        if k > self.m:
            raise InvalidParameterError(
                f"k must be at most the truncation m={self.m}, got k={k}; raise m or lower k"
            )
        keep = self.candidates(scores, exclude)
        return self.base_policy.select(scores, k, ~keep, rng)
