"""Scores and predictions of biased factor models, shared by the matrix factorisations."""

from __future__ import annotations

from numbers import Real
from typing import Annotated, ClassVar

import numpy as np

from recdyn.constraints import Interval, Seed, Truthy
from recdyn.recommenders.base import Recommender


class BiasedFactorModel(Recommender):
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
