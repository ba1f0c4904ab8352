"""A progress bar for checks on a terminal; nothing when piped."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from gonogo.gates.results import CriterionResult


class BarObserver:
    """Shows criteria as they finish, on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if sys.stderr.isatty():
            self._progress = Progress(
                TextColumn("checking"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> BarObserver:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def started(self, total: int) -> None:
        """Size the bar."""
        if self._progress is not None:
            self._task = self._progress.add_task("", total=total)

    def finished(self, result: CriterionResult) -> None:
        """Advance the bar."""
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, advance=1, description=f"{result.ref} {result.status.value}"
            )
