"""GMF: generalized matrix factorisation (He et al. 2017) for explicit ratings, trained
with Adam on a per-rating weighted squared error (the model of the thesis's Table 3.1)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval, Truthy
from recdyn.interactions import Interactions
from recdyn.recommenders.factors import FactorEmbeddings
from recdyn.recommenders.neural.base import (
    BatchSize,
    LearningRate,
    LearningRateDecay,
    TorchRecommender,
)
from recdyn.recommenders.neural.runtime import require_torch
from recdyn.recommenders.weighting import WeightingParam, rating_weights


class GMF(FactorEmbeddings, TorchRecommender):
    r"""Generalized matrix factorisation (He, Liao, Zhang, Nie, Hu & Chua 2017, "Neural
    Collaborative Filtering", WWW, §3.2) with biases, for explicit ratings:

    .. math::

        \hat r_{ui} = \mu + b_u + b_i + h^\top (p_u \odot q_i),

    the GMF layer :math:`a_{out}(h^\top(p_u \odot q_i))` with the identity as
    :math:`a_{out}` (the paper's output for a real-valued target) plus user and item
    biases; :math:`\mu` is the weighted mean training rating (fixed, not learned). With
    :math:`h = 1` the model is biased MF; ``h`` is learned.

    **Loss.** Each rating has a weight :math:`w_{ui} \ge 0` from ``weighting`` (thesis
    ch. 3, L2110: GMF trained with Adam, "each observation in the training loss weighted
    according to" the correction, as Pan et al. weight theirs for Table 3.1). The squared
    error for ratings (He et al. §3.1.1) and an L2 penalty on the factors and biases the
    rating uses are weighted alike:

    .. math::

        L = \frac1n \sum_{(u,i)} \tilde w_{ui} \Big[ (r_{ui} - \hat r_{ui})^2
            + \lambda (\lVert h \odot p_u\rVert^2 + \lVert q_i\rVert^2)
            + \lambda_b (b_u^2 + b_i^2) \Big], \qquad
        \tilde w = w / \bar w,

    over the :math:`n` ratings with :math:`w > 0`, :math:`\bar w` their mean weight. So
    a zero weight is the same as leaving the rating out (it is not even drawn into a
    mini-batch), a common scale of the weights changes nothing, uniform weights give the
    unweighted fit, and a user's penalty grows with her total weight (the weighted-λ of
    ``mf-als``). Adam (Kingma & Ba 2015, as He et al. and the thesis) minimises each
    mini-batch's mean of the bracket.

    The penalty is on :math:`h \odot p_u`, the user's factor as the prediction uses it:
    with the identity output GMF is MF with the split of each dimension's scale between
    :math:`h` and :math:`p_u` left free (He et al. §3.2), and this penalty does not
    depend on that split, so :math:`L` is weighted-λ MF's objective and well posed.
    Penalising :math:`h`, :math:`p_u` and :math:`q_i` each instead penalises a product
    of three factors, which switches whole dimensions off abruptly as λ grows (ML-100K
    ``u1``, ``lr=3e-3``: RMSE 0.957, 0.932, 0.954 at λ = 0.02, 0.03, 0.04, the last with
    :math:`h = 0`); not penalising :math:`h` lets it grow and the penalty vanish (RMSE
    1.07 at λ = 0.1).

    **Training.** ``fit`` draws :math:`p_u, q_i \sim \mathcal N(0, \sigma_0^2)` from
    ``seed`` (biases 0, :math:`h = 1`) and runs ``n_epochs`` passes over the ratings in
    mini-batches of ``batch_size`` in a seeded random order. The weights are computed at
    every ``fit`` and ``partial_fit`` on all the data seen so far (``weighting``); a warm
    ``partial_fit`` then runs ``partial_epochs`` more passes over all of it. A user or
    item without a positively weighted rating among those trained on keeps
    :math:`p, b = 0`: it is scored :math:`\mu + b_i` (or :math:`\mu + b_u`). A pair rated
    twice counts twice.

    **Defaults** (ML-100K ``u1.base`` → ``u1.test``; λ ∈ [0.05, 0.3], ``lr`` ∈ {3e-3,
    1e-2, 2e-2}, 20–40 epochs, ``lr_decay`` ∈ {1, 0.1}, k ∈ {8, 16, 32, 64}): RMSE 0.926
    in about 1.5 s on one CPU thread, flat within 0.925–0.931 for λ ∈ [0.1, 0.15] and
    any of those learning rates and epochs (``mf-als``: 0.915 on u1..u5). The thesis
    does not state Pan et al.'s settings.

    Parameters
    ----------
    n_factors : latent dimension :math:`k` (default 32).
    reg : :math:`\lambda` ≥ 0 on :math:`h \odot p_u` and :math:`q_i` (default 0.12). reg_bias :
        :math:`\lambda_b` ≥ 0 on the biases; ``None`` uses ``reg``.
    biases : learn :math:`b_u, b_i` (default); otherwise :math:`\hat r = \mu +
        h^\top(p_u \odot q_i)`.
    weighting : ``None`` (all 1), a :mod:`recdyn.debias` weighting (``"cafl"``,
        ``{"name": "clipped-ips", "cap": 5.0}`` or an object), ``"inverse-propensity"``
        or a callable ``data -> weights``, exactly as ``mf-als``
        (:mod:`recdyn.recommenders.weighting`).
    lr : Adam's learning rate (default 1e-2). lr_decay : final / initial learning rate of
        ``fit``'s cosine schedule (default 1: constant).
    batch_size : ratings per mini-batch (default 1024).
    init_std : :math:`\sigma_0` > 0 of the initial factors (default 0.1).
    clip : clamp ``predict`` to the range of the training ratings (``score`` is not).
    n_epochs : passes of ``fit`` (default 20; no early stopping, so ``patience`` is
        unused). device, seed, verbose, warm_start, partial_epochs : see
        :class:`~recdyn.recommenders.neural.base.TorchRecommender`.

    Attributes
    ----------
    user_factors_ : float32 ``[n_users, k]``, :math:`h \odot p_u` (0 for cold users).
    item_factors_ : float32 ``[n_items, k]``, :math:`q_i`. Both are read-only views
        (:class:`~recdyn.recommenders.factors.FactorEmbeddings`). user_bias_, item_bias_ :
        float32. global_mean_ : float. weights_ : float32 weight of each rating of
        ``data_`` at the last (partial) fit. loss_history_ : the weighted training MSE
        :math:`\sum \tilde w (r - \hat r)^2 / n` per epoch.
    """

    default_overrides: ClassVar[dict[str, Any]] = dict(n_epochs=20)

    def __init__(
        self,
        *,
        n_factors: Annotated[int, Interval(Integral, 1, None)] = 32,
        reg: Annotated[float, Interval(Real, 0, None)] = 0.12,
        reg_bias: Annotated[float | None, None, Interval(Real, 0, None)] = None,
        biases: Annotated[bool, Truthy()] = True,
        weighting: WeightingParam = None,
        lr: LearningRate = 1e-2,
        lr_decay: LearningRateDecay = 1.0,
        batch_size: BatchSize = 1024,
        init_std: Annotated[float, Interval(Real, 0, None, closed="neither")] = 0.1,
        clip: Annotated[bool, Truthy()] = True,
        **inherited: Any,  # n_epochs, patience, device, seed, …: TorchRecommender's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    # ------------------------------------------------------------------ training
    def _build(self, train: Interactions) -> None:
        torch = require_torch()
        k = self.n_factors

        def tensor(a: np.ndarray) -> Any:
            return torch.from_numpy(a.astype(np.float32)).to(self.device_).requires_grad_()

        self._params = {
            "P": tensor(self._rng.normal(0.0, self.init_std, (self.n_users_, k))),
            "Q": tensor(self._rng.normal(0.0, self.init_std, (self.n_items_, k))),
            "h": tensor(np.ones(k)),
        }
        if self.biases:
            self._params["bu"] = tensor(np.zeros(self.n_users_))
            self._params["bi"] = tensor(np.zeros(self.n_items_))
        self._optimizer = self._adam(list(self._params.values()))
        self._trained = (np.zeros(self.n_users_, bool), np.zeros(self.n_items_, bool))

    def _epochs(self, train: Interactions, n_epochs: int, validation: Interactions | None) -> None:
        torch = require_torch()
        w = rating_weights(self.weighting, train, self.n_users_, self.n_items_)
        self.weights_ = w.astype(np.float32)
        rows = np.flatnonzero(w > 0)  # only positively weighted ratings are trained on
        kept = train.rating[rows] if len(rows) else train.rating
        self.global_mean_ = float(np.average(kept, weights=w[rows] if len(rows) else None))
        self._range = (float(kept.min()), float(kept.max()))
        if n_epochs and len(rows):
            self._trained[0][train.user[rows]] = True
            self._trained[1][train.item[rows]] = True
        users, items = self._tensor(train.user[rows]), self._tensor(train.item[rows])
        ratings = self._tensor(train.rating[rows], np.float32)
        weights = self._tensor(w[rows] / w[rows].mean() if len(rows) else w[rows], np.float32)
        p, mu = self._params, self.global_mean_
        reg, reg_b = self.reg, self.reg if self.reg_bias is None else self.reg_bias
        positions = np.arange(len(rows))

        def epoch() -> float:
            sse = 0.0
            for batch in self._shuffled(positions, self.batch_size):
                idx = torch.from_numpy(batch).to(self.device_)
                u, i, wt = users[idx], items[idx], weights[idx]
                pu, qi = p["P"][u], p["Q"][i]
                hpu = pu * p["h"]
                pred = (hpu * qi).sum(1) + mu
                penalty = reg * (hpu.square().sum(1) + qi.square().sum(1))
                if self.biases:
                    bu, bi = p["bu"][u], p["bi"][i]
                    pred = pred + bu + bi
                    penalty = penalty + reg_b * (bu.square() + bi.square())
                err = (ratings[idx] - pred).square()
                self._step((wt * (err + penalty)).sum() / len(batch))
                sse += float((wt * err).sum().detach())
            return sse / max(len(rows), 1)

        self._run(n_epochs, epoch, None, p)

    def _refresh(self, data: Interactions) -> None:
        p = {name: t.detach().cpu().numpy() for name, t in self._params.items()}
        users, items = self._trained  # untrained rows keep their random start: zero them
        self.user_factors_ = np.where(users[:, None], p["P"] * p["h"], 0).astype(np.float32)
        self.item_factors_ = np.where(items[:, None], p["Q"], 0).astype(np.float32)
        self.user_bias_ = np.where(users, p.get("bu", 0), 0).astype(np.float32)
        self.item_bias_ = np.where(items, p.get("bi", 0), 0).astype(np.float32)

    # ------------------------------------------------------------------ scoring
    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T
        scores += self.item_bias_
        scores += (self.global_mean_ + self.user_bias_[users])[:, None]
        return scores

    def _predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        pred = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        pred += self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]
        if self.clip:
            np.clip(pred, *self._range, out=pred)
        return pred
