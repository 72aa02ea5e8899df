"""Truncation: restrict each user's candidates to their ``m`` best-scored items
(:class:`TopKTruncation`) or to the items scoring at least ``τ``
(:class:`ThresholdTruncation`), then let a base policy choose among them."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np

from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.policies.base import (
    NO_ITEM,
    BasePolicy,
    PolicyWrapper,
    Selection,
    check_scores,
)
from recdyn.policies.ranking import ranking_key


class TopKTruncation(PolicyWrapper):
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
        base_policy: BasePolicy = "softmax",
        m: Annotated[int, Interval(Integral, 1, None)] = 10,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def candidates(self, scores: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """Boolean ``[n_users, n_items]``: the items the base policy may choose from."""
        key = ranking_key(np.asarray(scores), exclude)
        if self.m >= key.shape[1]:
            return np.isfinite(key)
        kth = -np.partition(-key, self.m - 1, axis=1)[:, self.m - 1 : self.m]
        return np.isfinite(key) & (key >= kth)

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray | None:
        """The base policy's first-slot distribution on the candidates (``None`` if the
        base cannot say)."""
        scores, exclude = check_scores(scores, exclude)
        return self.base_policy.probabilities(scores, ~self.candidates(scores, exclude))

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        if k > self.m:
            raise InvalidParameterError(
                f"k must be at most the truncation m={self.m}, got k={k}; raise m or lower k"
            )
        keep = self.candidates(scores, exclude)
        return self.base_policy.select(scores, k, ~keep, rng)


class ThresholdTruncation(PolicyWrapper):
    r"""Show only items scoring at least ``tau``; nothing where none passes (seed 004).

    The threshold truncation of seed 004 (digest §1.2, "only creators with
    :math:`\langle v_i, u_j\rangle \ge \tau` are eligible", e.g. :math:`\tau = \cos 45°`):
    the candidates of user ``u`` are :math:`C_u = \{i \text{ allowed} : s_{ui} \ge \tau\}`
    and the base policy (softmax by default) chooses among them, e.g. softmax renormalised
    over :math:`C_u`:

    .. math:: p_{ui} = \frac{\mathbb 1\{i \in C_u\}\, e^{\beta s_{ui}}}
              {\sum_{j \in C_u} e^{\beta s_{uj}}}.

    A user with fewer than ``k`` candidates is shown them and then nothing
    (:data:`~recdyn.policies.base.NO_ITEM` in the last slots, propensity 1): no item below
    the threshold and no excluded item is ever shown — "if no creator passes, the user gets
    no recommendation that step" (our reading; the seed does not say). NaN scores never
    pass. The candidate set is a deterministic function of the scores, so the base
    policy's propensities on it are exact.

    Parameters
    ----------
    base_policy : a :class:`Policy` or the registered name of one (default ``"softmax"``).
    tau : the threshold τ in [−1, 1] (relevance is a cosine in seed 004), default 0
        (:math:`\cos 90°`: only items the user does not dislike).
    """

    may_show_nothing = True

    def __init__(
        self,
        base_policy: BasePolicy = "softmax",
        tau: Annotated[float, Interval(Real, -1, 1)] = 0.0,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def eligible(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray:
        """Boolean ``[n_users, n_items]``: allowed items scoring at least ``tau``."""
        scores, exclude = check_scores(scores, exclude)
        with np.errstate(invalid="ignore"):
            passing = np.asarray(scores, dtype=np.float64) >= self.tau
        return passing if exclude is None else passing & ~exclude

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray | None:
        """The base policy's first-slot distribution on the eligible items; rows with no
        eligible item are 0 (nothing is shown). ``None`` if the base cannot say."""
        eligible = self.eligible(scores, exclude)
        p = self.base_policy.probabilities(scores, ~eligible)
        return None if p is None else np.where(eligible, p, 0.0)

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        eligible = self.eligible(scores, exclude)
        sel = self.base_policy.select(scores, k, ~eligible, rng)
        shown = sel.slates >= 0
        shown[shown] = eligible[np.nonzero(shown)[0], sel.slates[shown]]
        if shown.all():
            return sel
        slates = np.where(shown, sel.slates, NO_ITEM)

        def blank(p: np.ndarray | None) -> np.ndarray | None:
            return None if p is None else np.where(shown, p, 1.0)

        return Selection(slates, blank(sel.propensities), blank(sel.inclusion))
