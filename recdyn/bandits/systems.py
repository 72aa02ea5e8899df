r"""Single- and two-stage bandit systems (thesis ch. 4, L2355–2366, L2506–2513, L2714–2735).

* :class:`SingleStage` — one learner chooses among all arms, on all ``d`` features or on
  a random subset of ``n_features`` = ``s`` of them (the misspecified single stage,
  L2506–2510).
* :class:`TwoStage` — ``N`` nominators, nominator ``n`` with a pool :math:`A_n` of arms
  (a random partition by default, :mod:`~recdyn.bandits.allocation`) and a random subset
  :math:`S_n` of ``s`` features (a misspecified linear model on :math:`x_{S_n}`), each
  nominate the arm of their pool with the best score of their own learner,
  :math:`a_{n,t}`; the ranker, a learner on all ``d`` features, chooses :math:`a_t` among
  the candidates :math:`C_t = \{a_{1,t}, …, a_{N,t}\}` and observes :math:`r_t`. The ranker
  is trained on :math:`(x_{t,a_t}, r_t)` ("single-stage mode", Proposition 1); nominator
  ``n`` on :math:`(x_{S_n,t,a_t}, r_t)` with weight :math:`w_{n,t}` (L2714–2735):

  - ``training="all"`` — :math:`w = 1` (the default, L2511–2513);
  - ``training="own"`` — :math:`w = 1\{a_t \in A_n\}`;
  - ``training="selected"`` — :math:`w = 1\{a_t = a_{n,t}\}` (footnote 4, L2819).

All nominators share one learner class and hyperparameters, so the ``N`` nominators of
the ``B`` rows are one batched learner of ``B·N`` rows. A system is started for a batch
by :meth:`System.start_batch`, from one or several systems that differ only in their
learners' hyperparameters (a grid of configurations; rows are configuration-major).
Pools and feature subsets are drawn per seed (shared by the configurations of a seed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from numbers import Integral
from typing import Annotated, Any

import numpy as np

from recdyn.bandits.allocation import (
    check_features,
    check_pools,
    pad_pools,
    random_features,
    random_pools,
)
from recdyn.bandits.learners import Learner, LinUCB
from recdyn.bandits.streams import RowDraws, row_generators
from recdyn.bandits.worlds import Round, WorldRun
from recdyn.constraints import Constraint, InstanceOf, Interval, Options
from recdyn.errors import InvalidParameterError
from recdyn.params import Parametrized

__all__ = ["ArmLists", "SingleStage", "System", "SystemRun", "TwoStage"]

TRAINING = ("all", "own", "selected")
#: a learner parameter (``None``: a default :class:`LinUCB`)
LearnerArg = Annotated[Learner | None, InstanceOf(Learner, "a bandit Learner"), None]


class ArmLists(Constraint):
    """A non-empty list of lists of non-negative integers (kept as a tuple of tuples)."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
            return False
        try:
            items = [list(np.asarray(v).reshape(-1)) for v in value]
        except (TypeError, ValueError):
            return False
        return bool(items) and all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) and i >= 0
            for v in items
            for i in v
        )

    def convert(self, value: Any) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(int(i) for i in np.asarray(v).reshape(-1)) for v in value)

    def describe(self) -> str:
        return "a non-empty list of lists of non-negative integer ids"


class SystemRun(ABC):
    """A system started on a :class:`WorldRun`'s batch."""

    def __init__(self, world_run: WorldRun, n_configs: int) -> None:
        self.world_run = world_run
        self.n_configs, self.n_seeds = n_configs, world_run.n_rows
        self.batch = n_configs * self.n_seeds
        #: the world row (seed) of each row; rows are configuration-major
        self.seed_rows = np.tile(np.arange(self.n_seeds), n_configs)
        #: each row's index into the world's distinct seeds (per-seed draws)
        self.rows = world_run.rows[self.seed_rows]
        self.row = np.arange(self.batch)

    def _streams(self, *names: str) -> list[np.random.Generator]:
        return row_generators(self.world_run.unique_seeds, "system", *names)

    def view(self, rnd: Round) -> Round:
        """The world's round as this batch sees it."""
        return rnd if self.n_configs == 1 else rnd.subset(self.seed_rows)

    @abstractmethod
    def step(self, rnd: Round) -> tuple[np.ndarray, np.ndarray | None]:
        """Choose and learn one round of the world (:meth:`view` is applied here): the
        chosen arms ``[B]`` and the candidates ``[B, N]`` (``None`` for a single stage:
        all arms are candidates)."""


class System(Parametrized):
    """Base of the systems: :meth:`start_batch` builds the batched run."""

    def __init__(self) -> None:
        pass

    def structure(self) -> dict[str, Any]:
        """The parameters that fix array shapes: learners by class only."""
        return {
            k: type(v).__name__ if isinstance(v, Learner) else v
            for k, v in self.get_params().items()
        }

    @classmethod
    def start_batch(cls, systems: Sequence[System], world_run: WorldRun) -> SystemRun:
        """Start ``systems`` (configurations of this class with the same structure) on
        ``world_run``: one row per (configuration, world row), configuration-major."""
        systems = list(systems)
        if not systems or any(type(s) is not cls for s in systems):
            raise InvalidParameterError(
                f"system: expected {cls.__name__} objects, got "
                f"{[type(s).__name__ for s in systems]}"
            )
        first = systems[0].structure()
        for s in systems[1:]:
            if s.structure() != first:
                diff = [k for k, v in s.structure().items() if first[k] != v]
                raise InvalidParameterError(
                    f"system: configurations batched together may differ only in their "
                    f"learners' hyperparameters; these differ in {diff}"
                )
        return cls._start(systems, world_run)

    @classmethod
    def _start(cls, systems: list[Any], world_run: WorldRun) -> SystemRun:
        raise NotImplementedError


def _subset_size(n_features: int | None, dim: int) -> int:
    s = dim if n_features is None else n_features
    if s > dim:
        raise InvalidParameterError(
            f"n_features={s} exceeds the world's number of features d={dim} (s ≤ d)"
        )
    return s


class _SingleRun(SystemRun):
    def __init__(self, systems: list[SingleStage], world_run: WorldRun) -> None:
        super().__init__(world_run, len(systems))
        d = world_run.dim
        s = _subset_size(systems[0].n_features, d)
        self.features = None
        if s < d:
            per_seed = np.stack([random_features(g, d, 1, s)[0] for g in self._streams("features")])
            self.features = per_seed[self.rows]
        self.learner = type(systems[0].learner).stack(
            [sys.learner for sys in systems], self.n_seeds, s
        )
        self._u = RowDraws(self._streams("choices"), (1,), "uniform", rows=self.rows)

    def step(self, rnd: Round) -> tuple[np.ndarray, None]:
        rnd = self.view(rnd)
        x = rnd.take(None, self.features)
        a = self.learner.choose(x, None, self._u.next()[:, 0])
        self.learner.update(x[self.row, a], rnd.rewards[self.row, a])
        return a, None


class SingleStage(System):
    """One ``learner`` choosing among all arms, on a random subset of ``n_features`` of
    the world's features (``None``: all)."""

    def __init__(
        self,
        learner: LearnerArg = None,
        *,
        n_features: Annotated[int | None, Interval(Integral, 1, None), None] = None,
    ) -> None:
        if learner is None:
            self.learner = LinUCB()

    @classmethod
    def _start(cls, systems: list[Any], world_run: WorldRun) -> SystemRun:
        return _SingleRun(systems, world_run)


class _TwoStageRun(SystemRun):
    def __init__(self, systems: list[TwoStage], world_run: WorldRun) -> None:
        super().__init__(world_run, len(systems))
        sys0 = systems[0]
        k, d, rows = world_run.n_arms, world_run.dim, self.rows
        n = sys0.n_nominators
        s = _subset_size(sys0.n_features, d)
        if sys0.pools is not None:
            fixed = pad_pools(check_pools(sys0.pools, k))
            arms, mask = (
                np.broadcast_to(a, (len(world_run.unique_seeds), *a.shape)) for a in fixed
            )
        else:
            padded = [pad_pools(random_pools(g, k, n)) for g in self._streams("pools")]
            arms, mask = np.stack([p[0] for p in padded]), np.stack([p[1] for p in padded])
        self.pools, self.mask = arms[rows], mask[rows]  # [B, N, m]
        self.n, self.m = n, self.pools.shape[2]
        if sys0.training == "own":
            member = np.zeros((len(arms), n, k), dtype=bool)
            u, nn, _ = np.nonzero(mask)
            member[u, nn, arms[mask]] = True
            self.member = member[rows]
        self.features = None
        if sys0.features is not None:
            self.features = np.broadcast_to(
                check_features(sys0.features, n, s, d), (self.batch, n, s)
            )
        elif s < d:
            per_seed = np.stack([random_features(g, d, n, s) for g in self._streams("features")])
            self.features = per_seed[rows]
        self.training = sys0.training
        self.ranker = type(sys0.ranker).stack([x.ranker for x in systems], self.n_seeds, d)
        self.nominators = type(sys0.nominator).stack(
            [x.nominator for x in systems], self.n_seeds * n, s
        )
        self._u = RowDraws(self._streams("choices"), (1 + n,), "uniform", rows=rows)
        self._flat_mask = self.mask.reshape(self.batch * n, self.m)

    def step(self, rnd: Round) -> tuple[np.ndarray, np.ndarray]:
        b, n, m = self.batch, self.n, self.m
        rnd = self.view(rnd)
        u = self._u.next()
        xn = rnd.take(self.pools, self.features)  # [B, N, m, s]
        xn = xn.reshape(b * n, m, xn.shape[-1])
        jn = self.nominators.choose(xn, self._flat_mask, u[:, 1:].reshape(-1))
        cand = self.pools.reshape(b * n, m)[np.arange(b * n), jn].reshape(b, n)
        xr = rnd.take(cand)  # [B, N, d]
        j = self.ranker.choose(xr, None, u[:, 0])
        a = cand[self.row, j]
        r = rnd.rewards[self.row, a]
        self.ranker.update(xr[self.row, j], r)
        chosen = np.broadcast_to(a[:, None, None], (b, n, 1))
        x_own = rnd.take(chosen, self.features).reshape(b * n, -1)
        if self.training == "all":
            w = None
        elif self.training == "own":
            w = self.member[self.row, :, a].reshape(-1)
        else:
            w = (cand == a[:, None]).reshape(-1)
        self.nominators.update(x_own, np.repeat(r, n), w)
        return a, cand


class TwoStage(System):
    """``n_nominators`` nominators (learner ``nominator``, pools ``pools`` or a random
    partition, ``n_features`` features each — ``features`` or random subsets; ``None``:
    all) and a ``ranker`` on all features; nominators trained by ``training`` (module
    doc). Explicit ``pools`` must be ``n_nominators`` non-empty lists whose union is all
    arms; explicit ``features`` ``n_nominators`` lists of ``n_features`` indices."""

    def __init__(
        self,
        ranker: LearnerArg = None,
        nominator: LearnerArg = None,
        *,
        n_nominators: Annotated[int, Interval(Integral, 1, None)] = 5,
        n_features: Annotated[int | None, Interval(Integral, 1, None), None] = None,
        training: Annotated[str, Options(TRAINING)] = "all",
        pools: Annotated[Any, ArmLists(), None] = None,
        features: Annotated[Any, ArmLists(), None] = None,
    ) -> None:
        if ranker is None:
            self.ranker = LinUCB()
        if nominator is None:
            self.nominator = LinUCB()

    def _check_params(self) -> None:
        if self.pools is not None and len(self.pools) != self.n_nominators:
            raise InvalidParameterError(
                f"pools gives {len(self.pools)} pools but n_nominators={self.n_nominators}"
            )
        if self.features is not None and self.n_features is None:
            raise InvalidParameterError("features needs n_features (the size of each set)")

    @classmethod
    def _start(cls, systems: list[Any], world_run: WorldRun) -> SystemRun:
        return _TwoStageRun(systems, world_run)
