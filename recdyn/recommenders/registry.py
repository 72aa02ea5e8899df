"""Registered recommenders: ``recdyn.recommenders.make("toppop", prior_weight=2)``.

Entries name their class by import path, so a model's module (and what it needs, e.g.
torch for the neural models) is imported only when the model is first used.
"""

from __future__ import annotations

from typing import Any

from recdyn.registry import Registry

recommenders: Registry[Any] = Registry("recommender")


def make(name: str, **params: Any) -> Any:
    """Build the recommender registered as ``name`` with hyperparameters ``params``."""
    return recommenders.make(name, **params)


_PACKAGE = "recdyn.recommenders"
for _name, _entry in {
    "random": "baselines:RandomRecommender",
    "toppop": "baselines:TopPop",
    "oracle": "baselines:Oracle",
    "baseline": "bias:BaselinePredictor",
    "user-knn": "knn:UserKNN",
    "item-knn": "knn:ItemKNN",
    "mf-sgd": "mf_sgd:SGDMatrixFactorization",
    "mf-als": "mf_als:ALSMatrixFactorization",
    "bayes-mf": "bayes_mf:BayesianMatrixFactorization",
    "pmf": "pmf:PMF",
    "nmf": "nmf:NMF",
    "ease": "ease:EASE",
    "slim": "slim:SLIM",
    # nominators over item pools + a ranker, all registered recommenders (our extension)
    "two-stage": "two_stage:TwoStageRecommender",
    # neural models: torch is imported when they are fitted (pip install "recdyn[torch]")
    "autorec": "neural.autorec:AutoRec",
    "cf-nade": "neural.cfnade:CFNADE",
    "llorma": "neural.llorma:LLORMA",
    "mult-vae": "neural.vae:MultVAE",
    "mult-dae": "neural.vae:MultDAE",
    "gmf": "neural.gmf:GMF",
    "position-ranker": "neural.position_ranker:PositionRanker",
    # hierarchical Poisson factorisation through hpfrec (pip install "recdyn[hpf]")
    "hpf": "hpf:HierarchicalPoissonFactorization",
    "ials": "ials:ImplicitALS",  # implicit ALS by implicit: pip install "recdyn[implicit]"
}.items():
    recommenders.register(_name, f"{_PACKAGE}.{_entry}")
