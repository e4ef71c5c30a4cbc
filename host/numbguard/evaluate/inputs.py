"""Opening a session file as a stream of `PressureChunk`s, whatever its format.

Formats: the CSV interchange format, and Moticon OpenGo text exports once
`numbguard.io.moticon` provides a reader. The format is told from the first line.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.analysis.risk import RiskConfig
from numbguard.analysis.types import PressureChunk
from numbguard.errors import InputError
from numbguard.io.interchange import InterchangeReader

_MOTICON_FIRST_LINE = "# Start time:"


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return file.readline(4096).decode("utf-8", "replace")
    except OSError as error:
        raise InputError(
            "cannot open file", expected="a readable session file", got=str(error), where=str(path)
        ) from None


@contextmanager
def open_session(path: Path, chunk_s: float = 10.0) -> Iterator[Iterator[PressureChunk]]:
    """Chunks of both feet from `path`, in time order per foot."""
    if _first_line(path).startswith(_MOTICON_FIRST_LINE):
        try:
            moticon = importlib.import_module("numbguard.io.moticon")
        except ModuleNotFoundError:
            raise InputError(
                "Moticon text exports cannot be read by this build",
                expected="an interchange CSV",
                got="a Moticon OpenGo export",
                where=str(path),
            ) from None
        with moticon.read_moticon(path, chunk_s=chunk_s) as reader:
            yield iter(reader)
        return
    reader = InterchangeReader(path, chunk_s=chunk_s)
    try:
        yield iter(reader)
    finally:
        reader.close()


def analyze_file(
    path: Path, config: RiskConfig | None = None, chunk_s: float = 10.0
) -> SessionResult:
    """The whole analysis of one session file."""
    analyzer = SessionAnalyzer(config)
    with open_session(path, chunk_s) as chunks:
        for chunk in chunks:
            analyzer.feed(chunk)
    return analyzer.finish()
