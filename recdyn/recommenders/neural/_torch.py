"""Shared machinery of recdyn's PyTorch recommenders (the ``torch`` extra).

Nothing in this module imports torch when it is imported: models call :func:`require_torch`
inside ``fit``, so ``import recdyn`` and ``recdyn.recommenders.make(...)`` work without
torch, and a missing torch surfaces as a :class:`~recdyn.errors.MissingDependencyError`
that says ``pip install "recdyn[torch]"``. Model modules should follow the same rule
(import torch inside functions, not at module level) so that the registry can read their
constructor signatures without torch.

What is here:

* :func:`require_torch`, :func:`check_device`, :func:`resolve_device` — the extra and the
  ``device`` hyperparameter (``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"auto"``).
* :func:`torch_generator`, :func:`seeded` — determinism: every random draw of a model
  comes from a local :class:`torch.Generator` seeded from the model's
  ``np.random.default_rng(seed)``; :func:`seeded` additionally forks and seeds torch's
  global RNG for the duration of a fit, so an op that draws from it cannot make two fits
  differ or disturb the caller's global state. On CPU, fits are then bit-for-bit
  reproducible in a given process (same torch build and thread count). We do not switch
  on ``torch.use_deterministic_algorithms``: it is process-wide and the CPU kernels used
  here are already deterministic; on CUDA, results are reproducible only up to
  atomics in scatter/sparse kernels.
* :func:`set_threads` — CPU thread guidance.
* :class:`EarlyStopping`, :func:`run_epochs`, :func:`cosine_lr` — the epoch loop with
  optional validation, a learning-rate schedule and a rich progress bar (silent unless
  ``verbose``).
* :func:`holdout`, :class:`DenseRows` — validation split and dense mini-batches from CSR.
* :class:`TorchRecommender` — what the neural recommenders share (hyperparameters
  ``device``/``seed``/``verbose``/``warm_start``/``partial_epochs``, the fit/partial-fit
  skeleton, batched float32 scoring).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp

from recdyn._progress import progress_bar
from recdyn._validation import check_float, check_int
from recdyn.errors import InvalidParameterError, MissingDependencyError
from recdyn.interactions import Interactions
from recdyn.recommenders.base import Recommender

TORCH_HINT = 'pip install "recdyn[torch]"'
_DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


# ----------------------------------------------------------------------------- torch & devices
def require_torch(what: str = "recdyn's neural recommenders") -> ModuleType:
    """Import and return :mod:`torch`, or raise :class:`MissingDependencyError`."""
    try:
        import torch
    except ImportError as err:
        raise MissingDependencyError(
            f"{what} need the optional dependency torch, which could not be imported "
            f"({err}): {TORCH_HINT}"
        ) from None
    return torch


def check_device(device: Any) -> str:
    """Validate a ``device`` hyperparameter without importing torch."""
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise InvalidParameterError(
            f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto' (a GPU when one exists, "
            f"else the CPU); got {device!r}"
        )
    return device


def resolve_device(device: str) -> Any:
    """The :class:`torch.device` for a validated ``device`` string.

    ``"auto"`` is CUDA when ``torch.cuda.is_available()``, else the CPU. Asking for CUDA
    on a machine without it raises :class:`InvalidParameterError` (rather than torch's
    lazy-init error deep inside training).
    """
    torch = require_torch()
    device = check_device(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InvalidParameterError(
                f"device={device!r}, but torch {torch.__version__} sees no CUDA GPU "
                "(torch.cuda.is_available() is False); use device='cpu', or device='auto' "
                "to use a GPU only when one exists"
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise InvalidParameterError(
                f"device={device!r}, but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    return torch.device(device)


# ----------------------------------------------------------------------------- randomness
def torch_generator(rng: np.random.Generator, device: Any = "cpu") -> Any:
    """A :class:`torch.Generator` on ``device`` seeded by one draw from ``rng``."""
    torch = require_torch()
    gen = torch.Generator(device=device)
    gen.manual_seed(int(rng.integers(2**62)))
    return gen


@contextlib.contextmanager
def seeded(seed: int, device: Any = "cpu") -> Iterator[None]:
    """Fork torch's global RNG (CPU, and ``device`` if CUDA), seed it, restore it on exit."""
    torch = require_torch()
    devices = [device] if getattr(device, "type", str(device)).startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def set_threads(n: int | None = None) -> int:
    """Set torch's CPU intra-op threads (process-wide); return the previous number.

    torch starts one thread per physical core. When several simulations run in parallel
    processes (``recdyn.experiments`` executors, ``pytest -n``), give each
    ``cores // processes`` threads — oversubscribed threads can make every process several
    times slower. ML-100K-sized models gain little beyond 2–4 threads. ``None`` only
    reports the current number.
    """
    torch = require_torch()
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(check_int("n", n, low=1))
    return previous


# ----------------------------------------------------------------------------- training loop
class EarlyStopping:
    """Stop when the validation loss has not improved by ``min_delta`` for ``patience``
    epochs; remembers the best parameters (copies) and can restore them.

    Usage: ``if stopper.step(val_loss, params): break`` then ``stopper.restore(params)``.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0) -> None:
        self.patience = check_int("patience", patience, low=1)
        self.min_delta = check_float("min_delta", min_delta, low=0)
        self.best = float("inf")
        self.best_epoch = -1
        self._since = 0
        self._state: dict[str, Any] | None = None

    def step(self, value: float, params: dict[str, Any], epoch: int = -1) -> bool:
        """Record one epoch's validation loss; ``True`` when training should stop."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self._since = value, epoch, 0
            self._state = {k: p.detach().clone() for k, p in params.items()}
            return False
        self._since += 1
        return self._since >= self.patience

    def restore(self, params: dict[str, Any]) -> None:
        """Copy the best parameters back in place (no-op if none was recorded)."""
        if self._state is None:
            return
        torch = require_torch()
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(self._state[k])


def run_epochs(
    n_epochs: int,
    epoch: Callable[[], float],
    *,
    validate: Callable[[], float] | None = None,
    stopper: EarlyStopping | None = None,
    params: dict[str, Any] | None = None,
    verbose: bool = False,
    desc: str = "training",
) -> tuple[list[float], list[float]]:
    """Run ``epoch()`` (returns the training loss) up to ``n_epochs`` times.

    With ``validate`` and ``stopper``, stops early and restores the best ``params``.
    ``verbose`` shows a rich progress bar with the latest losses. Returns the training
    and validation losses per epoch.
    """
    losses: list[float] = []
    val_losses: list[float] = []
    bar = progress_bar(verbose, n_epochs, desc)
    try:
        for e in range(n_epochs):
            losses.append(float(epoch()))
            text = f"{desc} loss {losses[-1]:.4f}"
            if validate is not None:
                val_losses.append(float(validate()))
                text += f" val {val_losses[-1]:.4f}"
                if stopper is not None and stopper.step(val_losses[-1], params or {}, e):
                    break
            if bar is not None:
                bar[0].update(bar[1], advance=1, description=text)
    finally:
        if bar is not None:
            bar[0].stop()
    if stopper is not None and params is not None:
        stopper.restore(params)
    return losses, val_losses


def cosine_lr(lr: float, decay: float, epoch: int, n_epochs: int) -> float:
    r"""Learning rate of ``epoch`` (0-based) of ``n_epochs``: cosine annealing from
    ``lr`` to ``lr · decay`` at the last epoch (Loshchilov & Hutter 2017, without
    restarts), :math:`\eta_e = \eta_{end} + (\eta - \eta_{end})(1 + \cos(\pi e / (n - 1)))/2`."""
    end = lr * decay
    if n_epochs <= 1:
        return lr
    return end + (lr - end) * 0.5 * (
        1.0 + math.cos(math.pi * min(epoch, n_epochs - 1) / (n_epochs - 1))
    )


# ----------------------------------------------------------------------------- data helpers
def holdout(
    data: Interactions, fraction: float, rng: np.random.Generator
) -> tuple[Interactions, Interactions]:
    """Split ``data`` into (train, validation) with a uniform random ``fraction`` of the
    rows in validation (at least one row each when ``len(data) >= 2``)."""
    n = len(data)
    n_val = min(max(round(fraction * n), 1), n - 1) if n >= 2 else 0
    mask = np.zeros(n, bool)
    mask[rng.choice(n, size=n_val, replace=False)] = True
    return data.select(~mask), data.select(mask)


class DenseRows:
    """Mini-batches of dense float32 rows of a sparse matrix, with their observed-mask.

    ``source(rows)`` returns ``(values, mask)``, two ``[len(rows), n_cols]`` tensors on
    ``device``; ``mask`` is 1 where the matrix stores an entry (so a stored rating of 0 is
    still observed), or ``None`` when ``with_mask`` is false. A matrix of at most
    ``max_dense`` entries is densified once on the device; a larger one is densified batch
    by batch from the CSR.
    """

    def __init__(
        self, matrix: sp.csr_array, device: Any, max_dense: int = 2**25, with_mask: bool = True
    ) -> None:
        torch = require_torch()
        self.matrix = sp.csr_array(matrix, dtype=np.float32)
        self.structure = None
        if with_mask:
            self.structure = self.matrix.copy()
            self.structure.data = np.ones_like(self.structure.data)
        self.device = device
        self.shape = self.matrix.shape
        self._dense = None
        if self.shape[0] * self.shape[1] <= max_dense:
            self._dense = tuple(
                None if m is None else torch.from_numpy(m.toarray()).to(device)
                for m in (self.matrix, self.structure)
            )

    def __call__(self, rows: np.ndarray) -> tuple[Any, Any]:
        torch = require_torch()
        if self._dense is not None:
            idx = torch.as_tensor(np.asarray(rows, np.int64), device=self.device)
            return tuple(None if m is None else m[idx] for m in self._dense)
        return tuple(
            None if m is None else torch.from_numpy(m[rows].toarray()).to(self.device)
            for m in (self.matrix, self.structure)
        )


def csr_tensor(crow: Any, col: Any, values: Any, shape: tuple[int, int]) -> Any:
    """``torch.sparse_csr_tensor`` without invariant checks and without torch's "sparse
    CSR support is in beta state" warning (CSR-dense products are about twice as fast as
    COO ones on CPU, forward and backward)."""
    torch = require_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


def batches(order: Any, size: int) -> Iterator[Any]:
    """Consecutive slices of ``order`` of length ``size`` (the last may be shorter)."""
    for start in range(0, len(order), size):
        yield order[start : start + size]


# ----------------------------------------------------------------------------- base class
class TorchRecommender(Recommender):
    """Base of the PyTorch recommenders: shared hyperparameters and the fit skeleton.

    Subclasses call :meth:`_set_torch_params` in their constructor and implement

    * ``_build(train)`` — fresh parameters (drawn from ``self._rng`` / ``self._gen``)
      and optimiser; ``train`` is the data ``fit`` trains on (validation split removed);
    * ``_epochs(train, n_epochs, validation)`` — train for up to ``n_epochs`` epochs on
      ``train`` (usually through :func:`run_epochs`), early-stopping on ``validation``
      when it is not ``None``; append the per-epoch losses to ``self.loss_history_``;
    * ``_refresh(data)`` — after training, recompute what scoring needs from all ratings
      seen (e.g. hidden representations whose input is the rating vector);
    * ``_score_rows(users)`` — float32 scores ``[len(users), n_items]`` (a tensor or an
      array), called on chunks of at most ``score_chunk`` entries.

    ``fit`` re-initialises everything from ``seed`` and trains ``n_epochs`` (subclass
    attribute) epochs on ``data`` minus the validation split (if the subclass has a
    ``validation_fraction`` > 0); ``partial_fit`` either continues from the current
    weights for ``partial_epochs`` epochs on all data seen so far (``warm_start=True``)
    or refits from scratch on it (``warm_start=False``, what the RecLab thesis did at
    every step). Both refresh the scoring caches with every rating seen, so even
    ``partial_epochs=0`` folds new ratings in through the models' inputs. With
    ``verbose=True`` only ``fit`` shows a progress bar; ``partial_fit`` (called at every
    step of ``recdyn.simulate``) stays silent.
    """

    #: largest number of score entries computed at once by ``score``
    score_chunk: int = 2**22

    def _set_torch_params(
        self, *, device: str, seed: int | None, verbose: bool, warm_start: bool,
        partial_epochs: int,
    ) -> None:  # fmt: skip
        require_torch(type(self).__name__)  # fail at construction, not deep inside a run
        self.device = check_device(device)
        self.seed = None if seed is None else check_int("seed", seed, low=0)
        self.verbose = bool(verbose)
        self.warm_start = bool(warm_start)
        self.partial_epochs = check_int("partial_epochs", partial_epochs, low=0)

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
            stopper = EarlyStopping(getattr(self, "patience", 5))
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
