"""Contextual bandits with redrawn arm contexts, and two-stage systems (thesis ch. 4).

* worlds — :class:`LinearWorld` (``"linear-v1"``), :class:`MultiLabelWorld`
  (``"multilabel-synthetic-v1"``, ``"multilabel-lastfm-v1"``), :class:`FiniteWorld`;
  data: :func:`synthetic_multilabel`, :func:`lastfm_multilabel`, :func:`label_statistics`;
* learners, batched over seeds and configurations — :class:`LinUCB`, :class:`Greedy`,
  :class:`PolicyGradient`, :class:`Uniform`;
* systems — :class:`SingleStage`, :class:`TwoStage` (pools, feature subsets, training on
  all / own / selected);
* :func:`run_bandit` — the tidy per-round frame with the regret decomposition;
* offline pool allocation (§4.4, Fig. 4.5) — :class:`MixtureOfExperts` (learned gate or
  random pools), :func:`offline_split`, :func:`thesis_defaults`,
  :func:`precision_recall_at_k`;
* :mod:`recdyn.bandits.theory` — least-squares limits (Proposition 2), misspecification.

>>> from recdyn import bandits
>>> world = bandits.make("linear-v1", n_arms=10, dim=5)
>>> system = bandits.TwoStage(bandits.LinUCB(), bandits.Greedy(), n_nominators=2, n_features=3)
>>> frame = bandits.run_bandit(world, system, rounds=50, seeds=range(4))
"""

from recdyn.bandits.labels import (
    AMAZONCAT_TARGETS,
    MultiLabelData,
    label_statistics,
    lastfm_multilabel,
    power_law_frequencies,
    synthetic_multilabel,
)
from recdyn.bandits.learners import (
    Greedy,
    Learner,
    LearnerState,
    LinUCB,
    PolicyGradient,
    Uniform,
)
from recdyn.bandits.moe import MixtureOfExperts, precision_recall_at_k, thesis_defaults
from recdyn.bandits.moe_data import OfflineExamples, OfflineSplit, OfflineTest, offline_split
from recdyn.bandits.multilabel import MultiLabelWorld
from recdyn.bandits.registry import bandit_learners, bandit_worlds, make, make_learner
from recdyn.bandits.runner import run_bandit
from recdyn.bandits.systems import SingleStage, System, TwoStage
from recdyn.bandits.worlds import BanditWorld, FiniteWorld, LinearWorld, Round

__all__ = [
    "AMAZONCAT_TARGETS",
    "BanditWorld",
    "FiniteWorld",
    "Greedy",
    "Learner",
    "LearnerState",
    "LinUCB",
    "LinearWorld",
    "MixtureOfExperts",
    "MultiLabelData",
    "MultiLabelWorld",
    "OfflineExamples",
    "OfflineSplit",
    "OfflineTest",
    "PolicyGradient",
    "Round",
    "SingleStage",
    "System",
    "TwoStage",
    "Uniform",
    "bandit_learners",
    "bandit_worlds",
    "label_statistics",
    "lastfm_multilabel",
    "make",
    "make_learner",
    "offline_split",
    "power_law_frequencies",
    "precision_recall_at_k",
    "run_bandit",
    "synthetic_multilabel",
    "thesis_defaults",
]
