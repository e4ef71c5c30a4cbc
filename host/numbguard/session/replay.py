"""Replaying a recording through the session runner, as fast as possible: the result, the
calibrated chunks, and the calibrations the live session used. The frames come as
`FrameEvent`s from `transports.recorded_events`, with their recorded receive times, so the
runner gives the live session's alerts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from numbguard.analysis.pipeline import SessionResult
from numbguard.calibration.store import calibration_from_dict
from numbguard.live.sink import ChunkCallback, chunk_sinks
from numbguard.pads import Foot
from numbguard.recording import FrameRecord, JsonRecord, RecordingReader, RecordType
from numbguard.session.runner import SessionRunner
from numbguard.transports.recorded_events import ReplayStats, replay_events
from numbguard.types import PressureChunk

# Replaying a file as fast as possible, the analysis takes samples in chunks this long.
FAST_CHUNK_S = 10.0


def recorded_calibrations(path: str | os.PathLike[str]) -> dict[Foot, Any]:
    """Each foot's calibration as the live session used it (from the INSOLE records)."""
    calibrations: dict[Foot, Any] = {}
    for record in RecordingReader(path).records():
        if isinstance(record, JsonRecord) and record.type == RecordType.INSOLE:
            if "calibration" in record.value:
                foot: Foot = "right" if record.value.get("foot") == "right" else "left"
                calibrations[foot] = calibration_from_dict(
                    record.value["calibration"], where=f"{path}: {foot} calibration"
                )
        elif isinstance(record, FrameRecord):
            break  # INSOLE records come before an insole's first frame
    return calibrations


def replay_recording(
    path: str | os.PathLike[str], *, on_chunk: ChunkCallback | None = None
) -> tuple[SessionResult, RecordingReader, ReplayStats]:
    """Analyse a recording as fast as possible through the live session's runner."""
    reader = RecordingReader(path)
    runner = SessionRunner(
        calibrations=recorded_calibrations(path),
        sinks=chunk_sinks(on_chunk),
        min_chunk_s=FAST_CHUNK_S,
    )
    stats = ReplayStats()
    for event in replay_events(reader, stats):
        runner.on_event(event)
    return runner.finish(), reader, stats


def recording_chunks(path: str | os.PathLike[str]) -> Iterator[PressureChunk]:
    """The calibrated pressure chunks of a recording, as the replay makes them (bounded
    memory: chunks are handed on as they come), for export and reports."""
    pending: list[PressureChunk] = []
    runner = SessionRunner(
        calibrations=recorded_calibrations(path),
        sinks=chunk_sinks(pending.append),
        min_chunk_s=FAST_CHUNK_S,
    )
    for event in replay_events(RecordingReader(path)):
        runner.on_event(event)
        yield from pending
        pending.clear()
    runner.finish()
    yield from pending
