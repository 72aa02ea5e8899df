"""Registered policies: ``recdyn.policies.make("greedy")``."""

from __future__ import annotations

from typing import Any

from recdyn.registry import Registry

policies: Registry[Any] = Registry("policy")


def make(name: str, **params: Any) -> Any:
    """Build the policy registered as ``name``."""
    return policies.make(name, **params)


policies.register("greedy", "recdyn.policies.greedy:GreedyPolicy")
policies.register("epsilon-greedy", "recdyn.policies.stochastic:EpsilonGreedyPolicy")
policies.register("softmax", "recdyn.policies.stochastic:SoftmaxPolicy")
policies.register("truncated", "recdyn.policies.truncation:TopKTruncation")
policies.register("threshold", "recdyn.policies.truncation:ThresholdTruncation")
policies.register("uniform-mix", "recdyn.policies.mixing:UniformMixing")
policies.register("diversity-boost", "recdyn.policies.diversity:DiversityBoost")
policies.register("calibrated", "recdyn.policies.reranking:CalibratedReRanker")
policies.register("mmr", "recdyn.policies.reranking:MMRReRanker")
policies.register("popularity-penalty", "recdyn.policies.reranking:PopularityPenalty")
