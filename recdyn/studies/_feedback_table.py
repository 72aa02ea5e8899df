r"""The worker side of Table 3.1 in the ``feedback-loops`` study (thesis L2036–2136): one
unit = one (repeat, correction) — simulate the Pan/Chaney benchmark, train a weighted GMF
on each user's first 20 ratings, test it on 20 uniformly drawn unrated pairs per user.

The data of a repeat (:func:`recdyn.environments.pan_chaney_split.pan_chaney_split`: 30
steps in which every user picks one item, weight 10 among the top 100 of a score and 1
elsewhere, L2072–2108) come from the seed ``derive(seed, "feedback-loops", "table",
"repeat<r>")``; every correction of a repeat trains on the same data, from the same GMF
initialisation, and is tested on the same pairs, so the corrections are compared within a
repeat. The corrections (the weights of GMF's squared error, L2110; GMF normalises them to
mean 1):

* ``naive`` — every weight 1;
* ``pop`` — inverse item popularity in the training data (:mod:`recdyn.debias`, ``pop``);
* ``pf`` — inverse exposure propensities estimated by hierarchical Poisson factorisation
  (Gopalan et al. 2015, the thesis's [83]; ``hpf``) fitted to the exposures (each training
  pair counted once): :math:`\hat p_{ui} = 1 - e^{-\hat\lambda_{ui}}`, the probability of
  at least one exposure under the fitted Poisson rate, floored at :data:`PF_FLOOR`. How Pan
  et al. turned PF into weights is not in the thesis; this is the usual exposure model of
  Liang et al. (2016) and Wang et al. (2018);
* ``cafl`` — Corollary 1's weights from the world's exact observation probabilities
  (``cafl-per-user``: each user's own sequence, N = the user's items; or ``cafl``: one pool
  of all U·I pairs), :mod:`recdyn.debias.cafl`.

GMF's hyperparameters are "identical … to Pan et al." (L2109–2110), which the thesis does
not list: the registered ``gmf`` defaults are used (:data:`GMF_PARAMS` adds nothing), and
recorded with each unit.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

import numpy as np

from recdyn.errors import InvalidParameterError

__all__ = ["GMF_PARAMS", "PF_FLOOR", "benchmark", "pf_propensities", "run_table_unit"]

#: GMF's settings beyond its registered defaults (none: Pan et al.'s are not stated).
GMF_PARAMS: dict[str, Any] = {}
#: HPF's settings (hpfrec's defaults but the number of factors: K of the world, 19).
HPF_PARAMS: dict[str, Any] = {"n_factors": 19}
#: Smallest PF propensity used (weights at most 1000 × the smallest possible).
PF_FLOOR = 1e-3
#: How the Pan/Chaney world's default ``rating_map`` makes ratings (its docstring).
RATING_MAPS = {
    "reclab": "clip(round(20 v + 1)) of the Beta′ utility v, as RecLab's beta-rank",
    "unit": "the Beta′ utility v itself",
}


@lru_cache(maxsize=2)
def benchmark(world: str, overrides: str, seed: int, repeat: int) -> Any:
    """The split of one repeat (:class:`~recdyn.environments.pan_chaney_split.
    PanChaneySplit`) of ``world`` with constructor ``overrides`` (canonical JSON)."""
    from recdyn import seeding
    from recdyn.environments import make
    from recdyn.environments.pan_chaney_split import pan_chaney_split

    env = make(world, **json.loads(overrides))
    return pan_chaney_split(env, seeding.derive(seed, "feedback-loops", "table", f"repeat{repeat}"))


def pf_propensities(train: Any, n_users: int, n_items: int, seed: int) -> np.ndarray:
    """:math:`\\max(1 - e^{-\\hat y_{ui}}, \\text{PF\\_FLOOR})` of each training pair, from
    ``hpf`` fitted to the exposures (``counts="binary"``; module docstring)."""
    from recdyn.recommenders import make

    model = make("hpf", **HPF_PARAMS, counts="binary", seed=seed)
    model.fit(train, n_users, n_items)
    return np.maximum(model.exposure_probability(train.user, train.item), PF_FLOOR)


@lru_cache(maxsize=2)
def _pf(world: str, overrides: str, seed: int, repeat: int, model_seed: int) -> np.ndarray:
    """:func:`pf_propensities` of one repeat (shared by its GMF variants in a worker)."""
    split = benchmark(world, overrides, seed, repeat)
    return pf_propensities(split.train, split.env.n_users, split.env.n_items, model_seed)


def _weighting(correction: str, cafl: str) -> Any:
    if correction == "naive":
        return None
    if correction == "pop":
        return "pop"
    if correction == "pf":
        return "inverse-propensity"
    if correction == "cafl":
        return {"name": cafl}
    raise InvalidParameterError(
        f"correction must be one of naive, pop, pf, cafl; got {correction!r}"
    )


def run_table_unit(
    *,
    world: str,
    overrides: dict[str, Any],
    seed: int,
    repeat: int,
    correction: str,
    cafl: str = "cafl-per-user",
    gmf: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One unit of Table 3.1 (runs in a worker): GMF (:data:`GMF_PARAMS`, then ``gmf``)
    trained with ``correction`` on repeat ``repeat``'s training ratings, tested on its test
    pairs. Returns ``mse``, ``mae``, the sizes, the world's rating range and map, GMF's
    parameters and seconds."""
    from recdyn import seeding
    from recdyn.interactions import Interactions
    from recdyn.recommenders import make

    start = time.perf_counter()
    weighting = _weighting(correction, cafl)
    split = benchmark(world, json.dumps(overrides, sort_keys=True), seed, repeat)
    env, train, test = split.env, split.train, split.test
    model_seed = int(
        seeding.derive(seed, "feedback-loops", "table", f"repeat{repeat}", "gmf").generate_state(
            1, np.uint32
        )[0]
    )
    if correction == "pf":
        q = _pf(world, json.dumps(overrides, sort_keys=True), seed, repeat, model_seed)
        train = Interactions(train.user, train.item, train.rating, train.step, q)
    rec = make("gmf", **{**GMF_PARAMS, **(gmf or {})}, weighting=weighting, seed=model_seed)
    t = time.perf_counter()
    rec.fit(train, env.n_users, env.n_items)
    fit_seconds = time.perf_counter() - t
    error = rec.predict(test.user, test.item).astype(np.float64) - test.rating
    rating_map = env.get_params().get("rating_map")
    return {
        "repeat": repeat,
        "correction": correction,
        "mse": float(np.mean(error**2)),
        "mae": float(np.mean(np.abs(error))),
        "n_train": len(train),
        "n_test": len(test),
        "rating_range": [float(x) for x in env.rating_range],
        "scale": RATING_MAPS.get(rating_map, ""),
        "reg": float(rec.get_params()["reg"]),
        "gmf": json.loads(json.dumps(rec.get_params(), default=str)),
        "fit_seconds": fit_seconds,
        "seconds": time.perf_counter() - start,
    }
