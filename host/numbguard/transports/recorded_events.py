"""A recording's frames as `FrameEvent`s, exactly as they were received: what the
`replay://` transport streams and what the session's replay feeds its runner.

Every FRAME record goes through the same decoder as live bytes; the receive times are the
recorded ones. A record that no longer decodes (the recording held a damaged frame as
received) is counted and skipped, as the live decoder skipped it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from numbguard.errors import InputError
from numbguard.pads import Foot
from numbguard.protocol.codec import decode_frame
from numbguard.recording import FrameRecord, JsonRecord, RecordingReader, RecordType
from numbguard.transports.base import FrameEvent, InsoleIdentity


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
