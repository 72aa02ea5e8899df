"""The one progress bar of recdyn's long loops: simulate, cross-validation, fits, studies."""

from __future__ import annotations

from typing import Any


def progress_bar(enabled: bool, total: int, label: str, console: Any = None, *, start: bool = True):
    """A started rich bar and its task id, or ``None`` when disabled (or nothing to do).

    Columns: label, bar, done/total, time remaining. Pass the pair to :func:`advance`;
    call ``bar[0].stop()`` when done (or use the bar as a context manager with
    ``start=False``).
    """
    if not enabled or total <= 0:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    if start:
        bar.start()
    return bar, bar.add_task(label, total=total)


def advance(bar: Any, n: int = 1) -> None:
    if bar is not None:
        bar[0].update(bar[1], advance=n)
