"""The state the live view shows: a session sink, updated as frames, chunks and alerts come in.

The terminal view, the `state` events of `--json` and the web page all show this one state, so
it sits before them in the runner's sinks.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from numbguard.analysis.cadence import CadenceTracker
from numbguard.live.sink import FrameNews, InsoleSeen, SessionSink
from numbguard.pads import FOOT_IDS, Foot, pads_from_mask
from numbguard.protocol.frames import StatusClock, StatusTiming
from numbguard.types import Alert, PressureChunk, StepMetrics

# Each pad's bar shows the peak of the last second: steady bars, not one chunk's flicker.
PEAK_HOLD_S = 1.0


@dataclass
class FootLiveState:
    """One insole as the runner sees it."""

    connected: bool = False  # a frame came within LINK_SILENT_S of the session's newest
    last_frame_s: float | None = None  # session time of the newest frame, None before any
    link: str = ""  # e.g. "ble NGL-1a2b", "serial /dev/ttyUSB0", "sim"
    battery_pct: int | None = None
    pads: tuple[str, ...] = ()
    pressure_kpa: dict[str, float] = field(default_factory=dict)  # recent peak per pad
    contact_s: float | None = None  # last step's contact time
    frames_received: int = 0
    frames_missing: int = 0  # gaps not (yet) filled
    frames_recovered: int = 0  # gaps filled by resend
    faults: tuple[str, ...] = ()  # pads the insole or the analysis flags as faulty
    previous_reset: str | None = None  # why the insole's previous boot ended, if it failed


# A foot whose frames stop for this long, while the session goes on, is shown as not
# connected. The insole sends several frames a second and BLE gives up a link after a 420 ms
# supervision timeout (docs/lab.md), so 2 s of silence is a lost link, not a slow one.
LINK_SILENT_S = 2.0


@dataclass
class LiveState(SessionSink):
    """What a live display shows of the session: per foot its link, battery, pads, recent
    peaks, contact time and faults; the cadence; the alerts in force."""

    t_s: float = 0.0  # session time of the newest frame
    cadence_spm: float | None = None
    feet: dict[Foot, FootLiveState] = field(
        default_factory=lambda: {foot: FootLiveState() for foot in FOOT_IDS}
    )
    active_alerts: dict[tuple[Foot, str], Alert] = field(default_factory=dict)
    _cadence: CadenceTracker = field(default_factory=CadenceTracker, repr=False)
    # Per foot, (session time, per-pad peak) of its recent chunks.
    _recent_peaks: dict[Foot, deque[tuple[float, dict[str, float]]]] = field(
        default_factory=dict, repr=False
    )

    # -- the session's news ------------------------------------------------------------------

    def insole(self, seen: InsoleSeen) -> None:
        self.feet[seen.foot].pads = seen.calibration.pad_ids

    def frame(self, news: FrameNews) -> None:
        foot_state = self.feet[news.foot]
        foot_state.last_frame_s = news.t_s
        foot_state.link = foot_state.link or news.link
        foot_state.frames_received += 1
        foot_state.frames_recovered += news.recovered
        foot_state.frames_missing = news.missing
        self.t_s = max(self.t_s, news.t_s)
        self.mark_silent_links(self.t_s)
        page = news.frame
        if isinstance(page, StatusClock):
            foot_state.battery_pct = page.battery_pct
        elif isinstance(page, StatusTiming):
            foot_state.faults = pads_from_mask(page.fault_open_mask | page.fault_short_mask)
            foot_state.previous_reset = page.previous_boot_ended()

    def chunk(self, chunk: PressureChunk, steps: Sequence[StepMetrics]) -> None:
        self._hold_peaks(chunk)
        end_s = float(chunk.t_s[-1])
        if steps:
            self.feet[chunk.foot].contact_s = steps[-1].contact_s
        self.cadence_spm = self._cadence.update(steps, end_s)

    def alert(self, alert: Alert) -> None:
        self.apply_alert(alert)

    # -- kept state ----------------------------------------------------------------------------

    def _hold_peaks(self, chunk: PressureChunk) -> None:
        with np.errstate(all="ignore"):
            peaks = {
                pad: float(np.nanmax(v)) if np.isfinite(v).any() else math.nan
                for pad, v in chunk.pressure_kpa.items()
            }
        end_s = float(chunk.t_s[-1])
        recent = self._recent_peaks.setdefault(chunk.foot, deque())
        recent.append((end_s, peaks))
        while recent[0][0] < end_s - PEAK_HOLD_S:
            recent.popleft()
        shown = self.feet[chunk.foot].pressure_kpa
        for pad in peaks:
            values = [p[pad] for _, p in recent if math.isfinite(p[pad])]
            shown[pad] = max(values) if values else math.nan

    def mark_silent_links(self, now_s: float, silent_after_s: float = LINK_SILENT_S) -> None:
        """Show a foot as not connected once its frames have stopped for `silent_after_s`
        of session time; its next frame shows it connected again."""
        for foot_state in self.feet.values():
            if foot_state.last_frame_s is not None:
                foot_state.connected = now_s - foot_state.last_frame_s <= silent_after_s

    def apply_alert(self, alert: Alert) -> None:
        """Keep the latest alert per foot and kind; an `info` alert clears its kind."""
        key = (alert.foot, alert.kind)
        if alert.severity == "info":
            self.active_alerts.pop(key, None)
        else:
            self.active_alerts[key] = alert
