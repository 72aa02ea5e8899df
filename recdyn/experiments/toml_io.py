"""Experiment specs as TOML text: :func:`parse_toml` reads one (the standard library's
``tomllib``, ``tomli`` on Python 3.10), :func:`dump_toml` writes one (``tomli_w``)."""

from __future__ import annotations

from typing import Any

from recdyn.errors import MissingDependencyError, SpecError

__all__ = ["dump_toml", "parse_toml"]


def parse_toml(text: str, origin: str = "spec") -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise MissingDependencyError(
                "reading TOML on Python 3.10 needs tomli: pip install tomli"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{origin}: invalid TOML: {err}") from None


def dump_toml(data: dict[str, Any]) -> str:
    """``data`` as TOML text (:mod:`tomli_w`), the inverse of :func:`parse_toml`.

    ``None`` values are left out (TOML has no null; a spec field left out takes its
    default); raises ``TypeError`` on values TOML cannot hold.
    """
    import tomli_w

    return tomli_w.dumps(_without_none(data))


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_without_none(v) for v in value if v is not None]
    return value
