"""What a transport yields: a `FrameEvent` per frame, naming the insole that sent it.

Its own module so that both `link` (which builds the events) and `base` (which queues them
and holds the links) import it, and neither imports the other's importer.
"""

from __future__ import annotations

from dataclasses import dataclass

from numbguard.pads import Foot
from numbguard.protocol.frames import Frame


@dataclass(frozen=True)
class InsoleIdentity:
    """Who sent a frame. `insole_id` and `boot_id` are known once status page 0 arrived."""

    link: str  # where the insole is reached: a BLE address or a serial port path
    foot: Foot
    insole_tag: int  # low 7 bits of the insole id, from every frame header
    insole_id: int | None = None
    boot_id: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class FrameEvent:
    """One frame received from an insole.

    `raw` is the frame's exact bytes (one notification on BLE, one COBS-decoded frame on
    serial), so a recording can replay it through the same decoder. `late` marks a data frame
    that arrived after a later one: a frame recovered by RESEND, not a lost one.
    """

    insole: InsoleIdentity
    frame: Frame
    raw: bytes
    received_s: float  # host time.monotonic() when the bytes arrived
    late: bool = False

    @property
    def foot(self) -> Foot:
        return self.insole.foot
