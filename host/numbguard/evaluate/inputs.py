"""Opening a session file as a stream of `PressureChunk`s, whatever its format.

Formats: the CSV interchange format and Moticon OpenGo text exports, told apart by their
first line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.analysis.risk import RiskConfig
from numbguard.errors import UnreadableFile
from numbguard.io.interchange import InterchangeReader
from numbguard.io.moticon import read_moticon
from numbguard.types import PressureChunk

_MOTICON_FIRST_LINE = "# Start time:"


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return file.readline(4096).decode("utf-8", "replace")
    except OSError as error:
        raise UnreadableFile(path, str(error), expected="a readable session file") from None


@contextmanager
def open_session(path: Path, chunk_s: float = 10.0) -> Iterator[Iterator[PressureChunk]]:
    """Chunks of both feet from `path`, in time order per foot."""
    if _first_line(path).startswith(_MOTICON_FIRST_LINE):
        chunks = iter(read_moticon(path, chunk_s=chunk_s))
        try:
            yield chunks
        finally:
            chunks.close()  # type: ignore[attr-defined]  # a generator: closes the file
        return
    reader = InterchangeReader(path, chunk_s=chunk_s)
    try:
        yield iter(reader)
    finally:
        reader.close()


def analyze_file(
    path: Path, config: RiskConfig | None = None, chunk_s: float = 60.0
) -> SessionResult:
    """The whole analysis of one session file (large chunks: fewer, bigger numpy calls)."""
    analyzer = SessionAnalyzer(config)
    with open_session(path, chunk_s) as chunks:
        for chunk in chunks:
            analyzer.feed(chunk)
    return analyzer.finish()
