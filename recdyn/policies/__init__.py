"""Policies turn scores into slates (and report propensities when stochastic)."""

from recdyn.policies.base import Policy, Selection, top_k
from recdyn.policies.checker import check_policy, policy_checks
from recdyn.policies.greedy import GreedyPolicy
from recdyn.policies.registry import make, policies
from recdyn.policies.stochastic import EpsilonGreedyPolicy, SoftmaxPolicy
from recdyn.policies.truncation import TopKTruncation

__all__ = [
    "EpsilonGreedyPolicy",
    "GreedyPolicy",
    "Policy",
    "Selection",
    "SoftmaxPolicy",
    "TopKTruncation",
    "check_policy",
    "make",
    "policies",
    "policy_checks",
    "top_k",
]
