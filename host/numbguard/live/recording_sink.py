"""The recording as a session sink: every frame's bytes, each insole, its notes and alerts."""

from __future__ import annotations

from typing import Any

from numbguard.analysis.pipeline import alert_to_json
from numbguard.calibration.store import calibration_to_dict
from numbguard.live.sink import FrameNews, InsoleSeen, SessionSink
from numbguard.recording import Channel, RecordingWriter
from numbguard.types import Alert


class RecordingSink(SessionSink):
    """Writes the session to `writer`; frames are marked as having come over `channel`.

    The writer stays the caller's to close: a recording ends with the reason it stopped,
    which only the caller knows."""

    def __init__(self, writer: RecordingWriter, channel: Channel = Channel.SIM) -> None:
        self.writer = writer
        self.channel = channel

    def insole(self, seen: InsoleSeen) -> None:
        self.writer.add_insole(
            {
                "index": seen.index,
                "foot": seen.foot,
                "insole_tag": seen.insole_tag,
                "calibration": calibration_to_dict(seen.calibration),
            }
        )

    def frame(self, news: FrameNews) -> None:
        self.writer.write_frame(news.index, self.channel, news.t_s, news.raw)

    def note(self, record: dict[str, Any]) -> None:
        self.writer.write_event(record)

    def alert(self, alert: Alert) -> None:
        self.writer.write_alert(alert_to_json(alert))
