r"""Claim (c) of the ``competing-objectives`` study: trained on clicks that depend on the
position, a ranker learns the position bias as relevance, so the loop amplifies its own
past rankings; a shallow position tower (its logit added in training, dropped at serving)
damps it (seed 001 L8, L21–23; Zhao et al., "Recommending What Video to Watch Next",
RecSys 2019, §4.3).

Setup. ``position-bias-v1`` (users examine slot :math:`p` with probability
:math:`\theta_p = p^{-\eta}` and click an examined item with its relevance
:math:`\rho(u,i)`; repeat consumption, preferences fixed), slates of ``k``, ``steps``
steps of ``position-ranker`` (click task, biased MF in logit space) with its position
tower off and on, under the greedy policy and a softmax policy (temperature :math:`T` on
click probabilities), for every :math:`\eta` of the grid; :math:`\eta = 0` (every slot
examined) is the control. One unit per (policy, η, seed) runs both towers on the same
seed, so both see the same world, online users and initial data (paired).

Measured at every step :math:`t` (the scores the policy ranked with at :math:`t`):

* **lock-in** :math:`A_t`, the loop's amplification of its own past rankings: over the
  pairs :math:`(u,i)` that were shown before :math:`t` to the users online at :math:`t`,
  the partial Spearman correlation

  .. math:: A_t = \frac{r_{xy} - r_{xz}\,r_{yz}}{\sqrt{(1-r_{xz}^2)(1-r_{yz}^2)}}

  of :math:`x` = the mean slot (1 = top) at which :math:`i` was shown to :math:`u` before
  :math:`t`, :math:`y` = the rank of :math:`i` in :math:`u`'s current scores (1 = top) and
  :math:`z` = its rank in :math:`u`'s true ratings (``env.true_ratings``), :math:`r` being
  Spearman correlations over the pooled pairs. :math:`A_t > 0`: what was shown high is
  ranked high now, beyond what its true relevance explains. A model that learns the
  position effect as relevance raises it; a selection effect (the model's errors decide
  the positions and persist) raises it too, which the η = 0 control measures;
* ``exposure_gini`` (cumulative, registered) and ``regret`` (registered, the true
  rating of the best items minus that of the shown ones, summed over the slate).

Findings (rules fixed before any run): per policy, with :math:`\bar A` the mean of
:math:`A_t` over the last half of the steps, :math:`G` the exposure Gini at the last
step, and a paired difference (same seed) counted as shown when its mean over seeds has
the predicted sign and lies at least two standard errors from 0 (with one seed: the
sign), at every :math:`\eta > 0` of the grid:
(1) without the tower the loop amplifies its past rankings: :math:`\bar A(\eta)` >
:math:`\bar A(0)`; (2) the tower damps it: :math:`\bar A` with the tower <
:math:`\bar A` without; (3) the tower damps the concentration of exposure: :math:`G` with
the tower < :math:`G` without.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recdyn import seeding
from recdyn._validation import check_choice, check_float, check_int
from recdyn.errors import InvalidParameterError
from recdyn.metrics.online import OnlineMetric, StepContext
from recdyn.studies.result import Finding

__all__ = [
    "FULL", "QUICK", "SOURCE", "LockIn", "figures", "findings", "frame", "protocol",
    "run_unit", "units",
]  # fmt: skip

#: the world of the benchmark (``benchmarks/bench_position_bias.py``) and a larger one
_SMALL = {"n_users": 300, "n_items": 500, "users_per_step": 100, "n_initial_ratings": 3000}
_LARGE = {"n_users": 600, "n_items": 1000, "users_per_step": 200, "n_initial_ratings": 6000}
FULL: dict[str, Any] = {
    "policies": ("greedy", "softmax"), "temperature": 0.1, "etas": (0.0, 0.5, 1.0, 2.0),
    "world": _LARGE, "k": 10, "steps": 100, "n_epochs": 5, "seeds": 4,
}  # fmt: skip
QUICK: dict[str, Any] = {
    "policies": ("greedy", "softmax"), "temperature": 0.1, "etas": (0.0, 1.0, 2.0),
    "world": _SMALL, "k": 10, "steps": 30, "n_epochs": 5, "seeds": 2,
}  # fmt: skip
POLICIES = ("greedy", "softmax")
SOURCE = "seed 001 L8, L21–23 (Zhao et al. RecSys 2019, §4.3)"
MEASURES = {"lock_in": "lock-in A_t", "exposure_gini": "exposure Gini", "regret": "regret"}


def _partial_spearman(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Spearman correlation of ``x`` and ``y`` given ``z`` (module doc); NaN when a
    variable is constant or fewer than four pairs."""
    from scipy.stats import rankdata

    if len(x) < 4 or min(np.ptp(x), np.ptp(y), np.ptp(z)) == 0:
        return float("nan")
    r = np.corrcoef(np.vstack([rankdata(x), rankdata(y), rankdata(z)]))
    rxy, rxz, ryz = r[0, 1], r[0, 2], r[1, 2]
    den = np.sqrt((1 - rxz**2) * (1 - ryz**2))
    return float((rxy - rxz * ryz) / den) if den > 0 else float("nan")


class LockIn(OnlineMetric):
    """The lock-in :math:`A_t` of the module doc: partial Spearman correlation of the mean
    past slot and the current score rank of the pairs shown before, given their true rank
    (NaN at the first step: nothing was shown yet). A study measure, not registered."""

    name = "lock_in"  # the column (an unregistered metric's name would be its class name)
    needs = frozenset({"truth", "recommender", "environment"})

    def __init__(self) -> None:
        self._slots = self._shown = np.zeros((0, 0))

    def value(self, ctx: StepContext) -> float:
        from scipy.stats import rankdata

        if ctx.step == 1 or self._shown.shape != (ctx.environment.n_users, ctx.n_items):
            self._slots = np.zeros((ctx.environment.n_users, ctx.n_items))
            self._shown = np.zeros_like(self._slots)
        users, out = ctx.users, float("nan")
        shown = self._shown[users] > 0
        if shown.sum() >= 4:
            rank = rankdata(-ctx.recommender.score(users), axis=1)
            true_rank = rankdata(-ctx.truth, axis=1)
            past = self._slots[users][shown] / self._shown[users][shown]
            out = _partial_spearman(past, rank[shown], true_rank[shown])
        new = ctx.new
        if new.position is not None and len(new):
            np.add.at(self._slots, (new.user, new.item), new.position.astype(np.float64))
            np.add.at(self._shown, (new.user, new.item), 1.0)
        return out


def _check_grid(grid: dict[str, Any]) -> None:
    for policy in grid["policies"]:
        check_choice("policies", policy, POLICIES)
    for eta in grid["etas"]:
        check_float("etas", eta, low=0.0)
    check_float("temperature", grid["temperature"], low=0.0, low_open=True)
    check_int("k", grid["k"], low=1, high=int(grid["world"]["n_items"]))
    check_int("steps", grid["steps"], low=2)
    check_int("n_epochs", grid["n_epochs"], low=1)
    check_int("seeds", grid["seeds"], low=1)
    if not grid["policies"] or not grid["etas"]:
        raise InvalidParameterError(
            f"policies and etas must be non-empty, got {grid['policies']!r}, {grid['etas']!r}"
        )


def units(grid: dict[str, Any], seed: int) -> dict[str, dict[str, Any]]:
    """``key → kwargs`` of :func:`run_unit`, one per (policy, η, seed); a seed's world is
    the same in every unit (paired across η, policies and towers)."""
    _check_grid(grid)
    out = {}
    for r in range(grid["seeds"]):
        seq = seeding.derive(seed, "competing-objectives", "position", str(r))
        for policy in grid["policies"]:
            for eta in grid["etas"]:
                out[f"position-{policy}-eta{float(eta):g}-s{r}"] = {
                    "policy": policy, "temperature": float(grid["temperature"]),
                    "eta": float(eta), "world": dict(grid["world"]), "k": int(grid["k"]),
                    "steps": int(grid["steps"]), "n_epochs": int(grid["n_epochs"]),
                    "replicate": r, "seed": int(seq.generate_state(1, np.uint32)[0]),
                }  # fmt: skip
    return out


def run_unit(
    *, policy: str, temperature: float, eta: float, world: dict[str, Any], k: int,
    steps: int, n_epochs: int, replicate: int, seed: int,
) -> dict[str, Any]:  # fmt: skip
    """Both towers' runs of one (policy, η, seed): per step lock-in, exposure Gini and
    regret, the learned position biases and the seconds each run took."""
    import recdyn
    from recdyn.policies import make as make_policy
    from recdyn.recommenders import make as make_recommender
    from recdyn.recommenders.neural.runtime import set_threads

    check_choice("policy", policy, POLICIES)
    set_threads(1)
    runs = []
    for tower in (False, True):
        start = time.perf_counter()
        env = recdyn.make("position-bias-v1", eta=eta, **world)
        pol = make_policy("softmax", temperature=temperature) if policy == "softmax" else policy
        rec = make_recommender("position-ranker", position_tower=tower, n_epochs=n_epochs)
        traj = recdyn.simulate(env, rec, pol, steps=steps, k=k, seed=seed,
                               metrics=[LockIn(), "exposure_gini", "regret"])  # fmt: skip
        m, bias = traj.metrics, traj.recommender.position_bias_
        runs.append({
            "tower": tower, "step": m["step"].tolist(),
            **{c: [None if np.isnan(v) else float(v) for v in m[c]] for c in MEASURES},
            "position_bias": None if bias is None else [float(b) for b in bias[:k]],
            "seconds": time.perf_counter() - start,
        })  # fmt: skip
    return {"policy": policy, "eta": eta, "replicate": replicate, "runs": runs}


def frame(results: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per (unit, tower, step): policy, η, replicate, tower, step, lock-in,
    exposure Gini, regret, the run's seconds."""
    rows = []
    for key, res in results.items():
        for run in res["runs"]:
            f = pd.DataFrame({c: run[c] for c in ("step", *MEASURES)}).astype(float)
            f["step"] = f["step"].astype(int)
            f[["unit", "policy", "eta", "replicate"]] = (
                key,
                res["policy"],
                res["eta"],
                res["replicate"],
            )
            f["tower"], f["seconds"] = bool(run["tower"]), float(run["seconds"])
            rows.append(f)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (policy, η, replicate, tower): Ā (lock-in over the last half of the steps),
    G (exposure Gini at the last step) and mean regret over the last half."""
    last = frame["step"].max()
    late = frame[frame["step"] > last / 2]
    keys = ["policy", "eta", "replicate", "tower"]
    out = late.groupby(keys)[["lock_in", "regret"]].mean()
    out["gini"] = frame[frame["step"] == last].groupby(keys)["exposure_gini"].mean()
    return out.reset_index()


def _paired(s: pd.DataFrame, policy: str, column: str, tower: bool, base: bool,
            control: bool = False) -> pd.DataFrame:  # fmt: skip
    """Per η > 0: mean, standard error and count over seeds of ``column`` at (η, ``tower``)
    minus at (η, ``base``), or at (0, ``base``) with ``control``; paired by seed."""
    p = s[s["policy"] == policy].set_index(["eta", "tower", "replicate"])[column].sort_index()
    rows = []
    for eta in sorted(e for e in set(p.index.get_level_values("eta")) if e > 0):
        d = (p.loc[(eta, tower)] - p.loc[(0.0 if control else eta, base)]).dropna()
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        rows.append({"eta": eta, "mean": d.mean(), "se": se, "n": len(d)})
    return pd.DataFrame(rows, columns=["eta", "mean", "se", "n"])


def _shown(d: pd.DataFrame, sign: int) -> bool:
    """Every η's mean difference has ``sign`` and (with ≥ 2 seeds) lies ≥ 2 SE from 0."""
    ok = (sign * d["mean"] > 0) & ((d["n"] < 2) | (sign * d["mean"] >= 2 * d["se"]))
    return bool(len(d) and ok.all())


def _numbers(d: pd.DataFrame) -> str:
    return "; ".join(
        f"η = {r.eta:g}: {r.mean:+.3f}" + (f" ± {r.se:.3f}" if r.n > 1 else "") + f" (n = {r.n})"
        for r in d.itertuples()
    )


RULE = "(paired by seed; mean over seeds ≥ 2 SE from 0, one seed: the sign) at every η > 0"


def findings(frame: pd.DataFrame) -> list[Finding]:
    """Three findings per policy (module doc)."""
    if frame.empty:
        return []
    s, out = summary(frame), []
    for policy in [p for p in POLICIES if p in set(s["policy"])]:
        has_control = bool(((s["policy"] == policy) & (s["eta"] == 0)).any())
        d1 = _paired(s, policy, "lock_in", False, False, control=True) if has_control else None
        cases = [
            ("Without the position tower the loop amplifies its own past rankings",
             "Ā (lock-in, last half of the steps) without the tower higher at η than at "
             "η = 0", d1, +1, "Ā(η) − Ā(0), no tower"),
            ("The position tower damps the amplification of past rankings",
             "Ā with the tower lower than without", _paired(
                 s, policy, "lock_in", True, False), -1,
             "Ā(tower) − Ā(no tower)"),
            ("The position tower damps the concentration of exposure",
             "exposure Gini at T with the tower lower than without", _paired(
                 s, policy, "gini", True, False), -1,
             "G(tower) − G(no tower)"),
        ]  # fmt: skip
        for i, (claim, rule, d, sign, what) in enumerate(cases):
            if d is None or d.empty:
                why = "no η = 0 control in the grid" if d is None else "no η > 0 in the grid"
                out.append(Finding(f"{claim} ({policy})", SOURCE, f"{rule} {RULE}", why, None))
                continue
            extra = ""
            if i == 1:
                r = _paired(s, policy, "regret", True, False)
                extra = f"; regret (last half) tower − no tower: {_numbers(r)}"
            out.append(Finding(f"{claim} ({policy})", SOURCE, f"{rule} {RULE}",
                               f"{what}: {_numbers(d)}{extra}", _shown(d, sign)))  # fmt: skip
    return out


def figures(frame: pd.DataFrame, out: Path) -> list[tuple[str, Path]]:
    """Per measure (lock-in, exposure Gini): one panel per η, the mean over seeds against
    the step, tower off (red) and on (blue), greedy solid and softmax dashed."""
    from recdyn.reporting import figures as fig

    if frame.empty:
        return []
    etas = sorted(frame["eta"].unique())
    mean = frame.groupby(["eta", "policy", "tower", "step"])[list(MEASURES)].mean()
    n_seeds = int(frame["replicate"].nunique())
    made = []
    for column in ("lock_in", "exposure_gini"):
        figure, axes, legend = fig.grid(len(etas), width=3.3, height=2.7, n_legend=4)
        for ax, eta in zip(axes, etas):
            for (policy, tower), g in mean.loc[eta][column].groupby(level=[0, 1]):
                steps = g.index.get_level_values("step")
                ax.plot(steps, g.to_numpy(), color="tab:blue" if tower else "tab:red",
                        ls="-" if policy == "greedy" else "--", lw=1.4,
                        label=f"{policy}, tower {'on' if tower else 'off'}")  # fmt: skip
            ax.set_title(f"η = {eta:g}", fontsize=10)
            ax.set_ylabel(MEASURES[column])
            fig.style_axes(ax, steps=True)
        handles, labels = axes[0].get_legend_handles_labels()
        path = fig.save(figure, out / f"position_{column}.png", handles, labels, legend)
        what = {
            "lock_in": "lock-in A_t (partial Spearman of the past slot and the current "
            "rank given the true rank; > 0: what was shown high stays high beyond its "
            "relevance)",
            "exposure_gini": "Gini of the cumulative exposure of the items",
        }[column]
        made.append((f"Claim (c), position bias: {what} per step, without (red) and with "
                     f"(blue) the position tower, greedy solid, softmax dashed; one panel "
                     f"per examination decay η (η = 0: no position bias); mean of "
                     f"{n_seeds} seed(s).", path))  # fmt: skip
    return made


def protocol(grid: dict[str, Any]) -> list[tuple[str, str]]:
    """The (what, how) rows of claim (c) in the report's protocol table."""
    w = grid["world"]
    return [
        ("world", f"position-bias-v1, {w['n_users']} users × {w['n_items']} items, "
         f"{w['users_per_step']} online a step, {w['n_initial_ratings']} initial ratings; "
         f"slates of k = {grid['k']}, examination θ_p = p^−η, η ∈ "
         f"{{{', '.join(f'{e:g}' for e in grid['etas'])}}} (η = 0: the control)"),
        ("loop", f"{grid['steps']} steps of position-ranker (click task, "
         f"{grid['n_epochs']} epochs, then one per step), position tower off and on on the "
         f"same seed; policies: {', '.join(grid['policies'])} (softmax T = "
         f"{grid['temperature']:g} on click probabilities); {grid['seeds']} seed(s)"),
        ("measures", "lock-in A_t: over the pairs shown before t to the users online at "
         "t, the partial Spearman correlation of the mean past slot and the current score "
         "rank given the true rank; exposure Gini (cumulative); regret"),
        ("verdicts", "Ā: mean A_t over the last half of the steps; G: Gini at the last "
         f"step; per policy, {RULE}: Ā(η, no tower) > Ā(0, no tower); Ā(tower) < "
         "Ā(no tower); G(tower) < G(no tower)"),
    ]  # fmt: skip
