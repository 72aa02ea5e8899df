"""How much memory the machine has, and a clear error before a structure that would not
fit is allocated (issue 22)."""

from __future__ import annotations

import os

from recdyn.errors import InsufficientMemoryError

__all__ = ["available_bytes", "format_bytes", "require_memory"]

#: Environment variable overriding the memory recdyn believes is available (bytes; for
#: tests and for machines whose ``/proc/meminfo`` overstates what a job may use).
MEMORY_ENV = "RECDYN_MEMORY_BYTES"


def available_bytes() -> int:
    """Memory a new allocation can use: ``$RECDYN_MEMORY_BYTES`` if set, else Linux's
    ``MemAvailable``, else free physical pages (POSIX), else unlimited."""
    if os.environ.get(MEMORY_ENV):
        return int(float(os.environ[MEMORY_ENV]))
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**62


def format_bytes(n: float) -> str:
    """``n`` bytes as ``"1.2 GB"`` (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def require_memory(what: str, parts: dict[str, tuple[float, str]]) -> None:
    """Raise :class:`InsufficientMemoryError` if the structures ``parts`` (name → bytes,
    the parameter that sizes it) need more than :func:`available_bytes`; the message
    lists each structure largest first, with the parameter to change."""
    total = sum(nbytes for nbytes, _ in parts.values())
    available = available_bytes()
    if total <= available:
        return
    ranked = sorted(parts.items(), key=lambda p: -p[1][0])
    lines = "; ".join(
        f"{name}: {format_bytes(nbytes)} (set by {knob})" for name, (nbytes, knob) in ranked
    )
    raise InsufficientMemoryError(
        f"{what} needs about {format_bytes(total)} but {format_bytes(available)} is "
        f"available — {lines}. Reduce the largest ({ranked[0][1][1]}), or run on a machine "
        "with more memory."
    )
