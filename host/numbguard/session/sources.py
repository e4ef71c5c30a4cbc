"""Any session file as a stream of `PressureChunk`s, or analysed: recordings, CSV
interchange, Moticon. The one place that tells them apart (recordings by their magic bytes,
the pressure files in `io/session_files.py`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.analysis.risk import RiskConfig
from numbguard.errors import UnreadableFile
from numbguard.io.session_files import open_pressure_file
from numbguard.recording.format import MAGIC
from numbguard.session.bulk_replay import BULK_CHUNK_S, bulk_chunks, bulk_replay
from numbguard.types import PressureChunk

# Chunks of a file read for an export or analysis: large, so each numpy call does much.
FILE_CHUNK_S: Final = 60.0


def is_recording(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except OSError as error:
        raise UnreadableFile(path, str(error), expected="a readable session file") from None


@contextmanager
def session_chunks(
    path: str | os.PathLike[str], chunk_s: float | None = None
) -> Iterator[Iterator[PressureChunk]]:
    """Chunks of both feet from a recording, an interchange CSV or a Moticon text export,
    `chunk_s` long (default: `bulk_replay.BULK_CHUNK_S` for a recording, `FILE_CHUNK_S`
    for a file). A recording's feet come as separate chunks, one foot ahead of the other
    by up to a chunk."""
    if is_recording(path):
        chunks = bulk_chunks(path, BULK_CHUNK_S if chunk_s is None else chunk_s)
        try:
            yield chunks
        finally:
            chunks.close()  # type: ignore[attr-defined]  # a generator
        return
    with open_pressure_file(Path(path), FILE_CHUNK_S if chunk_s is None else chunk_s) as chunks:
        yield chunks


def analyse_session(
    path: str | os.PathLike[str],
    *,
    on_chunk: Callable[[PressureChunk], None] | None = None,
    keep_steps: bool = False,
    config: RiskConfig | None = None,
) -> tuple[SessionResult, str | None]:
    """The analysis of any session file, and a warning if the file is damaged.

    A recording gives the alerts the live session gave (`bulk_replay`: in bulk, with the
    live session's runner where the recording is irregular); a damaged one is analysed up
    to the damage, and the warning says where. `keep_steps` keeps every step in the
    result's `steps` (for a report or an export); `config` sets the risk rules (default:
    the product's).
    """
    if is_recording(path):
        result, reader, stats = bulk_replay(
            path, on_chunk=on_chunk, keep_steps=keep_steps, config=config
        )
        warning = None
        if reader.damage is not None:
            warning = f"{path}: {reader.damage}; analysed what came before it"
        elif not reader.ended_cleanly:
            warning = f"{path}: the recording has no end record (the session was cut short)"
        if stats.undecodable:
            note = f"{stats.undecodable} recorded frame(s) did not decode and were skipped"
            warning = f"{warning}; {note}" if warning else f"{path}: {note}"
        return result, warning
    analyzer = SessionAnalyzer(config, keep_steps=keep_steps)
    with open_pressure_file(Path(path), FILE_CHUNK_S) as chunks:
        for chunk in chunks:
            if on_chunk is not None:
                on_chunk(chunk)
            analyzer.feed(chunk)
    return analyzer.finish(), None
