r"""Creators in the loop (issue 19, item 7; our extension beyond the thesis): the exposure
game's static equilibrium against the outcome of strategic creators who play it inside a
running simulation while the recommender retrains.

One unit (:func:`run_dynamic_unit`) draws ``n_users`` users
:math:`u_j = P(b\,e_1 + z_j)` (:math:`z_j \sim \mathcal N(0, I_d)`, :math:`P(x) = x/\lVert
x\rVert`, ``user_bias`` :math:`b`, default 1: a demand with a mean direction, as learned
embeddings have — with uniform users, :math:`b = 0`, the τ = 1 game is nearly flat and
the ascent does not converge in 50,000 steps) and ``n_creators`` creators uniformly on
:math:`S^{d-1}`, and

* **dynamic**: runs :func:`recdyn.simulate` on ``strategic-creators-v1``
  (:class:`~recdyn.environments.strategic.StrategicCreatorsEnvironment`) with a learned
  recommender (``mf-als`` by default) and the ``softmax`` policy at temperature ``tau``:
  every ``every`` steps each creator takes one reparametrised ascent step along the
  exposure-game gradient estimated from the exposure the live policy gave it;
* **static**: runs :func:`~recdyn.games.gradient_ascent` on the exposure game
  ``ExposureGame(users, tau)`` (thesis ch. 5, Definition 1) from the *same* initial
  profile with the same step size, to convergence — the equilibrium an audit of a frozen,
  exact recommender predicts;
* **oracle loop**: the same number of ascent steps as the dynamic run made moves, on the
  exact game (:func:`~recdyn.games.solver.ascent_step`): what the loop would give if the
  recommender's scores were the true relevance. Static vs oracle is the effect of the
  finite number of moves; oracle vs dynamic that of the learned, lagging recommender.

Statistics of a profile :math:`s_1..s_n` (unit vectors) against the users :math:`c_j`:
**concentration**, the mean pairwise cosine :math:`\langle s_i, s_k\rangle` over
:math:`i < k` (the ``exposure-audit`` study's statistic); the creators' **utilities**
:math:`u_i = \frac1m \sum_j p_i(c_j)` under the game's exposure (their mean is always
:math:`1/n`, so their spread is what is reported); the users' **welfare**
:math:`\frac1m \sum_j \sum_i p_i(c_j)\langle c_j, s_i\rangle` (expected relevance of what
the game's recommender shows). The dynamic run also reports its **live exposure**: each
creator's share of the consumptions in the last ``every`` steps.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn.environments.strategic import StrategicCreatorsEnvironment
from recdyn.games import ExposureGame, gradient_ascent
from recdyn.games.solver import ascent_step
from recdyn.policies.stochastic import SoftmaxPolicy
from recdyn.reporting import figures as fig
from recdyn.reporting.stats import MIN_BAND_TRIALS, mean_ci
from recdyn.simulation import simulate
from recdyn.studies._exposure_frames import unit_rows

__all__ = ["dynamic_figure", "dynamic_table", "profile_summary", "run_dynamic_unit"]


def profile_summary(game: ExposureGame, strategies: np.ndarray) -> dict[str, Any]:
    """Concentration, utilities (a list) and welfare of one profile ``[n, d]`` (module
    doc)."""
    s = unit_rows(np.asarray(strategies, dtype=np.float64))
    n = len(s)
    cos = (s @ s.T)[np.triu_indices(n, 1)]
    p = game.exposure(s)  # [m, n]
    welfare = float(np.mean(np.sum(p * (game.users @ s.T), axis=1)))
    return {
        "concentration": float(cos.mean()) if len(cos) else 1.0,
        "utilities": p.mean(axis=0).tolist(),
        "welfare": welfare,
    }


def run_dynamic_unit(
    *,
    tau: float,
    n_creators: int = 10,
    n_users: int = 200,
    dim: int = 3,
    steps: int = 300,
    every: int = 1,
    step_size: float = 0.5,
    seed: int = 0,
    recommender: str = "mf-als",
    response_steps: int = 1,
    user_bias: float = 1.0,
    max_iter: int = 20_000,
) -> dict[str, Any]:
    """One (τ, seed): the dynamic run, the static equilibrium and the oracle loop from the
    same initial profile (module doc). Initial vectors come from the stream
    ``("exposure-dynamic", "init")`` of ``seed``; the simulation runs on ``seed``.

    Defaults (our choice, measured at 3–5 s a unit): 200 users, 10 creators, d = 3, 300
    steps with a move at every step (``every = 1``: 300 moves) and α = 0.5, enough for the
    exact-exposure loop to come close to the static equilibrium at τ ∈ {0.1, 1}; the
    static ascent stops after ``max_iter`` steps (``converged`` says whether it did
    before).

    Returns plain JSON-able data: ``params``; ``checkpoints`` (steps 0, ``every``, …);
    ``dynamic`` / ``oracle`` with per-checkpoint ``concentration``, ``welfare`` and
    ``utility_spread`` (max − min utility) and the final ``strategies``; ``live_exposure``
    (last window's consumption shares); ``static`` (``concentration``, ``utilities``,
    ``welfare``, ``strategies``, ``iterations``, ``converged``); ``distance`` (mean over
    creators of ‖s_i − s*_i‖ for the same creator, and to the nearest static strategy);
    ``seconds``.
    """
    t0 = time.perf_counter()
    rng = seeding.generator(seed, "exposure-dynamic", "init")
    z = rng.standard_normal((n_users, dim))
    z[:, 0] += user_bias
    users = unit_rows(z)
    theta0 = unit_rows(rng.standard_normal((n_creators, dim)))
    world = StrategicCreatorsEnvironment(
        n_users=n_users,
        n_creators=n_creators,
        dim=dim,
        every=every,
        response_steps=response_steps,
        step_size=step_size,
        tau=tau,
        initial_users=users,
        initial_creators=theta0,
    )
    game = ExposureGame(users, tau)
    profiles = [theta0]

    def record(step: int, row: dict[str, float]) -> None:
        if step % every == 0:
            profiles.append(np.array(world.item_features()))

    run = simulate(
        world,
        recommender,
        SoftmaxPolicy(temperature=tau),
        steps=steps,
        seed=seed,
        metrics=[],
        callback=record,
    )
    checkpoints = list(range(0, steps + 1, every))
    dynamic = [profile_summary(game, s) for s in profiles]

    # the oracle loop: one exact ascent step per move
    theta = theta0.copy()
    oracle = [profile_summary(game, theta)]
    for _ in checkpoints[1:]:
        for _ in range(response_steps):
            theta += ascent_step(users, theta, tau, step_size)[0]
        oracle.append(profile_summary(game, theta))

    static = gradient_ascent(game, theta0, alpha=step_size, max_iter=max_iter)
    star = static.strategies
    final = unit_rows(profiles[-1])
    gaps = np.linalg.norm(final[:, None, :] - star[None, :, :], axis=-1)  # [dyn i, static k]

    last = run.interactions
    window = last.step > steps - every
    shares = np.bincount(last.item[window], minlength=n_creators) / max(int(window.sum()), 1)

    return {
        "params": dict(
            tau=tau,
            n_creators=n_creators,
            n_users=n_users,
            dim=dim,
            steps=steps,
            every=every,
            step_size=step_size,
            seed=seed,
            recommender=recommender,
            response_steps=response_steps,
            user_bias=user_bias,
            max_iter=max_iter,
        ),
        "checkpoints": checkpoints,
        "dynamic": _series(dynamic, final),
        "oracle": _series(oracle, unit_rows(theta)),
        "live_exposure": shares.tolist(),
        "static": {
            **profile_summary(game, star),
            "strategies": star.tolist(),
            "iterations": int(static.iterations),
            "converged": bool(static.converged),
        },
        "distance": {
            "same_creator": float(np.mean(np.diag(gaps))),
            "nearest_static": float(np.mean(gaps.min(axis=1))),
        },
        "seconds": time.perf_counter() - t0,
    }


def _series(summaries: list[dict[str, Any]], final: np.ndarray) -> dict[str, Any]:
    return {
        "concentration": [s["concentration"] for s in summaries],
        "welfare": [s["welfare"] for s in summaries],
        "utility_spread": [max(s["utilities"]) - min(s["utilities"]) for s in summaries],
        "utilities": summaries[-1]["utilities"],
        "strategies": final.tolist(),
    }


def dynamic_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Per τ (mean over the units' seeds): the static equilibrium's concentration, the
    oracle loop's and the dynamic run's final concentration, the distances of the final
    dynamic profile to the static one, the utility spreads, the welfare and the seconds."""
    rows = [
        {
            "tau": r["params"]["tau"],
            "seeds": 1,
            "static concentration": r["static"]["concentration"],
            "oracle concentration": r["oracle"]["concentration"][-1],
            "dynamic concentration": r["dynamic"]["concentration"][-1],
            "distance (same creator)": r["distance"]["same_creator"],
            "distance (nearest static)": r["distance"]["nearest_static"],
            "static utility spread": max(r["static"]["utilities"]) - min(r["static"]["utilities"]),
            "dynamic utility spread": r["dynamic"]["utility_spread"][-1],
            "static welfare": r["static"]["welfare"],
            "dynamic welfare": r["dynamic"]["welfare"][-1],
            "static converged": float(r["static"]["converged"]),
            "seconds": r["seconds"],
        }
        for r in results
    ]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    agg = {c: "mean" for c in frame.columns if c not in ("tau", "seeds")}
    agg["seeds"] = "sum"
    return frame.groupby("tau", sort=True).agg(agg).reset_index().round(4)


def dynamic_figure(results: list[dict[str, Any]], out: Path) -> Path:
    """Concentration over the loop's steps, one colour per τ: the dynamic run (solid; the
    mean over seeds, with a 95 % t-band from :data:`~recdyn.reporting.stats.
    MIN_BAND_TRIALS` seeds on, else each seed thin), the oracle loop (dotted) and the
    static equilibrium (dashed horizontal line); written to ``out/concentration_loop.png``."""
    import matplotlib

    taus = sorted({r["params"]["tau"] for r in results})
    figure, axes, legend = fig.grid(1, width=6.0, height=4.0, n_legend=3 * len(taus))
    ax = axes[0]
    for j, tau in enumerate(taus):
        colour = matplotlib.colormaps["tab10"](j % 10)
        group = [r for r in results if r["params"]["tau"] == tau]
        x = np.asarray(group[0]["checkpoints"])
        dyn = np.array([r["dynamic"]["concentration"] for r in group])
        mean, half, _ = mean_ci(dyn)
        ax.plot(x, mean, color=colour, label=f"τ = {tau:g}: in the loop")
        if len(group) >= MIN_BAND_TRIALS:
            ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.2, lw=0)
        elif len(group) > 1:
            for row in dyn:
                ax.plot(x, row, color=colour, lw=0.6, alpha=0.35)
        oracle = np.mean([r["oracle"]["concentration"] for r in group], axis=0)
        ax.plot(x, oracle, color=colour, ls=":", label=f"τ = {tau:g}: exact exposure, same moves")
        static = float(np.mean([r["static"]["concentration"] for r in group]))
        ax.axhline(static, color=colour, ls="--", lw=1.2, label=f"τ = {tau:g}: static equilibrium")
    fig.style_axes(ax, steps=True)
    ks = sorted({r["params"]["every"] for r in results})
    every = f"every K = {ks[0]} steps" if len(ks) == 1 else "every K steps"
    every = "every step" if ks == [1] else every
    ax.set_xlabel(f"simulation step (creators move {every})")
    ax.set_ylabel("creators' mean pairwise cosine")
    ax.set_ylim(top=1.05)
    handles, labels = ax.get_legend_handles_labels()
    return fig.save(figure, Path(out) / "concentration_loop.png", handles, labels, legend)
