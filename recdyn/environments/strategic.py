r"""Creators in the loop: strategic creators who play the exposure game against the live,
retraining recommender (issue 19, item 7): ``strategic-creators-v1``.

Our modelling choice, beyond the thesis: its chapter 5 audits a *frozen* recommender (the
exposure game of :mod:`recdyn.games.exposure`, solved offline by
:func:`~recdyn.games.gradient_ascent`); here the creators take the same better-response
steps *inside* :func:`recdyn.simulate`, with the exposure the running recommender and
policy actually give them in place of the game's.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn._validation import check_ids
from recdyn.constraints import Interval
from recdyn.environments.dual_influence import DualInfluenceEnvironment
from recdyn.errors import InvalidParameterError

__all__ = ["StrategicCreatorsEnvironment"]


class StrategicCreatorsEnvironment(DualInfluenceEnvironment):
    r"""``m`` users with fixed preferences and ``n`` creators who move their content every
    ``every`` steps to gain exposure from the recommender that is being retrained.

    Model (our extension; the users, items and ratings are ``dual-influence-v1``'s)
    -------------------------------------------------------------------------------
    * user ``j`` has a fixed preference :math:`u_j \in S^{d-1}` (it never moves); creator
      ``i`` holds free parameters :math:`\theta_i \in \mathbb R^d` and publishes the
      content :math:`s_i = \theta_i / \lVert\theta_i\rVert` — item ``i`` *is* creator
      ``i`` (``item_features()`` = the :math:`s_i`, :meth:`creator_parameters` = the
      :math:`\theta_i`, which start as the initial unit vectors);
    * the rating of ``u_j`` shown ``i`` is :math:`\mathrm{clip}_{[-1,1]}(\langle s_i,
      u_j\rangle + \epsilon)`, :math:`\epsilon \sim \mathcal N(0, \sigma^2)`; items can be
      consumed again; each online user consumes the first item of its slate;
    * at every step :func:`recdyn.simulate` shows the world the policy's exact first-slot
      probabilities :math:`\hat p_t(i \mid j)` of each online user (the contract's
      ``observes_exposure``); the world accumulates, for every creator,
      :math:`G_i = \sum_t \sum_{j\ \text{online at}\ t} \hat p_t(i\mid j)(1 - \hat
      p_t(i\mid j))\, u_j` and the number :math:`V` of user-visits;
    * at every step ``t`` with ``t % every == 0`` each creator takes ``response_steps``
      reparametrised ascent steps (:mod:`recdyn.games.solver`) along the estimated
      gradient :math:`\hat g_i = G_i / (\tau V)`:

      .. math::
         \theta_i \leftarrow \theta_i + \alpha\, \frac{(I - s_i s_i^\top)\, \hat g_i}
         {\lVert\theta_i\rVert}, \qquad s_i = \theta_i / \lVert\theta_i\rVert ,

      with :math:`s_i` and :math:`\lVert\theta_i\rVert` recomputed before each of the
      steps and :math:`\hat g_i` held fixed (the creators learn nothing new until the next
      observations); then :math:`G` and :math:`V` start afresh. Without any observed
      visit (a world stepped by hand without :meth:`observe_exposure`) nobody moves.

    :math:`\hat g_i` is the exposure game's gradient :math:`\tau^{-1} E[p_i(1 - p_i) c]`
    (thesis L4456) with the live recommender's exposure in place of the game's
    :math:`p_i(c) = \mathrm{softmax}(\langle c, s\rangle / \tau)_i`. With a recommender
    whose scores are the true :math:`\langle u_j, s_i\rangle`, a softmax policy at
    temperature ``tau`` and every user online, :math:`\hat p = p` and every move is
    exactly one (or ``response_steps``) step of :func:`~recdyn.games.gradient_ascent`, so
    the loop's fixed points are the static game's equilibria; with a learned recommender
    that lags behind the moving items they differ — which is what the study measures.
    ``tau`` is the temperature the creators assume; it should match the softmax policy's
    ``temperature`` (default 1 for both). Under the greedy policy the probabilities are
    one-hot, :math:`p(1 - p) = 0`, and the creators never move — except on tied scores
    (e.g. an unfitted recommender's first step), which greedy splits equally.

    ``changed_items()`` lists the creators whose content moved at the last step (only at
    steps that are multiples of ``every``). No random number is drawn beyond
    ``dual-influence-v1``'s (initial vectors, initial ratings and the rating noise), and
    no new creator arrives.

    Parameters
    ----------
    every : K ≥ 1, default 10: steps between the creators' moves.
    response_steps : ≥ 1, default 1: ascent steps per move.
    step_size : α > 0, default 0.1 (the solver's default).
    tau : τ > 0, default 1 (the ``softmax`` policy's default temperature).
    n_users, n_creators (or ``n_items``), dim, init, noise, initial_users,
    initial_creators, users_per_step, n_initial_ratings and the other environment
        parameters: as :class:`~recdyn.environments.dual_influence.
        DualInfluenceEnvironment` (default 100 users, 50 creators, d = 10, everyone online,
        no initial ratings).
    """

    observes_exposure: ClassVar[bool] = True
    # dual-influence-v1's own dynamics, which this world replaces (fixed, not parameters)
    eta_users: ClassVar[float] = 0.0
    eta_creators: ClassVar[float] = 0.0
    creator_aggregation: ClassVar[str] = "mean"
    frozen_user_dims: ClassVar[int] = 0
    creator_arrival: ClassVar[float] = 0.0

    def __init__(
        self,
        *,
        every: Annotated[int, Interval(Integral, 1, None)] = 10,
        response_steps: Annotated[int, Interval(Integral, 1, None)] = 1,
        step_size: Annotated[float, Interval(Real, 0, None, closed="right")] = 0.1,
        tau: Annotated[float, Interval(Real, 0, None, closed="right")] = 1.0,
        # dual-influence-v1's and the base's parameters (their domains are declared there)
        n_users: int = 100,
        n_creators: int | None = None,
        n_items: int | None = None,
        dim: int = 10,
        init: str = "uniform",
        noise: float = 0.0,
        initial_users: Any = None,
        initial_creators: Any = None,
        users_per_step: int | None = None,
        n_initial_ratings: int = 0,
        user_distribution: str = "uniform",
        initial_sampling: str = "uniform",
        initial_dynamics: bool = False,
        biased_sampling: str = "thesis",
        reclab_compat: bool = False,
    ) -> None:
        pass  # the base checks and stores the parameters declared in the signature

    # ------------------------------------------------------------------ public API
    def observe_exposure(self, users: Any, probabilities: Any) -> None:
        """Accumulate :math:`G` and :math:`V` (see the class) from one step's first-slot
        probabilities ``[len(users), n_items]`` of the online ``users``."""
        self._require_reset()
        users = check_ids("users", users, self.n_users)
        p = np.asarray(probabilities, dtype=np.float64)
        if users.ndim != 1 or p.shape != (len(users), self.n_items) or not np.isfinite(p).all():
            raise InvalidParameterError(
                f"probabilities must be a finite float array [len(users), n_items] = "
                f"[{users.size}, {self.n_items}], got shape {p.shape}"
            )
        self._gain += (p * (1.0 - p)).T @ self._users[users]
        self._visits += len(users)

    def creator_parameters(self) -> np.ndarray:
        """The creators' free parameters :math:`\\theta_i` (float64 ``[n_creators, dim]``,
        a copy); their directions are ``item_features()``."""
        self._require_reset()
        return self._theta.copy()

    # ------------------------------------------------------------------ hooks
    def _init_state(self, rng: np.random.Generator) -> None:
        super()._init_state(rng)
        self._theta = self._creators.copy()
        self._clear_observations()

    def _update(self, users: np.ndarray, items: np.ndarray, slates: np.ndarray) -> None:
        """Users stay; every ``every`` steps the creators respond (see the class)."""
        self._moved = np.empty(0, np.int64)
        if self._t % self.every == 0:
            self._respond()

    def _arrive(self) -> int:
        return 0  # no creator arrives (and nothing is drawn)

    # ------------------------------------------------------------------ helpers
    def _respond(self) -> None:
        """``response_steps`` reparametrised steps along :math:`\\hat g` (see the class)."""
        if self._visits == 0:
            return
        g = self._gain / (self.tau * self._visits)
        theta = self._theta.copy()
        for _ in range(self.response_steps):
            norm = np.linalg.norm(theta, axis=1, keepdims=True)
            s = theta / norm
            step = g - np.sum(g * s, axis=1, keepdims=True) * s
            step *= self.step_size / norm
            theta += step
        moved = np.flatnonzero((theta != self._theta).any(axis=1))  # a zero step: stays
        self._theta = theta
        self._creators[moved] = theta[moved] / np.linalg.norm(theta[moved], axis=1, keepdims=True)
        self._moved = moved
        self._clear_observations()

    def _clear_observations(self) -> None:
        self._gain = np.zeros(self._creators.shape)
        self._visits = 0
