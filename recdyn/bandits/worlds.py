r"""Contextual bandit worlds whose arm contexts are redrawn every round (thesis ch. 4).

At round ``t`` a world shows every arm ``a`` a context :math:`x_{t,a} \in \mathbb R^d` and
has a mean reward :math:`f^\star(x_t, a)` and a realised reward :math:`r_{t,a}`; a system
sees contexts, chooses one arm and observes only that arm's realised reward. The regret is
measured on the means (pseudo-regret; the noise has mean zero).

* :class:`LinearWorld` (``"linear-v1"``) — the synthetic world of L2480–2483:
  :math:`r_{t,a} = \langle\theta^\star, x_{t,a}\rangle + \varepsilon_{t,a}`,
  :math:`\theta^\star \sim \mathrm{Unif}(S^{d-1})` drawn once per seed,
  :math:`x_{t,a} \sim N(0, I_d)`, :math:`\varepsilon_{t,a} \sim N(0, \sigma^2)` with
  :math:`\sigma = 0.1` (variance 0.01; Table 4.2 also uses 0.01 and 1).
* :class:`FiniteWorld` — each round one of ``J`` fixed context matrices, with fixed mean
  rewards (Proposition 2's bandit construction, L2915–2926).
* :class:`~recdyn.bandits.multilabel.MultiLabelWorld` — multi-label data as a bandit.

Worlds are batched: :meth:`BanditWorld.start` takes one seed per batch row and returns a
:class:`WorldRun` whose rounds hold ``[B, K]`` means and rewards and give contexts through
:meth:`Round.take` — only those a learner needs, restricted to its features.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np

from recdyn.bandits.streams import RowDraws, row_generators
from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.params import Parametrized

__all__ = ["BanditWorld", "DenseRound", "FiniteWorld", "LinearWorld", "Round", "WorldRun"]


def _rows_index(batch: int, ndim: int) -> np.ndarray:
    return np.arange(batch).reshape((batch,) + (1,) * (ndim - 1))


class Round(ABC):
    """One round of a batch: ``means`` and ``rewards`` ``[B, K]`` and the contexts."""

    means: np.ndarray
    rewards: np.ndarray

    @abstractmethod
    def take(self, arms: np.ndarray | None = None, features: np.ndarray | None = None):
        """Contexts of ``arms`` restricted to ``features``.

        ``arms``: int ``[B, …, m]`` (``None``: all ``K`` arms, ``[B, K]``); ``features``:
        int ``[B, …, s]`` with the same middle axes (``None``: all ``d``). Returns
        ``[B, …, m, s]`` (or ``[B, …, m, d]``).
        """

    @abstractmethod
    def subset(self, rows: np.ndarray) -> Round:
        """The round seen by a batch whose row ``i`` is this batch's row ``rows[i]`` (the
        configurations of a grid share their seed's world)."""

    def _all_arms(self) -> np.ndarray:
        b, k = self.means.shape
        return np.broadcast_to(np.arange(k), (b, k))


class DenseRound(Round):
    """A round whose contexts ``[B', K, d]`` are held in full; batch row ``i`` reads
    context row ``index[i]`` (``None``: ``i``)."""

    def __init__(
        self,
        contexts: np.ndarray,
        means: np.ndarray,
        rewards: np.ndarray,
        index: np.ndarray | None = None,
    ) -> None:
        self.contexts, self.means, self.rewards, self.index = contexts, means, rewards, index

    def subset(self, rows: np.ndarray) -> DenseRound:
        index = rows if self.index is None else self.index[rows]
        return DenseRound(self.contexts, self.means[rows], self.rewards[rows], index)

    def take(self, arms: np.ndarray | None = None, features: np.ndarray | None = None):
        if arms is None and features is None:
            return self.contexts if self.index is None else self.contexts[self.index]
        arms = self._all_arms() if arms is None else arms
        if features is not None and features.ndim < arms.ndim:
            raise InvalidParameterError("features must have the arms' leading axes")
        rows = _rows_index(len(arms), arms.ndim)
        if self.index is not None:
            rows = self.index[rows]
        if features is None:
            return self.contexts[rows, arms]
        return self.contexts[rows[..., None], arms[..., None], features[..., None, :]]


class WorldRun(ABC):
    """A world started for a batch of rows (one seed each)."""

    def __init__(self, world: BanditWorld, seeds: Sequence[int]) -> None:
        self.world = world
        self.seeds = np.asarray(seeds, dtype=np.int64)
        self.unique_seeds, self.rows = np.unique(self.seeds, return_inverse=True)
        self.n_rows, self.n_arms, self.dim = len(self.seeds), world.n_arms, world.dim

    def generators(self, *names: str) -> list[np.random.Generator]:
        return row_generators(self.unique_seeds, "world", *names)

    @abstractmethod
    def next_round(self) -> Round:
        """The next round's contexts, means and rewards."""


class BanditWorld(Parametrized):
    """Base of the bandit worlds: ``n_arms`` arms with ``dim``-dimensional contexts."""

    n_arms: int
    dim: int

    def __init__(self) -> None:
        pass

    def start(self, seeds: Sequence[int] | int) -> WorldRun:
        """The world for a batch of rows, row ``i`` drawn from ``seeds[i]``'s streams."""
        return self._start(_check_seeds(seeds))

    @abstractmethod
    def _start(self, seeds: list[int]) -> WorldRun: ...


def _check_seeds(seeds: Any) -> list[int]:
    items = [seeds] if isinstance(seeds, (int, np.integer)) else list(seeds)
    if not items or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in items
    ):
        raise InvalidParameterError(
            f"seeds must be a non-negative integer or a non-empty list of them, got {seeds!r}"
        )
    return [int(s) for s in items]


class _LinearRun(WorldRun):
    def __init__(self, world: LinearWorld, seeds: Sequence[int]) -> None:
        super().__init__(world, seeds)
        init = self.generators("init")
        theta = np.stack([g.standard_normal(self.dim) for g in init])
        theta /= np.linalg.norm(theta, axis=1, keepdims=True)
        self.theta = theta[self.rows]  # [B, d], θ⋆ of each row
        k, d = self.n_arms, self.dim
        self._contexts = RowDraws(self.generators("contexts"), (k, d), "normal", rows=self.rows)
        self._noise = RowDraws(self.generators("noise"), (k,), "normal", rows=self.rows)
        self.noise = world.noise

    def next_round(self) -> DenseRound:
        x = self._contexts.next()
        means = np.matmul(x, self.theta[:, :, None])[..., 0]
        return DenseRound(x, means, means + self.noise * self._noise.next())


class LinearWorld(BanditWorld):
    r"""The synthetic linear bandit (L2480–2483): :math:`r_{t,a} = \langle\theta^\star,
    x_{t,a}\rangle + \varepsilon_{t,a}`, :math:`\theta^\star \sim \mathrm{Unif}(S^{d-1})`
    per seed, :math:`x_{t,a} \sim N(0, I_d)`, :math:`\varepsilon \sim N(0,`
    ``noise``:math:`^2)`; ``n_arms`` = :math:`|A|`, ``dim`` = :math:`d`."""

    def __init__(
        self,
        *,
        n_arms: Annotated[int, Interval(Integral, 1, None)] = 100,
        dim: Annotated[int, Interval(Integral, 1, None)] = 20,
        noise: Annotated[float, Interval(Real, 0, None)] = 0.1,
    ) -> None:
        pass

    def _start(self, seeds: list[int]) -> WorldRun:
        return _LinearRun(self, seeds)


class _FiniteRun(WorldRun):
    def __init__(self, world: FiniteWorld, seeds: Sequence[int]) -> None:
        super().__init__(world, seeds)
        self.contexts = np.asarray(world.contexts, float)
        self.mean_table = np.asarray(world.means, float)
        p = world.probabilities
        self.cdf = None if p is None else np.cumsum(np.asarray(p, float))
        j = len(self.contexts)
        self._draws = RowDraws(self.generators("contexts"), (), "uniform", rows=self.rows)
        self._noise = RowDraws(self.generators("noise"), (self.n_arms,), "normal", rows=self.rows)
        self.n_contexts = j

    def next_round(self) -> DenseRound:
        u = self._draws.next()
        if self.cdf is None:
            j = np.minimum((u * self.n_contexts).astype(np.int64), self.n_contexts - 1)
        else:
            j = np.minimum(np.searchsorted(self.cdf, u * self.cdf[-1], side="right"),
                           self.n_contexts - 1)  # fmt: skip
        means = self.mean_table[j]
        return DenseRound(self.contexts[j], means, means + self.world.noise * self._noise.next())


class FiniteWorld(BanditWorld):
    """Each round, context matrix ``contexts[j]`` ``[K, d]`` with mean rewards ``means[j]``
    ``[K]``, ``j`` drawn from ``probabilities`` (``None``: uniform); rewards add
    :math:`N(0,` ``noise``:math:`^2)`. Proposition 2's bandit setup (L2915–2926) is
    ``contexts = [X_(1), …, X_(4)]``."""

    def __init__(
        self,
        *,
        contexts: Any,
        means: Any,
        probabilities: Any = None,
        noise: Annotated[float, Interval(Real, 0, None)] = 0.0,
    ) -> None:
        pass

    def _check_params(self) -> None:
        try:
            x = np.asarray(self.contexts, float)
            m = np.asarray(self.means, float)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(f"contexts and means must be numeric: {exc}") from exc
        if x.ndim != 3 or len(x) == 0 or 0 in x.shape or not np.all(np.isfinite(x)):
            raise InvalidParameterError(
                f"contexts must be a finite [J, K, d] array, got shape {x.shape}"
            )
        if m.shape != x.shape[:2] or not np.all(np.isfinite(m)):
            raise InvalidParameterError(
                f"means must be finite [J, K] = {x.shape[:2]}, got {m.shape}"
            )
        if self.probabilities is not None:
            p = np.asarray(self.probabilities, float)
            if p.shape != (len(x),) or np.any(p < 0) or not p.sum() > 0:
                raise InvalidParameterError(
                    f"probabilities must be {len(x)} non-negative numbers with a positive sum, "
                    f"got {self.probabilities!r}"
                )

    @property
    def n_arms(self) -> int:  # type: ignore[override]
        return int(np.shape(self.contexts)[1])

    @property
    def dim(self) -> int:  # type: ignore[override]
        return int(np.shape(self.contexts)[2])

    def _start(self, seeds: list[int]) -> WorldRun:
        return _FiniteRun(self, seeds)
