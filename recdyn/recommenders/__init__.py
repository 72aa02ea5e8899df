"""Recommenders: models that score items for users, with a scikit-learn-like contract."""

from recdyn.recommenders.base import Recommender
from recdyn.recommenders.baselines import Oracle, RandomRecommender, TopPop
from recdyn.recommenders.bayes_mf import BayesianMatrixFactorization
from recdyn.recommenders.bias import BaselinePredictor
from recdyn.recommenders.checker import check_recommender
from recdyn.recommenders.ease import EASE
from recdyn.recommenders.factors import FactorEmbeddings, embeddings
from recdyn.recommenders.knn import ItemKNN, KNNRecommender, UserKNN
from recdyn.recommenders.mf_als import ALSMatrixFactorization
from recdyn.recommenders.mf_sgd import SGDMatrixFactorization
from recdyn.recommenders.nmf import NMF
from recdyn.recommenders.pmf import PMF
from recdyn.recommenders.registry import make, recommenders
from recdyn.recommenders.slim import SLIM

__all__ = [
    "EASE",
    "NMF",
    "PMF",
    "SLIM",
    "ALSMatrixFactorization",
    "BaselinePredictor",
    "BayesianMatrixFactorization",
    "FactorEmbeddings",
    "ItemKNN",
    "KNNRecommender",
    "Oracle",
    "RandomRecommender",
    "Recommender",
    "SGDMatrixFactorization",
    "TopPop",
    "UserKNN",
    "check_recommender",
    "embeddings",
    "make",
    "recommenders",
]
