"""Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren &
Volinsky 2008), fitted by ``implicit`` (the ``implicit`` extra)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval, Options, Seed
from recdyn.errors import MissingDependencyError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.factors import FactorEmbeddings, observed_counts

__all__ = ["ImplicitALS"]

_Count = Annotated[int, Interval(Integral, 1, None)]


class ImplicitALS(FactorEmbeddings, Recommender):
    r"""Implicit ALS (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
    Feedback Datasets", ICDM): every user × item pair is a preference
    :math:`p_{ui} = 1` when observed (:math:`r_{ui} > 0`) and 0 otherwise, weighted by the
    confidence :math:`c_{ui} = 1 + \alpha r_{ui}` (1 for unobserved pairs), and

    .. math::

        \min_{x, y} \sum_{u, i} c_{ui} (p_{ui} - x_u^\top y_i)^2
            + \lambda \Big(\sum_u \lVert x_u\rVert^2 + \sum_i \lVert y_i\rVert^2\Big)

    over *all* pairs. Alternating exact steps solve
    :math:`x_u = (Y^\top Y + Y^\top (C^u - I) Y + \lambda I)^{-1} Y^\top C^u p_u` (the
    paper's eq. 4; the same for items), whose cost is linear in the observed pairs
    thanks to the shared :math:`Y^\top Y`. Unlike an explicit MF it learns *what gets
    consumed*, not how high it is rated: the weight of the unobserved zeros is what the
    "curse of low dimensionality" literature (Rendle et al. 2021; Ohsaka & Togashi 2023)
    studies for popularity bias at small d.

    **Fitting.** ``implicit``'s CPU ``AlternatingLeastSquares`` (Ben Frederickson's
    library, ``pip install "recdyn[implicit]"``), ``iterations`` alternating sweeps from
    its random start (uniform on :math:`[0, 0.01)`, drawn from
    ``np.random.default_rng(seed)``); ``solver="cg"`` (default) solves each step by three
    warm-started conjugate-gradient steps (Takács, Pilászy & Tikk 2011), ``"cholesky"``
    exactly. recdyn hands the library :math:`c_{ui}` itself (the library's ``alpha`` is
    left at 1, where its stored value *is* the confidence), and runs it on one OpenMP and
    one BLAS thread by default, so a seed gives the same factors. Users and items without
    an observed pair get zero factors (score 0).

    **Observations from ratings.** ``counts="binary"`` (default) gives every rated pair
    :math:`r_{ui} = 1` (a consumption, whatever its rating: implicit feedback);
    ``counts="rating"`` uses the rating as the strength :math:`r_{ui}` (ratings must be
    ≥ 0; 0 is no observation). A pair rated twice keeps its last rating.

    **Scores.** ``score`` and ``predict`` return :math:`x_u^\top y_i`, the predicted
    *preference* (near 0 or 1), not a rating: ``predicts_ratings`` is ``False``; rank
    with it.

    **partial_fit.** ``partial_iterations=None`` (default) refits from scratch on
    everything seen, the same as ``fit`` on it (exact). An integer :math:`m` instead runs
    :math:`m` alternating sweeps over everything seen, warm-started from the current
    factors (users and items seen for the first time start at zero): not exact, but each
    sweep is the exact ALS step of the full objective, at :math:`m / \text{iterations}` of
    a refit's cost. (``implicit``'s ``recalculate_user`` would re-solve only the users
    and leave items stale, so it is not used.)

    Parameters
    ----------
    n_factors : dimension :math:`d` ≥ 1 (default 64).
    reg : :math:`\lambda` ≥ 0 (default 0.01, the library's), not scaled by counts.
    alpha : :math:`\alpha` ≥ 0 (default 1.0, the library's).
    iterations : alternating sweeps of ``fit`` (default 15, the library's).
    solver : ``"cg"`` or ``"cholesky"`` (above).
    counts : ``"binary"`` or ``"rating"`` (above).
    partial_iterations : ``None`` or warm-started sweeps of ``partial_fit`` (above).
    num_threads : OpenMP threads of ``implicit`` (default 1); BLAS runs on one.
    seed : int or None; the random start derives from it.

    Attributes
    ----------
    user_factors_ : float32 ``[n_users, d]``, :math:`x_u`.
    item_factors_ : float32 ``[n_items, d]``, :math:`y_i`. Both are read-only views
        (:class:`~recdyn.recommenders.factors.FactorEmbeddings`).
    """

    predicts_ratings = False

    def __init__(
        self,
        *,
        n_factors: _Count = 64,
        reg: Annotated[float, Interval(Real, 0, None)] = 0.01,
        alpha: Annotated[float, Interval(Real, 0, None)] = 1.0,
        iterations: _Count = 15,
        solver: Annotated[str, Options(("cg", "cholesky"))] = "cg",
        counts: Annotated[str, Options(("binary", "rating"))] = "binary",
        partial_iterations: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        num_threads: _Count = 1,
        seed: Annotated[int | None, None, Seed()] = None,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    @property
    def partial_fit_is_exact(self) -> bool:
        """``partial_fit`` is a refit (``partial_iterations=None``): the checks hold it to
        ``fit`` on everything."""
        return self.partial_iterations is None

    def _fit(self, data: Interactions) -> None:
        self._rng = np.random.default_rng(self.seed)
        self.user_factors_ = np.zeros((self.n_users_, self.n_factors), np.float32)
        self.item_factors_ = np.zeros((self.n_items_, self.n_factors), np.float32)
        self._warm = False
        self._sweep(data, self.iterations)

    def _partial_fit(self, new: Interactions) -> None:
        if self.partial_iterations is None:
            self._fit(self._log.to_interactions())
        else:
            self._sweep(self._log.to_interactions(), self.partial_iterations)

    def _sweep(self, data: Interactions, iterations: int) -> None:
        """``iterations`` ALS sweeps on ``data``: from the random start, or from the current
        factors once a fit has seen an observed pair."""
        c = self._confidence(data)
        if c.nnz == 0:
            return
        als_class, threadpool_limits = _import_implicit()
        with threadpool_limits(limits=1, user_api="blas"):
            als = als_class(
                factors=self.n_factors,
                regularization=self.reg,
                alpha=1.0,  # c is handed over as it is
                dtype=np.float32,
                use_cg=self.solver == "cg",
                iterations=iterations,
                num_threads=self.num_threads,
                random_state=self._rng,
            )
            if self._warm:
                als.user_factors = np.array(self._user_factors)
                als.item_factors = np.array(self._item_factors)
            als.fit(c, show_progress=False)
        self._user_factors[:] = als.user_factors
        self._item_factors[:] = als.item_factors
        self._user_factors[np.diff(c.indptr) == 0] = 0.0  # cold users and items: zero
        self._item_factors[np.bincount(c.indices, minlength=self.n_items_) == 0] = 0.0
        self._warm = True

    def _confidence(self, data: Interactions) -> sp.csr_matrix:
        r"""The ``n_users × n_items`` float32 CSR of :math:`c_{ui} = 1 + \alpha r_{ui}` on
        the observed pairs (no stored zeros)."""
        r = observed_counts(
            data, (self.n_users_, self.n_items_), self.counts,
            "ImplicitALS", "an observation strength r_ui",
        )  # fmt: skip
        r.data = 1.0 + self.alpha * r.data
        return sp.csr_matrix(r, dtype=np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])


def _import_implicit() -> tuple[Any, Any]:
    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError as err:
        raise MissingDependencyError(
            "ImplicitALS ('ials') needs the optional dependency implicit, which could not be "
            f"imported ({err}): pip install 'recdyn[implicit]'"
        ) from None
    _thread_lock_for_tqdm()
    return AlternatingLeastSquares, threadpool_limits


def _thread_lock_for_tqdm() -> None:
    """implicit opens a (disabled) tqdm bar in every fit, and tqdm's default lock holds a
    multiprocessing semaphore that engine worker processes leave behind ("leaked semaphore"
    warnings at shutdown); a thread lock serves single-process use (``tqdm.set_lock``),
    unless the caller has set one."""
    import threading

    from tqdm import tqdm

    if not hasattr(tqdm, "_lock"):
        tqdm.set_lock(threading.RLock())
