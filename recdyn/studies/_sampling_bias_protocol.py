"""The datasets of the ``sampling-bias`` study (thesis §2.5), the two readings of its biased
samplings, and how one dataset is drawn.

Shared by the study (:mod:`recdyn.studies.sampling_bias`, whose units fit and evaluate
on these datasets) and its analysis (which describes them in the report).

Two readings of the biased datasets (issue 23; digest §4.2)
-----------------------------------------------------------
``thesis``: the thesis's text (Krauth 2022, §2.5) — ``P(u, i) ∝ Beta(r̃; 3.61, 2.57) ·
Beta(k̃; 0.70, 1.83)`` on the noisy ratings the pairs keep, FLIP at ``1 − r̃``.
``reclab``: RecLab's code (``experiment.sample_ratings``), which produced the thesis's
figures — the rating density on the 0–6 scale normalised per user, FLIP as ``1 − pdf``
(weights in [0.65, 1]: close to uniform in the rating), the chosen pairs rated afresh.
Both are the environment option ``biased_sampling``
(:func:`recdyn.environments.sampling.initial_pairs`); UNIFORM-INIT is the same in both.
"""

from __future__ import annotations

import json
from functools import lru_cache

#: dataset key (the environment's ``initial_sampling``) → the thesis's name.
DATASETS = {
    "uniform": "UNIFORM-INIT",
    "ml100k-init": "ML-100K-INIT",
    "ml100k-init-flip": "ML-100K-INIT-FLIP",
}
#: the biased datasets (the ones a reading changes).
BIASED = ("ml100k-init", "ml100k-init-flip")
#: reading (the environment's ``biased_sampling``) → how the report names it.
READINGS = {"thesis": "thesis text", "reclab": "RecLab code"}
#: the ``reading`` of a table row that both readings share (UNIFORM-INIT).
SHARED = "both"
#: recommenders of thesis §2.4 (the models of Figs. 2.3/2.4) → labels in figures.
LABELS = {
    "random": "Random",
    "toppop": "TopPop",
    "oracle": "Oracle",
    "item-knn": "ItemKNN",
    "user-knn": "UserKNN",
    "mf-sgd": "SGD MF",
    "bayes-mf": "Bayes MF",
    "autorec": "AutoRec",
    "cf-nade": "CF-NADE",
    "llorma": "LLORMA",
    "ease": "EASE",
}
PRESET = "topics-static-v1"


def unit_tag(sampling: str, reading: str) -> str:
    """How unit keys name the dataset ``sampling`` of ``reading``: the dataset key in the
    thesis reading (the keys of a thesis-only run), ``"reclab-<key>"`` in RecLab's."""
    return sampling if reading == "thesis" else f"{reading}-{sampling}"


def dataset(preset: str, overrides: str, sampling: str, env_seed: int, reading: str = "thesis"):
    """``(env, initial data)`` of ``preset`` (constructor ``overrides`` as canonical JSON)
    with ``initial_sampling=sampling`` and ``biased_sampling=reading``, reset with
    ``env_seed``: every dataset of one seed samples the same environment state, and
    UNIFORM-INIT is the same in both readings (one cached copy)."""
    return _drawn(
        preset, overrides, sampling, env_seed, "thesis" if sampling == "uniform" else reading
    )


@lru_cache(maxsize=6)
def _drawn(preset: str, overrides: str, sampling: str, env_seed: int, reading: str):
    from recdyn.environments import make

    options = {} if reading == "thesis" else {"biased_sampling": reading}
    env = make(preset, initial_sampling=sampling, **json.loads(overrides), **options)
    return env, env.reset(seed=env_seed)
