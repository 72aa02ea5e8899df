"""Two-stage recommenders in the rating worlds: nominators over item pools, then a ranker.

This is recdyn's extension of the thesis's ch. 4 setup (L2330–2380) to the rating worlds of
ch. 2: there, N nominators each pick candidates from their own pool of arms and a ranker
chooses among the nominated ones in contextual bandits; here every stage is a registered
recommender, so any chapter-2 world, policy, spec and study can run a two-stage system and
study its feedback loops. The regret of such a run splits as in the thesis's identity
R = R^N + R^R (the online metrics ``nominator_regret`` and ``ranker_regret``,
:mod:`recdyn.metrics.two_stage`). Parameter constraints of the parts:
:mod:`recdyn.recommenders.parts`.
"""

from __future__ import annotations

from numbers import Integral
from typing import Annotated, Any

import numpy as np

from recdyn import seeding
from recdyn._arrays import push_down
from recdyn._validation import check_ids
from recdyn.constraints import Boolean, Interval, Options, Seed
from recdyn.environments.rated import RatedPairs
from recdyn.errors import CheckError, InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.parts import PoolIds, RecommenderPart, build_part, part_label

__all__ = ["NOT_NOMINATED", "TwoStageRecommender"]

#: The score of every item that no nominator nominated: finite (policies and ``simulate``
#: need finite scores) and far below any candidate's, so greedy policies never pick it while
#: a candidate is allowed and softmax gives it probability 0 (``exp(-1e30)``). Not lower:
#: the policies push excluded items down by ``finfo(float32).max``, which must not overflow.
NOT_NOMINATED = np.float32(-1e30)
#: Candidates' ranker scores are clipped from below here, so that every candidate stays
#: above :data:`NOT_NOMINATED` (no effect on any real score).
_CANDIDATE_MIN = np.float32(-1e29)

class TwoStageRecommender(Recommender):
    r"""Two-stage: N nominators pick their top c items within their own item pool, a ranker
    scores these candidates.

    For each user every nominator nominates its top ``c`` items *within its own pool*; the
    ranker scores the union of the candidates and every other item gets the floor
    :data:`NOT_NOMINATED` (−1e30, finite).

    recdyn's extension of the thesis's ch. 4 setup (L2330–2380: nominators with pools
    :math:`A_n \ne \emptyset`, :math:`\bigcup_n A_n = A`; the ranker chooses among the
    candidates) to the rating worlds, with registered recommenders as stages. The thesis's
    nominators pick one candidate each (``n_candidates=1``) and may each see a random subset
    of the features; here they differ by model and by pool.

    Every policy then picks among the candidates: greedy ranks them first, softmax gives
    the other items probability 0. ``exclude_rated=True`` (default) is what production
    retrieval does: nominators pass over the items the user has rated in the data the
    model was fitted on (the world's rated set when ``simulate`` trains on feedback), and
    take rated items only when their pool has fewer than ``c`` others. With
    ``exclude_rated=False`` nomination ignores what was rated and only the policy excludes
    it, *after* nomination: a user who has rated all of their candidates is shown
    non-candidates, all tied at the floor — uniformly at random. In a static world the
    nominators keep nominating the same well-rated items, so this soon dominates: on a small
    ``latent-static-v1`` (100 users, 20 online per step, c = 5, greedy) the ranker's share
    of the regret fell from 0.68 (steps 1–20) to 0.03 (steps 81–100) while the nominators'
    rose from 0.53 to 1.61; with ``exclude_rated=True`` it stayed at 0.8–1.1 and the
    nominators' at 0.3–0.4. Use ``False`` in worlds where items may be consumed again
    (``env.repeat_consumption``, where ``simulate`` does not exclude rated items either).

    Parameters
    ----------
    nominators : a non-empty list (N ≥ 1) of recommenders: registered names,
        ``{"name": …, "params": {…}}`` mappings (a TOML inline table) or
        :class:`Recommender` instances (cloned). Default ``("mf-als", "item-knn")``.
    ranker : one recommender in the same forms, default ``"ease"``. It fits all the data;
        its ``predict`` is the system's (``predicts_ratings`` is the ranker's).
    n_candidates : c ≥ 1, default 10: each nominator's candidates per user (all of its
        pool when the pool is smaller), so a user has at most N·c candidates.
    pools : ``"random"`` (default: a random partition of the items into N pools of sizes
        differing by at most one, stream ``("two-stage", "pools")`` of ``seed``), ``"all"``
        (every nominator sees every item) or an int array ``[n_items]`` of pool ids in
        ``[0, N)``. Every pool must hold an item. Items that arrive later
        (``items_added``) join a uniformly drawn pool (stream ``("two-stage", "pools",
        "added")``) with ``"random"``, pool ``item % N`` with an explicit array.
    training : ``"all"`` (default: every nominator fits every rating) or ``"own"`` (each
        nominator fits the ratings of its pool's items only, at the full item count: the
        other items are simply never rated). The ranker always fits every rating.
    exclude_rated : nominators skip the items the user has rated (see above); default
        True.
    seed : int or None. Parts whose own ``seed`` is ``None`` get one derived from it
        (streams ``("two-stage", "nominator", i)`` and ``("two-stage", "ranker")``);
        ``simulate`` derives it from its root seed when ``None``.

    After ``fit``: ``nominators_`` and ``ranker_`` (the fitted parts), ``nominator_of``
    (each item's pool id; −1 for every item with ``pools="all"``), :meth:`candidates`
    (the nominated set) and ``last_candidates_`` (``(users, mask)`` of the last
    ``score``). ``partial_fit``, ``items_changed`` and ``items_added`` are passed on to
    every part. A nominator or a ranker that returns NaN or infinite scores for the items
    it must score raises :class:`~recdyn.errors.CheckError` naming it.
    """

    def __init__(
        self,
        *,
        nominators: Annotated[Any, RecommenderPart(many=True)] = ("mf-als", "item-knn"),
        ranker: Annotated[Any, RecommenderPart(many=False)] = "ease",
        n_candidates: Annotated[int, Interval(Integral, 1, None)] = 10,
        pools: Annotated[Any, Options(("random", "all")), PoolIds()] = "random",
        training: Annotated[str, Options(("all", "own"))] = "all",
        exclude_rated: Annotated[bool, Boolean()] = True,
        seed: Annotated[int | None, None, Seed()] = None,
    ) -> None:
        self._nominator_templates = tuple(
            build_part(p, f"nominators[{i}]") for i, p in enumerate(nominators)
        )
        self._ranker_template = build_part(ranker, "ranker")
        self._env = None

    def _check_params(self) -> None:
        if isinstance(self.pools, np.ndarray):
            n = len(self.nominators)
            bad = (self.pools < 0) | (self.pools >= n)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                raise InvalidParameterError(
                    f"pools must hold pool ids in [0, {n}) for {n} nominator(s); "
                    f"pools[{j}] is {int(self.pools[j])}"
                )

    # ------------------------------------------------------------------ flags
    @property
    def requires_environment(self) -> bool:  # type: ignore[override]
        """Whether a part reads the world (an Oracle): ``simulate`` then calls ``attach``."""
        return any(p.requires_environment for p in self._templates())

    @property
    def predicts_ratings(self) -> bool:  # type: ignore[override]
        """The ranker's: ``predict`` is the ranker's prediction."""
        return bool(self._ranker_template.predicts_ratings)

    def attach(self, env: Any) -> TwoStageRecommender:
        """Give the parts that read the world (an Oracle) the world."""
        self._env = env
        for part in self._fitted_parts():
            if part.requires_environment:
                part.attach(env)
        return self

    def _templates(self) -> tuple[Recommender, ...]:
        return (*self._nominator_templates, self._ranker_template)

    def _fitted_parts(self) -> tuple[Recommender, ...]:
        if not hasattr(self, "ranker_"):
            return ()
        return (*self.nominators_, self.ranker_)

    # ------------------------------------------------------------------ diagnostics
    @property
    def nominator_of(self) -> np.ndarray:
        """Each item's pool id (the nominator that may nominate it), int64 ``[n_items]``;
        −1 for every item with ``pools="all"``."""
        self._require_fitted()
        return self._nominator_of.copy()

    def candidates(self, users: Any) -> np.ndarray:
        """The nominated items of each user, bool ``[len(users), n_items]``: at most N·c
        per user, each within its nominator's pool."""
        self._require_fitted()
        return self._nominate(check_ids("users", users, self.n_users_))

    # ------------------------------------------------------------------ fitting
    def _part(self, template: Recommender, *stream: str) -> Recommender:
        params = template.get_params()
        if "seed" in params and params["seed"] is None and self.seed is not None:
            derived = seeding.derive(self.seed, "two-stage", *stream)
            part = template.clone(seed=int(derived.generate_state(1, np.uint32)[0]))
        else:
            part = template.clone()
        if part.requires_environment and self._env is not None:
            part.attach(self._env)
        return part

    def _own(self, data: Interactions, pool: int) -> Interactions:
        if self.training == "all" or self._nominator_of[0] < 0:
            return data
        return data.select(self._nominator_of[data.item] == pool)

    def _fit(self, data: Interactions) -> None:
        n, n_items = len(self.nominators), self.n_items_
        if isinstance(self.pools, np.ndarray):
            if len(self.pools) != n_items:
                raise InvalidParameterError(
                    f"pools has {len(self.pools)} pool ids but fit was given n_items="
                    f"{n_items}; give one pool id per item"
                )
            nominator_of = self.pools.astype(np.int64)
        elif self.pools == "all":
            nominator_of = np.full(n_items, -1, np.int64)
        else:
            rng = seeding.generator(self.seed, "two-stage", "pools")
            nominator_of = np.empty(n_items, np.int64)
            nominator_of[rng.permutation(n_items)] = np.arange(n_items) % n
        if nominator_of[0] >= 0:
            sizes = np.bincount(nominator_of, minlength=n)
            if (sizes == 0).any():
                raise InvalidParameterError(
                    f"pools: the pool of nominator {int(np.flatnonzero(sizes == 0)[0])} is "
                    f"empty ({n} nominators, {n_items} items, pool sizes {sizes.tolist()}); "
                    "every nominator needs at least one item (fewer nominators, or "
                    'pools="all")'
                )
        self._nominator_of = nominator_of
        self._added_rng = seeding.generator(self.seed, "two-stage", "pools", "added")
        self._rated = RatedPairs(self.n_users_, n_items)
        self._rated.mark(data.user, data.item)
        self.last_candidates_: tuple[np.ndarray, np.ndarray] | None = None
        nominators = []
        for i, template in enumerate(self._nominator_templates):
            part = self._part(template, "nominator", str(i))
            nominators.append(part.fit(self._own(data, i), self.n_users_, n_items))
        self.nominators_ = tuple(nominators)
        self.ranker_ = self._part(self._ranker_template, "ranker").fit(data, self.n_users_, n_items)

    def _partial_fit(self, new: Interactions) -> None:
        self._rated.mark(new.user, new.item)
        for i, part in enumerate(self.nominators_):
            part.partial_fit(self._own(new, i))
        self.ranker_.partial_fit(new)

    def _items_changed(self, items: np.ndarray) -> None:
        for part in self._fitted_parts():
            part.items_changed(items)

    def _items_added(self, old_n_items: int) -> None:
        added = np.arange(old_n_items, self.n_items_)
        n = len(self.nominators)
        if self._nominator_of[0] < 0:
            pools = np.full(len(added), -1, np.int64)
        elif isinstance(self.pools, np.ndarray):
            pools = added % n
        else:
            pools = self._added_rng.integers(0, n, size=len(added))
        self._nominator_of = np.concatenate([self._nominator_of, pools])
        data = self._log.to_interactions()
        self._rated = RatedPairs(self.n_users_, self.n_items_)
        self._rated.mark(data.user, data.item)
        for part in self._fitted_parts():
            part.items_added(self.n_items_)

    # ------------------------------------------------------------------ scoring
    def _pool_items(self) -> list[np.ndarray | None]:
        """Each nominator's items (``None``: all of them)."""
        if self._nominator_of[0] < 0:
            return [None] * len(self.nominators)
        order = np.argsort(self._nominator_of, kind="stable")
        bounds = np.cumsum(np.bincount(self._nominator_of, minlength=len(self.nominators)))
        return np.split(order, bounds[:-1])

    def _nominate(self, users: np.ndarray) -> np.ndarray:
        n_items, c = self.n_items_, self.n_candidates
        cand = np.zeros((len(users), n_items), bool)
        rated = self._rated.mask(users) if self.exclude_rated else None
        rows = np.arange(len(users))[:, None]
        for i, (part, items) in enumerate(zip(self.nominators_, self._pool_items())):
            s = part.score(users)
            sub = s if items is None else np.take(s, items, axis=1)
            if not np.isfinite(sub).all():
                bad = np.argwhere(~np.isfinite(sub))[0]
                item = bad[1] if items is None else items[bad[1]]
                raise CheckError(
                    f"TwoStageRecommender: nominator {i} ({part_label(self.nominators[i])}) "
                    f"returned a NaN/inf score for user {int(users[bad[0]])}, item "
                    f"{int(item)} of its pool; it cannot nominate (its fit may have diverged)"
                )
            if rated is not None:
                sub = push_down(sub, rated if items is None else rated[:, items])
            width = sub.shape[1]
            if c < width:
                top = np.argpartition(sub, width - c, axis=1)[:, width - c :]
            else:
                top = np.broadcast_to(np.arange(width), (len(users), width))
            cand[rows, top if items is None else items[top]] = True
        empty = ~cand.any(axis=1)
        if empty.any():  # cannot happen with non-empty pools; guarded all the same
            raise InvalidParameterError(
                f"TwoStageRecommender: user {int(users[np.flatnonzero(empty)[0]])} has no "
                "candidates; every pool must hold an item (pools)"
            )
        return cand

    def _score(self, users: np.ndarray) -> np.ndarray:
        cand = self._nominate(users)
        r = self.ranker_.score(users)
        bad = cand & ~np.isfinite(r)
        if bad.any():
            u, i = np.argwhere(bad)[0]
            raise CheckError(
                f"TwoStageRecommender: ranker {part_label(self.ranker)} returned a NaN/inf score "
                f"for the nominated item {int(i)} of user {int(users[u])} "
                f"({int(bad.sum()):,} nominated items); it cannot rank the candidates"
            )
        self.last_candidates_ = (users.copy(), cand)
        out = np.full(r.shape, NOT_NOMINATED, np.float32)
        np.maximum(r, _CANDIDATE_MIN, out=out, where=cand)
        return out

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.ranker_.predict(users, items)
