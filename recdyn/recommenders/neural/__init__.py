"""Neural recommenders on PyTorch (the ``torch`` extra: ``pip install "recdyn[torch]"``).

Importing this package, or the model modules, does not import torch: the models import it
when they are fitted and raise :class:`~recdyn.errors.MissingDependencyError` with the
install command when it is missing. Classes are loaded on first attribute access
(``from recdyn.recommenders.neural import AutoRec``); the registry names them by import
path, so they are imported only when built.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module (relative to this package) that defines it
_MODELS: dict[str, str] = {
    "AutoRec": "autorec",
    "CFNADE": "cfnade",
    "GMF": "gmf",
    "LLORMA": "llorma",
    "MultDAE": "vae",
    "MultVAE": "vae",
    "PositionRanker": "position_ranker",
}

__all__ = list(_MODELS)


def __getattr__(name: str) -> Any:
    if name in _MODELS:
        module = importlib.import_module(f"{__name__}.{_MODELS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
