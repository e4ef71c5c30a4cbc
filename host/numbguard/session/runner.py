"""The session runner: every received frame through to alerts, the live state and the recording.

`SessionRunner.on_event` is synchronous and uses only the event (its bytes and receive time),
so the same frames give the same alerts whether they come live from insoles or from a
recording: replay is the same runner fed from a file.

The runner keeps its own `InsoleStream` per foot although a live link has one too (to ask for
resends): placing a frame costs microseconds, and a replay, which has no link, then places the
recorded frames exactly as the live session did.

Per foot: frames are placed on the insole's stream (64-bit sequence and time, resets), the
clock aligner learns the insole's clock from frames and time-sync replies, the assembler turns
placed frames into a time-ordered sample grid, the insole's calibration turns counts into kPa,
and the session analyzer turns kPa into steps and alerts.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numbguard.analysis.cadence import CadenceTracker
from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult, alert_to_json
from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.store import calibration_to_dict
from numbguard.live.state import LiveState
from numbguard.pads import PAD_IDS, Foot, pads_from_mask
from numbguard.protocol.constants import OP_TIME_SYNC
from numbguard.protocol.frames import (
    DataFrame,
    Reply,
    StatusClock,
    StatusFrame,
    StatusIdentity,
    StatusTiming,
)
from numbguard.protocol.stream import InsoleStream, StreamFrame
from numbguard.protocol.time_sync import ClockAligner, host_time_from_token
from numbguard.recording import Channel, RecordingWriter
from numbguard.session.assembler import SampleAssembler, SampleBlock
from numbguard.transports.base import FrameEvent
from numbguard.types import Alert, PressureChunk

PEAK_HOLD_S = 1.0

AlertCallback = Callable[[Alert], None]
ChunkCallback = Callable[[PressureChunk], None]

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
    # (session time, per-pad peak) of recent chunks: the live view shows the last second's peak
    recent_peaks: deque[tuple[float, dict[str, float]]] = field(default_factory=deque)
    batch: list[SampleBlock] = field(default_factory=list)  # released, not yet analysed


class SessionRunner:
    """Feed it every `FrameEvent` of a session in arrival order; `finish()` at the end.

    `session_start_s` is the receive-time origin: events' `received_s` minus it is the
    session time. `calibrations` gives each foot's insole calibration (default: the nominal
    calibration of the chosen parts). `min_chunk_s` batches samples for the analysis: 0 for a
    live session (every frame's samples at once), larger to replay a file faster.
    """

    def __init__(
        self,
        *,
        session_start_s: float = 0.0,
        channel: Channel = Channel.SIM,
        calibrations: Mapping[Foot, InsoleCalibration] | None = None,
        analyzer: SessionAnalyzer | None = None,
        recorder: RecordingWriter | None = None,
        state: LiveState | None = None,
        on_alert: AlertCallback | None = None,
        on_chunk: ChunkCallback | None = None,
        min_chunk_s: float = 0.0,
    ) -> None:
        self.session_start_s = session_start_s
        self.channel = channel
        self.calibrations = dict(calibrations or {})
        self.analyzer = analyzer or SessionAnalyzer()
        self.recorder = recorder
        self.state = state or LiveState()
        self.on_alert = on_alert
        self.on_chunk = on_chunk
        self.min_chunk_s = min_chunk_s
        self.tracks: dict[Foot, FootTrack] = {}
        self.cadence = CadenceTracker()
        self.alerts: list[Alert] = []
        self._result: SessionResult | None = None

    # -- events in -----------------------------------------------------------------------

    def on_event(self, event: FrameEvent) -> list[Alert]:
        """Take one received frame; return the alerts it made final."""
        t_s = event.received_s - self.session_start_s
        track = self._track(event.foot, event.frame)
        if self.recorder is not None:
            self.recorder.write_frame(track.index, self.channel, t_s, event.raw)
        foot_state = self.state.feet[event.foot]
        foot_state.connected = True
        foot_state.last_frame_s = t_s
        foot_state.link = foot_state.link or event.insole.link
        foot_state.frames_received += 1
        self.state.t_s = max(self.state.t_s, t_s)
        frame = event.frame
        placed: list[StreamFrame] = []
        if isinstance(frame, DataFrame):
            placed = track.stream.place(frame)
        elif isinstance(frame, StatusFrame):
            placed = track.stream.on_status(frame)
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
            else:
                foot_state.frames_recovered += 1
            alerts += self._analyse(track, track.assembler.add(stream_frame, t_s))
        foot_state.frames_missing = track.stream.missing()
        return alerts

    def finish(self) -> SessionResult:
        """Release every held sample, close the analysis, and the session's result."""
        if self._result is None:
            for track in self.tracks.values():
                self._analyse(track, track.assembler.flush(), final=True)
            self._result = self.analyzer.finish()
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
            self.state.feet[foot].pads = calibration.pad_ids
            if self.recorder is not None:
                self.recorder.add_insole(
                    {
                        "index": track.index,
                        "foot": foot,
                        "insole_tag": getattr(frame, "insole_tag", 0),
                        "calibration": calibration_to_dict(calibration),
                    }
                )
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
        if self.recorder is not None:
            self.recorder.write_event(
                {"event": "restart", "foot": track.foot, "t_s": round(t_receive_s, 3)}
            )

    def _on_status(self, track: FootTrack, page: StatusFrame) -> None:
        foot_state = self.state.feet[track.foot]
        if isinstance(page, StatusIdentity) and self.recorder is not None:
            self.recorder.write_event(
                {
                    "event": "identity",
                    "foot": track.foot,
                    "insole_id": page.insole_id,
                    "boot_id": page.boot_id,
                    "firmware": f"{page.fw_major}.{page.fw_minor}.{page.fw_patch}",
                }
            )
        elif isinstance(page, StatusClock):
            foot_state.battery_pct = page.battery_pct
        elif isinstance(page, StatusTiming):
            faulty = page.fault_open_mask | page.fault_short_mask
            foot_state.faults = pads_from_mask(faulty)
            ended = page.previous_boot_ended()
            if ended != foot_state.previous_reset:
                foot_state.previous_reset = ended
                if ended is not None:
                    logger.warning("%s insole: before this boot, %s", track.foot, ended)
                    if self.recorder is not None:
                        self.recorder.write_event(
                            {"event": "insole_reset", "foot": track.foot, "why": ended}
                        )

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
            if self.on_chunk is not None:
                self.on_chunk(chunk)
            self._show_peaks(track, chunk)
            for alert in self.analyzer.feed(chunk):
                alerts.append(alert)
                self.alerts.append(alert)
                self.state.apply_alert(alert)
                if self.recorder is not None:
                    self.recorder.write_alert(alert_to_json(alert))
                if self.on_alert is not None:
                    self.on_alert(alert)
            self._show_steps(track, float(t_s[-1]))
        return alerts

    def _show_peaks(self, track: FootTrack, chunk: PressureChunk) -> None:
        """Per pad, the peak of the last `PEAK_HOLD_S`: steady bars, not one chunk's flicker."""
        with np.errstate(all="ignore"):
            peaks = {
                pad: float(np.nanmax(v)) if np.isfinite(v).any() else math.nan
                for pad, v in chunk.pressure_kpa.items()
            }
        end_s = float(chunk.t_s[-1])
        track.recent_peaks.append((end_s, peaks))
        while track.recent_peaks[0][0] < end_s - PEAK_HOLD_S:
            track.recent_peaks.popleft()
        shown = self.state.feet[track.foot].pressure_kpa
        for pad in peaks:
            values = [p[pad] for _, p in track.recent_peaks if math.isfinite(p[pad])]
            shown[pad] = max(values) if values else math.nan

    def _show_steps(self, track: FootTrack, now_s: float) -> None:
        steps = self.analyzer.last_steps
        if steps:
            self.state.feet[track.foot].contact_s = steps[-1].contact_s
        self.state.cadence_spm = self.cadence.update(steps, now_s)
