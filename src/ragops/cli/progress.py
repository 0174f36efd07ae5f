"""Sync progress as Rich bars on stderr (only when stderr is a terminal)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ragops.cli.console import err

__all__ = ["progress_bars"]


class _RichProgress:
    """Draws sync progress (parse, embed, write) as Rich bars."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, stage: str, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or 0)

    def advance(self, stage: str, amount: int = 1) -> None:
        if stage in self.tasks:
            self.progress.advance(self.tasks[stage], amount)

    def grow(self, stage: str, amount: int) -> None:
        task = self.tasks.get(stage)
        if task is not None:
            current = self.progress.tasks[self.progress.task_ids.index(task)].total or 0
            self.progress.update(task, total=current + amount)


@contextlib.contextmanager
def progress_bars(enabled: bool) -> Iterator[Any]:
    from ragops.versions.sync import SyncProgress

    if not enabled or not err.is_terminal:
        yield SyncProgress()
        return
    bars = Progress(
        TextColumn("{task.description:>6}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bars:
        yield _RichProgress(bars)
