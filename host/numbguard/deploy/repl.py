"""Get the board to MicroPython's prompt before mpremote talks to it.

The insole firmware turns Ctrl-C off (its serial frames are binary), so a board already
running it ignores mpremote's interrupt. A reset through the USB bridge's DTR/RTS lines (the
auto-reset circuit esptool uses) restarts it, and Ctrl-C sent while it boots lands before
main.py turns the interrupt off. A board with only MicroPython answers the first Ctrl-C.
"""

from __future__ import annotations

import contextlib
import time
from typing import Final

import serial

from numbguard.errors import DeviceRefused, DeviceTimeout, LinkLost

PROMPTS: Final = (b">>> ", b"raw REPL; CTRL-B to exit")
WAKE_TIMEOUT_S: Final = 6.0
INTERRUPT_PERIOD_S: Final = 0.05
RESET_PULSE_S: Final = 0.1


def _pulse_reset(handle: serial.Serial) -> bool:
    """EN low then high with IO0 high: a normal boot. False where the lines do not exist
    (a pty, some adapters)."""
    try:
        handle.dtr = False
        handle.rts = True
        time.sleep(RESET_PULSE_S)
        handle.rts = False
    except OSError:
        return False
    return True


def wake_repl(
    port: str, *, timeout_s: float = WAKE_TIMEOUT_S, reset: bool = True, quiet_s: float = 0.0
) -> None:
    """Interrupt whatever runs on the board until it shows a MicroPython prompt.

    For `quiet_s` first only Enter is sent: MicroPython just written by esptool creates its
    filesystem on the first boot, which an interrupt must not cut short.
    """
    try:
        handle = serial.serial_for_url(port, baudrate=115200, timeout=INTERRUPT_PERIOD_S,
                                       exclusive=True)  # fmt: skip
    except (serial.SerialException, OSError, ValueError) as error:
        raise DeviceRefused(port, "opening the port", str(error)) from error
    seen = b""
    try:
        if reset:
            _pulse_reset(handle)
        start = time.monotonic()
        deadline = start + quiet_s + timeout_s
        while time.monotonic() < deadline:
            handle.write(b"\r" if time.monotonic() - start < quiet_s else b"\r\x03")
            seen = (seen + handle.read(4096))[-512:]
            if any(prompt in seen for prompt in PROMPTS):
                return
    except (serial.SerialException, OSError) as error:
        raise LinkLost(port, None, f"while waking the REPL: {error}") from error
    finally:
        with contextlib.suppress(Exception):
            handle.close()
    raise DeviceTimeout(
        port, "MicroPython prompt '>>>' after Ctrl-C", quiet_s + timeout_s,
        detail=f"got {seen[-60:]!r}; if the insole firmware is running and the board has no "
        "auto-reset, hold BOOT, press EN, and flash with --micropython FIRMWARE.bin",
    )  # fmt: skip
