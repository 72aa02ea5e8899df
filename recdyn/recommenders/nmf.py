"""Non-negative matrix factorisation of explicit ratings by multiplicative updates (``nmf``)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval, Seed, Truthy
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.factors import FactorEmbeddings

_TINY = 1e-12  # keeps the multiplicative updates' denominators away from 0


class NMF(FactorEmbeddings, Recommender):
    r"""Non-negative matrix factorisation of the observed ratings (Lee & Seung 2001,
    "Algorithms for non-negative matrix factorization", NIPS 13; with the L2 penalty and
    the restriction to observed entries of Luo, Zhou, Xia & Zhu 2014, the algorithm of
    Surprise's ``NMF``), the thesis's NMF (ch. 5, L4066–4068).

    .. math::

        \hat r_{ui} = p_u^\top q_i,\quad p_u, q_i \ge 0, \qquad
        \min \tfrac12 \sum_{(u,i)\ \text{rated}} (r_{ui} - p_u^\top q_i)^2
          + \tfrac\lambda2 \sum_u n_u \lVert p_u\rVert^2
          + \tfrac\lambda2 \sum_i n_i \lVert q_i\rVert^2,

    with :math:`n_u` (:math:`n_i`) the number of ratings of the user (item) when
    ``weighted_reg`` (default, as Surprise), else 1. Ratings must be non-negative and are
    not centred. One iteration applies, to all users at once and then to all items
    (sparse products over the observed entries :math:`R` and the predictions at them
    :math:`\hat R`; no loop over users or items),

    .. math::

        P \leftarrow P \odot \frac{R\,Q}{\hat R\,Q + \lambda\, n_u P}, \qquad
        Q \leftarrow Q \odot \frac{R^\top P}{\hat R^\top P + \lambda\, n_i Q},

    the multiplicative updates of Lee & Seung (a rescaled gradient step that keeps the
    factors non-negative and never increases the objective). Factors start uniform on
    :math:`[0, 2\sqrt{\bar r / d}]` (so the mean prediction starts at the mean rating
    :math:`\bar r`), drawn from ``seed``: the fit is deterministic under a seed. A user
    (item) with no rating gets the mean factors of the rated users (items), so it is
    predicted like a typical one rather than as 0. A pair rated twice keeps its last
    rating.

    ``partial_fit(new)`` warm-starts: it runs ``partial_iters`` more iterations over all
    the data seen so far from the current factors (``0``: only record the ratings).

    Parameters
    ----------
    n_factors : latent dimension :math:`d` ≥ 1 (default 15, Surprise's).
    reg : :math:`\lambda` ≥ 0 (default 0.06, Surprise's ``reg_pu = reg_qi``).
    weighted_reg : scale each penalty by the number of ratings (default ``True``).
    n_iter : iterations of ``fit`` (default 100).
    partial_iters : iterations of ``partial_fit`` (default 10).
    clip : clip ``predict`` to the range of the training ratings (``score`` is unclipped).
    seed : int or None; only the initial factors are random.

    Attributes
    ----------
    user_factors_, item_factors_ : float32 ``[n_users, d]``, ``[n_items, d]``, ≥ 0,
        read-only views: the embeddings
        (:class:`~recdyn.recommenders.factors.FactorEmbeddings`).
    """

    def __init__(
        self,
        *,
        n_factors: Annotated[int, Interval(Integral, 1, None)] = 15,
        reg: Annotated[float, Interval(Real, 0, None)] = 0.06,
        weighted_reg: Annotated[bool, Truthy()] = True,
        n_iter: Annotated[int, Interval(Integral, 1, None)] = 100,
        partial_iters: Annotated[int, Interval(Integral, 0, None)] = 10,
        clip: Annotated[bool, Truthy()] = True,
        seed: Annotated[int | None, None, Seed()] = None,
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    # ------------------------------------------------------------------ fitting
    def partial_fit(self, new: Interactions) -> NMF:
        """Add ``new`` ratings (they must be ≥ 0) and warm-start (see the class docstring)."""
        self._require_fitted()
        if isinstance(new, Interactions):
            _check_non_negative(new, "new")
        return super().partial_fit(new)

    def _fit(self, data: Interactions) -> None:
        _check_non_negative(data, "data")
        d = self.n_factors
        rng = np.random.default_rng(self.seed)
        mean = float(data.rating.mean()) if len(data) else 0.0
        high = 2.0 * np.sqrt(max(mean, 0.0) / d)
        self.user_factors_ = rng.uniform(0.0, high, (self.n_users_, d)).astype(np.float32)
        self.item_factors_ = rng.uniform(0.0, high, (self.n_items_, d)).astype(np.float32)
        self._iterate(data, self.n_iter)

    def _partial_fit(self, new: Interactions) -> None:
        self._iterate(self._log.to_interactions(), self.partial_iters)

    def _iterate(self, data: Interactions, iters: int) -> None:
        r = data.to_csr(self.n_users_, self.n_items_).astype(np.float64)
        rows = np.repeat(np.arange(self.n_users_), np.diff(r.indptr))
        cols = r.indices
        n_u = np.diff(r.indptr).astype(np.float64)
        n_i = np.bincount(cols, minlength=self.n_items_).astype(np.float64)
        lam_u = self.reg * (n_u if self.weighted_reg else np.ones_like(n_u))
        lam_i = self.reg * (n_i if self.weighted_reg else np.ones_like(n_i))
        p = self._user_factors.astype(np.float64)
        q = self._item_factors.astype(np.float64)
        rt = r.T.tocsr()
        pred = sp.csr_array((np.empty(r.nnz), cols, r.indptr), shape=r.shape)
        for _ in range(iters):
            pred.data[:] = np.einsum("ij,ij->i", p[rows], q[cols])
            p *= (r @ q) / np.maximum(pred @ q + lam_u[:, None] * p, _TINY)
            pred.data[:] = np.einsum("ij,ij->i", p[rows], q[cols])
            q *= (rt @ p) / np.maximum(pred.T @ p + lam_i[:, None] * q, _TINY)
        _cold_to_mean(p, n_u)
        _cold_to_mean(q, n_i)
        self.user_factors_ = p.astype(np.float32)
        self.item_factors_ = q.astype(np.float32)
        self._rating_range = (float(r.data.min()), float(r.data.max())) if r.nnz else None

    # ------------------------------------------------------------------ scoring
    def _score(self, users: np.ndarray) -> np.ndarray:
        return self._user_factors[users] @ self._item_factors.T

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = np.einsum("ij,ij->i", self._user_factors[users], self._item_factors[items])
        if self.clip and self._rating_range is not None:
            np.clip(pred, *self._rating_range, out=pred)
        return pred


def _check_non_negative(data: Interactions, name: str) -> None:
    if len(data) and float(data.rating.min()) < 0:
        raise InvalidParameterError(
            f"NMF ('nmf') factorises the ratings into non-negative factors, so {name}.rating "
            f"must be ≥ 0; got a minimum of {float(data.rating.min())!r}. Shift the ratings "
            "(subtract their minimum) or use a model for signed ratings, e.g. 'pmf'"
        )


def _cold_to_mean(factors: np.ndarray, counts: np.ndarray) -> None:
    """Rows with no rating get the mean of the rated rows (all zero if none is rated)."""
    cold = counts == 0
    if cold.any():
        factors[cold] = factors[~cold].mean(axis=0) if (~cold).any() else 0.0
