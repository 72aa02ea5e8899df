r"""Linear contextual-bandit learners, batched: LinUCB, Greedy, softmax policy gradient, uniform.

Thesis ch. 4 (L2435–2469, L3481–3496). Every learner models the reward of an arm with
context :math:`x_a` linearly, :math:`f_t(x, a) = \langle\hat\theta_t, x_a\rangle`, and
keeps one parameter vector per *row* of a batch: a row is one (configuration, seed) — or,
for nominators, one (configuration, seed, nominator) — so a round of ``B`` independent
learners is one numpy computation on arrays with a leading ``[B, …]`` axis.

* :class:`LinUCB` — ridge regression (L2437–2468)

  .. math:: \hat\theta_t = \Sigma_t \sum_{i<t} w_i x_i r_i,\qquad
            \Sigma_t = \Big(\lambda D\, I + \sum_{i<t} w_i x_i x_i^\top\Big)^{-1},

  with the regulariser multiplied by the input dimension ``D`` (L3524), and the choice
  :math:`a_t \in \arg\max_a \langle\hat\theta_t, x_a\rangle + \alpha\sqrt{x_a^\top\Sigma_t
  x_a}`. :math:`\Sigma_t` and :math:`\hat\theta_t` are updated by Sherman–Morrison
  (recursive least squares): with :math:`k = w\Sigma x / (1 + w\,x^\top\Sigma x)`,
  :math:`\hat\theta \leftarrow \hat\theta + k\,(r - x^\top\hat\theta)` and
  :math:`\Sigma \leftarrow \Sigma - k\,(\Sigma x)^\top` — :math:`O(D^2)` a round. The
  weight :math:`w \ge 0` is the nominators' training weight (L2714–2735; 1 for the ranker).
* :class:`Greedy` — LinUCB with :math:`\alpha = 0` (L2469); the bonus is not computed.
* :class:`PolicyGradient` — :math:`\pi(a) \propto \exp(\langle\theta, x_a\rangle/\tau)`
  over the arms the learner chooses among, one REINFORCE step a round on the last tuple
  (L3481–3496): :math:`\theta \leftarrow \theta + \eta\,w\,r_t\,(x_{a_t} - E_\pi[x])/\tau`.
* :class:`Uniform` — a uniformly random choice (the reference agent; random nominators).

Ties of the argmax are broken uniformly at random (:math:`\pi_t(x) = \mathrm{Unif}(\arg\max)`,
L2646), from one uniform number per row that the caller draws from the row's own stream,
so a row's choices never depend on the other rows of the batch.

A learner object holds hyperparameters only (``get_params`` / ``set_params``);
:meth:`Learner.state` / :meth:`Learner.stack` build the batched :class:`LearnerState`,
``stack`` from several learners of one class (a grid of configurations, one hyperparameter
array entry per row).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from numbers import Real
from typing import Annotated, ClassVar

import numpy as np

from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.params import Parametrized

__all__ = [
    "Greedy",
    "Learner",
    "LearnerState",
    "LinUCB",
    "PolicyGradient",
    "RidgeState",
    "SoftmaxState",
    "Uniform",
    "UniformState",
    "argmax_random_ties",
]

#: Scores within this (relative) distance of a row's best score tie.
TIE_RTOL = 1e-12
#: From this input dimension on, Σ's rank-one updates run in place by BLAS ``dger``, row by
#: row, instead of one vectorised expression with a ``[B, D, D]`` temporary.
BLAS_UPDATE_DIM = 100


def argmax_random_ties(scores: np.ndarray, mask: np.ndarray | None, u: np.ndarray) -> np.ndarray:
    """Index ``[B]`` of a best entry of each row of ``scores`` ``[B, m]`` among the entries
    ``mask`` allows (``None``: all), ties broken by the uniform numbers ``u`` ``[B]``: the
    ``⌊u·n⌋``-th of the ``n`` tied entries."""
    s = scores if mask is None else np.where(mask, scores, -np.inf)
    best = s.max(axis=1, keepdims=True)
    ties = s >= best - TIE_RTOL * np.maximum(1.0, np.abs(best))
    if mask is not None:
        ties &= mask
    counts = ties.sum(axis=1)
    k = np.minimum((u * counts).astype(np.int64), counts - 1)
    return np.argmax(np.cumsum(ties, axis=1) > k[:, None], axis=1)


class LearnerState(ABC):
    """The batched state of ``batch`` learners of input dimension ``dim``."""

    def __init__(self, batch: int, dim: int) -> None:
        self.batch, self.dim = batch, dim

    @abstractmethod
    def scores(self, contexts: np.ndarray) -> np.ndarray:
        """Selection scores ``[B, m]`` of the arms with ``contexts`` ``[B, m, D]``."""

    def choose(self, contexts: np.ndarray, mask: np.ndarray | None, u: np.ndarray) -> np.ndarray:
        """Index ``[B]`` (into the ``m`` arms) of each row's choice; ``mask`` ``[B, m]``
        marks the arms a row may choose (``None``: all), ``u`` ``[B]`` uniform numbers."""
        return argmax_random_ties(self.scores(contexts), mask, u)

    @abstractmethod
    def update(self, x: np.ndarray, reward: np.ndarray, weight: np.ndarray | None = None):
        """Learn from each row's chosen context ``x`` ``[B, D]``, its reward ``[B]`` and the
        row's training weight ``[B]`` (``None``: 1; 0 leaves the row unchanged)."""


class Learner(Parametrized):
    """Base of the batched learners: hyperparameters in the constructor; ``state`` builds
    the arrays (module doc)."""

    #: the numeric hyperparameters that may differ between the rows of one batch
    batched_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        pass

    def state(self, batch: int, dim: int) -> LearnerState:
        """A fresh batched state: ``batch`` rows of input dimension ``dim``."""
        return type(self).stack([self], batch, dim)

    @classmethod
    def stack(cls, learners: Sequence[Learner], repeat: int, dim: int) -> LearnerState:
        """One state for ``len(learners) * repeat`` rows: learner ``i``'s hyperparameters
        in rows ``i*repeat … (i+1)*repeat - 1``. The learners must all be of this class."""
        if not learners or any(type(lr) is not cls for lr in learners):
            raise InvalidParameterError(
                f"learners must be a non-empty list of {cls.__name__} objects, got "
                f"{[type(lr).__name__ for lr in learners]}"
            )
        if repeat < 1 or dim < 1:
            raise InvalidParameterError(f"repeat and dim must be ≥ 1, got {repeat}, {dim}")
        hyper = {
            name: np.repeat(np.array([getattr(lr, name) for lr in learners], float), repeat)
            for name in cls.batched_params
        }
        return cls._make_state(len(learners) * repeat, dim, **hyper)

    @classmethod
    def _make_state(cls, batch: int, dim: int, **hyper: np.ndarray) -> LearnerState:
        raise NotImplementedError


class RidgeState(LearnerState):
    """Ridge regression with Sherman–Morrison updates and a UCB bonus (module doc).

    ``cov`` ``[B, D, D]`` is :math:`\\Sigma_t`, ``theta`` ``[B, D]`` is
    :math:`\\hat\\theta_t`, ``alpha`` ``[B]`` the bonus factor (0: greedy)."""

    def __init__(self, batch: int, dim: int, reg: np.ndarray, alpha: np.ndarray) -> None:
        super().__init__(batch, dim)
        lam = np.asarray(reg, float) * dim
        self.cov = np.eye(dim)[None, :, :] / lam[:, None, None]
        self.theta = np.zeros((batch, dim))
        self.alpha = np.asarray(alpha, float)
        self._explores = bool(np.any(self.alpha > 0))

    def mean(self, contexts: np.ndarray) -> np.ndarray:
        """Predicted rewards :math:`\\langle\\hat\\theta, x_a\\rangle` ``[B, m]``."""
        return np.matmul(contexts, self.theta[:, :, None])[..., 0]

    def width(self, contexts: np.ndarray) -> np.ndarray:
        """:math:`\\sqrt{x_a^\\top\\Sigma x_a}` ``[B, m]``."""
        xs = np.matmul(contexts, self.cov)
        return np.sqrt(np.maximum(np.einsum("bmd,bmd->bm", xs, contexts), 0.0))

    def scores(self, contexts: np.ndarray) -> np.ndarray:
        out = self.mean(contexts)
        if self._explores:
            out = out + self.alpha[:, None] * self.width(contexts)
        return out

    def update(self, x: np.ndarray, reward: np.ndarray, weight: np.ndarray | None = None):
        w = np.ones(self.batch) if weight is None else np.asarray(weight, float)
        sx = np.matmul(self.cov, x[:, :, None])[..., 0]
        k = (w / (1.0 + w * np.einsum("bd,bd->b", x, sx)))[:, None] * sx
        self.theta += k * (reward - np.einsum("bd,bd->b", x, self.theta))[:, None]
        if self.dim < BLAS_UPDATE_DIM:
            self.cov -= k[:, :, None] * sx[:, None, :]
            return
        from scipy.linalg.blas import dger

        for b in np.flatnonzero(w):  # in place, one pass over each [D, D] (5× faster at 400)
            dger(-1.0, sx[b], k[b], a=self.cov[b].T, overwrite_a=1)


class LinUCB(Learner):
    r"""LinUCB: ridge regression, bonus :math:`\alpha\sqrt{x^\top\Sigma x}` (module doc).

    ``alpha`` ≥ 0 is the exploration bonus, ``reg`` > 0 the ridge regulariser before it is
    multiplied by the input dimension (L3524; Tables 4.1/4.3 sweep both over
    :math:`10^{-4} … 10^{2}`)."""

    batched_params = ("reg", "alpha")

    def __init__(
        self,
        *,
        alpha: Annotated[float, Interval(Real, 0, None)] = 0.1,
        reg: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0,
    ) -> None:
        pass

    @classmethod
    def _make_state(cls, batch: int, dim: int, **hyper: np.ndarray) -> LearnerState:
        return RidgeState(batch, dim, hyper["reg"], hyper["alpha"])


class Greedy(Learner):
    """Greedy: the ridge estimate without bonus (LinUCB with ``alpha = 0``, L2469)."""

    batched_params = ("reg",)

    def __init__(
        self, *, reg: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0
    ) -> None:
        pass

    @classmethod
    def _make_state(cls, batch: int, dim: int, **hyper: np.ndarray) -> LearnerState:
        return RidgeState(batch, dim, hyper["reg"], np.zeros(batch))


class SoftmaxState(LearnerState):
    """Softmax policy :math:`\\pi \\propto \\exp(\\langle\\theta, x_a\\rangle/\\tau)` with one
    REINFORCE step a round (module doc). ``choose`` samples from :math:`\\pi` by inverse
    CDF and remembers :math:`E_\\pi[x]` of the set it chose from, which ``update`` uses: for
    a nominator trained on an arm outside its own pool, the score function is taken as if
    that arm's context had been among its choices (the thesis does not say)."""

    def __init__(
        self, batch: int, dim: int, learning_rate: np.ndarray, temperature: np.ndarray
    ) -> None:
        super().__init__(batch, dim)
        self.theta = np.zeros((batch, dim))
        self.learning_rate = np.asarray(learning_rate, float)
        self.temperature = np.asarray(temperature, float)
        self._mean_x: np.ndarray | None = None

    def scores(self, contexts: np.ndarray) -> np.ndarray:
        logits = np.matmul(contexts, self.theta[:, :, None])[..., 0]
        return logits / self.temperature[:, None]

    def probabilities(self, contexts: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """:math:`\\pi` ``[B, m]`` over the allowed arms."""
        s = self.scores(contexts)
        if mask is not None:
            s = np.where(mask, s, -np.inf)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def choose(self, contexts: np.ndarray, mask: np.ndarray | None, u: np.ndarray) -> np.ndarray:
        p = self.probabilities(contexts, mask)
        self._mean_x = np.einsum("bm,bmd->bd", p, contexts)
        cdf = np.cumsum(p, axis=1)
        pick = np.argmax(cdf > (u * cdf[:, -1])[:, None], axis=1)
        if mask is not None:  # guard against rounding past the last allowed arm
            bad = ~mask[np.arange(self.batch), pick]
            if bad.any():
                pick[bad] = np.argmax(np.where(mask[bad], p[bad], -1.0), axis=1)
        return pick

    def update(self, x: np.ndarray, reward: np.ndarray, weight: np.ndarray | None = None):
        if self._mean_x is None:
            raise InvalidParameterError("PolicyGradient: update called before choose")
        w = np.ones(self.batch) if weight is None else np.asarray(weight, float)
        step = self.learning_rate * w * np.asarray(reward, float) / self.temperature
        self.theta += step[:, None] * (x - self._mean_x)


class PolicyGradient(Learner):
    """Softmax policy gradient (REINFORCE, one step a round on the last tuple, L3481–3496).

    ``learning_rate`` > 0 (Tables 4.1/4.3 sweep :math:`10^{-4} … 10^{2}`), ``temperature``
    > 0 divides the logits."""

    batched_params = ("learning_rate", "temperature")

    def __init__(
        self,
        *,
        learning_rate: Annotated[float, Interval(Real, 0, None, closed="neither")] = 0.1,
        temperature: Annotated[float, Interval(Real, 0, None, closed="neither")] = 1.0,
    ) -> None:
        pass

    @classmethod
    def _make_state(cls, batch: int, dim: int, **hyper: np.ndarray) -> LearnerState:
        return SoftmaxState(batch, dim, hyper["learning_rate"], hyper["temperature"])


class UniformState(LearnerState):
    """Chooses uniformly among the allowed arms; learns nothing."""

    def scores(self, contexts: np.ndarray) -> np.ndarray:
        return np.zeros(contexts.shape[:2])

    def update(self, x: np.ndarray, reward: np.ndarray, weight: np.ndarray | None = None):
        return None


class Uniform(Learner):
    """The uniformly random agent (the reference of relative regret; random nominators,
    L2597–2602)."""

    @classmethod
    def _make_state(cls, batch: int, dim: int, **hyper: np.ndarray) -> LearnerState:
        return UniformState(batch, dim)
