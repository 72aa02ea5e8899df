"""CF-NADE: a neural autoregressive model of rating vectors (Zheng et al. 2016)."""

from __future__ import annotations

import itertools
from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval, Options, Pair
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.neural.base import (
    BatchSize,
    LearningRate,
    LearningRateDecay,
    PartialRows,
    TorchRecommender,
    ValidationFraction,
    WeightDecay,
)
from recdyn.recommenders.neural.data import csr_tensor
from recdyn.recommenders.neural.runtime import require_torch


class CFNADE(TorchRecommender):
    r"""CF-NADE (Zheng, Tang, Ding & Zhou 2016, "A Neural Autoregressive Approach to
    Collaborative Filtering", ICML), one hidden layer, with the parameter sharing across
    rating levels and the ordinal cost of the paper's §3.2–3.3.

    With ``orientation="user"`` (U-CF-NADE) each user's ratings :math:`r_o` of the items
    she rated, taken in an ordering :math:`o`, are modelled autoregressively,
    :math:`p(r_o) = \prod_i p(r_{o_i} \mid r_{o_{<i}})`, with

    .. math::

        h(r_{o_{<i}}) = \tanh\Big(c + \sum_{j<i} \sum_{k \le r_{o_j}} W^{k}_{:, o_j}\Big),
        \qquad
        s^{k}_{m} = \sum_{j \le k} \big(b^{j}_{m} + V^{j}_{m,:}\, h\big), \qquad
        p(r_m = k \mid r_{o_{<i}}) = \operatorname{softmax}_k(s_m)_k,

    i.e. the rating-:math:`k` input weight is the cumulative :math:`W^{\le k}` (so a 4 is
    "like a 3, and more") and likewise the output scores. ``orientation="item"``
    (I-CF-NADE, the paper's better variant on MovieLens and RecLab's choice) models each
    item's ratings by users instead.

    **Training** (paper §3.4, orderless NADE training): for each row in a mini-batch a
    random ordering and a split point are drawn; the ratings before it are the context
    (input), every rating after it is predicted from that one context, and the row's cost
    is scaled by :math:`D / (D - d)` (:math:`D` ratings, :math:`d` in the context). We
    draw the context as an independent Bernoulli(:math:`q`) choice per rating with
    :math:`q \sim U(0, 1)` per row, which makes :math:`d` uniform on :math:`\{0..D\}`,
    as a random ordering with a uniform split point does (rows with :math:`d = D` have
    nothing to predict). The cost per predicted rating :math:`r` is the hybrid
    :math:`(1-\lambda) C_{reg} + \lambda C_{ord}` with :math:`C_{reg} = -\log p(r)` and
    the ordinal cost

    .. math::

        C_{ord} = -\sum_{k=1}^{r} \log\frac{e^{s^k}}{\sum_{j \le k} e^{s^j}}
                  -\sum_{k=r}^{K} \log\frac{e^{s^k}}{\sum_{j \ge k} e^{s^j}} .

    The loss of a mini-batch is the mean row cost plus ``weight_decay`` ·
    :math:`(\lVert W\rVert^2 + \lVert V\rVert^2)` (weights only, as in the authors'
    Theano code; RecLab's Keras port also decayed the biases), minimised by Adam with the
    learning rate annealed from ``lr`` to ``lr · lr_decay`` over the epochs of ``fit``
    (cosine; the authors divided it by 4 on validation plateaus); warm ``partial_fit``
    epochs run at the final rate. The output biases start at the log-frequencies of each
    column's rating levels (as in the authors' code), the weights at U(±0.05).

    **Prediction.** The rating of user :math:`u` for item :math:`i` is the expectation of
    the single-item conditional given **all** the row's observed ratings as context,
    :math:`\hat r = \sum_k k\, p(r = k \mid r_{O})` (paper §3.5), mapped back to the
    rating scale. A column (item for U-CF-NADE, user for I-CF-NADE) with no rating in the
    data is predicted at the mean training rating (so is one first rated in a
    ``partial_fit`` with ``partial_epochs=0``, whose weights are untrained; its ratings
    stay out of the contexts until an epoch has seen them); a row with none gets the
    model's empty-context prediction. Hidden states of all rows are computed once after each
    (partial) fit from every rating seen, so ``score(users)`` is :math:`K` matrix products.

    **Warm start** (``partial_fit``, ``warm_start=True``): ``partial_epochs`` epochs at
    the final learning rate over the rows touched by the new ratings (``partial_rows``),
    each with all its accumulated ratings — an update on the accumulated data of what
    changed, costing in proportion to it rather than to the whole log — then the hidden
    states of all rows are recomputed. Measured (``benchmarks/bench_neural.py``, shared
    2-core machine, load average 3.5–4): in ``simulate`` on ``topics-dynamic-v1`` (200
    users per step, ~100k ratings) a step takes 0.08 s median on 2 torch threads
    (``--inloop --threads 2``; 1.1–1.4 s before, with every row trained, an unfused Adam
    step and COO products). On a fixed stream of 200-rating batches (``--stream 3
    --threads 1``) ``partial_fit`` takes 0.09 s (``partial_rows="all"``: 0.43 s; a refit
    from scratch, ``warm_start=False``: 36 s) and the next batch's RMSE is 1.128 (all rows
    1.125, refit 1.131): no measurable warm-start accuracy cost.

    **Rating levels.** Ratings are mapped to :math:`K` = ``n_levels`` ordered levels by
    :math:`k = 1 + \operatorname{round}\big((r - lo)(K-1)/(hi - lo)\big)`, clipped to
    ``1..K``, with ``(lo, hi)`` = ``rating_range`` (default: the range of the ratings
    given to ``fit``, then kept fixed). Integer ratings 1–5 with ``K=5`` are their own
    levels; non-integer ratings (e.g. recdyn's simulated ones) are rounded to the nearest
    level, and predictions :math:`lo + (\hat k - 1)(hi - lo)/(K-1)` are on the original
    scale.

    **Defaults** (tuned on ML-100K fold u1, checked on u1..u5; see
    ``benchmarks/bench_neural.py``): ``hidden=500, orientation="item", ordinal_weight=1``
    as in the paper / RecLab; ``lr=2e-3, lr_decay=0.1, weight_decay=0.005,
    batch_size=256, n_epochs=40`` — RecLab's ``lr=1e-3, weight_decay=0.02, batch 64, 30
    epochs`` (tuned for ML-1M, which has ~5× more ratings per item) reach RMSE
    0.924–0.927 on u1 against 0.906 for these; U-CF-NADE with RecLab's settings 0.96.

    Parameters
    ----------
    hidden : hidden units (default 500). orientation : ``"item"`` (default) or ``"user"``.
    lr : initial Adam learning rate. lr_decay : final / initial learning rate in (0, 1]
        (1 = constant). weight_decay : L2 weight on :math:`W, V`.
    ordinal_weight : :math:`\lambda \in [0, 1]` of the hybrid cost (default 1: ordinal).
    n_epochs, batch_size : epochs of ``fit`` and rows per mini-batch.
    n_levels : :math:`K` ≥ 2 (default 5). rating_range : ``(lo, hi)`` or ``None``.
    validation_fraction, patience : early stopping in ``fit`` on the MSE of a random
        fraction of the ratings held out (default 0: off; the paper early-stopped on a
        validation set).
    partial_rows : rows trained by a warm ``partial_fit``: ``"touched"`` (default) the
        rows (items for I-CF-NADE, users for U-CF-NADE) that received a new rating, with
        all their accumulated ratings as context and targets; ``"all"`` every row.
    device, seed, verbose, warm_start, partial_epochs : see
        :class:`~recdyn.recommenders.neural.base.TorchRecommender` (``partial_epochs``
        default 1).

    Attributes
    ----------
    hidden_ : float32 tensor ``[n_rows, hidden]``, the rows' hidden states given all
    their ratings. loss_history_, val_loss_history_ : per-epoch costs.
    """

    default_overrides: ClassVar[dict[str, Any]] = dict(n_epochs=40, patience=5)

    def __init__(
        self,
        *,
        hidden: Annotated[int, Interval(Integral, 1, None)] = 500,
        orientation: Annotated[str, Options(("item", "user"))] = "item",
        lr: LearningRate = 2e-3,
        lr_decay: LearningRateDecay = 0.1,
        weight_decay: WeightDecay = 0.005,
        ordinal_weight: Annotated[float, Interval(Real, 0, 1)] = 1.0,
        batch_size: BatchSize = 256,
        n_levels: Annotated[int, Interval(Integral, 2, None)] = 5,
        # finite, and lo < hi: _check_params
        rating_range: Annotated[tuple[float, float] | None, None, Pair()] = None,
        validation_fraction: ValidationFraction = 0.0,
        partial_rows: PartialRows = "touched",
        **inherited: Any,  # n_epochs, patience, device, …: TorchRecommender's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    def _check_params(self) -> None:
        if self.rating_range is not None and self.rating_range[0] >= self.rating_range[1]:
            raise InvalidParameterError(
                f"rating_range must be None or a pair (lo, hi) with lo < hi; "
                f"got {self.rating_range!r}"
            )
        super()._check_params()

    # ------------------------------------------------------------------ data
    def _levels(self, data: Interactions) -> Any:
        """Rows × columns CSR of rating levels ``1..K`` (rows = users or items)."""
        lo, hi = self._range
        k = self.n_levels
        levels = np.clip(np.rint((data.rating - lo) * ((k - 1) / (hi - lo))) + 1, 1, k)
        mat = data.to_csr(self.n_users_, self.n_items_, values=levels.astype(np.float32))
        return mat.T.tocsr() if self.orientation == "item" else mat

    def _rows_cols(self, data: Interactions) -> tuple[np.ndarray, np.ndarray]:
        if self.orientation == "item":
            return data.item, data.user
        return data.user, data.item

    # ------------------------------------------------------------------ model
    def _build(self, train: Interactions) -> None:
        torch = require_torch()
        if self.rating_range is not None:
            self._range = self.rating_range
        else:
            lo, hi = float(train.rating.min()), float(train.rating.max())
            self._range = (lo, hi if hi > lo else lo + 1.0)
        k, h = self.n_levels, self.hidden
        n_cols = self.n_users_ if self.orientation == "item" else self.n_items_
        # output biases: log-frequencies of each column's levels (+1 smoothing), differenced
        # so that their cumulative sum is the log-frequency itself
        levels = self._levels(train).tocsc()
        freq = np.ones((k, n_cols))
        for lvl in range(1, k + 1):
            freq[lvl - 1] += np.diff((levels == lvl).tocsc().indptr)
        logf = np.log(freq / freq.sum(0))
        b = np.diff(logf, axis=0, prepend=0.0).astype(np.float32)

        def param(a: np.ndarray) -> Any:
            return torch.from_numpy(a.astype(np.float32)).to(self.device_).requires_grad_()

        def uniform(*shape: int) -> Any:  # Keras's "uniform" initialiser, U(±0.05)
            return param(self._rng.uniform(-0.05, 0.05, size=shape))

        self._params = {
            "W": uniform(k, n_cols, h),
            "c": uniform(h),
            "V": uniform(k, n_cols, h),
            "b": param(b),
        }
        # the L2 penalty weight_decay·(‖W‖² + ‖V‖²) through Adam's (coupled) weight decay,
        # whose gradient term 2·weight_decay·θ it is
        p = self._params
        self._optimizer = self._adam(
            [
                {"params": [p["W"], p["V"]], "weight_decay": 2 * self.weight_decay},
                {"params": [p["b"], p["c"]], "weight_decay": 0.0},
            ]
        )
        self._trained = np.zeros(n_cols, bool)  # columns whose weights have been trained

    def _entries(self, matrix: Any, rows: np.ndarray) -> tuple[Any, Any, Any]:
        """The stored entries of ``rows`` as tensors ``(row position, column, level)``."""
        sub = matrix[rows]
        pos = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        return tuple(self._tensor(a) for a in (pos, sub.indices, sub.data))

    def _cumulative_w(self) -> Any:
        r""":math:`W^{\le k}` for every level, flattened to ``[K · n_cols, hidden]``."""
        torch = require_torch()
        k, n_cols, h = self._params["W"].shape
        return torch.cumsum(self._params["W"], dim=0).reshape(k * n_cols, h)

    def _hidden(self, n_rows: int, pos: Any, col: Any, level: Any, w_cum: Any = None) -> Any:
        """``tanh(c + Σ_{context} W^{≤ level}_{:, col})`` for ``n_rows`` rows, from the
        context entries ``(pos, col, level)`` (``w_cum``: :meth:`_cumulative_w`, if
        already computed)."""
        torch = require_torch()
        p = self._params
        n_cols = p["W"].shape[1]
        w_cum = self._cumulative_w() if w_cum is None else w_cum
        # one-hot (row, level, column) design matrix: a sparse product, not a gather, so
        # that the backward pass is a sparse-dense product too; CSR (``pos`` is sorted:
        # the entries come row by row), about twice as fast as COO on CPU
        crow = torch.zeros(n_rows + 1, dtype=torch.int64, device=self.device_)
        crow[1:] = torch.cumsum(torch.bincount(pos, minlength=n_rows), 0)
        ones = torch.ones(len(pos), device=self.device_)
        x = csr_tensor(crow, (level - 1) * n_cols + col, ones, (n_rows, w_cum.shape[0]))
        return torch.tanh(x @ w_cum + p["c"])

    def _pair_logits(self, h: Any, col: Any) -> Any:
        """Cumulative scores ``s`` ``[n, K]`` of pairs (hidden state ``h[n]``, ``col[n]``)."""
        torch = require_torch()
        v, b = self._params["V"][:, col], self._params["b"][:, col]  # [K, n, H], [K, n]
        return torch.cumsum(torch.einsum("nh,knh->nk", h, v) + b.T, dim=1)

    def _dense_logits(self, h: Any, cols: Any = None, cumulative: bool = True) -> Any:
        """Scores ``[B, K, C]`` (levels on dimension 1, contiguous per level, which makes
        the reductions over levels several times faster on CPU than a trailing ``K``) of
        every row of ``h`` for all columns (or ``cols``), cumulated over the levels unless
        ``cumulative`` is false."""
        torch = require_torch()
        v, b = self._params["V"], self._params["b"]
        if cols is not None:
            v, b = v[:, cols], b[:, cols]
        k, c, hid = v.shape
        s = (h @ v.reshape(k * c, hid).T).reshape(-1, k, c) + b
        return torch.cumsum(s, dim=1) if cumulative else s

    def _cost(self, s: Any, target: Any) -> Any:
        """Hybrid cost per entry from scores ``s`` ``[n, K]`` and levels ``target`` ``[n]``."""
        torch = require_torch()
        ks = torch.arange(1, self.n_levels + 1, device=s.device)
        t = target[:, None]
        cost = 0.0
        lam = self.ordinal_weight
        if lam < 1:
            nll = -torch.log_softmax(s, dim=1).gather(1, t - 1)[:, 0]
            cost = (1 - lam) * nll
        if lam > 0:
            up = s - torch.logcumsumexp(s, dim=1)  # log e^{s_k} / Σ_{j≤k} e^{s_j}
            down = s - torch.logcumsumexp(s.flip(1), dim=1).flip(1)  # ... Σ_{j≥k}
            ordinal = (up * (ks <= t)).sum(1) + (down * (ks >= t)).sum(1)
            cost = cost - lam * ordinal
        return cost

    def _expected(self, s: Any, dim: int = -1) -> Any:
        """Expected rating on the original scale from cumulative scores, levels on ``dim``."""
        torch = require_torch()
        shape = [1] * s.dim()
        shape[dim] = self.n_levels
        ks = torch.arange(1, self.n_levels + 1, device=s.device, dtype=s.dtype).reshape(shape)
        level = (torch.softmax(s, dim=dim) * ks).sum(dim)
        lo, hi = self._range
        return lo + (level - 1) * ((hi - lo) / (self.n_levels - 1))

    # ------------------------------------------------------------------ training
    def _epochs(self, train: Interactions, n_epochs: int, validation: Interactions | None) -> None:
        torch = require_torch()
        matrix = self._levels(train)
        rows = np.flatnonzero(np.diff(matrix.indptr))
        if self._touched is not None and self.partial_rows == "touched":
            # warm partial_fit: the rows that received a new rating, with all their ratings
            touched = self._touched[1 if self.orientation == "item" else 0]
            rows = np.intersect1d(rows, touched, assume_unique=True)
        if n_epochs:
            self._trained[matrix[rows].indices] = True

        def epoch() -> float:
            total, n = 0.0, 0
            for batch in self._shuffled(rows, self.batch_size):
                pos, col, level = self._entries(matrix, batch)
                q = torch.rand(len(batch), generator=self._gen, device=self.device_)
                u = torch.rand(len(pos), generator=self._gen, device=self.device_)
                ctx = u < q[pos]
                out = ~ctx
                h = self._hidden(len(batch), pos[ctx], col[ctx], level[ctx])
                # scores of every column for the batch (one dense product, cheaper on CPU
                # than gathering V for each predicted rating), then the predicted ones
                s_all = self._dense_logits(h, cumulative=False)  # [B, K, C]
                s_out = torch.cumsum(s_all[pos[out], :, col[out]], dim=1)
                cost = self._cost(s_out, level[out])
                n_all = torch.bincount(pos, minlength=len(batch))
                n_out = torch.bincount(pos[out], minlength=len(batch))
                row_cost = torch.zeros(len(batch), device=self.device_).index_add(0, pos[out], cost)
                self._step((row_cost * n_all / n_out.clamp(min=1)).mean())
                total += float(cost.detach().sum())
                n += len(cost)
            return total / max(n, 1)

        validate = None
        if validation is not None:
            vr, vc = (self._tensor(a) for a in self._rows_cols(validation))
            truth = self._tensor(validation.rating, np.float32)

            def validate() -> float:
                with torch.no_grad():
                    hidden = self._all_hidden(matrix)
                    pred = self._expected(self._pair_logits(hidden[vr], vc))
                return float((pred - truth).square().mean())

        self._run(n_epochs, epoch, validate, self._params)

    def _all_hidden(self, matrix: Any) -> Any:
        """Hidden states of all rows with every stored rating as context (in chunks of
        rows holding at most ~2^23 / hidden ratings, to bound the design matrices)."""
        torch = require_torch()
        n_rows = matrix.shape[0]
        budget = max(1, 2**23 // self.hidden)
        bounds = [0]
        while bounds[-1] < n_rows:
            target = matrix.indptr[bounds[-1]] + budget
            nxt = int(np.searchsorted(matrix.indptr, target, side="right")) - 1
            bounds.append(min(n_rows, max(nxt, bounds[-1] + 1)))
        with torch.no_grad():
            w_cum = self._cumulative_w()
            parts = [
                self._hidden(b - a, *self._entries(matrix, np.arange(a, b)), w_cum=w_cum)
                for a, b in itertools.pairwise(bounds)
            ]
        return torch.cat(parts)

    def _refresh(self, data: Interactions) -> None:
        self.global_mean_ = float(np.mean(data.rating, dtype=np.float64))
        # a column first seen after the last training epoch (partial_epochs=0) has
        # untrained weights: leave its ratings out of the context, predict it at the mean
        known = data.select(self._trained[self._rows_cols(data)[1]])
        self.hidden_ = self._all_hidden(self._levels(known))
        self._col_seen = self._trained.copy()

    # ------------------------------------------------------------------ scoring
    def _score_rows(self, users: np.ndarray) -> np.ndarray:
        torch = require_torch()
        idx = torch.as_tensor(users, device=self.device_)
        if self.orientation == "user":
            scores = self._expected(self._dense_logits(self.hidden_[idx]), 1).cpu().numpy()
            scores[:, ~self._col_seen] = self.global_mean_
        else:
            scores = self._expected(self._dense_logits(self.hidden_, idx), 1).T.cpu().numpy()
            scores[~self._col_seen[users]] = self.global_mean_
        return scores
