"""Replaying a recording: its frames as `FrameEvent`s, exactly as they were received.

Every FRAME record goes through the same decoder as live bytes; the receive times are the
recorded ones, so a `SessionRunner` fed from here gives the live session's alerts. A record
that no longer decodes (the recording held a damaged frame as received) is counted and
skipped, as the live decoder skipped it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from numbguard.analysis.pipeline import SessionResult
from numbguard.analysis.types import PressureChunk
from numbguard.calibration.store import calibration_from_dict
from numbguard.errors import InputError
from numbguard.pads import Foot
from numbguard.protocol.codec import decode_frame
from numbguard.recording import FrameRecord, JsonRecord, RecordingReader, RecordType
from numbguard.session.runner import ChunkCallback, SessionRunner
from numbguard.transports.base import FrameEvent, InsoleIdentity

# Replaying a file as fast as possible, the analysis takes samples in chunks this long.
FAST_CHUNK_S = 10.0


@dataclass
class ReplayStats:
    frames: int = 0
    undecodable: int = 0
    recorded_alerts: list[dict[str, Any]] = field(default_factory=list)


def replay_events(
    reader: RecordingReader, stats: ReplayStats | None = None
) -> Iterator[FrameEvent]:
    """The recording's frames as events, `received_s` = recorded session time."""
    stats = stats if stats is not None else ReplayStats()
    insoles: dict[int, InsoleIdentity] = {}
    for record in reader.records():
        if isinstance(record, JsonRecord):
            if record.type == RecordType.INSOLE:
                index = int(record.value.get("index", len(insoles)))
                foot: Foot = "right" if record.value.get("foot") == "right" else "left"
                insoles[index] = InsoleIdentity(
                    link=f"replay:{foot}",
                    foot=foot,
                    insole_tag=int(record.value.get("insole_tag", 0)),
                    insole_id=record.value.get("insole_id"),
                )
            elif record.type == RecordType.ALERT:
                stats.recorded_alerts.append(record.value)
            continue
        assert isinstance(record, FrameRecord)
        try:
            frame = decode_frame(record.data)
        except InputError:
            stats.undecodable += 1
            continue
        identity = insoles.get(record.insole_index) or InsoleIdentity(
            link=f"replay:{frame.foot}", foot=frame.foot, insole_tag=frame.insole_tag
        )
        stats.frames += 1
        yield FrameEvent(identity, frame, record.data, record.t_rx_s)


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
        calibrations=recorded_calibrations(path), on_chunk=on_chunk, min_chunk_s=FAST_CHUNK_S
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
        calibrations=recorded_calibrations(path), on_chunk=pending.append, min_chunk_s=FAST_CHUNK_S
    )
    for event in replay_events(RecordingReader(path)):
        runner.on_event(event)
        yield from pending
        pending.clear()
    runner.finish()
    yield from pending
