"""Which pressure file is which: the CSV interchange format or a Moticon OpenGo text export,
told apart by their first line, opened as a stream of `PressureChunk`s.

`session/sources.py` adds the recordings on top of this; it is the one entry point for any
session file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from numbguard.errors import UnreadableFile
from numbguard.io.interchange import InterchangeReader
from numbguard.io.moticon import read_moticon
from numbguard.types import PressureChunk

MOTICON_FIRST_LINE: Final = "# Start time:"


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return file.readline(4096).decode("utf-8", "replace")
    except OSError as error:
        raise UnreadableFile(path, str(error), expected="a readable session file") from None


def is_moticon(path: Path) -> bool:
    return _first_line(path).startswith(MOTICON_FIRST_LINE)


@contextmanager
def open_pressure_file(path: Path, chunk_s: float = 10.0) -> Iterator[Iterator[PressureChunk]]:
    """Chunks of both feet from an interchange CSV or a Moticon export, in time order per
    foot."""
    if is_moticon(path):
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
