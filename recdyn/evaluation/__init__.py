"""Offline evaluation: splits, cross-validation and grid tuning of recommenders."""

from recdyn.evaluation.cross_validation import (
    cross_validate,
    evaluate,
    lower_is_better,
)
from recdyn.evaluation.embeddings import TunedEmbeddings, tune_embeddings
from recdyn.evaluation.splits import (
    UserHoldoutSplit,
    kfold_assignment,
    kfold_split,
    random_split,
    shuffle_split,
    shuffle_split_masks,
    strong_generalization_split,
    temporal_split,
)
from recdyn.evaluation.tuning import GridSearchResult, expand_grid, grid_search

__all__ = [
    "GridSearchResult",
    "TunedEmbeddings",
    "UserHoldoutSplit",
    "cross_validate",
    "evaluate",
    "expand_grid",
    "grid_search",
    "kfold_assignment",
    "kfold_split",
    "lower_is_better",
    "random_split",
    "shuffle_split",
    "shuffle_split_masks",
    "strong_generalization_split",
    "temporal_split",
    "tune_embeddings",
]
