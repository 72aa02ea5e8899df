"""Numbers as text for report tables: one number of decimals per column.

A column's decimals are chosen once for all its cells (:func:`column_decimals`), so
that its numbers align and compare at a glance: four significant digits of the
column's median magnitude, and two of its smallest non-zero one (up to four decimals
for that one; six at most). ``mean ± ci`` columns take the decimals that show the
column's median CI to two significant digits (:func:`ci_decimals`). Missing values are
``—``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

MISSING = "—"
MAX_DECIMALS = 6
#: The smallest value of a column asks for at most this many decimals (a p-value of
#: 1e-9 beside 0.08 shows as <0.0001, not with nine decimals).
SMALL_DECIMALS = 4


def _finite(values: Iterable[Any]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or v is None:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def _decimals_for(x: float, digits: int) -> int:
    """Decimals that show ``x`` (≠ 0) to ``digits`` significant digits, in [0, 6]."""
    return min(max(0, digits - 1 - math.floor(math.log10(abs(x)))), MAX_DECIMALS)


def column_decimals(values: Iterable[Any]) -> int:
    """Decimals of a numeric column: enough for 4 significant digits of its median
    magnitude and 2 of its smallest non-zero one (at most :data:`SMALL_DECIMALS` for that
    one), less the trailing zeros every value shares (0 for integers)."""
    finite = _finite(values)
    if all(f.is_integer() for f in finite):
        return 0
    nonzero = [abs(f) for f in finite if f != 0]
    small = min(_decimals_for(min(nonzero), 2), SMALL_DECIMALS)
    typical = sorted(nonzero)[len(nonzero) // 2]
    decimals = max(_decimals_for(typical, 4), small)
    while decimals > 0 and all(round(f, decimals - 1) == f for f in finite):
        decimals -= 1  # no trailing zeros shared by the whole column: 0.09, not 0.09000
    return decimals


def fmt_number(x: Any, decimals: int) -> str:
    """``x`` with ``decimals`` decimals and thousands separated; ``—`` when missing;
    ``<0.0001`` (say) for a positive value that would round to zero, ``>-0.0001`` for a
    negative one."""
    if isinstance(x, bool):
        return str(x)
    finite = _finite([x])
    if not finite:
        return MISSING
    f = finite[0]
    if f != 0 and round(f, decimals) == 0:
        bound = f"{10.0**-decimals:.{decimals}f}"
        return f">-{bound}" if f < 0 else f"<{bound}"
    return f"{f:,.{decimals}f}"


def fmt_column(values: Sequence[Any]) -> list[str]:
    """Every number of a column with the column's decimals (:func:`column_decimals`)."""
    decimals = column_decimals(values)
    return [fmt_number(v, decimals) for v in values]


def fmt(x: Any) -> str:
    """A lone number: 4 significant digits, thousands separated, ``—`` when missing."""
    finite = _finite([x])
    if not finite:
        return MISSING if not isinstance(x, str) else x
    f = finite[0]
    if isinstance(x, (int,)) or abs(f) >= 1000:
        return f"{f:,.0f}"
    return f"{f:.4g}"


def ci_decimals(cis: Iterable[Any]) -> int | None:
    """Decimals that show the median positive CI half-width of a column to two
    significant digits; ``None`` when the column has no positive CI."""
    positive = sorted(c for c in _finite(cis) if c > 0)
    if not positive:
        return None
    return _decimals_for(positive[(len(positive) - 1) // 2], 2)


def fmt_ci(mean: Any, ci: Any, decimals: int | None = None) -> str:
    """``mean ± ci``, both with ``decimals`` (default: two significant digits of this
    CI, or :func:`column_decimals` of the mean without one); the mean alone when there is
    no CI (a single trial, or a quantity that does not vary across trials)."""
    if not _finite([mean]):
        return MISSING
    has_ci = bool(_finite([ci])) and float(ci) > 0
    if decimals is None:
        decimals = ci_decimals([ci]) if has_ci else column_decimals([mean])
    text = fmt_number(mean, decimals)
    return f"{text} ± {fmt_number(ci, decimals)}" if has_ci else text


def fmt_ci_column(means: Sequence[Any], cis: Sequence[Any]) -> list[str]:
    """``mean ± ci`` cells of one column, all with the column's decimals: those of its
    median CI (:func:`ci_decimals`), or of its means when no cell has a CI."""
    decimals = ci_decimals(cis)
    if decimals is None:
        decimals = column_decimals(means)
    return [fmt_ci(m, c, decimals) for m, c in zip(means, cis)]


def fmt_rho(rho: Any) -> str:
    """A correlation coefficient with its sign and three decimals."""
    return f"{float(rho):+.3f}" if _finite([rho]) else MISSING
