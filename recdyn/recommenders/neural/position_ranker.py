r"""A click ranker with an optional shallow position tower and an optional two-task MMoE
(click and rating), after Zhao et al., "Recommending What Video to Watch Next: A
Multitask Ranking System" (RecSys 2019) and Ma et al., "Modeling Task Relationships in
Multi-task Learning with Multi-gate Mixture-of-Experts" (KDD 2018)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np

from recdyn.constraints import Interval, Options, Truthy
from recdyn.interactions import Interactions
from recdyn.recommenders.neural.base import (
    BatchSize,
    LearningRate,
    LearningRateDecay,
    TorchRecommender,
)
from recdyn.recommenders.neural.runtime import require_torch

__all__ = ["TASKS", "PositionRanker"]

#: The ``tasks`` a :class:`PositionRanker` learns.
TASKS = ("click", "click+rating")


class PositionRanker(TorchRecommender):
    r"""Learns clicks from a slate log, optionally separating the position effect.

    **Data.** Each logged row ``(u, i, rating, position)`` is a shown item: the click
    label is :math:`c = 1[\text{rating} > t]` (``click_threshold`` :math:`t` = 0; the
    ``position-bias-v1`` world logs 0 for a shown item not clicked) and the ratings of
    clicked rows are the rating label. ``position`` is the 1-based slot
    (:attr:`~recdyn.interactions.Interactions.position`); a row without one (``0``, or
    data without the column: initial data, explicit ratings) counts as examined for sure,
    like the top slot. Positions beyond ``max_position`` share the last one's bias.
    On explicit 1–5 ratings every row is a click, so the click task learns little there;
    the rating task does.

    **Relevance** (``tasks="click"``): biased matrix factorisation in logit space,
    :math:`f(u,i) = b + b_u + b_i + p_u^\top q_i`.

    **Two tasks** (``tasks="click+rating"``, a multi-gate mixture of experts, Ma et al.
    2018 §4; Zhao et al. 2019 §4.2): the input :math:`x = [p_u, q_i, p_u \odot q_i]`,
    ``n_experts`` experts :math:`e_j(x) = \mathrm{ReLU}(W_j x + c_j)` of width
    ``expert_dim``, a gate per task :math:`g^k(x) = \mathrm{softmax}(G_k x + h_k)` and a
    linear tower per task on :math:`\sum_j g^k_j(x)\, e_j(x)`: the click logit
    :math:`f(u,i)` (plus :math:`b_u + b_i`) and the rating :math:`\hat r(u,i)`.

    **Position tower** (``position_tower=True``; Zhao et al. §4.3, the "shallow tower"):
    while training, the click logit is :math:`f(u,i) + \beta_{\mathrm{pos}}`, a learned
    scalar per position (a linear layer on the one-hot position), with
    :math:`\beta = 0` for a row without position; at serving the position term is dropped,
    so items are ranked by :math:`f` alone. Under the position-based click model
    :math:`P(c) = \theta_p\,\rho(u,i)` and small :math:`\rho`, :math:`\beta_p \approx
    \log\theta_p = -\eta \log p`. Without the tower the position effect is learned as
    (ir)relevance: items that were shown high look relevant. (Zhao et al. also drop the
    position feature out for 10 % of the rows; this model does not.)

    *Identification.* The biases are identified only where an item's position varies
    independently of its relevance. On uniformly shuffled slates of ``position-bias-v1``
    (k = 5, η = 1, 18,000 rows) :math:`\beta_p - \beta_1` comes out ≈ 0, −0.9, −1.4,
    −1.8, −1.9 against :math:`-\log p` = 0, −0.7, −1.1, −1.4, −1.6 (the logit-additive
    tower overshoots: clicks come mostly from relevant items, where
    :math:`\mathrm{logit}(\theta\rho) - \mathrm{logit}(\rho) < \log\theta`), and
    flat within ±0.12 at η = 0. Under a greedy policy the position is a function of the
    model's own score, and the tower also absorbs the model's errors (with η = 0 it
    learns biases that *increase* with position; ``benchmarks/bench_position_bias.py``).

    **Loss.** Mean binary cross-entropy of the clicks plus, with two tasks,
    ``rating_loss_weight`` times the mean squared error of the clicked rows' ratings, plus
    :math:`\lambda(\lVert p_u\rVert^2 + \lVert q_i\rVert^2)` per row (``reg``); Adam over
    mini-batches in a seeded order.

    **Serving score.** ``tasks="click"``: :math:`\sigma(f(u,i))`, the click probability
    of an examined item. ``tasks="click+rating"``: the weighted product (Zhao et al.
    combine task predictions by "weighted multiplication", weights tuned by hand)
    :math:`\sigma(f)\cdot\max(\hat r, 0)^{w}`, ``rating_weight`` :math:`w` = 1, which
    estimates the expected logged value of an examined item (``position-bias-v1``'s
    ``true_ratings``); :math:`w = 0` ranks by clicks alone. Users and items without
    training rows get zero factors and biases. ``predicts_ratings`` is false: scores are
    not on the rating scale.

    Parameters
    ----------
    tasks : ``"click"`` (default) or ``"click+rating"``.
    position_tower : learn the position biases (default ``True``).
    max_position : positions with their own bias (default 20).
    n_factors : embedding dimension (default 16). reg : λ ≥ 0 (default 1e-4).
    n_experts, expert_dim : the MMoE's experts (default 4 of width 16).
    rating_weight : w ≥ 0 of the serving product (default 1).
    rating_loss_weight : weight ≥ 0 of the rating task's loss (default 1).
    click_threshold : t, a rating above it is a click (default 0).
    lr : Adam's learning rate (default 1e-2). lr_decay : see ``gmf``. batch_size : rows
        per mini-batch (default 1024). init_std : σ of the initial embeddings (0.1).
    n_epochs : passes of ``fit`` (default 10). device, seed, verbose, warm_start,
        partial_epochs : see :class:`~recdyn.recommenders.neural.base.TorchRecommender`.

    Attributes
    ----------
    position_bias_ : float32 ``[max_position]``, :math:`\beta_1 \dots \beta_P`, or ``None``
        without the tower. user_factors_, item_factors_ : float32 embeddings (0 for cold
        rows). click_rate_ : the share of clicks among the training rows.
        loss_history_ : the training loss per epoch.
    """

    predicts_ratings: ClassVar[bool] = False
    score_chunk: int = 2**17
    default_overrides: ClassVar[dict[str, Any]] = dict(n_epochs=10)

    def __init__(
        self,
        *,
        tasks: Annotated[str, Options(TASKS)] = "click",
        position_tower: Annotated[bool, Truthy()] = True,
        max_position: Annotated[int, Interval(Integral, 1, 10_000)] = 20,
        n_factors: Annotated[int, Interval(Integral, 1, None)] = 16,
        reg: Annotated[float, Interval(Real, 0, None)] = 1e-4,
        n_experts: Annotated[int, Interval(Integral, 1, None)] = 4,
        expert_dim: Annotated[int, Interval(Integral, 1, None)] = 16,
        rating_weight: Annotated[float, Interval(Real, 0, None)] = 1.0,
        rating_loss_weight: Annotated[float, Interval(Real, 0, None)] = 1.0,
        click_threshold: Annotated[float, Interval(Real)] = 0.0,
        lr: LearningRate = 1e-2,
        lr_decay: LearningRateDecay = 1.0,
        batch_size: BatchSize = 1024,
        init_std: Annotated[float, Interval(Real, 0, None, closed="neither")] = 0.1,
        **inherited: Any,  # n_epochs, patience, device, seed, …: TorchRecommender's
    ) -> None:
        pass  # checked and stored by the base (recdyn.params.Parametrized)

    @property
    def _mmoe(self) -> bool:
        return self.tasks == "click+rating"

    # ------------------------------------------------------------------ training
    def _build(self, train: Interactions) -> None:
        torch = require_torch()
        k, rng = self.n_factors, self._rng

        def tensor(a: Any) -> Any:
            return torch.from_numpy(np.asarray(a, np.float32)).to(self.device_).requires_grad_()

        clicks = train.rating > self.click_threshold
        rate = float(np.clip(clicks.mean(), 1e-3, 1 - 1e-3))
        p = {
            "P": tensor(rng.normal(0.0, self.init_std, (self.n_users_, k))),
            "Q": tensor(rng.normal(0.0, self.init_std, (self.n_items_, k))),
            "bu": tensor(np.zeros(self.n_users_)),
            "bi": tensor(np.zeros(self.n_items_)),
            "b": tensor([np.log(rate / (1 - rate))]),
        }
        if self.position_tower:
            p["pos"] = tensor(np.zeros(self.max_position))
        if self._mmoe:
            e, h, d = self.n_experts, self.expert_dim, 3 * k
            scale = 1.0 / np.sqrt(d)
            rated = train.rating[clicks]
            p["W"] = tensor(rng.normal(0.0, scale, (d, e * h)))
            p["c"] = tensor(np.zeros(e * h))
            for task in ("click", "rating"):
                p[f"G_{task}"] = tensor(rng.normal(0.0, scale, (d, e)))
                p[f"g_{task}"] = tensor(np.zeros(e))
                p[f"w_{task}"] = tensor(rng.normal(0.0, 1.0 / np.sqrt(h), h))
            p["a_rating"] = tensor([float(rated.mean()) if len(rated) else 1.0])
        self._params = p
        self._optimizer = self._adam(list(p.values()))
        self._trained = (np.zeros(self.n_users_, bool), np.zeros(self.n_items_, bool))

    def _heads(self, p: dict[str, Any], pu: Any, qi: Any, bu: Any, bi: Any) -> tuple[Any, Any]:
        """Click logit without position, and the predicted rating (``None`` with one
        task), of the pairs whose embeddings are ``pu``, ``qi`` and biases ``bu``, ``bi``."""
        torch = require_torch()
        if not self._mmoe:
            return p["b"] + bu + bi + (pu * qi).sum(-1), None
        x = torch.cat([pu, qi, pu * qi], dim=-1)
        experts = torch.relu(x @ p["W"] + p["c"]).reshape(*x.shape[:-1], self.n_experts, -1)
        out = []
        for task in ("click", "rating"):
            gate = torch.softmax(x @ p[f"G_{task}"] + p[f"g_{task}"], dim=-1)
            mixed = (gate.unsqueeze(-1) * experts).sum(-2)
            out.append(mixed @ p[f"w_{task}"])
        return p["b"] + bu + bi + out[0], out[1] + p["a_rating"]

    def _epochs(self, train: Interactions, n_epochs: int, validation: Interactions | None) -> None:
        torch = require_torch()
        functional = torch.nn.functional
        clicked = train.rating > self.click_threshold
        self.click_rate_ = float(clicked.mean()) if len(train) else 0.0
        if n_epochs and len(train):
            self._trained[0][train.user] = True
            self._trained[1][train.item] = True
        users, items = self._tensor(train.user), self._tensor(train.item)
        labels = self._tensor(clicked, np.float32)
        ratings = self._tensor(train.rating, np.float32)
        pos = np.zeros(len(train), np.int64) if train.position is None else train.position
        slot = self._tensor(np.minimum(pos, self.max_position))  # 0: no position
        p, reg, rows = self._params, self.reg, np.arange(len(train))

        def epoch() -> float:
            total = 0.0
            for batch in self._shuffled(rows, self.batch_size):
                idx = torch.from_numpy(batch).to(self.device_)
                u, i = users[idx], items[idx]
                pu, qi = p["P"][u], p["Q"][i]
                logit, rating = self._heads(p, pu, qi, p["bu"][u], p["bi"][i])
                if self.position_tower:
                    s = slot[idx]
                    logit = logit + torch.where(s > 0, p["pos"][(s - 1).clamp(min=0)], 0.0)
                y = labels[idx]
                loss = functional.binary_cross_entropy_with_logits(logit, y)
                if rating is not None and self.rating_loss_weight:
                    err = (rating - ratings[idx]).square() * y
                    loss = loss + self.rating_loss_weight * err.sum() / y.sum().clamp(min=1.0)
                penalty = reg * (pu.square().sum(1) + qi.square().sum(1)).mean()
                self._step(loss + penalty)
                total += float(loss.detach()) * len(batch)
            return total / max(len(rows), 1)

        self._run(n_epochs, epoch, None, p)

    def _refresh(self, data: Interactions) -> None:
        torch = require_torch()
        users, items = self._trained
        with torch.no_grad():
            p = {name: t.detach() for name, t in self._params.items()}
            u = torch.from_numpy(users).to(self.device_)
            i = torch.from_numpy(items).to(self.device_)
            self._serve = {
                **p,
                "P": torch.where(u[:, None], p["P"], 0.0),
                "Q": torch.where(i[:, None], p["Q"], 0.0),
                "bu": torch.where(u, p["bu"], 0.0),
                "bi": torch.where(i, p["bi"], 0.0),
            }
        self.user_factors_ = self._serve["P"].cpu().numpy().astype(np.float32)
        self.item_factors_ = self._serve["Q"].cpu().numpy().astype(np.float32)
        self.position_bias_ = (
            p["pos"].cpu().numpy().astype(np.float32) if self.position_tower else None
        )

    # ------------------------------------------------------------------ scoring
    def _score_rows(self, users: np.ndarray) -> Any:
        torch = require_torch()
        s = self._serve
        u = torch.from_numpy(np.asarray(users, np.int64)).to(self.device_)
        bu, bi = s["bu"][u][:, None], s["bi"][None, :]
        if not self._mmoe:
            return torch.sigmoid(s["b"] + bu + bi + s["P"][u] @ s["Q"].T)
        shape = (len(users), self.n_items_, self.n_factors)
        pu, qi = s["P"][u][:, None, :].expand(shape), s["Q"][None, :, :].expand(shape)
        logit, rating = self._heads(s, pu, qi, bu, bi)
        return torch.sigmoid(logit) * rating.clamp(min=0.0) ** self.rating_weight
