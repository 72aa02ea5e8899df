"""I-AutoRec: an item-based autoencoder of the rating matrix (Sedhain et al. 2015)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval, Truthy
from recdyn.interactions import Interactions
from recdyn.recommenders.neural.base import (
    BatchSize,
    Dropout,
    LearningRate,
    LearningRateDecay,
    TorchRecommender,
    ValidationFraction,
)
from recdyn.recommenders.neural.data import DenseRows
from recdyn.recommenders.neural.runtime import require_torch


class AutoRec(TorchRecommender):
    r"""Item-based AutoRec (Sedhain, Menon, Sanner & Xie 2015, "AutoRec: Autoencoders Meet
    Collaborative Filtering", WWW): each item's rating vector over users is encoded and
    reconstructed,

    .. math::

        h_i = \sigma(W r_i + \mu) \in \mathbb R^{k}, \qquad
        \hat r_{ui} = (V h_i + b)_u,

    with :math:`r_i \in \mathbb R^{n_{users}}` the item's observed ratings (0 where
    missing), :math:`W \in \mathbb R^{k \times n_{users}}`,
    :math:`V \in \mathbb R^{n_{users} \times k}`, trained on the observed entries only:

    .. math::

        \min_{W, V, \mu, b} \sum_i \sum_{u \in O_i} (r_{ui} - \hat r_{ui})^2
            + \frac{\lambda}{2} (\lVert W \rVert_F^2 + \lVert V \rVert_F^2).

    Mini-batches of items each carry :math:`|B| / n_{items}` of the penalty, so an epoch
    sums to the paper's objective. The paper optimised with L-BFGS / RProp and the RecLab
    thesis with RMSProp; we use Adam (``lr``), which reaches the paper's fit in fewer
    epochs on ML-100K. RecLab's bugs are fixed: gradients are zeroed every batch, and
    there is no per-batch learning-rate decay.

    A user or an item with no rating in the data is predicted at the mean training rating
    (so is a user whose first ratings arrived in a ``partial_fit`` with
    ``partial_epochs=0``: her weights are untrained, and her ratings are left out of the
    codes until an epoch has seen them);
    ``predict`` clamps to the range of the training ratings (``score`` is not clamped, so
    rankings keep their order). ``score(users)`` is one product
    :math:`V_{users} H^{\top} + b_{users}` with the items' codes
    :math:`H = [h_1 \dots h_{n_{items}}]^{\top}` computed once after training from all
    ratings seen — so a ``partial_fit`` folds new ratings in through the encoder even with
    ``partial_epochs=0``.

    **Defaults.** ``hidden=500`` as in the paper and the thesis. The thesis's λ = 1 (with
    the full penalty on every batch of 1,000 items) overfits
    ML-100K badly (RMSE 1.07 on u1); tuned on u1 (λ ∈ {30, 50, 100, 200, 300, 500},
    with the number of epochs) and checked on u1..u5: ``reg=100, lr=1e-3, batch_size=256,
    n_epochs=60`` (mean RMSE 0.896 on u1..u5). The RMSE is flat from about 50 to 80
    epochs and rises slowly after.

    Parameters
    ----------
    hidden : code size :math:`k` (default 500).
    reg : :math:`\lambda` ≥ 0, the L2 penalty on the weight matrices (default 100).
    lr : Adam learning rate (default 1e-3). lr_decay : final / initial learning rate
        of ``fit``'s cosine schedule, in (0, 1] (default 1: constant).
    n_epochs : epochs of ``fit`` (passes over the items; default 60).
    batch_size : items per mini-batch (default 256).
    dropout : dropout rate on the code :math:`h` during training (RecLab used 0.05;
        default 0).
    validation_fraction : fraction of the ratings held out for early stopping in ``fit``
        (default 0: no early stopping; train ``n_epochs``). patience : epochs without
        improvement of the validation MSE before stopping (default 10).
    clip : clamp ``predict`` to the training ratings' range (default ``True``).
    device, seed, verbose : see :class:`~recdyn.recommenders.neural.base.TorchRecommender`.
    warm_start : ``partial_fit`` continues from the current weights for
        ``partial_epochs`` epochs on all ratings seen (default ``True``); ``False``
        refits from scratch with ``n_epochs`` (the thesis's protocol).
    partial_epochs : epochs per warm ``partial_fit`` (default 1; 0 only re-encodes the
        items with the new ratings).

    Attributes
    ----------
    codes_ : float32 tensor ``[n_items, hidden]``, the items' codes :math:`H`.
    global_mean_ : float. loss_history_ : training MSE per epoch (appended by
    ``partial_fit``). val_loss_history_ : validation MSE per epoch.
    """

    default_overrides: ClassVar[dict[str, Any]] = dict(n_epochs=60, patience=10)

    def __init__(
        self,
        *,
        hidden: Annotated[int, Interval(Integral, 1, None)] = 500,
        reg: Annotated[float, Interval(Real, 0, None)] = 100.0,
        lr: LearningRate = 1e-3,
        lr_decay: LearningRateDecay = 1.0,
        batch_size: BatchSize = 256,
        dropout: Dropout = 0.0,
        validation_fraction: ValidationFraction = 0.0,
        clip: Annotated[bool, Truthy()] = True,
        **inherited: Any,  # n_epochs, patience, device, …: TorchRecommender's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    # ------------------------------------------------------------------ training
    def _build(self, train: Interactions) -> None:
        torch = require_torch()
        nu, k = self.n_users_, self.hidden

        def uniform(bound: float, *shape: int) -> Any:
            w = self._rng.uniform(-bound, bound, size=shape).astype(np.float32)
            return torch.from_numpy(w).to(self.device_).requires_grad_()

        # torch.nn.Linear's default initialisation, U(±1/sqrt(fan_in))
        self._params = {
            "W": uniform(nu**-0.5, nu, k),
            "mu": uniform(nu**-0.5, k),
            "V": uniform(k**-0.5, nu, k),  # decoder, one row per user
            "b": uniform(k**-0.5, nu),
        }
        self._optimizer = self._adam(list(self._params.values()))
        self._trained = np.zeros(nu, bool)  # users whose weights have been trained

    def _encode(self, x: Any, train: bool = False) -> Any:
        torch = require_torch()
        p = self._params
        h = torch.sigmoid(x @ p["W"] + p["mu"])
        if train and self.dropout > 0:
            keep = torch.rand(h.shape, generator=self._gen, device=h.device) >= self.dropout
            h = h * keep / (1.0 - self.dropout)
        return h

    def _epochs(self, train: Interactions, n_epochs: int, validation: Interactions | None) -> None:
        torch = require_torch()
        source = DenseRows(self._rating_matrix(train).T, self.device_)
        rows = np.flatnonzero(np.bincount(train.item, minlength=self.n_items_))
        p = self._params
        if n_epochs:
            self._trained[train.user] = True
        n_obs = max(float(source.structure.sum()), 1.0)

        def epoch() -> float:
            sse = 0.0
            for batch in self._shuffled(rows, self.batch_size):
                x, mask = source(batch)
                out = self._encode(x, train=True) @ p["V"].T + p["b"]
                err = ((out - x) * mask).square().sum()
                penalty = (p["W"].square().sum() + p["V"].square().sum()) * (
                    0.5 * self.reg * len(batch) / len(rows)
                )
                self._step(err + penalty)
                sse += float(err.detach())
            return sse / n_obs

        validate = None
        if validation is not None:
            vu, vi = self._tensor(validation.user), self._tensor(validation.item)
            vr = self._tensor(validation.rating, np.float32)

            def validate() -> float:
                with torch.no_grad():
                    codes = self._codes(source)
                    pred = (codes[vi] * p["V"][vu]).sum(1) + p["b"][vu]
                    return float((pred - vr).square().mean())

        self._run(n_epochs, epoch, validate, p)

    def _codes(self, source: DenseRows) -> Any:
        """Codes of all items, computed in batches."""
        torch = require_torch()
        step = max(1, 2**22 // max(self.n_users_, 1))
        with torch.no_grad():
            parts = [
                self._encode(source(np.arange(s, min(s + step, self.n_items_)))[0])
                for s in range(0, self.n_items_, step)
            ]
        return torch.cat(parts)

    def _refresh(self, data: Interactions) -> None:
        self.global_mean_ = float(np.mean(data.rating, dtype=np.float64))
        self._range = (float(data.rating.min()), float(data.rating.max()))
        # a user first seen after the last training epoch (partial_epochs=0) has untrained
        # weights: leave her ratings out of the codes and predict her at the mean
        known = data.select(self._trained[data.user])
        self.codes_ = self._codes(DenseRows(self._rating_matrix(known).T, self.device_))
        self._user_seen = self._trained.copy()
        self._item_seen = np.bincount(known.item, minlength=self.n_items_) > 0

    # ------------------------------------------------------------------ scoring
    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        torch = require_torch()
        idx = torch.as_tensor(users, device=self.device_)
        p = self._params
        scores = (p["V"][idx] @ self.codes_.T + p["b"][idx, None]).cpu().numpy()
        scores[~self._user_seen[users]] = self.global_mean_
        scores[:, ~self._item_seen] = self.global_mean_
        return scores

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = super()._predict(users, items)
        if self.clip:
            np.clip(pred, *self._range, out=pred)
        return pred
