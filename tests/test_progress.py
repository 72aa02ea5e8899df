"""The one progress bar (``recdyn._progress``) of loops and the command line."""

from __future__ import annotations

import io

from rich.console import Console

from recdyn._progress import advance, progress_bar


def console(terminal: bool) -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal, width=100)


def test_disabled_or_empty_gives_no_bar():
    assert progress_bar(False, 10, "x") is None
    assert progress_bar(True, 0, "x") is None
    advance(None)  # a no-op


def test_terminal_only_bar_is_none_in_a_pipe_and_a_bar_on_a_terminal():
    assert progress_bar(True, 5, "run", console(False), terminal_only=True) is None
    bar = progress_bar(True, 5, "run", console(True), terminal_only=True, status=True)
    assert bar is not None
    bar.update(3, status="mean_rating 3.250")
    task = bar.progress.tasks[0]
    assert task.completed == 3 and task.fields["status"] == "mean_rating 3.250"
    advance(bar)
    assert bar.progress.tasks[0].completed == 4
    progress, task_id = bar  # still the pair (progress, task) older callers unpack
    assert progress is bar.progress and task_id == bar.task
    bar.stop()


def test_a_transient_bar_is_erased_when_it_stops():
    for transient in (True, False):
        bar = progress_bar(True, 2, "fit", console(True), transient=transient)
        assert bar.progress.live.transient is transient
        bar.stop()
