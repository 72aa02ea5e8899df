"""The datasets of the ``sampling-bias`` study (thesis §2.5) and how one is drawn.

Shared by the study (:mod:`recdyn.studies.sampling_bias`, whose units fit and evaluate
on these datasets) and its analysis (which describes them in the report).
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


@lru_cache(maxsize=4)
def dataset(preset: str, overrides: str, sampling: str, env_seed: int):
    """``(env, initial data)`` of ``preset`` (constructor ``overrides`` as canonical JSON)
    with ``initial_sampling=sampling``, reset with ``env_seed``: the three datasets of one
    seed sample the same environment state."""
    from recdyn.environments import make

    env = make(preset, initial_sampling=sampling, **json.loads(overrides))
    return env, env.reset(seed=env_seed)
