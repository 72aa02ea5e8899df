"""The epoch loop of recdyn's neural recommenders: early stopping, the loop with its
progress bar, and the cosine learning-rate schedule.

* :class:`EarlyStopping` — stop when the validation loss stalls, keep the best weights;
* :func:`run_epochs` — up to ``n_epochs`` epochs with optional validation and a rich
  progress bar (silent unless ``verbose``);
* :func:`cosine_lr` — cosine annealing without restarts (Loshchilov & Hutter 2017).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from recdyn._progress import progress_bar
from recdyn._validation import check_float, check_int
from recdyn.recommenders.neural.runtime import require_torch

__all__ = ["EarlyStopping", "cosine_lr", "run_epochs"]


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
