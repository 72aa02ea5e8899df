"""The base of Mult-VAE and Mult-DAE (Liang et al. 2018): autoencoders of users' binarized
click rows under a multinomial likelihood."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Annotated, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.neural.base import (
    Dropout,
    LearningRate,
    PartialRows,
    TorchRecommender,
    WeightDecay,
)
from recdyn.recommenders.neural.data import DenseRows
from recdyn.recommenders.neural.runtime import require_torch


class MultinomialAutoencoder(TorchRecommender):
    """What Mult-VAE and Mult-DAE share: binarized inputs, the training loop with
    early stopping on validation nDCG@100 over held-out users, fold-in scoring, and the
    hyperparameters both have (documented in :class:`~recdyn.recommenders.neural.vae.
    MultVAE`)."""

    predicts_ratings = False
    _variational: bool = False

    default_overrides: ClassVar[dict[str, Any]] = dict(n_epochs=200, patience=20)

    def __init__(
        self,
        *,
        dropout: Dropout = 0.5,
        lr: LearningRate = 1e-3,
        weight_decay: WeightDecay = 0.0,
        batch_size: Annotated[int | None, None, Interval(Integral, 1, None)] = None,
        threshold: Annotated[float, Interval(Real)] = 3.5,
        # a number of users, or a fraction of the eligible users
        validation_users: Annotated[
            int | float, Interval(Integral, 0, None), Interval(Real, 0, 1, closed="left")
        ] = 0,
        partial_rows: PartialRows = "touched",
        **inherited: Any,  # n_epochs, patience, device, …: TorchRecommender's
    ) -> None:
        pass  # subclasses take these as **inherited; the base stores them

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: Interactions,
        n_users: int,
        n_items: int,
        *,
        validation: Interactions | None = None,
    ) -> MultinomialAutoencoder:
        """Learn from ``data``. ``validation`` (optional): held-out ratings of users whose
        other ratings are in ``data`` (the strong-generalization protocol); training stops
        early on their nDCG@100 and keeps the best epoch's weights. Without it, a
        ``validation_users`` > 0 draws such users from ``data``."""
        if validation is not None and not isinstance(validation, Interactions):
            raise InvalidParameterError(
                f"validation must be recdyn.Interactions or None, got {type(validation).__name__}"
            )
        self._explicit_validation = validation
        try:
            return super().fit(data, n_users, n_items)  # type: ignore[return-value]
        finally:
            self._explicit_validation = None

    def _fit(self, data: Interactions) -> None:
        if len(data) and not (data.rating >= self.threshold).any():
            high = float(data.rating.max())
            raise InvalidParameterError(
                f"{type(self).__name__}(threshold={self.threshold:g}) counts a rating ≥ "
                f"{self.threshold:g} as a click, but no rating of the {len(data):,} it is "
                f"fitted on reaches it (the highest is {high:g}): every user's row would be "
                f"empty and the scores random. For implicit data (every rating {high:g}) or "
                f"a lower scale, pass threshold={high:g} or lower."
            )
        super()._fit(data)

    def _validation_split(self, data: Interactions) -> tuple[Interactions, Interactions | None]:
        """``(train, held-out positives)``: the explicit validation, or a fraction
        ``test_fraction = 0.2`` of the positives of ``validation_users`` users that have at
        least 5 positives (Liang et al.'s held-out users)."""
        explicit = getattr(self, "_explicit_validation", None)
        if explicit is not None:
            explicit.check_shape(self.n_users_, self.n_items_)
            val = explicit.select(explicit.rating >= self.threshold)
            return data, (val if len(val) else None)
        positive = data.rating >= self.threshold
        counts = np.bincount(data.user[positive], minlength=self.n_users_)
        eligible = np.flatnonzero(counts >= 5)
        n_val = self.validation_users
        if isinstance(n_val, float):
            n_val = round(n_val * len(eligible))
        n_val = min(int(n_val), len(eligible))
        if n_val == 0:
            return data, None
        users = self._rng.choice(eligible, size=n_val, replace=False)
        candidate = positive & np.isin(data.user, users)
        # a random floor(0.2 n_u) of each chosen user's positives
        idx = np.flatnonzero(candidate)
        idx = idx[np.lexsort((self._rng.random(len(idx)), data.user[idx]))]
        u = data.user[idx]
        start = np.searchsorted(u, u, side="left")
        held = (np.arange(len(idx)) - start) < np.floor(0.2 * counts[u])
        mask = np.zeros(len(data), bool)
        mask[idx[held]] = True
        return data.select(~mask), data.select(mask)

    # ------------------------------------------------------------------ data
    def _binary(self, data: Interactions) -> sp.csr_array:
        """``x_ui = 1`` when the last rating of ``(u, i)`` is ≥ ``threshold``, else 0."""
        mat = data.to_csr(self.n_users_, self.n_items_)
        mat = sp.csr_array((mat.data >= self.threshold, mat.indices, mat.indptr), mat.shape)
        mat = mat.astype(np.float32)
        mat.eliminate_zeros()
        return mat

    def _rows_source(self, matrix: sp.csr_array) -> Any:
        """A function ``rows -> dense float32 tensor`` of rows of ``matrix``."""
        source = DenseRows(matrix, self.device_, with_mask=False)
        return lambda rows: source(rows)[0]

    # ------------------------------------------------------------------ network
    def _init_layers(self, dims: list[tuple[int, int]]) -> None:
        """Glorot-uniform weights and N(0, 0.001²) biases, as Liang et al.'s code."""
        torch = require_torch()

        def tensor(a: np.ndarray) -> Any:
            return torch.from_numpy(a.astype(np.float32)).to(self.device_).requires_grad_()

        self._params: dict[str, Any] = {}
        for k, (fan_in, fan_out) in enumerate(dims):
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            self._params[f"W{k}"] = tensor(self._rng.uniform(-bound, bound, (fan_in, fan_out)))
            self._params[f"b{k}"] = tensor(self._rng.normal(0.0, 0.001, fan_out))
        self._optimizer = self._adam(list(self._params.values()))
        self._updates = 0  # optimiser steps since fit (the KL annealing clock)
        self.best_epoch_ = -1

    def _input(self, x: Any, train: bool) -> Any:
        torch = require_torch()
        h = torch.nn.functional.normalize(x, dim=1)
        if train and self.dropout > 0:
            keep = torch.rand(h.shape, generator=self._gen, device=h.device) >= self.dropout
            h = h * keep / (1.0 - self.dropout)
        return h

    def _layers(self, h: Any, first: int, last: int) -> Any:
        """Layers ``first..last`` (weights ``W{k}``, biases ``b{k}``) applied to ``h``,
        with ``tanh`` between them and none after the last (Liang et al.'s MLPs)."""
        torch = require_torch()
        for k in range(first, last + 1):
            h = h @ self._params[f"W{k}"] + self._params[f"b{k}"]
            if k < last:
                h = torch.tanh(h)
        return h

    def _penalty(self) -> Any:
        return sum(p.square().sum() for k, p in self._params.items() if k.startswith("W"))

    def _forward(self, x: Any, train: bool) -> tuple[Any, Any]:
        """``(logits, kl)`` of a batch of binary rows; ``kl`` is 0 for the DAE."""
        raise NotImplementedError

    # ------------------------------------------------------------------ training
    def _epochs(self, train: Interactions, n_epochs: int, validation: Interactions | None) -> None:
        torch = require_torch()
        matrix = self._binary(train)
        source = self._rows_source(matrix)
        rows = np.flatnonzero(np.diff(matrix.indptr))  # users with at least one positive
        if self._touched is not None and self.partial_rows == "touched":
            rows = np.intersect1d(rows, self._touched[0], assume_unique=True)  # their users

        def epoch() -> float:
            total = 0.0
            for batch in self._shuffled(rows, self._batch_size(len(rows))):
                x = source(batch)
                logits, kl = self._forward(x, train=True)
                nll = -(torch.log_softmax(logits, dim=1) * x).sum(1).mean()
                self._step(nll + self._beta() * kl + self.weight_decay * self._penalty())
                self._updates += 1
                total += float(nll.detach()) * len(batch)
            return total / max(len(rows), 1)

        validate = None
        if validation is not None and len(validation):
            validate = self._validator(train, source, validation)
        self._run(n_epochs, epoch, validate, self._params)

    def _beta(self) -> float:
        return 0.0

    def _batch_size(self, n_rows: int) -> int:
        """``batch_size``, or by default ``⌈n_rows / 10⌉`` clipped to ``[100, 500]``: the
        paper's 500 users per update on large data (ML-20M: ~230 updates per epoch), 100
        on small data (ML-100K, ml-latest-small: 6–10 updates per epoch instead of 1–2)."""
        if self.batch_size is not None:
            return self.batch_size
        return min(500, max(100, math.ceil(n_rows / 10)))

    def _validator(self, train: Interactions, source: Any, validation: Interactions) -> Any:
        """``-nDCG@100`` of the validation users' held-out positives, ranked among the
        items they have not rated in ``train`` (lower is better, for
        :class:`EarlyStopping`)."""
        torch = require_torch()
        from recdyn.metrics.offline import ndcg_topn

        users = np.unique(validation.user)
        rows = np.searchsorted(users, validation.user)
        relevant = sp.csr_array(
            (np.ones(len(validation), bool), (rows, validation.item)),
            shape=(len(users), self.n_items_),
        )
        seen = train.to_csr(self.n_users_, self.n_items_, values=np.ones(len(train), bool))
        seen = seen[users]

        def validate() -> float:
            with torch.no_grad():
                logits, _ = self._forward(source(users), train=False)
            return -ndcg_topn(logits.float().cpu().numpy(), relevant, k=100, exclude=seen)

        return validate

    def _build(self, train: Interactions) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ scoring
    def _refresh(self, data: Interactions) -> None:
        self._score_source = self._rows_source(self._binary(data))

    def _score_rows(self, users: np.ndarray) -> Any:
        torch = require_torch()
        with torch.no_grad():
            logits, _ = self._forward(self._score_source(users), train=False)
        return logits
