"""Why Bluetooth cannot be used at all, from what bleak's BlueZ backend raised.

bleak reaches bluetoothd over the D-Bus system bus. What goes wrong before any insole is
involved, and what comes of it (bleak 3.1, `bleak/backends/bluezdbus/manager.py`):

- no system bus (a container, a minimal install): dbus_fast's connect raises
  FileNotFoundError or ConnectionRefusedError for the bus socket;
- bluetoothd not running: the bus answers org.freedesktop.DBus.Error.ServiceUnknown (or
  NameHasNoOwner) for org.bluez, as a `BleakDBusError`;
- not allowed on the bus (policy, a sandbox): org.freedesktop.DBus.Error.AccessDenied, or
  dbus_fast's AuthError, which bleak raises as `BleakBluetoothNotAvailableError`
  (DENIED_BY_SYSTEM);
- no adapter, or none with the LE central role: `BleakBluetoothNotAvailableError`
  NO_BLUETOOTH / NO_BLE_CENTRAL_ROLE;
- the adapter off: POWERED_OFF, or org.bluez.Error.NotReady; when rfkill blocks the radio
  (/sys/class/rfkill/*/soft and hard, the kernel's rfkill class), that is said instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
)

from numbguard.errors import BluetoothUnavailableError, BluetoothUnavailableReason

RFKILL_DIR: Final = Path("/sys/class/rfkill")

_START_BLUETOOTHD: Final = "start it: sudo systemctl start bluetooth"
_NO_PERMISSION_FIX: Final = (
    "run as a user allowed to use bluetoothd (on most systems any local user; check the D-Bus "
    "policy in /etc/dbus-1/system.d/bluetooth.conf, or the sandbox's Bluetooth permission)"
)


def rfkill_block(rfkill_dir: Path = RFKILL_DIR) -> str | None:
    """"hard" or "soft" when the kernel blocks every Bluetooth radio, else None."""
    blocks: list[str] = []
    for radio in sorted(rfkill_dir.glob("rfkill*")):
        try:
            if (radio / "type").read_text().strip() != "bluetooth":
                continue
            hard = (radio / "hard").read_text().strip() == "1"
            soft = (radio / "soft").read_text().strip() == "1"
        except OSError:
            continue
        blocks.append("hard" if hard else "soft" if soft else "")
    if not blocks or "" in blocks:
        return None
    return "hard" if "hard" in blocks else "soft"


def _powered_off(rfkill_dir: Path) -> BluetoothUnavailableError:
    block = rfkill_block(rfkill_dir)
    if block == "hard":
        return BluetoothUnavailableError(
            "blocked", "the Bluetooth radio is switched off by a hardware switch or key",
            "turn it on with the switch or the Fn key",
        )  # fmt: skip
    if block == "soft":
        return BluetoothUnavailableError(
            "blocked", "the Bluetooth radio is blocked (rfkill)", "run: rfkill unblock bluetooth"
        )
    return BluetoothUnavailableError(
        "powered-off", "the Bluetooth adapter is off", "turn it on: bluetoothctl power on"
    )


_Case = tuple[BluetoothUnavailableReason, str, str]  # reason, problem, fix

_REASONS: Final[dict[BleakBluetoothNotAvailableReason, _Case]] = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: (
        "no-adapter", "no Bluetooth adapter found",
        "plug in a Bluetooth 4.0+ (LE) adapter, or check `bluetoothctl list`",
    ),
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE: (
        "no-adapter", "no Bluetooth adapter here can act as an LE central",
        "use a Bluetooth 4.0+ (LE) adapter",
    ),
    BleakBluetoothNotAvailableReason.DENIED_BY_USER: (
        "no-permission", "Bluetooth access was denied", _NO_PERMISSION_FIX,
    ),
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM: (
        "no-permission", "the system denied access to bluetoothd", _NO_PERMISSION_FIX,
    ),
    BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN: (
        "no-permission", "access to Bluetooth was denied", _NO_PERMISSION_FIX,
    ),
}  # fmt: skip

_DBUS_NAMES: Final[dict[str, _Case]] = {
    "org.freedesktop.DBus.Error.ServiceUnknown": (
        "bluetoothd-not-running", "bluetoothd (the Bluetooth service) is not running",
        _START_BLUETOOTHD,
    ),
    "org.freedesktop.DBus.Error.NameHasNoOwner": (
        "bluetoothd-not-running", "bluetoothd (the Bluetooth service) is not running",
        _START_BLUETOOTHD,
    ),
    "org.freedesktop.DBus.Error.AccessDenied": (
        "no-permission", "the system denied access to bluetoothd", _NO_PERMISSION_FIX,
    ),
}  # fmt: skip


def bluetooth_unavailable(
    error: BaseException, *, rfkill_dir: Path = RFKILL_DIR
) -> BluetoothUnavailableError | None:
    """The reason Bluetooth cannot be used at all behind `error`, or None when `error` is
    about something else (an insole, a link)."""
    if isinstance(error, BleakBluetoothNotAvailableError):
        if error.reason == BleakBluetoothNotAvailableReason.POWERED_OFF:
            return _powered_off(rfkill_dir)
        unknown: _Case = ("unknown", f"not usable: {error.args[0]}", "check `bluetoothctl show`")
        return BluetoothUnavailableError(*_REASONS.get(error.reason, unknown))
    if isinstance(error, BleakDBusError):
        if error.dbus_error == "org.bluez.Error.NotReady":
            return _powered_off(rfkill_dir)
        known = _DBUS_NAMES.get(error.dbus_error)
        if known is not None:
            return BluetoothUnavailableError(*known)
        return None
    if isinstance(error, PermissionError):
        return BluetoothUnavailableError("no-permission", f"no access to the system bus ({error})",
                                         _NO_PERMISSION_FIX)  # fmt: skip
    if isinstance(error, (FileNotFoundError, ConnectionRefusedError)):
        return BluetoothUnavailableError(
            "no-system-bus", "there is no D-Bus system bus to reach bluetoothd through",
            "install and start dbus and bluez (e.g. apt install bluez), or check "
            "DBUS_SYSTEM_BUS_ADDRESS",
        )  # fmt: skip
    return None
