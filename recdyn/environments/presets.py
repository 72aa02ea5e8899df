"""The registry of environment presets, under their thesis / RecLab names.

``recdyn.make(name, **overrides)`` builds one; overrides are validated against the
environment's constructor and never change the stored preset.
"""

from __future__ import annotations

from typing import Any

from recdyn.registry import Registry

environments: Registry[Any] = Registry("environment")


def make(name: str, **overrides: Any) -> Any:
    """Build the registered environment ``name`` with ``overrides`` applied.

    >>> env = make("topics-dynamic-v1", n_users=100, n_items=170, n_initial_ratings=1000)
    >>> env.spec.name
    'topics-dynamic-v1'
    """
    return environments.make(name, **overrides)


_TOPICS_ENV = "recdyn.environments.topics:TopicsEnvironment"
_LATENT_ENV = "recdyn.environments.latent:LatentEnvironment"

_TOPICS = dict(
    n_users=1000,
    n_items=1700,
    n_topics=19,
    users_per_step=200,
    n_initial_ratings=100_000,
    noise=0.5,
)

environments.register(
    "topics-static-v1",
    _TOPICS_ENV,
    summary="Topic preferences, no dynamics (thesis §2.3).",
    **_TOPICS,
)
environments.register(
    "topics-dynamic-v1",
    _TOPICS_ENV,
    summary="Topic preferences drift towards what is shown (a=0.1); boredom m=5, τ=2, λ=1.",
    **_TOPICS,
    affinity_change=0.1,
    memory_length=5,
    boredom_threshold=2,
    boredom_penalty=1.0,
)
environments.register(
    "topics-satiation-v1",
    _TOPICS_ENV,
    summary="Satiation with a topic after consuming it (f=3, γ=0.5, σ_s=0.1).",
    **_TOPICS,
    satiation_factor=3.0,
    satiation_decay=0.5,
    satiation_noise=0.1,
)
environments.register(
    "topics-sensitization-v1",
    _TOPICS_ENV,
    summary="Satiation with Markov switching between sensitized and bored states.",
    **_TOPICS,
    satiation_factor=3.0,
    satiation_decay=(0.1, 0.5),
    satiation_noise=0.1,
    switch_probability=(0.05, 0.2),
)

_LATENT = dict(
    n_users=943,
    n_items=1682,
    latent_dim=100,
    users_per_step=188,
    n_initial_ratings=100_000,
    noise=0.5,
)

environments.register(
    "latent-static-v1",
    _LATENT_ENV,
    summary="Latent factors and biases (d=100, ML-100K sizes), no dynamics (thesis §2.3).",
    **_LATENT,
)
environments.register(
    "latent-dynamic-v1",
    _LATENT_ENV,
    summary="Latent factors drift towards consumed items (a=0.2); boredom m=5, τ=0, λ=2.",
    **_LATENT,
    affinity_change=0.2,
    memory_length=5,
    boredom_threshold=0.0,
    boredom_penalty=2.0,
)
environments.register(
    "latent-score-v1",
    "recdyn.environments.latent_score:LatentScoreEnvironment",
    summary="Users choose from a slate by recommender score + a private value "
    "(Schmit & Riquelme 2018); thesis Ch.2 size 100×170.",
    n_users=100,
    n_items=170,
    rank=10,
    sigma=0.2,
    users_per_step=20,
    n_initial_ratings=1000,
)
environments.register(
    "beta-rank-v1",
    "recdyn.environments.beta_rank:BetaRankEnvironment",
    summary="Dirichlet topics, Beta utilities, position-weighted slate choice "
    "(Chaney et al. 2018); thesis Ch.2 size 100×170.",
    n_users=100,
    n_items=170,
    n_topics=19,
    utility_sd=1e-5,
    known_mean=0.98,
    position_decay=0.8,
    rating_scale=20.0,
    users_per_step=20,
    n_initial_ratings=1000,
)

# -- issue 17 item 6: the thesis's ch. 3 (CAFL) worlds
_FITTED_ENV = "recdyn.environments.fitted:FittedLatentEnvironment"
#: RecLab's ch. 3 registry (commit 3f5a8d7): one user online per step, no initial ratings,
#: noise 0.5, no dynamics — the configuration behind the thesis's Figs. 3.2–3.4.
_CAFL = dict(users_per_step=1, n_initial_ratings=0)

environments.register(
    "ml100k-v1",
    _FITTED_ENV,
    summary="Biased MF (d=100) fitted to ML-100K; static, 1 user per step, no initial "
    "ratings (thesis §3.4, L1936–1941).",
    dataset="ml-100k",
    n_users=943,
    n_items=1682,
    latent_dim=100,
    noise=0.5,
    **_CAFL,
)
environments.register(
    "ml-latest-small-v1",
    _FITTED_ENV,
    summary="Biased MF (d=100) fitted to ml-latest-small (2016 edition, ratings 0.5–5); "
    "as ml100k-v1.",
    dataset="ml-latest-small",
    n_users=671,
    n_items=9066,
    latent_dim=100,
    noise=0.5,
    **_CAFL,
)
environments.register(
    "lastfm-2k-v1",
    _FITTED_ENV,
    summary="Biased MF (d=100) fitted to Last.fm 2K, play counts mapped to 1–5 by log "
    "quantiles; as ml100k-v1.",
    dataset="lastfm-2k",
    n_users=1892,
    n_items=17632,
    latent_dim=100,
    noise=0.5,
    **_CAFL,
)
environments.register(
    "beta-rank-cafl-v1",
    "recdyn.environments.beta_rank:BetaRankEnvironment",
    summary="beta-rank at the thesis's ch. 3 (CAFL) size: 1000×1700, 1 user per step, no "
    "initial ratings (RecLab registry).",
    n_users=1000,
    n_items=1700,
    n_topics=19,
    utility_sd=1e-5,
    known_mean=0.98,
    position_decay=0.8,
    rating_scale=20.0,
    **_CAFL,
)
environments.register(
    "pan-chaney-v1",
    "recdyn.environments.pan_chaney:PanChaneyEnvironment",
    summary="Table 3.1's benchmark (Pan et al. after Chaney et al.): 3000×1000 Dirichlet "
    "topics, Beta' ratings, 0/10/1 choice from a ranking (thesis L2036–2113).",
    n_users=3000,
    n_items=1000,
    users_per_step=3000,
    n_initial_ratings=0,
    n_topics=19,
)

# -- issue 18: creators who move (seed 004)
environments.register(
    "dual-influence-v1",
    "recdyn.environments.dual_influence:DualInfluenceEnvironment",
    summary="Users and creators on the unit sphere move towards each other (dual "
    "influence, seed 004): 100 users, 50 creators, d=10, η=0.1, everyone online.",
    n_users=100,
    dim=10,
    eta_users=0.1,
    eta_creators=0.1,
)

# -- issue 19: creators in the loop (strategic creators against the live recommender)
environments.register(
    "strategic-creators-v1",
    "recdyn.environments.strategic:StrategicCreatorsEnvironment",
    summary="Fixed users; creators take exposure-game ascent steps every 10 steps on the "
    "exposure the live policy gives them (our extension): 200 users, 10 creators, d=3.",
    n_users=200,
    n_items=10,  # = n_creators (n_items, so that a size override of n_items applies)
    dim=3,
    every=10,
    tau=1.0,
)

# -- issue 21: position bias (seeds 000-001)
environments.register(
    "position-bias-v1",
    "recdyn.environments.position_bias:PositionBiasEnvironment",
    summary="Latent relevance, slates examined at position p with probability p^-eta "
    "(eta=1), clicks by relevance, every shown item logged with its position; repeat "
    "consumption; 1000x1700.",
    n_users=1000,
    n_items=1700,
    users_per_step=200,
    n_initial_ratings=20_000,
    eta=1.0,
)
