"""The embedding surface of factor models (:class:`FactorEmbeddings`, :func:`embeddings`)
and the scores and predictions of biased factor models, shared by the matrix
factorisations."""

from __future__ import annotations

from numbers import Real
from typing import Annotated, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval, Seed, Truthy
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender


class _ReadOnlyArray:
    """A fitted array attribute: assignment stores the array under ``_<name>`` (where
    the model's own code updates it in place); reading gives a read-only view of it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.private = "_" + name.rstrip("_")

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            view = obj.__dict__[self.private].view()
        except KeyError:
            raise AttributeError(self.private[1:] + "_") from None
        view.flags.writeable = False
        return view

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.private] = value


class FactorEmbeddings:
    r"""Mixin of the models whose scores are inner products of learned embeddings,
    :math:`s_{ui} = \text{offset}_{ui} + p_u^\top q_i` (the matrix factorisations ``mf-als``,
    ``mf-sgd``, ``pmf``, ``nmf``, ``bayes-mf``, ``gmf``, ``hpf``, ``ials``).

    After ``fit`` the embeddings are public, read-only views (write access raises
    ``ValueError``; copy them to change them):

    ``user_factors_``
        float32 ``[n_users, d]``, :math:`p_u` (the user embeddings :math:`c_j` of the
        thesis's ch. 5 audit);
    ``item_factors_``
        float32 ``[n_items, d]``, :math:`q_i`.

    Users and items with no rating have the model's documented cold factors (most: zero).
    Inside the model the arrays live in ``_user_factors`` / ``_item_factors``, which the
    fitting code may update in place; assigning ``user_factors_`` replaces them.
    """

    user_factors_ = _ReadOnlyArray()
    item_factors_ = _ReadOnlyArray()


def embeddings(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(user_factors_, item_factors_)`` of a fitted :class:`FactorEmbeddings` model
    (read-only float32 views ``[n_users, d]``, ``[n_items, d]``)."""
    if not isinstance(model, FactorEmbeddings):
        raise InvalidParameterError(
            f"model must be a factor model with embeddings (mf-als, mf-sgd, pmf, nmf, "
            f"bayes-mf, gmf, hpf, ials), got {type(model).__name__}"
        )
    model._require_fitted()
    return model.user_factors_, model.item_factors_


class BiasedFactorModel(FactorEmbeddings, Recommender):
    r"""Base of the models that predict

    .. math:: \hat r_{ui} = \mu + b_u + b_i + p_u^\top q_i

    (Koren, Bell & Volinsky 2009, "Matrix factorization techniques for recommender
    systems", eq. 4): :class:`~recdyn.recommenders.mf_sgd.SGDMatrixFactorization`,
    :class:`~recdyn.recommenders.mf_als.ALSMatrixFactorization` and
    :class:`~recdyn.recommenders.bayes_mf.BayesianMatrixFactorization`, which differ only
    in how they fit the terms.

    A subclass's fit sets the float32 arrays ``user_factors_`` :math:`[p_u]`,
    ``item_factors_`` :math:`[q_i]`, ``user_bias_`` :math:`[b_u]`, ``item_bias_``
    :math:`[b_i]`, the global term :math:`\mu` (attribute named by ``_global_term``) and
    ``_rating_range``, the ``(lowest, highest)`` rating it was fitted on (``None`` before
    any rating). ``score`` is :math:`\hat r` for every item, never clipped (rankings keep
    their order); ``predict`` is clipped to ``_rating_range`` when the model's ``clip``
    hyperparameter is set and the range is known.

    Parameters shared by the subclasses
    -----------------------------------
    init_std : standard deviation (> 0) of the initial factors, default 0.1.
    clip : clip ``predict`` to the range of the training ratings (default ``True``;
        ``score`` is never clipped, so rankings keep their order).
    seed : int or None; the model's random draws derive from it.
    """

    #: the fitted attribute that holds the global term :math:`\mu`
    _global_term: ClassVar[str] = "global_mean_"

    _rating_range: tuple[float, float] | None

    def __init__(
        self,
        *,
        init_std: Annotated[float, Interval(Real, 0, None, closed="neither")] = 0.1,
        clip: Annotated[bool, Truthy()] = True,
        seed: Annotated[int | None, None, Seed()] = None,
    ) -> None:
        pass  # subclasses take these as **inherited; the base stores them

    def _score(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T
        scores += self.item_bias_
        scores += (getattr(self, self._global_term) + self.user_bias_[users])[:, None]
        return scores

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        pred += getattr(self, self._global_term) + self.user_bias_[users] + self.item_bias_[items]
        if self.clip and self._rating_range is not None:
            np.clip(pred, *self._rating_range, out=pred)
        return pred


def observed_counts(
    data: Interactions, shape: tuple[int, int], counts: str, who: str, reads_as: str
) -> sp.csr_array:
    """The ``shape`` float64 CSR of the observations fed to an implicit-feedback model:
    1 for every rated pair (``counts="binary"``) or the rating itself (``"rating"``,
    which must then be finite and ≥ 0; ``who`` and ``reads_as`` word the error); no
    stored zeros."""
    y = data.to_csr(*shape).astype(np.float64)
    if counts == "binary":
        y.data[:] = 1.0
    elif len(y.data) and not (np.isfinite(y.data).all() and (y.data >= 0).all()):
        bad = y.data[~(np.isfinite(y.data) & (y.data >= 0))][0]
        raise InvalidParameterError(
            f"{who} with counts='rating' reads each rating as {reads_as}, so data.rating "
            f"must be finite and ≥ 0; got {bad!r}. Use counts='binary' (1 for every rated "
            "pair) for signed ratings"
        )
    y.eliminate_zeros()
    return y
