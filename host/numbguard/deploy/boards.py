"""Which serial port is the board: ESP32 boards reach USB through a known USB-serial bridge.

`find_boards` picks, from pyserial's port list, the ports whose USB vendor and product ids
belong to the bridges ESP32 boards use; `choose_port` turns that and the user's ``--port``
into one port or a clear error; `check_port_free` opens the port exclusively, so a serial
monitor or a running `numbguard run` is named as the problem before esptool or mpremote fail
in their own words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import serial
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from numbguard.errors import DeviceNotFound, DeviceRefused, PortBusy, WrongDevice

# (vendor id, product id or None for any product of the vendor) -> bridge name
USB_BRIDGES: Final[dict[tuple[int, int | None], str]] = {
    (0x10C4, 0xEA60): "CP210x",
    (0x10C4, 0xEA70): "CP2105",
    (0x10C4, 0xEA71): "CP2108",
    (0x1A86, 0x7523): "CH340",
    (0x1A86, 0x55D3): "CH343",
    (0x1A86, 0x55D4): "CH9102",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6010): "FTDI FT2232",
    (0x0403, 0x6014): "FTDI FT232H",
    (0x0403, 0x6015): "FTDI FT231X",
    (0x303A, None): "Espressif USB",
}
BRIDGE_NAMES: Final = "CP210x, CH340/CH343/CH9102, FTDI or Espressif native USB"


@dataclass(frozen=True)
class DetectedBoard:
    port: str
    bridge: str
    vid: int
    pid: int
    serial_number: str | None = None

    def describe(self) -> str:
        number = f", serial {self.serial_number}" if self.serial_number else ""
        return f"{self.port} ({self.bridge} {self.vid:04X}:{self.pid:04X}{number})"


def bridge_of(vid: int | None, pid: int | None) -> str | None:
    if vid is None or pid is None:
        return None
    return USB_BRIDGES.get((vid, pid)) or USB_BRIDGES.get((vid, None))


def find_boards(ports: Iterable[ListPortInfo] | None = None) -> list[DetectedBoard]:
    """The ports that look like an ESP32 board (default: every port pyserial lists now)."""
    listed = list_ports.comports() if ports is None else ports
    boards = []
    for info in listed:
        bridge = bridge_of(info.vid, info.pid)
        if bridge is not None:
            assert info.vid is not None and info.pid is not None
            boards.append(
                DetectedBoard(info.device, bridge, info.vid, info.pid, info.serial_number)
            )
    return sorted(boards, key=lambda board: board.port)


def choose_port(port: str | None, boards: list[DetectedBoard]) -> str:
    """The port to use: ``--port`` when given, else the one board found."""
    if port:
        return port
    if not boards:
        raise DeviceNotFound(
            "a board on USB", None,
            f"expected a serial port from a {BRIDGE_NAMES} bridge; got none (is the cable a "
            "data cable, the board powered, the driver loaded?), or name the port with --port",
        )  # fmt: skip
    if len(boards) > 1:
        found = ", ".join(board.describe() for board in boards)
        raise WrongDevice(
            "USB", what="several boards found", expected="one", got=f"{len(boards)}: {found}",
            hint="choose one with --port",
        )  # fmt: skip
    return boards[0].port


def check_port_free(port: str) -> None:
    """Open `port` exclusively and close it again; raise `PortBusy` if another program holds it."""
    try:
        handle = serial.serial_for_url(port, do_not_open=True, exclusive=True)
        handle.open()
    except (serial.SerialException, OSError, ValueError) as error:
        text = str(error)
        if "exclusive" in text.lower() or "busy" in text.lower():
            raise PortBusy(port, f"one another program holds ({text})") from error
        raise DeviceRefused(port, "opening the port", text) from error
    with contextlib.suppress(Exception):
        handle.close()
