"""Registered bandit worlds (``bandit_worlds``) and learners (``bandit_learners``):
``recdyn.bandits.make("linear-v1", n_arms=10)``,
``recdyn.bandits.make_learner("linucb", alpha=0.5)`` (the registry idiom of
:mod:`recdyn.registry`: lazy entry points, ``make`` sets ``obj.spec``)."""

from __future__ import annotations

from typing import Any

from recdyn.registry import Registry

bandit_worlds: Registry[Any] = Registry("bandit world")
bandit_learners: Registry[Any] = Registry("bandit learner")


def make(name: str, **params: Any) -> Any:
    """Build the bandit world registered as ``name``."""
    return bandit_worlds.make(name, **params)


def make_learner(name: str, **params: Any) -> Any:
    """Build the bandit learner registered as ``name``."""
    return bandit_learners.make(name, **params)


bandit_worlds.register(
    "linear-v1",
    "recdyn.bandits.worlds:LinearWorld",
    summary="Synthetic linear bandit, θ⋆ on the sphere, N(0, I) contexts redrawn every round "
    "(thesis L2480–2483); |A| = 100, d = 20, noise 0.1.",
)
bandit_worlds.register(
    "multilabel-synthetic-v1",
    "recdyn.bandits.multilabel:MultiLabelWorld",
    summary="Multi-label bandit on synthetic data calibrated to AmazonCat-13K (d = 400, "
    "100 labels, 10,000 points).",
    source="synthetic",
)
bandit_worlds.register(
    "multilabel-lastfm-v1",
    "recdyn.bandits.multilabel:MultiLabelWorld",
    summary="Multi-label bandit on Last.fm-2K: artists, tags ranked 3rd–102nd, 400 SVD "
    "features (needs RECDYN_DATA_DIR).",
    source="lastfm",
)
bandit_learners.register("linucb", "recdyn.bandits.learners:LinUCB")
bandit_learners.register("greedy", "recdyn.bandits.learners:Greedy")
bandit_learners.register("policy-gradient", "recdyn.bandits.learners:PolicyGradient")
bandit_learners.register("uniform", "recdyn.bandits.learners:Uniform")
