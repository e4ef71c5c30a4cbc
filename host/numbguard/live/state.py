"""The state the live view shows, updated by the session as frames, steps and alerts come in."""

from __future__ import annotations

from dataclasses import dataclass, field

from numbguard.analysis.types import Alert
from numbguard.pads import FOOT_IDS, Foot


@dataclass
class FootLiveState:
    """One insole as the runner sees it."""

    connected: bool = False
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


@dataclass
class LiveState:
    t_s: float = 0.0
    cadence_spm: float | None = None
    feet: dict[Foot, FootLiveState] = field(
        default_factory=lambda: {foot: FootLiveState() for foot in FOOT_IDS}
    )
    active_alerts: dict[tuple[Foot, str], Alert] = field(default_factory=dict)

    def apply_alert(self, alert: Alert) -> None:
        """Keep the latest alert per foot and kind; an `info` alert clears its kind."""
        key = (alert.foot, alert.kind)
        if alert.severity == "info":
            self.active_alerts.pop(key, None)
        else:
            self.active_alerts[key] = alert
