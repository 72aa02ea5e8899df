r"""Run bandit systems on a world for many seeds at once: :func:`run_bandit`.

Per round and row it logs the best arm :math:`a^\star_t \in \arg\max_a f^\star(x_t, a)`,
the best nominated arm :math:`\tilde a_t \in \arg\max_{a \in C_t} f^\star(x_t, a)`, the
chosen arm :math:`a_t`, and the regret decomposition (L2374–2410)

.. math:: r^\star_t - r_t = \underbrace{(r^\star_t - r_{t\tilde a_t})}_{R^N}
          + \underbrace{(r_{t\tilde a_t} - r_t)}_{R^R},

on the mean rewards :math:`f^\star` (pseudo-regret; for a single stage :math:`C_t = A`,
so :math:`R^N = 0`), together with the expected regret of the uniformly random agent on
the same round, :math:`r^\star_t - |A|^{-1}\sum_a f^\star(x_t, a)`; the relative regret
(Fig. 4.4) is the cumulative regret over the uniform agent's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from recdyn._validation import check_int
from recdyn.bandits.systems import System
from recdyn.bandits.worlds import BanditWorld, Round, _check_seeds
from recdyn.errors import InvalidParameterError

__all__ = ["COLUMNS", "run_bandit"]

#: The frame's columns (``config`` first when several systems are run).
COLUMNS = (
    "seed", "round", "chosen", "best_arm", "best_nominated", "reward", "regret",
    "nominator_regret", "ranker_regret", "uniform_regret", "cumulative",
    "cumulative_nominator", "cumulative_ranker", "cumulative_uniform", "relative_regret",
)  # fmt: skip


def run_bandit(
    world: BanditWorld,
    system: System | Sequence[System],
    rounds: int,
    seeds: int | Sequence[int],
    *,
    every: int = 1,
    blas_threads: int | None = 1,
) -> pd.DataFrame:
    """Run ``system`` on ``world`` for ``rounds`` rounds and every seed of ``seeds``, all
    seeds in one batch.

    ``system`` may be a list of systems (configurations): all see the same world draws of
    a seed, which are made once; those of one class and structure (differing only in
    their learners' hyperparameters, e.g. a hyperparameter grid) also run as one batch.
    The frame then has a ``config`` column (the list position). ``every``: log every
    ``every``-th round and the last (the cumulative columns still count every round).
    ``blas_threads``: BLAS threads while it runs (by ``threadpoolctl`` when installed;
    ``None`` leaves them): the batched products are many small matrices, which OpenBLAS's
    threads slow down ~4× at d = 80 (and one thread keeps the sums' order fixed).

    Returns one row per (config, seed, logged round), columns :data:`COLUMNS` (module
    doc): ``regret`` = ``nominator_regret`` + ``ranker_regret`` at that round, the
    ``cumulative*`` sums up to it and ``relative_regret`` = ``cumulative`` /
    ``cumulative_uniform``.
    """
    if not isinstance(world, BanditWorld):
        raise InvalidParameterError(f"world must be a BanditWorld, got {world!r}")
    many = not isinstance(system, System)
    systems: list[Any] = list(system) if many else [system]  # type: ignore[arg-type]
    if not systems or not all(isinstance(s, System) for s in systems):
        raise InvalidParameterError(
            f"system must be a System or a non-empty list of them, got {system!r}"
        )
    rounds = check_int("rounds", rounds, low=1)
    every = check_int("every", every, low=1)
    seed_list = _check_seeds(seeds)
    if len(set(seed_list)) != len(seed_list):
        raise InvalidParameterError(f"seeds must be distinct, got {seed_list}")
    if blas_threads is not None:
        blas_threads = check_int("blas_threads", blas_threads, low=1)
    with _blas_limit(blas_threads):
        return _run(world, systems, many, rounds, seed_list, every)


@contextmanager
def _blas_limit(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: then the libraries' own thread counts apply
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _run(
    world: BanditWorld, systems: list[Any], many: bool, rounds: int, seed_list: list[int],
    every: int,
) -> pd.DataFrame:  # fmt: skip
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(systems):
        groups.setdefault(f"{type(s).__qualname__}{sorted(s.structure().items())!r}", []).append(i)
    world_run = world.start(seed_list)
    runs = [(idx, type(systems[idx[0]]).start_batch([systems[i] for i in idx], world_run))
            for idx in groups.values()]  # fmt: skip
    n_cfg, n_seeds = len(systems), len(seed_list)
    logged = [t for t in range(rounds) if (t + 1) % every == 0 or t == rounds - 1]
    at = {t: i for i, t in enumerate(logged)}
    shape = (len(logged), n_cfg, n_seeds)
    out = {k: np.empty(shape, np.int64) for k in ("chosen", "best_arm", "best_nominated")}
    out.update({k: np.empty(shape) for k in COLUMNS[5:-1]})
    cum = np.zeros((4, n_cfg, n_seeds))  # regret, nominator, ranker, uniform
    for t in range(rounds):
        rnd = world_run.next_round()
        for idx, run in runs:
            chosen, cand = run.step(rnd)
            stats = _round_stats(run.view(rnd), chosen, cand)
            inst = np.stack([stats["nominator_regret"], stats["ranker_regret"],
                             stats["uniform_regret"]]).reshape(3, len(idx), n_seeds)  # fmt: skip
            cum[1:, idx] += inst
            cum[0, idx] = cum[1, idx] + cum[2, idx]
            i = at.get(t)
            if i is None:
                continue
            for k, v in stats.items():
                out[k][i, idx] = v.reshape(len(idx), n_seeds)
            for k, c in zip(COLUMNS[10:14], cum[:, idx]):
                out[k][i, idx] = c
    n_log = len(logged)
    cols: dict[str, Any] = {}
    if many:
        cols["config"] = np.repeat(np.arange(n_cfg), n_seeds * n_log)
    cols["seed"] = np.repeat(np.tile(seed_list, n_cfg), n_log)
    cols["round"] = np.tile(np.asarray(logged) + 1, n_cfg * n_seeds)
    for k, v in out.items():
        cols[k] = v.transpose(1, 2, 0).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cols["relative_regret"] = cols["cumulative"] / cols["cumulative_uniform"]
    return pd.DataFrame(cols)[(["config"] if many else []) + list(COLUMNS)]


def _round_stats(rnd: Round, chosen: np.ndarray, cand: np.ndarray | None) -> dict[str, Any]:
    """The logged quantities of one round of one batch (module doc)."""
    means = rnd.means
    row = np.arange(len(means))
    best = np.argmax(means, axis=1)
    r_star = means[row, best]
    if cand is None:
        nominated, r_nom = best, r_star
    else:
        fc = means[row[:, None], cand]
        jn = np.argmax(fc, axis=1)
        nominated, r_nom = cand[row, jn], fc[row, jn]
    r_chosen = means[row, chosen]
    return {
        "chosen": chosen,
        "best_arm": best,
        "best_nominated": nominated,
        "reward": rnd.rewards[row, chosen],
        "regret": r_star - r_chosen,
        "nominator_regret": r_star - r_nom,
        "ranker_regret": r_nom - r_chosen,
        "uniform_regret": r_star - means.mean(axis=1),
    }
