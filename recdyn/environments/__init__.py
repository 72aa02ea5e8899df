"""Simulated environments: users whose preferences react to what they are shown."""

from recdyn.environments.base import Environment
from recdyn.environments.beta_rank import BetaRankEnvironment
from recdyn.environments.checker import check_environment
from recdyn.environments.dual_influence import DualInfluenceEnvironment
from recdyn.environments.fitted import FittedLatentEnvironment
from recdyn.environments.fitting import FittedFactors, fit_factors
from recdyn.environments.latent import LatentEnvironment
from recdyn.environments.latent_score import LatentScoreEnvironment
from recdyn.environments.pan_chaney import PanChaneyEnvironment
from recdyn.environments.pan_chaney_split import PanChaneySplit, pan_chaney_split
from recdyn.environments.position_bias import PositionBiasEnvironment
from recdyn.environments.presets import environments, make
from recdyn.environments.strategic import StrategicCreatorsEnvironment
from recdyn.environments.topics import TopicsEnvironment

__all__ = [
    "BetaRankEnvironment",
    "DualInfluenceEnvironment",
    "Environment",
    "FittedFactors",
    "FittedLatentEnvironment",
    "LatentEnvironment",
    "LatentScoreEnvironment",
    "PanChaneyEnvironment",
    "PanChaneySplit",
    "PositionBiasEnvironment",
    "StrategicCreatorsEnvironment",
    "TopicsEnvironment",
    "check_environment",
    "environments",
    "fit_factors",
    "make",
    "pan_chaney_split",
]
