"""The one progress bar of recdyn's long loops: simulate, cross-validation, fits, studies,
and the ``recdyn`` command line."""

from __future__ import annotations

from typing import Any, NamedTuple


class Bar(NamedTuple):
    """A started rich ``Progress`` and its task (still usable as the pair ``(progress, task)``)."""

    progress: Any
    task: Any

    def advance(self, n: int = 1) -> None:
        self.progress.update(self.task, advance=n)

    def update(self, completed: int, status: str | None = None) -> None:
        """Set the number done (and the status text of a bar made with ``status=True``)."""
        fields = {} if status is None else {"status": status}
        self.progress.update(self.task, completed=completed, **fields)

    def stop(self) -> None:
        self.progress.stop()


def progress_bar(
    enabled: bool,
    total: int,
    label: str,
    console: Any = None,
    *,
    start: bool = True,
    status: bool = False,
    transient: bool = False,
    terminal_only: bool = False,
) -> Bar | None:
    """A started rich bar, or ``None`` when disabled (or nothing to do).

    Columns: label, bar, done/total, [status text, time elapsed,] time remaining. Pass the
    bar to :func:`advance` (or call its methods); call ``bar.stop()`` when done (or use
    ``bar.progress`` as a context manager with ``start=False``).

    status : add a status text (set by ``bar.update(done, status=...)``) and the time
        elapsed. transient : erase the bar when it stops. terminal_only : no bar when
        ``console`` is not a terminal (a log, a pipe), which otherwise gets the final bar.
    """
    if not enabled or total <= 0:
        return None
    from rich import progress as rp
    from rich.console import Console

    if terminal_only and not (console or Console()).is_terminal:
        return None
    bar = rp.Progress(*progress_columns(status), console=console, transient=transient)
    if start:
        bar.start()
    return Bar(bar, bar.add_task(label, total=total, status=""))


def progress_columns(status: bool = False, label: str = "{task.description}") -> tuple:
    """The columns of every recdyn bar: label, bar, done/total, [status text, time
    elapsed,] time remaining (also the multi-bar display of ``recdyn run``)."""
    from rich import progress as rp

    extra = (rp.TextColumn("{task.fields[status]}"), rp.TimeElapsedColumn()) if status else ()
    return (
        f"[progress.description]{label}",
        rp.BarColumn(),
        rp.MofNCompleteColumn(),
        *extra,
        rp.TimeRemainingColumn(),
    )


def advance(bar: Bar | None, n: int = 1) -> None:
    if bar is not None:
        bar.advance(n)
