"""Seconds per step and convergence of the mixture-of-experts pool allocation (issue 20
item 5; thesis Fig. 4.5).

Two measurements on ``synthetic_multilabel`` (d = 400, 100 arms; 25,000 points: a
20,000-point training pool, enough for c = 750 examples per arm, and 5,000 test points):

* ``--timing`` — milliseconds per optimisation step (batch ``--batch``) at the corners of
  Fig. 4.5's grid (N ∈ {10, 20}, s ∈ {10, 100}, d_e ∈ {5, 50}, c = 750, both gates;
  ``--full-grid``: every s ∈ {10, 25, 50, 100}, d_e ∈ {5, 10, 50}), and the seconds of
  one evaluation (P@5/R@5 on the test set). The cost of a step does not depend on c.
* ``--convergence`` — test P@5 / R@5 (± standard error over the test points) and the
  held-out objective after 125, 250, 500, … ``--max-steps`` steps, for both gates, at the
  settings of ``--settings`` (``N,c,s,d_e``), the thesis's per-gate optimiser and σ².

Running::

    python benchmarks/bench_moe.py --timing --convergence --json /tmp/bench_moe.json

The exit status is 0 (a report, not a test). Times are wall-clock, one torch thread: run
on a quiet machine.

Measured (2 shared cores, one torch thread, nice 19; seed 0; P@5 over 5,000 test points,
standard error ≈ 0.004; R@5 moves with it). MoE = learned gate (``gate_features="none"``,
Adam, σ² = 0.01; σ² = 1 at d_e = 50), random = random pools (RMSProp, σ² = 1)::

    batch 1024        N   c    s  d_e      125   250   500  1000  2000  4000  8000 16000
    MoE              10  500  50  10      .327  .372  .408  .412  .417  .417
    random           10  500  50  10      .370  .362  .369  .375  .371  .368
    MoE              10  100  10   5      .256  .269  .278  .298  .377  .417  .418  .418
    random           10  100  10   5      .358  .333  .341  .354  .349  .333
    MoE              20  750  25   5      .310  .339  .382  .409  .416  .411  .409
    random           20  750  25   5      .382  .386  .388  .377  .385  .387  .395
    MoE (σ² = 1)     20  100  25  50      .423  .425  .394  .352  .321  .302  .308
    random           20  100  25  50      .293  .275  .291  .321  .318  .311  .311
    MoE (σ² = 1)     20  750 100  50      .438  .435  .433  .438  .442  .431
    random           20  750 100  50      .306  .312  .314  .310  .329  .340  .346  .345
    batch 4096
    MoE              10  500  50  10      .344  .368  .374  .405  .406  .408
    random           10  500  50  10      .371  .378  .376  .374  .370  .379
    MoE              10  100  10   5      .285  .295  .301  .308  .344  .360
    random           10  100  10   5      .344  .353  .350  .346  .356  .359

(the c = 100, d_e = 5 MoE row at 6000/12,000 steps: .413/.413.) Chosen: 4000 steps of 1024
(``MixtureOfExperts``'s defaults) — the fewest after which every curve but the overfitting
σ² = 1 MoE at c = 100 stays within ≈ 1–2 standard errors; 4096 needs as many steps or
more. Milliseconds per step, one core (``--timing``; eval = P@5/R@5 on 5000 points)::

    N   s  d_e   batch 1024: MoE  random   batch 4096: MoE  random
    10  10   5               4.5    4.4                11.4    11.7
    10  10  50               5.8    4.3                42.1*   44.1*
    10 100   5               6.5    5.4                29.2    28.2
    10 100  50               8.9   11.1                60.3*   59.4*
    20  10   5               4.9    3.4                16.9    14.6
    20  10  50               8.5   11.8                73.8*   79.1*
    20 100   5              11.1    9.2                39.6    45.0
    20 100  50              21.2   23.0               121.5*  145.7*

(* before the [N, B, d_e] layout for d_e > 16, which halved d_e = 50 at batch 1024.) Over
the whole grid (``--full-grid``) at batch 1024: 7.5 ms a step on average (d_e = 5: 5.5,
10: 6.5, 50: 10.4), i.e. 30 s a fit of 4000 steps, 432 fits ≈ 3.6 h on one core; an
evaluation takes 0.1–0.2 s.
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

from benchlib import machine_info, write_json

from recdyn.bandits import MixtureOfExperts, offline_split, synthetic_multilabel

GATES = ("learned", "random")


def data(seed: int = 0, per_arm: int = 750, n_points: int = 25_000, n_test: int = 5000):
    """The synthetic AmazonCat substitute split into train / test."""
    return offline_split(
        synthetic_multilabel(n_points, d=400, n_arms=100, seed=seed),
        per_arm, n_test=n_test, seed=seed,
    )  # fmt: skip


#: Fig. 4.5's grid (N = 5 is in the thesis's text but not in the figure).
GRID = {"N": (10, 20), "s": (10, 25, 50, 100), "d_e": (5, 10, 50)}
CORNERS = {"N": (10, 20), "s": (10, 100), "d_e": (5, 50)}


def timing(batch: int, steps: int, grid: dict) -> list[dict[str, Any]]:
    """Milliseconds per step at the points of ``grid``, and one evaluation's seconds."""
    train, test = data()
    rows = []
    for n, s, k, gate in itertools.product(grid["N"], grid["s"], grid["d_e"], GATES):
        model = MixtureOfExperts(
            gate=gate, n_experts=n, n_features=s, item_dim=k, steps=3, batch_size=batch
        ).fit(train)  # warm up
        model.set_params(steps=steps)
        start = time.perf_counter()
        model.fit(train)
        per_step = (time.perf_counter() - start) / steps
        start = time.perf_counter()
        model.precision_recall(test)
        row = dict(N=n, s=s, d_e=k, gate=gate, batch=batch, ms_per_step=1000 * per_step,
                   eval_s=time.perf_counter() - start)  # fmt: skip
        print(row, flush=True)
        rows.append(row)
    return rows


class Recorder:
    """The fit's callback: test metrics at the checkpoints, appended to ``rows``."""

    def __init__(self, setting: dict, test: Any, checkpoints: list[int], rows: list) -> None:
        self.setting, self.test, self.checkpoints, self.rows = setting, test, checkpoints, rows
        self.start = time.perf_counter()

    def __call__(self, step: int, model: MixtureOfExperts) -> None:
        if step not in self.checkpoints:
            return
        row = dict(**self.setting, steps=step, seconds=time.perf_counter() - self.start,
                   train_loss=float(model.losses_[max(step - 100, 0) : step].mean()),
                   heldout_loss=model.heldout_loss(self.test),
                   **model.precision_recall(self.test))  # fmt: skip
        print({key: round(v, 4) if isinstance(v, float) else v for key, v in row.items()},
              flush=True)  # fmt: skip
        self.rows.append(row)
        self.start += time.perf_counter() - self.start - row["seconds"]  # evaluation untimed


def convergence(
    settings: list[tuple[int, ...]], batch: int, max_steps: int, seed: int, gates=GATES
):
    """Test metrics along the optimisation, every doubling of the steps from 125 on."""
    checkpoints = [125]
    while checkpoints[-1] * 2 <= max_steps:
        checkpoints.append(checkpoints[-1] * 2)
    rows: list[dict[str, Any]] = []
    for (n, c, s, k), gate in itertools.product(settings, gates):
        train, test = data(seed=seed, per_arm=c)
        setting = dict(N=n, c=c, s=s, d_e=k, gate=gate, batch=batch, seed=seed)
        MixtureOfExperts(
            gate=gate, n_experts=n, n_features=s, item_dim=k, steps=checkpoints[-1],
            batch_size=batch, seed=seed,
        ).fit(train, callback=Recorder(setting, test, checkpoints, rows))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--convergence", action="store_true")
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--timing-steps", type=int, default=20)
    parser.add_argument("--full-grid", action="store_true", help="time every grid point")
    parser.add_argument("--max-steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gates", nargs="+", default=list(GATES), choices=GATES)
    parser.add_argument(
        "--settings", nargs="+", default=["10,500,50,10", "20,750,100,50", "10,100,10,5"],
        help="N,c,s,d_e of each convergence setting",
    )  # fmt: skip
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from recdyn.recommenders.neural.runtime import set_threads

    set_threads(1)
    result: dict[str, Any] = {"machine": machine_info(torch_threads=1)}
    if args.timing:
        grid = GRID if args.full_grid else CORNERS
        result["timing"] = timing(args.batch, args.timing_steps, grid)
    if args.convergence:
        settings = [tuple(int(v) for v in s.split(",")) for s in args.settings]
        result["convergence"] = convergence(
            settings, args.batch, args.max_steps, args.seed, args.gates
        )
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    main()
