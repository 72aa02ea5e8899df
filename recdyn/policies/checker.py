"""``check_policy``: does a policy honour the :class:`~recdyn.policies.Policy` contract?
(after scikit-learn's ``check_estimator``).

Each rule is a named check ``check_policy_xxx(policy, k_values=(1, 3, 8), n_draws=40_000)``
raising a :class:`~recdyn.errors.CheckError` that names the check and the policy;
:func:`policy_checks` yields them all, :func:`check_policy` runs them, and
:func:`recdyn.testing.parametrize_with_checks` makes one pytest item of each. Scores have
8 items (ties included); ``k_values`` are the slate sizes tried (lower them for a policy
that limits ``k``, e.g. a truncation to ``m < 8`` items); ``n_draws`` is the number of
slates drawn to test propensities against observed frequencies
(:mod:`recdyn.policies.propensity_check`) and the first slot's ``probabilities`` against
observed frequencies. A policy that ``requires_environment`` is checked on a clone attached
to a stand-in world of 8 items with unit feature vectors (:class:`FeatureWorld`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import numpy as np

from recdyn.checking import (
    GlobalRngGuard,
    check,
    check_params_round_trip,
    require,
    run_checks,
)
from recdyn.errors import CheckError
from recdyn.policies.base import NO_ITEM, Policy, Selection
from recdyn.policies.propensity_check import bernstein_tolerance, check_exact_propensities

__all__ = ["FeatureWorld", "check_policy", "policy_checks"]

N_ITEMS = 8
N_USERS = 90
K_VALUES = (1, 3, N_ITEMS)


def _scores(seed: int, ties: bool = True) -> np.ndarray:
    """``[N_USERS, N_ITEMS]`` scores: small integers (many ties) or distinct reals."""
    rng = np.random.default_rng(seed)
    if ties:
        return rng.integers(0, 4, size=(N_USERS, N_ITEMS)).astype(np.float64)
    return rng.permuted(np.tile(np.linspace(-2.0, 2.0, N_ITEMS), (N_USERS, 1)), axis=1)


def _exclusions(seed: int) -> np.ndarray:
    """Row ``r`` allows ``r % (N_ITEMS + 1)`` items (none to all), at random places."""
    rng = np.random.default_rng(seed)
    n_allowed = np.arange(N_USERS) % (N_ITEMS + 1)
    rank = rng.random((N_USERS, N_ITEMS)).argsort(axis=1).argsort(axis=1)
    return rank >= n_allowed[:, None]


class FeatureWorld:
    """A stand-in world for policies that read one: ``N_ITEMS`` items whose
    ``item_features()`` are seeded unit vectors in 3 dimensions and whose
    ``item_categories()`` spread over 3 categories (items 0–2 one each, 3–7 two each);
    ``N_USERS`` users whose ``rated_mask`` is a fixed seeded pattern."""

    n_items = N_ITEMS
    n_users = N_USERS

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(N_ITEMS, 3))
        self._features = x / np.linalg.norm(x, axis=1, keepdims=True)
        self._features.flags.writeable = False
        items = np.arange(N_ITEMS)
        member = np.zeros((N_ITEMS, 3))
        member[items, items % 3] = 1
        member[items[3:], (items[3:] + 1) % 3] = 1
        self._categories = member / member.sum(axis=1, keepdims=True)
        self._categories.flags.writeable = False
        self._rated = rng.random((N_USERS, N_ITEMS)) < np.linspace(0.05, 0.6, N_ITEMS)

    def item_features(self) -> np.ndarray:
        return self._features

    def item_categories(self) -> np.ndarray:
        return self._categories

    def rated_mask(self, users: np.ndarray) -> np.ndarray:
        return self._rated[np.asarray(users)]


def _ready(policy: Policy) -> Policy:
    """``policy``, or a clone of it attached to a :class:`FeatureWorld` if it reads one."""
    if isinstance(policy, Policy) and policy.requires_environment:
        return policy.clone().attach(FeatureWorld())
    return policy


def _select(policy: Policy, scores: np.ndarray, k: int, exclude, seed: int) -> Selection:
    return _ready(policy).select(scores, k, exclude, np.random.default_rng(seed))


def _valid(sel: Selection, n_users: int, k: int, what: str, nothing: bool = False) -> None:
    require(isinstance(sel, Selection), f"{what}: select() returned {type(sel).__name__}")
    s = sel.slates
    require(isinstance(s, np.ndarray), f"{what}: slates are {type(s).__name__}, not ndarray")
    require(s.shape == (n_users, k), f"{what}: slates have shape {s.shape}, not {(n_users, k)}")
    require(np.issubdtype(s.dtype, np.integer), f"{what}: slates have dtype {s.dtype}")
    empty = s == NO_ITEM
    if empty.any():
        require(
            nothing,
            f"{what}: a slate holds NO_ITEM ({NO_ITEM}) but the policy does not declare "
            "may_show_nothing",
        )
        late = np.flatnonzero((np.diff(empty.astype(np.int8), axis=1) < 0).any(axis=1))
        if len(late):
            raise CheckError(
                f"{what}: slate {s[late[0]].tolist()} shows an item after a NO_ITEM slot "
                "(NO_ITEM may only fill the last slots)"
            )
    shown = s[~empty]
    require(
        not shown.size or (shown.min() >= 0 and shown.max() < N_ITEMS),
        f"{what}: an item id is out of [0, {N_ITEMS})",
    )
    s = np.where(empty, -1 - np.arange(k), s)  # NO_ITEM slots never count as repeats
    dup = (np.diff(np.sort(s, axis=1), axis=1) == 0).any(axis=1)
    if dup.any():
        raise CheckError(f"{what}: slate {s[dup][0].tolist()} shows an item twice")
    p = sel.propensities
    if p is not None:
        require(isinstance(p, np.ndarray), f"{what}: propensities are not an ndarray")
        require(p.shape == s.shape, f"{what}: propensities have shape {p.shape}, not {s.shape}")
        require(np.issubdtype(p.dtype, np.floating), f"{what}: propensities dtype {p.dtype}")


@check
def check_policy_interface(policy: Policy, **options) -> None:
    """It is a :class:`Policy` (``select`` validates its arguments; subclasses write
    ``_select``)."""
    require(isinstance(policy, Policy), f"{policy!r} is not a recdyn Policy")


@check
def check_policy_params(policy: Policy, **options) -> None:
    """``get_params`` / ``clone`` / ``set_params`` / ``repr`` round trip."""
    require(isinstance(policy, Policy), f"{policy!r} is not a recdyn Policy")
    check_params_round_trip(policy)


@check
def check_policy_slates(policy: Policy, k_values=K_VALUES, n_draws: int = 40_000) -> None:
    """For every ``k``, with and without exclusions: a :class:`Selection` whose slates are
    integer ``[n_users, k]`` ids in ``[0, n_items)`` with no item twice in a row, and whose
    propensities are ``None`` or floats of the slates' shape."""
    scores, exclude = _scores(1), _exclusions(2)
    for k in k_values:
        for mask, label in ((None, "no exclusions"), (exclude, "with exclusions")):
            sel = _select(policy, scores, k, mask, 3)
            _valid(sel, N_USERS, k, f"k={k}, {label}", bool(policy.may_show_nothing))


@check
def check_policy_exclusions(policy: Policy, k_values=K_VALUES, n_draws: int = 40_000) -> None:
    """No excluded item is shown while ``k`` allowed ones remain; a user with fewer than
    ``k`` allowed items gets all of them first, then excluded ones (the documented
    fill-in, so a slate always has ``k`` distinct items). A policy that may show nothing
    may instead leave the last slots empty (:data:`~recdyn.policies.base.NO_ITEM`), but
    shows an excluded item only after every allowed one."""
    scores, exclude = _scores(4), _exclusions(5)
    n_allowed = (~exclude).sum(axis=1)
    for k in k_values:
        s = _select(policy, scores, k, exclude, 6).slates
        empty = s == NO_ITEM
        shown_excluded = np.take_along_axis(exclude, np.where(empty, 0, s), axis=1) & ~empty
        if policy.may_show_nothing:
            shown_allowed = (~shown_excluded & ~empty).sum(axis=1)
            kind = np.where(empty, 2, shown_excluded.astype(np.int64))
            bad = np.flatnonzero(
                (np.diff(kind, axis=1) < 0).any(axis=1)
                | (shown_excluded.any(axis=1) & (shown_allowed < n_allowed))
            )
            if len(bad):
                raise CheckError(
                    f"k={k}: a user with {n_allowed[bad[0]]} allowed items was shown an "
                    f"excluded item before all of them, or an item after an excluded one "
                    f"that is allowed (slate {s[bad[0]].tolist()})"
                )
            continue
        rich = n_allowed >= k
        bad = np.flatnonzero(rich & shown_excluded.any(axis=1))
        if len(bad):
            raise CheckError(
                f"k={k}: a user was shown an excluded item although {n_allowed[bad[0]]} "
                f"items were allowed (slate {s[bad[0]].tolist()})"
            )
        first = np.arange(k)[None, :] < n_allowed[:, None]  # slots the allowed items take
        wrong = np.flatnonzero(~rich & (shown_excluded == first).any(axis=1))
        if len(wrong):
            raise CheckError(
                f"k={k}: a user with {n_allowed[wrong[0]]} allowed items did not get them "
                f"all first, then excluded ones (slate {s[wrong[0]].tolist()})"
            )


@check
def check_policy_inputs_unchanged(policy: Policy, k_values=K_VALUES, n_draws: int = 40_000) -> None:
    """``select`` does not write into the scores or exclusions it is given."""
    scores, exclude = _scores(7), _exclusions(8)
    given_scores, given_exclude = scores.copy(), exclude.copy()
    _select(policy, given_scores, max(k_values), given_exclude, 9)
    require(np.array_equal(given_scores, scores), "select() changed its scores argument")
    require(np.array_equal(given_exclude, exclude), "select() changed its exclude argument")


@check
def check_policy_determinism(policy: Policy, k_values=K_VALUES, n_draws: int = 40_000) -> None:
    """The same ``rng`` seed gives the same slates and propensities, and the policy never
    uses numpy's or Python's global random state."""
    scores, exclude = _scores(10), _exclusions(11)
    for k in k_values:
        with GlobalRngGuard() as guard:
            a = _select(policy, scores, k, exclude, 12)
            b = _select(policy, scores, k, exclude, 12)
        guard.require_untouched()
        require(np.array_equal(a.slates, b.slates), f"k={k}: the same seed gave other slates")
        same_p = (a.propensities is None and b.propensities is None) or (
            a.propensities is not None
            and b.propensities is not None
            and np.array_equal(a.propensities, b.propensities)
        )
        require(same_p, f"k={k}: the same seed gave other propensities")


@check
def check_policy_propensities(policy: Policy, k_values=K_VALUES, n_draws: int = 40_000) -> None:
    """A policy that reports no propensities is deterministic (apart from ties): other
    seeds give the same slates for distinct scores. One that reports them reports values
    in ``(0, 1]`` that are *exact*: drawn ``n_draws`` times, for ``k = 1`` and ``k > 1``,
    with exclusions and with fewer allowed items than ``k``, each reported value agrees
    with the observed frequency of its event (see
    :func:`~recdyn.policies.propensity_check.check_exact_propensities`)."""
    policy = _ready(policy)
    sel = _select(policy, _scores(13), max(k_values), _exclusions(14), 15)
    if sel.propensities is None:
        scores = _scores(16, ties=False)
        for k in k_values:
            a = _select(policy, scores, k, None, 17).slates
            b = _select(policy, scores, k, None, 18).slates
            require(
                np.array_equal(a, b),
                f"k={k}: slates depend on the random generator but no propensities are "
                "reported (a stochastic policy must report them)",
            )
        return
    for k in k_values:
        p = _select(policy, _scores(19), k, _exclusions(20), 21).propensities
        require(p is not None, f"k={k}: propensities are reported for some k but not k={k}")
        require(np.isfinite(p).all(), f"k={k}: propensities hold NaN or inf")
        low, high = float(p.min()), float(p.max())
        require(
            low > 0 and high <= 1 + 1e-12,
            f"k={k}: propensities range over [{low}, {high}], not inside (0, 1]",
        )
    row = np.array([1.0, 3.0, 3.0, 2.0, 0.5, 2.5, 0.0, 1.5])  # a tie; item 6 excluded
    one_out = np.arange(N_ITEMS) == 6
    scenarios = [(1, one_out)]
    k_big = min((k for k in k_values if k > 1), default=None)
    if k_big is not None:  # and a user with k - 1 allowed items: the fill-in
        fill_in = ~np.isin(np.arange(N_ITEMS), [1, 4, 3, 5, 0, 2, 7][: k_big - 1])
        scenarios += [(k_big, one_out), (k_big, fill_in)]
    for i, (k, excluded) in enumerate(scenarios):
        check_exact_propensities(policy, row, excluded, k, n_draws, seed=22 + i)


@check
def check_policy_probabilities(policy: Policy, k_values=K_VALUES, n_draws: int = 40_000) -> None:
    """``probabilities`` is ``None`` (the policy cannot say) or the exact distribution of
    the first slot: float ``[n_users, n_items]`` in ``[0, 1]``, rows summing to 1 (or 0
    where the policy may show nothing), excluded items 0 where some item is allowed, the
    same on every call, inputs untouched; drawn ``n_draws`` times (``k = 1`` and
    ``k > 1``; one item excluded, and every item excluded), the first slot shows each item
    (or nothing) as often as its probability says, within the Bernstein bound of
    :mod:`~recdyn.policies.propensity_check`."""
    policy = _ready(policy)
    scores, exclude = _scores(23), _exclusions(24)
    given_scores, given_exclude = scores.copy(), exclude.copy()
    with GlobalRngGuard() as guard:
        p = policy.probabilities(given_scores, given_exclude)
        again = policy.probabilities(given_scores, given_exclude)
    guard.require_untouched()
    if p is None:
        return
    require(np.array_equal(given_scores, scores), "probabilities() changed its scores")
    require(np.array_equal(given_exclude, exclude), "probabilities() changed its exclude")
    require(isinstance(p, np.ndarray), f"probabilities() returned {type(p).__name__}")
    require(p.shape == scores.shape, f"probabilities have shape {p.shape}, not {scores.shape}")
    require(np.issubdtype(p.dtype, np.floating), f"probabilities have dtype {p.dtype}")
    require(np.array_equal(p, again), "two calls gave other probabilities")
    require(bool(np.isfinite(p).all()), "probabilities hold NaN or inf")
    require(p.min() >= 0 and p.max() <= 1 + 1e-12, f"probabilities span [{p.min()}, {p.max()}]")
    total = p.sum(axis=1)
    ok = np.abs(total - 1) <= 1e-9
    if policy.may_show_nothing:
        ok |= np.abs(total) <= 1e-12
    if not ok.all():
        raise CheckError(f"a row of probabilities sums to {total[~ok][0]}, not 1")
    some = (~exclude).any(axis=1)
    leak = (p > 0) & exclude & some[:, None]
    require(not leak.any(), "an excluded item has positive probability while items are allowed")
    row = np.array([1.0, 3.0, 3.0, 2.0, 0.5, 2.5, 0.0, 1.5])  # a tie; then exclusions
    k_big = min((k for k in k_values if k > 1), default=1)
    cases = [(1, np.arange(N_ITEMS) == 6), (k_big, np.arange(N_ITEMS) == 6)]
    cases.append((1, np.ones(N_ITEMS, bool)))
    for i, (k, excluded) in enumerate(cases):
        probs = policy.probabilities(row[None, :], excluded[None, :])[0]
        first = _select(
            policy, np.tile(row, (n_draws, 1)), k, np.tile(excluded, (n_draws, 1)), 30 + i
        ).slates[:, 0]
        counts = np.bincount(np.where(first == NO_ITEM, N_ITEMS, first), minlength=N_ITEMS + 1)
        expected = np.append(probs, max(0.0, 1.0 - probs.sum()))
        tol = bernstein_tolerance(np.full(N_ITEMS + 1, float(n_draws)), expected)
        bad = np.flatnonzero(np.abs(counts - n_draws * expected) > tol)
        if len(bad):
            j = int(bad[0])
            what = "nothing" if j == N_ITEMS else f"item {j}"
            raise CheckError(
                f"k={k}, {int((~excluded).sum())} allowed items: the first slot showed {what} "
                f"{counts[j]}/{n_draws} times, but probabilities() says {expected[j]:.4g}"
            )


_CHECKS = (
    check_policy_interface,
    check_policy_params,
    check_policy_slates,
    check_policy_exclusions,
    check_policy_inputs_unchanged,
    check_policy_determinism,
    check_policy_propensities,
    check_policy_probabilities,
)


def policy_checks(
    policy: Policy, *, k_values: tuple[int, ...] = K_VALUES, n_draws: int = 40_000
) -> Iterator[Callable[[Policy], None]]:
    """Every check of ``policy``, its options bound: call each as ``check(policy)``."""
    k_values = tuple(int(k) for k in k_values)
    if not k_values or min(k_values) < 1 or max(k_values) > N_ITEMS:
        raise ValueError(f"k_values must be slate sizes in [1, {N_ITEMS}], got {k_values}")
    for fn in _CHECKS:
        yield functools.partial(fn, k_values=k_values, n_draws=n_draws)


def check_policy(
    policy: Policy, *, k_values: tuple[int, ...] = K_VALUES, n_draws: int = 40_000
) -> None:
    """Run every policy check (:func:`policy_checks`, each described by its docstring) on
    ``policy``; the first failure raises a :class:`~recdyn.errors.CheckError` naming the
    check and the policy."""
    run_checks(policy, policy_checks(policy, k_values=k_values, n_draws=n_draws))
