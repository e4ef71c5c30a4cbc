"""The session's news, and the one interface everything that follows a session implements.

The session runner holds only the pipeline (streams, clocks, sample grids, calibration, the
analysis). What it learns it hands, in this order, to its sinks: the recording
(`live.recording_sink`), the live state (`live.state`), the alert sound (`live.sound`), the
event stream for `--json` and the web page (`live.json_events`), the terminal view
(`live.view`), and whatever else wants the chunks (a report's collector, a progress bar).

Per received frame a sink hears `frame` first, then the `note`s, `chunk`s and `alert`s that
frame leads to; an insole's `insole` comes before its first `frame`; `finish` comes once,
after the last. Every method does nothing unless a sink overrides it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from numbguard.analysis.pipeline import SessionResult
from numbguard.calibration.insole import InsoleCalibration
from numbguard.pads import Foot
from numbguard.protocol.frames import Frame
from numbguard.types import Alert, PressureChunk, StepMetrics

ChunkCallback = Callable[[PressureChunk], None]


@dataclass(frozen=True)
class InsoleSeen:
    """A foot's insole heard for the first time in the session."""

    foot: Foot
    index: int  # the insole's index in the recording
    insole_tag: int
    calibration: InsoleCalibration  # the one the session converts its counts with


@dataclass(frozen=True)
class FrameNews:
    """One received frame, as the runner placed it."""

    foot: Foot
    index: int  # the insole's index in the recording
    t_s: float  # session time of receipt
    raw: bytes  # the frame's bytes as received (the recording keeps them)
    frame: Frame
    link: str  # what carried it, e.g. "ble NGL-1a2b", "serial /dev/ttyUSB0", "sim:left"
    recovered: int  # frames this one placed that had been missing (gaps filled by resend)
    missing: int  # frames the foot's stream still misses


class SessionSink:
    """Follows a session. Override the news you want; the rest is ignored."""

    def insole(self, seen: InsoleSeen) -> None:
        """A new insole, before its first frame."""

    def frame(self, news: FrameNews) -> None:
        """A received frame, before the chunks and alerts it leads to."""

    def note(self, record: dict[str, Any]) -> None:
        """Something the insole told of itself: `{"event": "identity" | "restart" |
        "insole_reset", "foot": ..., ...}`."""

    def chunk(self, chunk: PressureChunk, steps: Sequence[StepMetrics]) -> None:
        """Calibrated samples the analysis took, and the steps it found in them."""

    def alert(self, alert: Alert) -> None:
        """An alert the analysis made final."""

    def finish(self, result: SessionResult) -> None:
        """The session is over; `result` is its analysis."""


class ChunkListener(SessionSink):
    """Hands each calibrated chunk to a callable (a report's collector, a progress bar)."""

    def __init__(self, on_chunk: ChunkCallback) -> None:
        self.on_chunk = on_chunk

    def chunk(self, chunk: PressureChunk, steps: Sequence[StepMetrics]) -> None:
        self.on_chunk(chunk)


def chunk_sinks(on_chunk: ChunkCallback | None) -> list[SessionSink]:
    """The sinks for an optional chunk callback: none, or one `ChunkListener`."""
    return [] if on_chunk is None else [ChunkListener(on_chunk)]
