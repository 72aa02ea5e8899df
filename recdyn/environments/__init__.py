"""Simulated environments: users whose preferences react to what they are shown."""

from recdyn.environments.base import Environment
from recdyn.environments.beta_rank import BetaRankEnvironment
from recdyn.environments.checker import check_environment
from recdyn.environments.latent import LatentEnvironment
from recdyn.environments.latent_score import LatentScoreEnvironment
from recdyn.environments.presets import environments, make
from recdyn.environments.topics import TopicsEnvironment

__all__ = [
    "BetaRankEnvironment",
    "Environment",
    "LatentEnvironment",
    "LatentScoreEnvironment",
    "TopicsEnvironment",
    "check_environment",
    "environments",
    "make",
]
