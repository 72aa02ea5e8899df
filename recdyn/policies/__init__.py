"""Policies turn scores into slates (and report propensities when stochastic)."""

from recdyn.policies.base import NO_ITEM, Policy, PolicyWrapper, Selection, top_k
from recdyn.policies.checker import check_policy, policy_checks
from recdyn.policies.diversity import DiversityBoost
from recdyn.policies.greedy import GreedyPolicy
from recdyn.policies.mixing import UniformMixing
from recdyn.policies.registry import make, policies
from recdyn.policies.reranking import (
    CalibratedReRanker,
    MMRReRanker,
    PopularityPenalty,
    ReRanker,
)
from recdyn.policies.stochastic import EpsilonGreedyPolicy, SoftmaxPolicy
from recdyn.policies.truncation import ThresholdTruncation, TopKTruncation

__all__ = [
    "NO_ITEM",
    "CalibratedReRanker",
    "DiversityBoost",
    "EpsilonGreedyPolicy",
    "GreedyPolicy",
    "MMRReRanker",
    "Policy",
    "PolicyWrapper",
    "PopularityPenalty",
    "ReRanker",
    "Selection",
    "SoftmaxPolicy",
    "ThresholdTruncation",
    "TopKTruncation",
    "UniformMixing",
    "check_policy",
    "make",
    "policies",
    "policy_checks",
    "top_k",
]
