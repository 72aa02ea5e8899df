r"""Uniform-traffic mixing: a base policy's distribution mixed with uniform exposure
(seed 004, digest §1.2 "Uniform traffic")."""

from __future__ import annotations

from numbers import Real
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
from recdyn.policies.stochastic import SoftmaxPolicy


class UniformMixing(PolicyWrapper):
    r"""Mix a base policy with uniform traffic of weight ``epsilon`` (seed 004).

    The first slot of user ``u`` shows item ``i`` with probability

    .. math:: p_{ui} = (1-\varepsilon)\, p^{\text{base}}_{ui}
              + \varepsilon\, \frac{\mathbb 1\{i \text{ allowed}\}}{n_u},

    :math:`n_u` the number of allowed items and :math:`p^{\text{base}}` the base policy's
    :meth:`~recdyn.policies.Policy.probabilities` (a base that cannot give them is
    refused). Every allowed item then has probability at least :math:`\varepsilon / n_u
    > 0`, which is the condition of seed 004's inevitable-polarization theorem (digest
    §1.3: "uniform traffic … cannot prevent polarization").

    **Slates** (``ε > 0``): a Plackett–Luce draw without replacement from :math:`p_u` —
    each next slot from :math:`p_u` renormalised over the items not yet shown (for a
    softmax base, the softmax slate law with :math:`p^{\text{base}}` replaced by
    :math:`p`). ``Selection.propensities`` are the exact Plackett–Luce factors and
    ``Selection.inclusion`` the conditional inclusion probabilities, as for
    :class:`~recdyn.policies.SoftmaxPolicy` (whose sampler draws them, on the scores
    :math:`\log p_{ui}`). Items of zero probability (excluded, or below a base threshold
    with ``ε = 0``) fill the last slots of a user with fewer positive items than ``k``, at
    random. ``ε = 0`` is the base policy itself (its slates and propensities).

    A base that may show nothing (e.g. :class:`~recdyn.policies.ThresholdTruncation` where
    no item passes) leaves rows of :math:`p` summing to :math:`s_u < 1`: the whole slate is
    then :data:`~recdyn.policies.base.NO_ITEM` with probability :math:`1 - s_u` (the
    propensity of its first slot; 1 for the others), and otherwise the Plackett–Luce draw
    from :math:`p_u / s_u`, whose first factor is multiplied by :math:`s_u` (so it is
    :math:`p_{ui}`) as are the inclusion probabilities.

    Parameters
    ----------
    base_policy : a :class:`Policy` or registered name with ``probabilities`` (default
        ``"softmax"``).
    epsilon : the uniform weight ε in [0, 1], default 0.1 (1: uniform random slates).
    """

    def __init__(
        self,
        base_policy: BasePolicy = "softmax",
        epsilon: Annotated[float, Interval(Real, 0, 1)] = 0.1,
    ) -> None:
        pass  # checked and stored by the base; a policy name is built by PolicyWrapper

    def probabilities(self, scores: Any, exclude: np.ndarray | None = None) -> np.ndarray:
        """The mixed first-slot distribution :math:`p` of the class docstring."""
        scores, exclude = check_scores(scores, exclude)
        base = self.base_policy.probabilities(scores, exclude)
        if base is None:
            raise InvalidParameterError(
                f"base_policy {self.base_policy!r} gives no probabilities, so uniform-mix "
                "cannot mix it; use a policy with probabilities (softmax, greedy, "
                "epsilon-greedy, truncated, threshold, diversity-boost)"
            )
        if self.epsilon == 0:
            return base
        allowed = np.ones(scores.shape, bool) if exclude is None else ~exclude
        n_allowed = allowed.sum(axis=1, keepdims=True)
        uniform = np.where(n_allowed > 0, allowed / np.maximum(n_allowed, 1), base)
        return (1.0 - self.epsilon) * base + self.epsilon * uniform

    def _select(
        self, scores: np.ndarray, k: int, exclude: np.ndarray | None, rng: np.random.Generator
    ) -> Selection:
        if self.epsilon == 0:
            return self.base_policy.select(scores, k, exclude, rng)
        p = self.probabilities(scores, exclude)
        mass = p.sum(axis=1)
        positive = p > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.where(positive, np.log(p / mass[:, None]), 0.0)
        sel = SoftmaxPolicy().select(logp, k, ~positive, rng)
        partial = np.flatnonzero(mass < 1.0 - 1e-9)  # the base shows nothing w.p. 1 - mass
        if not len(partial):
            return sel
        slates, props = sel.slates.copy(), sel.propensities.copy()
        inclusion = None if sel.inclusion is None else sel.inclusion.copy()
        nothing = partial[rng.random(len(partial)) >= mass[partial]]
        shown = np.setdiff1d(partial, nothing)
        props[shown, 0] *= mass[shown]
        if inclusion is not None:
            inclusion[shown] *= mass[shown, None]
        slates[nothing] = NO_ITEM
        props[nothing] = 1.0
        props[nothing, 0] = 1.0 - mass[nothing]
        if inclusion is not None:
            inclusion[nothing] = 1.0
        return Selection(slates, props, inclusion)
