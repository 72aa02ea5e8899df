r"""The data of the thesis's Table 3.1 (L2072–2108): thirty steps of the benchmark's
recommendation process in :class:`~recdyn.environments.pan_chaney.PanChaneyEnvironment`,
split into the training ratings and a uniformly random test set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recdyn.environments.pan_chaney import PanChaneyEnvironment
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.seeding import SeedLike, derive, generator

__all__ = ["PanChaneySplit", "pan_chaney_split"]


@dataclass(frozen=True, eq=False)
class PanChaneySplit:
    """What :func:`pan_chaney_split` returns.

    Attributes
    ----------
    train : each user's first ``n_train`` ratings, with ``step`` (the acquisition step
        ``s``, 1-based) and ``propensity`` (the exact probability that the pair was observed
        at that step: CAFL's :math:`q_s`, IPS's and SNIPS's propensity).
    ignored : the later ratings of the run (Pan et al.'s validation and test items, which
        the thesis leaves out, L2103–2106).
    test : ``n_test`` pairs per user drawn uniformly among the items the user never rated in
        the run, rated once by the world's observation model (``step`` = ``n_steps + 1``,
        no propensity).
    env : the world after the run (its ``true_ratings`` give the noise-free test ratings).
    """

    train: Interactions
    ignored: Interactions
    test: Interactions
    env: PanChaneyEnvironment


def pan_chaney_split(
    env: PanChaneyEnvironment | None = None,
    seed: SeedLike = 0,
    *,
    n_steps: int = 30,
    n_train: int = 20,
    n_test: int = 20,
) -> PanChaneySplit:
    r"""Run Table 3.1's data-generating process and split its ratings (thesis L2072–2108).

    1. ``env.reset`` (default: the benchmark world, ``PanChaneyEnvironment()``) from the
       stream ``"environment"`` of ``seed``.
    2. ``n_steps`` = 30 steps. At step ``t`` every online user is shown every item, ranked
       by the text's score (L2083–2093)

       .. math:: \mathrm{score}_t(u, i) = \sum_{s<t} \sum_j A_{s,uj}\,R_{s,uj}\,
                 \exp(S_{ij}),

       with :math:`S` the world's ``item_similarity`` and :math:`R` the ratings the user
       gave; the world picks one item per user with weights 0 / 10 / 1 (rated / rank ≤ 100
       / other, :func:`~recdyn.environments.pan_chaney.choice_weights`). At ``t = 1`` all
       scores are 0, every rank is 1, and the pick is uniform (L2073).
    3. Each user's first ``n_train`` = 20 ratings form ``train`` (L2103), the rest
       ``ignored``; ``test`` is ``n_test`` = 20 further pairs per user, uniform among the
       items the user did not rate, with ratings drawn from the stream ``"heldout"`` of
       ``seed`` (L2107–2108).

    The whole run takes ≈ 5 s at the benchmark's size (3,000 × 1,000).
    """
    env = PanChaneyEnvironment() if env is None else env
    if not isinstance(env, PanChaneyEnvironment):
        raise InvalidParameterError(f"env must be a PanChaneyEnvironment, got {env!r}")
    for name, value in (("n_steps", n_steps), ("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParameterError(f"{name} must be a non-negative integer, got {value!r}")
    if n_steps > env.n_items or n_steps + n_test > env.n_items:
        raise InvalidParameterError(
            f"n_steps + n_test = {n_steps + n_test} must be at most n_items = {env.n_items}: "
            "each user rates one new item a step, and the test pairs are items left unrated"
        )
    initial = env.reset(derive(seed, "environment"))
    logs = [initial]
    exp_similarity = np.exp(env.state["item_similarity"])
    score = np.zeros((env.n_users, env.n_items))
    _accumulate(score, initial, exp_similarity)
    everything = np.arange(env.n_items)
    for _ in range(n_steps):
        users = env.online_users()
        slates = np.broadcast_to(everything, (len(users), env.n_items))
        new = env.step(slates, scores=score[users])
        _accumulate(score, new, exp_similarity)
        logs.append(new)
    online = Interactions.concat(logs[1:])
    first = _first_per_user(online, n_train)
    test = _test_pairs(env, n_test, n_steps + 1, generator(seed, "heldout"))
    return PanChaneySplit(online.select(first), online.select(~first), test, env)


def _accumulate(score: np.ndarray, new: Interactions, exp_similarity: np.ndarray) -> None:
    """``score[u, i] += R_uj · exp(S_ij)`` for every rating ``(u, j, R_uj)`` of ``new``."""
    if len(new):
        shape = (score.shape[0], exp_similarity.shape[0])
        rated = sp.csr_array((new.rating.astype(np.float64), (new.user, new.item)), shape=shape)
        score += rated @ exp_similarity.T


def _first_per_user(data: Interactions, n: int) -> np.ndarray:
    """Mask of each user's first ``n`` rows of ``data`` (in log order)."""
    order = np.argsort(data.user, kind="stable")
    sorted_users = data.user[order]
    starts = np.searchsorted(sorted_users, sorted_users, side="left")
    mask = np.empty(len(data), bool)
    mask[order] = np.arange(len(data)) - starts < n
    return mask


def _test_pairs(
    env: PanChaneyEnvironment, n_test: int, step: int, rng: np.random.Generator
) -> Interactions:
    """``n_test`` unrated items per user, uniformly without replacement, observed once."""
    users = np.arange(env.n_users)
    keys = rng.random((env.n_users, env.n_items))
    keys[env.rated_mask(users)] = np.inf
    items = np.argpartition(keys, n_test - 1, axis=1)[:, :n_test] if n_test else keys[:, :0]
    u = np.repeat(users, n_test)
    i = items.ravel().astype(np.int64)
    return Interactions(u, i, env.observe(u, i, rng), np.full(len(u), step))
