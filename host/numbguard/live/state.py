"""The state the live view shows, updated by the session as frames, steps and alerts come in."""

from __future__ import annotations

from dataclasses import dataclass, field

from numbguard.pads import FOOT_IDS, Foot
from numbguard.types import Alert


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
class LiveState:
    t_s: float = 0.0
    cadence_spm: float | None = None
    feet: dict[Foot, FootLiveState] = field(
        default_factory=lambda: {foot: FootLiveState() for foot in FOOT_IDS}
    )
    active_alerts: dict[tuple[Foot, str], Alert] = field(default_factory=dict)

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
