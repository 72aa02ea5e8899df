"""What the ``offline-vs-online`` study covers at thesis size (thesis §2.6): its eight
environments, its thirteen recommenders and its ten trials.

Shared by the study (:mod:`recdyn.studies.offline_vs_online`) and its analysis, which
judges the budget findings only for a run of the whole protocol.
"""

from __future__ import annotations

#: The environments of the foundation issue (``recdyn envs``), in the thesis's order.
ENVIRONMENTS = (
    "topics-static-v1",
    "topics-dynamic-v1",
    "topics-satiation-v1",
    "topics-sensitization-v1",
    "latent-static-v1",
    "latent-dynamic-v1",
    "latent-score-v1",
    "beta-rank-v1",
)
#: The thesis's eleven recommenders (§2.4) plus SLIM and Mult-VAE.
RECOMMENDERS = (
    "random",
    "toppop",
    "oracle",
    "item-knn",
    "user-knn",
    "mf-sgd",
    "bayes-mf",
    "autorec",
    "cf-nade",
    "llorma",
    "ease",
    "slim",
    "mult-vae",
)
#: Trials per environment at thesis size.
FULL_TRIALS = 10
#: The two readings of the worlds where RecLab's code — which made the thesis's figures —
#: differs from the thesis's text (issue 23): ``"thesis"`` follows the text (recdyn's
#: default worlds), ``"reclab"`` the code (``reclab_compat=True``: drift while the
#: initial data are generated, RecLab's drift rule). See
#: :class:`recdyn.environments.base.Environment`.
READINGS = ("thesis", "reclab")
#: The recommenders the reading-dependent claims compare (TopPop against Random, as a
#: share of Oracle − Random).
READING_RECOMMENDERS = ("random", "toppop", "oracle")
#: Thesis Fig. 2.7: the mean affinity (over users) above which a topic counts as pushed.
PUSHED = 4.5
