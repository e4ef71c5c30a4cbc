"""Progress on long work: how much of the session has been processed, on stderr."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from numbguard.types import PressureChunk


class SessionProgress:
    """Shows the session time reached while chunks are processed (only on a terminal)."""

    def __init__(self, description: str) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[session]}"),
            TimeElapsedColumn(),
            transient=True,
            disable=not sys.stderr.isatty(),
        )
        self._task = self._progress.add_task(description, session="")
        self._reached_s = 0.0

    def update(self, chunk: PressureChunk) -> None:
        if len(chunk.t_s) and chunk.t_s[-1] > self._reached_s + 1.0:
            self._reached_s = float(chunk.t_s[-1])
            minutes, seconds = divmod(int(self._reached_s), 60)
            self._progress.update(self._task, session=f"{minutes} min {seconds:02d} s of session")

    def __enter__(self) -> SessionProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.__exit__(exc_type, exc, tb)
