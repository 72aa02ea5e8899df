"""Canonical forms: the JSON that hashes and ids are made of, labels, TOML arrays as tuples."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json", "policy_label", "tuples"]


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces (what hashes and ids are made of)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def tuples(value: Any) -> Any:
    """TOML arrays as tuples (pair-valued parameters such as ranges are tuples in recdyn)."""
    if isinstance(value, (list, tuple)):
        return tuple(tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: tuples(v) for k, v in value.items()}
    return value


def policy_label(name: str, params: dict[str, Any]) -> str:
    """``"greedy"``, or ``"softmax(temperature=0.5)"`` when parameters are set."""
    if not params:
        return name
    inner = ", ".join(f"{k}={canonical_json(params[k])}" for k in sorted(params))
    return f"{name}({inner})"
