"""The session runner: every received frame through the pipeline to chunks and alerts, told
to the session's sinks (the recording, the live state, the sound, the event stream, ...).

`SessionRunner.on_event` is synchronous and uses only the event (its bytes and receive time),
so the same frames give the same alerts whether they come live from insoles or from a
recording: replay is the same runner fed from a file.

The runner keeps its own `InsoleStream` per foot although a live link has one too (to ask for
resends): placing a frame costs microseconds, and a replay, which has no link, then places the
recorded frames exactly as the live session did.

Per foot: frames are placed on the insole's stream (64-bit sequence and time, resets), the
clock aligner learns the insole's clock from frames and time-sync replies, the assembler turns
placed frames into a time-ordered sample grid, the insole's calibration turns counts into kPa,
and the session analyzer turns kPa into steps and alerts. The runner holds only that pipeline;
what each sink does with the news is its own business (`live.sink` says what comes when).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult
from numbguard.calibration.insole import InsoleCalibration
from numbguard.live.sink import FrameNews, InsoleSeen, SessionSink
from numbguard.pads import PAD_IDS, Foot, pads_from_mask
from numbguard.protocol.constants import OP_TIME_SYNC
from numbguard.protocol.frames import (
    DataFrame,
    Reply,
    StatusFrame,
    StatusIdentity,
    StatusTiming,
)
from numbguard.protocol.stream import InsoleStream, StreamFrame
from numbguard.protocol.time_sync import ClockAligner, host_time_from_token
from numbguard.session.assembler import SampleAssembler, SampleBlock
from numbguard.transports.base import FrameEvent
from numbguard.types import Alert, PressureChunk

logger = logging.getLogger(__name__)


@dataclass
class FootTrack:
    """Everything the runner keeps for the insole of one foot."""

    foot: Foot
    index: int  # insole index in the recording
    calibration: InsoleCalibration
    stream: InsoleStream = field(default_factory=InsoleStream)
    assembler: SampleAssembler = field(default_factory=SampleAssembler)
    aligner: ClockAligner = field(default_factory=ClockAligner)
    t0_s: float | None = None  # session time of the assembler's grid sample 0
    batch: list[SampleBlock] = field(default_factory=list)  # released, not yet analysed
    previous_reset: str | None = None  # why the insole's previous boot ended, as last told


class SessionRunner:
    """Feed it every `FrameEvent` of a session in arrival order; `finish()` at the end.

    `session_start_s` is the receive-time origin: events' `received_s` minus it is the
    session time. `calibrations` gives each foot's insole calibration (default: the nominal
    calibration of the chosen parts). `min_chunk_s` batches samples for the analysis: 0 for a
    live session (every frame's samples at once), larger to replay a file faster. `sinks`
    hear the session's news in their order (see `live.sink`).
    """

    def __init__(
        self,
        *,
        session_start_s: float = 0.0,
        calibrations: Mapping[Foot, InsoleCalibration] | None = None,
        analyzer: SessionAnalyzer | None = None,
        sinks: Sequence[SessionSink] = (),
        min_chunk_s: float = 0.0,
    ) -> None:
        self.session_start_s = session_start_s
        self.calibrations = dict(calibrations or {})
        self.analyzer = analyzer or SessionAnalyzer()
        self.sinks = tuple(sinks)
        self.min_chunk_s = min_chunk_s
        self.tracks: dict[Foot, FootTrack] = {}
        self.alerts: list[Alert] = []
        self._result: SessionResult | None = None

    # -- events in -----------------------------------------------------------------------

    def on_event(self, event: FrameEvent) -> list[Alert]:
        """Take one received frame; return the alerts it made final."""
        t_s = event.received_s - self.session_start_s
        track = self._track(event.foot, event.frame)
        frame = event.frame
        placed: list[StreamFrame] = []
        if isinstance(frame, DataFrame):
            placed = track.stream.place(frame)
        elif isinstance(frame, StatusFrame):
            placed = track.stream.on_status(frame)
        news = FrameNews(
            foot=track.foot,
            index=track.index,
            t_s=t_s,
            raw=event.raw,
            frame=frame,
            link=event.insole.link,
            recovered=sum(1 for stream_frame in placed if stream_frame.late),
            missing=track.stream.missing(),
        )
        for sink in self.sinks:
            sink.frame(news)
        if isinstance(frame, StatusFrame):
            self._on_status(track, frame)
        elif isinstance(frame, Reply) and frame.opcode == OP_TIME_SYNC and frame.ok:
            self._on_time_sync(track, frame, t_s)
        alerts: list[Alert] = []
        for stream_frame in placed:
            if track.assembler.rate_hz is not None and not track.assembler.knows_boot(
                stream_frame.boot
            ):
                self._place_new_boot(track, stream_frame, t_s)
            if not stream_frame.late:
                track.aligner.add_frame(t_s, stream_frame.t_end_us / 1e6)
            alerts += self._analyse(track, track.assembler.add(stream_frame, t_s))
        return alerts

    def finish(self) -> SessionResult:
        """Release every held sample, close the analysis, and the session's result."""
        if self._result is None:
            for track in self.tracks.values():
                self._analyse(track, track.assembler.flush(), final=True)
            self._result = self.analyzer.finish()
            for sink in self.sinks:
                sink.finish(self._result)
        return self._result

    # -- per kind ------------------------------------------------------------------------

    def _track(self, foot: Foot, frame: Any) -> FootTrack:
        track = self.tracks.get(foot)
        if track is None:
            calibration = self.calibrations.get(foot)
            if calibration is None:
                pads = pads_from_mask(getattr(frame, "pad_mask", 0)) or PAD_IDS
                calibration = InsoleCalibration.default(pads, foot=foot)
            track = FootTrack(foot, len(self.tracks), calibration)
            self.tracks[foot] = track
            seen = InsoleSeen(foot, track.index, getattr(frame, "insole_tag", 0), calibration)
            for sink in self.sinks:
                sink.insole(seen)
        return track

    def _place_new_boot(self, track: FootTrack, first: StreamFrame, t_receive_s: float) -> None:
        """The insole restarted: its new clock says nothing of the time it was away, so place
        the new boot's first frame on the grid by its receive time (its last sample taken just
        before it arrived, as the clock envelope assumes) and align the new clock afresh."""
        assembler = track.assembler
        assert assembler.rate_hz is not None
        if track.t0_s is None:
            track.t0_s = track.aligner.to_host_s(assembler.t0_us / 1e6)
        first_sample_s = t_receive_s - first.frame.span_us / 1e6
        index = round((first_sample_s - track.t0_s) * assembler.rate_hz)
        assembler.start_boot(first.boot, first.t_first_us, index)
        track.aligner = ClockAligner()
        self._note({"event": "restart", "foot": track.foot, "t_s": round(t_receive_s, 3)})

    def _on_status(self, track: FootTrack, page: StatusFrame) -> None:
        if isinstance(page, StatusIdentity):
            self._note(
                {
                    "event": "identity",
                    "foot": track.foot,
                    "insole_id": page.insole_id,
                    "boot_id": page.boot_id,
                    "firmware": f"{page.fw_major}.{page.fw_minor}.{page.fw_patch}",
                }
            )
        elif isinstance(page, StatusTiming):
            ended = page.previous_boot_ended()
            if ended != track.previous_reset:
                track.previous_reset = ended
                if ended is not None:
                    logger.warning("%s insole: before this boot, %s", track.foot, ended)
                    self._note({"event": "insole_reset", "foot": track.foot, "why": ended})

    def _note(self, record: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.note(record)

    def _on_time_sync(self, track: FootTrack, reply: Reply, t_receive_s: float) -> None:
        device_us = track.stream.unwrap_device_time(int(reply.data["device_time_us"]))
        if device_us is None:
            return  # no status page 1 yet: the device clock is not tied to the stream
        # The token is the host's monotonic send time; put it on the session timeline.
        t_send_s = (
            host_time_from_token(int(reply.data["host_token"]), t_receive_s + self.session_start_s)
            - self.session_start_s
        )
        track.aligner.add_sync(t_send_s, t_receive_s, device_us / 1e6)

    def _analyse(
        self, track: FootTrack, blocks: list[SampleBlock], *, final: bool = False
    ) -> list[Alert]:
        assembler = track.assembler
        if assembler.rate_hz is None:
            return []
        if track.t0_s is None and blocks:
            # Fixed at the first release, whatever the batching, so replays place samples alike.
            track.t0_s = track.aligner.to_host_s(assembler.t0_us / 1e6)
        # Batch released samples up to `min_chunk_s`: the analysis costs per call, and gives
        # the same alerts for any chunking.
        track.batch += blocks
        batched = sum(len(block.counts) for block in track.batch)
        if not track.batch or (not final and batched < self.min_chunk_s * assembler.rate_hz):
            return []
        blocks = [
            SampleBlock(track.batch[0].first_index, np.concatenate([b.counts for b in track.batch]))
        ]
        track.batch = []
        assert track.t0_s is not None
        alerts: list[Alert] = []
        for block in blocks:
            n = len(block.counts)
            t_s = track.t0_s + (block.first_index + np.arange(n)) / assembler.rate_hz
            pressure = track.calibration.convert(block.counts, assembler.pads).pressure_by_pad()
            chunk = PressureChunk(track.foot, t_s, pressure, float(assembler.rate_hz))
            made = self.analyzer.feed(chunk)
            steps = self.analyzer.last_steps
            for sink in self.sinks:
                sink.chunk(chunk, steps)
            for alert in made:
                alerts.append(alert)
                self.alerts.append(alert)
                for sink in self.sinks:
                    sink.alert(alert)
        return alerts
