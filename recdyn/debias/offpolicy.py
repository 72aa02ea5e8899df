r"""Off-policy value estimates of a target policy from a logged trajectory: IPS, SNIPS and
doubly robust, each with a confidence interval.

A logged rating :math:`r` (context :math:`x_r`: the user at a step; action :math:`a_r`:
the item shown) carries the logging probability :math:`\mu(a_r \mid x_r)` of the action
and the target policy's probability :math:`\pi(a_r \mid x_r)` of the same action (for
slates, inclusion probabilities: the estimand is then the expected reward summed over the
slate's items, with items rated independently). With the importance weight
:math:`w_r = \pi(a_r \mid x_r) / \mu(a_r \mid x_r)`, over :math:`n` logged ratings:

.. math::

    \hat V_{\mathrm{IPS}} = \frac1n \sum_r w_r\, y_r, \qquad
    \hat V_{\mathrm{SNIPS}} = \frac{\sum_r w_r\, y_r}{\sum_r w_r}, \qquad
    \hat V_{\mathrm{DR}} = \frac1n \sum_r \Big(\hat v(x_r) + w_r \big(y_r - \hat y(x_r, a_r)
      \big)\Big),

with a reward model :math:`\hat y` (e.g. a fitted recommender's ``predict``) and
:math:`\hat v(x) = \sum_a \pi(a \mid x)\, \hat y(x, a)` its value under the target
(Horvitz & Thompson 1952; Swaminathan & Joachims 2015; Dudík, Langford & Li 2011 — the
estimators of the Open Bandit Pipeline, ``obp.ope``).

**Propensities from recdyn logs.** :func:`recdyn.simulate` logs the *joint* propensity
:math:`q = \rho\,\mu`, the user's arrival probability times the policy's. Pass it as
``logging`` with ``arrival=ρ`` (a number, or one per rating); the weight is
:math:`\rho\,\pi / q = \pi / \mu`. With uniform arrivals :math:`\rho` is
``users_per_step / n_users`` (``Environment.online_probabilities``).

**Confidence intervals.** ``interval="normal"``: :math:`\hat V \pm z_{(1+c)/2}\,
\widehat{\mathrm{se}}`, the standard error from the per-rating terms (IPS, DR) or, for
SNIPS, from the delta method, :math:`\widehat{\mathrm{se}}^2 = \frac{1}{n(n-1)} \sum_r
\big(w_r (y_r - \hat V)/\bar w\big)^2`. With an adaptive logging policy (each step's
propensities depend on the past) the terms are martingale differences rather than
independent, and the martingale central limit theorem still gives this interval.
``interval="bootstrap"``: the percentile interval of the estimator recomputed on
``n_bootstrap`` resamples of the ratings, drawn from the named stream ``seeding.generator(
seed, "offpolicy", "bootstrap")`` (same seed, same interval); ``std_error`` is then the
bootstrap standard deviation.

Bad input — probabilities outside their range, a missing target, arrays of different
lengths — raises :class:`~recdyn.errors.InvalidParameterError` naming the argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import stats

from recdyn import seeding
from recdyn.debias.base import check_probabilities
from recdyn.errors import InvalidParameterError

__all__ = [
    "ESTIMATORS",
    "Estimate",
    "doubly_robust",
    "estimate",
    "importance_weights",
    "ips",
    "policy_probabilities",
    "snips",
]

INTERVALS = ("normal", "bootstrap")
#: Most resampled indices held at once by the bootstrap.
_BOOT_BLOCK = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """An off-policy estimate: ``value`` with its ``std_error`` and the ``confidence``
    interval ``[low, high]`` (``interval``: ``"normal"`` or ``"bootstrap"``) from ``n``
    logged ratings by ``estimator`` (``"ips"``, ``"snips"``, ``"dr"``)."""

    estimator: str
    value: float
    std_error: float
    low: float
    high: float
    n: int
    confidence: float
    interval: str


def importance_weights(logging: Any, target: Any, arrival: Any = 1.0, who: str = "ips"):
    """``w = arrival · target / logging`` with each argument checked (module docstring)."""
    if target is None or callable(getattr(target, "select", None)):
        raise InvalidParameterError(
            f"{who}: target must hold the target policy's probability of each logged "
            f"action, got {'None' if target is None else type(target).__name__}; a policy "
            "gives them through recdyn.debias.offpolicy.policy_probabilities (epsilon-greedy, "
            "softmax)"
        )
    q = check_probabilities(logging, "logging", who)
    p = check_probabilities(target, "target", who, low_open=False)
    rho = check_probabilities(arrival, "arrival", who)
    if q.ndim != 1 or p.shape != q.shape or rho.ndim > 1 or (rho.ndim and rho.shape != q.shape):
        raise InvalidParameterError(
            f"{who}: logging, target (and arrival, unless a number) must be 1-D arrays of "
            f"one value per logged rating; got shapes {q.shape}, {p.shape}, {rho.shape}"
        )
    return rho * p / q


def _rewards(name: str, values: Any, n: int, who: str) -> np.ndarray:
    y = np.asarray(values, dtype=np.float64)
    if y.shape != (n,) or not np.isfinite(y).all():
        raise InvalidParameterError(
            f"{who}: {name} must be {n} finite numbers, one per logged rating; got shape "
            f"{y.shape}" + ("" if y.shape != (n,) else " with NaN or infinite values")
        )
    return y


def _options(confidence: Any, interval: Any, n_bootstrap: Any, who: str) -> None:
    if not isinstance(confidence, Real) or not 0 < confidence < 1:
        raise InvalidParameterError(f"{who}: confidence must be in (0, 1), got {confidence!r}")
    if interval not in INTERVALS:
        raise InvalidParameterError(
            f"{who}: interval must be one of {', '.join(map(repr, INTERVALS))}, got {interval!r}"
        )
    if not isinstance(n_bootstrap, Integral) or n_bootstrap < 100:
        raise InvalidParameterError(f"{who}: n_bootstrap must be an int ≥ 100, got {n_bootstrap!r}")


def _estimate(
    who: str,
    statistic: Callable[[np.ndarray], np.ndarray],
    n: int,
    se: float,
    confidence: float,
    interval: str,
    n_bootstrap: int,
    seed: Any,
) -> Estimate:
    """Value and interval of ``statistic``: a function of row-index arrays ``[B, n]`` (the
    ``n`` ratings, or ``B`` resamples of them) giving ``B`` values."""
    value = float(statistic(np.arange(n)[None, :])[0])
    if interval == "normal":
        z = float(stats.norm.ppf((1 + confidence) / 2))
        low, high = value - z * se, value + z * se
    else:
        rng = seeding.generator(seed, "offpolicy", "bootstrap")
        block = max(1, _BOOT_BLOCK // n)
        boots = np.concatenate(
            [
                statistic(rng.integers(0, n, size=(min(block, n_bootstrap - b), n)))
                for b in range(0, n_bootstrap, block)
            ]
        )
        alpha = (1 - confidence) / 2
        low, high = (float(x) for x in np.quantile(boots, [alpha, 1 - alpha]))
        se = float(np.std(boots, ddof=1))
    return Estimate(who, value, float(se), low, high, n, float(confidence), interval)


ESTIMATORS = ("ips", "snips", "dr")


def estimate(
    estimator: str,
    reward: Any,
    logging: Any,
    target: Any,
    *,
    predicted: Any = None,
    expected: Any = None,
    arrival: Any = 1.0,
    confidence: float = 0.95,
    interval: str = "normal",
    n_bootstrap: int = 2000,
    seed: Any = 0,
) -> Estimate:
    """The ``estimator`` (``"ips"``, ``"snips"`` or ``"dr"``) estimate of the target's value
    with its interval (module docstring). ``reward``, ``logging``, ``target`` (and for DR
    ``predicted``: the reward model's prediction of each logged action, ``expected``: its
    target-weighted mean over the actions of each logged context) hold one value per
    logged rating; :func:`ips`, :func:`snips` and :func:`doubly_robust` call this."""
    if estimator not in ESTIMATORS:
        raise InvalidParameterError(
            f"estimator must be one of {', '.join(map(repr, ESTIMATORS))}, got {estimator!r}"
        )
    who = {"dr": "doubly_robust"}.get(estimator, estimator)
    w = importance_weights(logging, target, arrival, who)
    y = _rewards("reward", reward, len(w), who)
    _options(confidence, interval, n_bootstrap, who)
    n = len(w)
    if n < 2:
        raise InvalidParameterError(f"{who}: needs at least 2 logged ratings, got {n}")
    if estimator == "snips":
        if not w.sum() > 0:
            raise InvalidParameterError(
                "snips: target gives probability 0 to every logged action, so the "
                "self-normalised estimate is undefined; the logged data say nothing about "
                "this target policy"
            )
        value = float(np.dot(w, y) / w.sum())
        terms = w * (y - value) / w.mean()  # influence function (delta method)

        def statistic(idx: np.ndarray) -> np.ndarray:
            ws = w[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                return (ws * y[idx]).sum(axis=1) / ws.sum(axis=1)

    else:
        terms = w * y
        if estimator == "dr":
            y_hat = _rewards("predicted", predicted, n, who)
            terms = _rewards("expected", expected, n, who) + w * (y - y_hat)

        def statistic(idx: np.ndarray) -> np.ndarray:
            return terms[idx].mean(axis=1)

    se = float(np.std(terms, ddof=1) / np.sqrt(n))
    return _estimate(estimator, statistic, n, se, confidence, interval, n_bootstrap, seed)


def ips(reward: Any, logging: Any, target: Any, **options: Any) -> Estimate:
    """Inverse propensity scoring estimate (module docstring); ``options`` as for
    :func:`estimate`: ``arrival``, ``confidence``, ``interval``, ``n_bootstrap``, ``seed``."""
    return estimate("ips", reward, logging, target, **options)


def snips(reward: Any, logging: Any, target: Any, **options: Any) -> Estimate:
    """Self-normalised IPS estimate (module docstring); ``options`` as for :func:`ips`."""
    return estimate("snips", reward, logging, target, **options)


def doubly_robust(
    reward: Any, logging: Any, target: Any, predicted: Any, expected: Any, **options: Any
) -> Estimate:
    """Doubly robust estimate (module docstring): ``predicted`` is the reward model's
    prediction of each logged (context, action), ``expected`` its target-weighted mean
    over the actions of each logged context, :math:`\\hat v(x_r)`; ``options`` as for
    :func:`ips`."""
    return estimate(
        "dr", reward, logging, target, predicted=predicted, expected=expected, **options
    )


def policy_probabilities(
    policy: Any, scores: Any, k: int = 1, exclude: np.ndarray | None = None
) -> np.ndarray:
    """The probability that ``policy`` shows each item, ``[n_rows, n_items]`` — the
    target probabilities an estimator needs (``P[rows, logged_items]``) and the weights of
    :math:`\\hat v` (``(P * predictions).sum(axis=1)``).

    ``scores``: the target's scores of every item, one row per logged rating; ``exclude``:
    the items it may not show there (those rated before). Policies with exact inclusion
    probabilities: ``epsilon-greedy`` (``epsilon=0`` is greedy with ties broken uniformly),
    ``softmax`` and their top-``m`` truncations. A policy without them raises
    :class:`~recdyn.errors.InvalidParameterError`.
    """
    scores = np.asarray(scores)
    base = getattr(policy, "base_policy", None)
    candidates = getattr(policy, "candidates", None)
    if base is not None and callable(candidates):  # a truncation: the base on its candidates
        keep = candidates(scores, exclude)
        return policy_probabilities(base, scores, k, ~keep)
    exact = getattr(policy, "inclusion_probabilities", None)
    if not callable(exact):
        name = getattr(getattr(policy, "spec", None), "name", type(policy).__name__)
        raise InvalidParameterError(
            f"target policy {name!r} reports no propensities, so no off-policy estimator can "
            "weigh the logged actions by it; use epsilon-greedy (epsilon=0 for greedy with "
            "ties broken uniformly) or softmax, or pass the target probabilities yourself"
        )
    return np.asarray(exact(scores, k, exclude), dtype=np.float64)
