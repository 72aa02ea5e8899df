"""The torch runtime of recdyn's neural recommenders: the optional dependency, devices,
randomness and CPU threads.

Nothing here imports torch when it is imported: models call :func:`require_torch`
(at construction and inside ``fit``), so ``import recdyn`` and
``recdyn.recommenders.make(...)`` work without torch, and a missing torch surfaces as a
:class:`~recdyn.errors.MissingDependencyError` that says ``pip install "recdyn[torch]"``.
Model modules follow the same rule (import torch inside functions, not at module level)
so that the registry can read their constructor signatures without torch.

* :func:`require_torch` — the extra; :class:`Device`, :func:`check_device`,
  :func:`resolve_device` — the ``device`` hyperparameter (``"cpu"``, ``"cuda"``,
  ``"cuda:N"``, ``"auto"``).
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
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from recdyn._validation import check_int
from recdyn.constraints import Constraint, check_value
from recdyn.errors import InvalidParameterError, MissingDependencyError

__all__ = [
    "TORCH_HINT",
    "Device",
    "check_device",
    "require_torch",
    "resolve_device",
    "seeded",
    "set_threads",
    "torch_generator",
]

TORCH_HINT = 'pip install "recdyn[torch]"'
_DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


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


class Device(Constraint):
    """A ``device`` hyperparameter: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``
    (checked without importing torch; :func:`resolve_device` checks that it exists)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and _DEVICE_RE.match(value) is not None

    def describe(self) -> str:
        return "'cpu', 'cuda', 'cuda:N' or 'auto' (a GPU when one exists, else the CPU)"


def check_device(device: Any) -> str:
    """Validate a ``device`` hyperparameter without importing torch."""
    return check_value("device", device, [Device()])


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
