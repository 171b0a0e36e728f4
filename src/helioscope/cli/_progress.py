"""A progress bar on stderr for long commands (import, export), drawn by rich."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
    """One bar per step; a step of unknown length shows a count and a pulsing bar."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description:>14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int | None) -> None:
        """Start a new bar (the previous one stays, complete)."""
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, total=task.completed)
        self._task = self._progress.add_task(name, total=total)

    def advance(self, count: int) -> None:
        """Move the current bar on."""
        if self._task is not None and count:
            self._progress.advance(self._task, count)

    def retrying(self, message: str) -> None:
        """A line above the bar: a source down or failing is said, not waited out in silence."""
        self._progress.console.print(
            f"helioscope: {message}", markup=False, highlight=False, soft_wrap=True
        )
