"""The base class of recdyn's PyTorch recommenders (the ``torch`` extra):
:class:`TorchRecommender` — the hyperparameters they all have (``n_epochs``,
``patience``, ``device``, ``seed``, ``verbose``, ``warm_start``, ``partial_epochs``), the
domains of those several have (``lr``, ``dropout``, … as ``Annotated`` types), the fit /
partial-fit skeleton and batched float32 scoring. Torch itself is imported only when a
model is built or fitted (see :mod:`~recdyn.recommenders.neural.runtime`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from numbers import Integral, Real
from typing import Annotated, Any

import numpy as np
import scipy.sparse as sp

from recdyn.constraints import Interval, Options, Seed, Truthy
from recdyn.errors import InvalidParameterError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender
from recdyn.recommenders.neural.data import batches, holdout
from recdyn.recommenders.neural.runtime import (
    Device,
    require_torch,
    resolve_device,
    seeded,
    torch_generator,
)
from recdyn.recommenders.neural.training import EarlyStopping, cosine_lr, run_epochs

__all__ = [
    "BatchSize",
    "Dropout",
    "LearningRate",
    "LearningRateDecay",
    "PartialRows",
    "TorchRecommender",
    "ValidationFraction",
    "WeightDecay",
]

# Domains of the hyperparameters that several models have, with the same meaning (a model
# declares ``lr: LearningRate = 1e-3``); those every model has are TorchRecommender's.
#: Adam's initial learning rate, > 0
LearningRate = Annotated[float, Interval(Real, 0, None, closed="neither")]
#: final / initial learning rate of ``fit``'s cosine schedule, in (0, 1] (1: constant)
LearningRateDecay = Annotated[float, Interval(Real, 0, 1, closed="right")]
#: L2 penalty on the weight matrices, ≥ 0
WeightDecay = Annotated[float, Interval(Real, 0, None)]
#: rows (users or items) per mini-batch, ≥ 1
BatchSize = Annotated[int, Interval(Integral, 1, None)]
#: a dropout rate in [0, 1)
Dropout = Annotated[float, Interval(Real, 0, 1, closed="left")]
#: share of the ratings held out of ``fit`` for early stopping, in [0, 1) (0: none)
ValidationFraction = Annotated[float, Interval(Real, 0, 1, closed="left")]
#: what a warm ``partial_fit`` trains: the rows ``"touched"`` by new ratings, or ``"all"``
PartialRows = Annotated[str, Options(("touched", "all"))]


class TorchRecommender(Recommender):
    """Base of the PyTorch recommenders: shared hyperparameters and the fit skeleton.

    Subclasses declare their own hyperparameters, take these as ``**inherited`` (with
    ``default_overrides`` for their defaults of ``n_epochs``, ``patience`` …) and implement

    * ``_build(train)`` — fresh parameters (drawn from ``self._rng`` / ``self._gen``)
      and optimiser; ``train`` is the data ``fit`` trains on (validation split removed);
    * ``_epochs(train, n_epochs, validation)`` — train for up to ``n_epochs`` epochs on
      ``train`` (usually through :func:`run_epochs`), early-stopping on ``validation``
      when it is not ``None``; append the per-epoch losses to ``self.loss_history_``;
    * ``_refresh(data)`` — after training, recompute what scoring needs from all ratings
      seen (e.g. hidden representations whose input is the rating vector);
    * ``_score_rows(users)`` — float32 scores ``[len(users), n_items]`` (a tensor or an
      array), called on chunks of at most ``score_chunk`` entries.

    ``fit`` re-initialises everything from ``seed`` and trains ``n_epochs`` epochs on
    ``data`` minus the validation split (if the subclass has a ``validation_fraction`` >
    0); ``partial_fit`` either continues from the current weights for ``partial_epochs``
    epochs on all data seen so far (``warm_start=True``) or refits from scratch on it
    (``warm_start=False``, what the RecLab thesis did at every step). Both refresh the
    scoring caches with every rating seen, so even ``partial_epochs=0`` folds new ratings
    in through the models' inputs. With ``verbose=True`` only ``fit`` shows a progress
    bar; ``partial_fit`` (called at every step of ``recdyn.simulate``) stays silent.

    Parameters shared by the models
    -------------------------------
    n_epochs : epochs of ``fit`` (≥ 0; each model sets its default).
    patience : epochs without improvement on the validation data before ``fit`` stops
        early (≥ 1; each model sets its default).
    device : ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    seed : int or None; initial weights, batch order and dropout derive from it.
    verbose : show a progress bar while ``fit`` trains.
    warm_start : ``partial_fit`` continues from the current weights (default ``True``);
        ``False`` refits from scratch with ``n_epochs``.
    partial_epochs : epochs per warm ``partial_fit`` (≥ 0, default 1).
    """

    #: largest number of score entries computed at once by ``score``
    score_chunk: int = 2**22

    def __init__(
        self,
        *,
        n_epochs: Annotated[int, Interval(Integral, 0, None)] = 10,
        patience: Annotated[int, Interval(Integral, 1, None)] = 5,
        device: Annotated[str, Device()] = "cpu",
        seed: Annotated[int | None, None, Seed()] = None,
        verbose: Annotated[bool, Truthy()] = False,
        warm_start: Annotated[bool, Truthy()] = True,
        partial_epochs: Annotated[int, Interval(Integral, 0, None)] = 1,
    ) -> None:
        pass  # subclasses take these as **inherited; the base stores them

    def _check_params(self) -> None:
        require_torch(type(self).__name__)  # fail at construction, not deep inside a run

    # ------------------------------------------------------------------ skeleton
    def _fit(self, data: Interactions) -> None:
        require_torch(f"{type(self).__name__}")
        if len(data) == 0:
            raise InvalidParameterError(
                f"{type(self).__name__}.fit needs at least one rating; data is empty"
            )
        self.device_ = resolve_device(self.device)
        self._rng = np.random.default_rng(self.seed)
        self._gen = torch_generator(self._rng, self.device_)
        self._cpu_gen = torch_generator(self._rng, "cpu")
        self.loss_history_: list[float] = []
        self.val_loss_history_: list[float] = []
        self._touched = None
        train, val = self._validation_split(data)
        with seeded(int(self._rng.integers(2**62)), self.device_):
            self._build(train)
            self._fitting = True  # the learning-rate schedule of a full fit
            try:
                self._epochs(train, self.n_epochs, val)
            finally:
                self._fitting = False
            self._refresh(data)

    def _partial_fit(self, new: Interactions) -> None:
        data = self._log.to_interactions()
        self._quiet = True  # no progress bars in the loop (simulate calls this every step)
        try:
            if not self.warm_start:
                self._fit(data)
                return
            # the users and items of the new ratings, for models that update only those
            self._touched = (np.unique(new.user), np.unique(new.item))
            with seeded(int(self._rng.integers(2**62)), self.device_):
                if self.partial_epochs:
                    self._epochs(data, self.partial_epochs, None)
                self._refresh(data)
        finally:
            self._quiet = False
            self._touched = None

    def _validation_split(self, data: Interactions) -> tuple[Interactions, Interactions | None]:
        """``(train, validation)`` of ``fit``: a uniform random ``validation_fraction`` of
        the ratings held out (``None`` when the model has no such fraction or it is 0)."""
        fraction = getattr(self, "validation_fraction", 0.0)
        if fraction <= 0:
            return data, None
        train, val = holdout(data, fraction, self._rng)
        return train, (val if len(val) else None)

    def _score(self, users: np.ndarray) -> np.ndarray:
        torch = require_torch()
        out = np.empty((len(users), self.n_items_), np.float32)
        step = max(1, self.score_chunk // max(self.n_items_, 1))
        with torch.inference_mode():
            for start in range(0, len(users), step):
                rows = self._score_rows(users[start : start + step])
                if isinstance(rows, torch.Tensor):
                    rows = rows.float().cpu().numpy()
                out[start : start + step] = rows
        return out

    # ------------------------------------------------------------------ helpers
    def _tensor(self, a: Any, dtype: Any = np.int64) -> Any:
        """``a`` as a tensor of numpy ``dtype`` on the model's device (a copy: inputs may
        be read-only)."""
        torch = require_torch()
        return torch.from_numpy(np.array(a, dtype=dtype)).to(self.device_)

    def _shuffled(self, rows: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
        """Mini-batches of ``rows`` in a fresh random order (from the model's CPU
        generator), ``batch_size`` rows each (the last may be shorter)."""
        torch = require_torch()
        order = rows[torch.randperm(len(rows), generator=self._cpu_gen).numpy()]
        return batches(order, batch_size)

    def _adam(self, params: Any) -> Any:
        """``torch.optim.Adam(params, lr=self.lr)``, fused (one kernel over all parameters;
        on CPU ~8× faster per step than the default single-tensor loop for the
        millions of weights of these models) where torch supports it."""
        torch = require_torch()
        try:
            return torch.optim.Adam(params, lr=self.lr, fused=True)
        except (RuntimeError, TypeError, ValueError):  # an older torch or another device
            return torch.optim.Adam(params, lr=self.lr)

    def _step(self, loss: Any) -> None:
        """One optimiser update on ``loss`` (``self._optimizer``)."""
        self._optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._optimizer.step()

    def _rating_matrix(self, data: Interactions) -> sp.csr_array:
        """User × item float32 CSR of ``data`` (a pair rated twice keeps its last rating)."""
        mat = data.to_csr(self.n_users_, self.n_items_)
        return mat.astype(np.float32)

    def _run(
        self,
        n_epochs: int,
        epoch: Callable[[], float],
        validate: Callable[[], float] | None,
        params: dict[str, Any],
    ) -> None:
        """:func:`run_epochs` with this model's ``patience`` and ``verbose``; appends the
        losses to ``loss_history_`` / ``val_loss_history_``.

        If the model has ``lr`` and ``lr_decay`` hyperparameters and an ``_optimizer``,
        each epoch of ``fit`` runs at :func:`cosine_lr` and each epoch of a warm
        ``partial_fit`` at the final rate ``lr · lr_decay``.
        """
        opt, decay = getattr(self, "_optimizer", None), getattr(self, "lr_decay", None)
        if opt is not None and decay is not None:
            fitting, inner, counter = getattr(self, "_fitting", False), epoch, itertools.count()

            def epoch() -> float:
                e = next(counter)
                lr = cosine_lr(self.lr, decay, e, n_epochs) if fitting else self.lr * decay
                for group in opt.param_groups:
                    group["lr"] = lr
                return inner()

        stopper = None
        if validate is not None:
            stopper = EarlyStopping(self.patience)
        losses, val = run_epochs(
            n_epochs,
            epoch,
            validate=validate,
            stopper=stopper,
            params=params,
            verbose=self.verbose and not getattr(self, "_quiet", False),
            desc=type(self).__name__,
        )
        self.loss_history_ += losses
        self.val_loss_history_ += val
        if stopper is not None:
            self.best_epoch_ = stopper.best_epoch

    # ------------------------------------------------------------------ hooks
    def _build(self, train: Interactions) -> None:
        raise NotImplementedError

    def _epochs(self, train: Interactions, n_epochs: int, validation: Interactions | None) -> None:
        raise NotImplementedError

    def _refresh(self, data: Interactions) -> None:
        raise NotImplementedError

    def _score_rows(self, users: np.ndarray) -> Any:
        raise NotImplementedError
