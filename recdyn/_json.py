"""Hyperparameters as JSON values (for records, manifests and comparisons)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with every value made JSON: tuples as lists, numpy values as numbers and
    lists, an object with ``get_params`` (a policy inside a policy) as ``{"class": name,
    **its params}``, any other object as ``"<TypeName>"`` (no memory address, so that two
    processes building the same thing record the same value)."""
    return json.loads(json.dumps(params, sort_keys=True, default=_json_value))


def _json_value(obj: Any) -> Any:
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    if callable(getattr(obj, "get_params", None)):
        return {"class": type(obj).__name__, **obj.get_params()}
    return f"<{type(obj).__qualname__}>"
