"""After the reset: the insole's status page 0, read over serial, says what is running.

It carries the firmware version, the insole id and, in every frame header, the foot; its
flags say whether the config file was loaded from flash. The board needs a moment to boot
(and a native-USB board to come back on the bus), so opening the port is retried until a
deadline.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final

from numbguard.errors import DeviceError, DeviceTimeout
from numbguard.pads import Foot
from numbguard.protocol.constants import FLAG_CONFIG_LOADED
from numbguard.protocol.frames import StatusIdentity
from numbguard.transports.serial import SerialTransport

BOOT_TIMEOUT_S: Final = 15.0
RETRY_PAUSE_S: Final = 0.5


@dataclass(frozen=True)
class RunningFirmware:
    version: tuple[int, int, int]
    foot: Foot
    insole_id: int
    config_loaded: bool

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


async def _identity_page(port: str, timeout_s: float) -> StatusIdentity:
    async with SerialTransport(f"serial://{port}", [port]) as transport:
        deadline = time.monotonic() + timeout_s
        while (left_s := deadline - time.monotonic()) > 0:
            event = await transport.next_event(left_s)
            if event is None:
                break
            if isinstance(event.frame, StatusIdentity):
                return event.frame
    raise DeviceTimeout(port, "status page 0", timeout_s)


async def read_running_firmware(
    port: str, *, boot_timeout_s: float = BOOT_TIMEOUT_S
) -> RunningFirmware:
    """Status page 0 of the insole on `port`, waiting up to `boot_timeout_s` for it to boot."""
    deadline = time.monotonic() + boot_timeout_s
    last_error: DeviceError | None = None
    while time.monotonic() < deadline:
        try:
            page = await _identity_page(port, max(0.5, deadline - time.monotonic()))
        except DeviceError as error:
            last_error = error
            await asyncio.sleep(RETRY_PAUSE_S)
            continue
        return RunningFirmware(
            (page.fw_major, page.fw_minor, page.fw_patch), page.foot, page.insole_id,
            bool(page.flags & FLAG_CONFIG_LOADED),
        )  # fmt: skip
    raise DeviceTimeout(
        port, "status page 0 from the insole after the reset", boot_timeout_s,
        detail=f"firmware version not read: {last_error}; is main.py running? see its output "
        "with `mpremote connect PORT repl`",
    )  # fmt: skip
