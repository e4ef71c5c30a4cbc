"""One error tree for the whole package: every error numbguard raises is a `NumbguardError`.

Errors carry structured fields (`expected`, `got`, `where`) so a caller can act on them, and a
message that says what was expected and what came, e.g.
``data.csv line 7, column 3 (left.heel): not a number (expected a pressure in kPa; got 'abc')``.
"""

from __future__ import annotations

from typing import Literal


class NumbguardError(Exception):
    """Base of every error raised by numbguard."""


class InputError(NumbguardError):
    """Bad input: a file, a frame, an argument or a config value that does not fit its form."""

    def __init__(self, message: str, *, expected: str = "", got: str = "", where: str = "") -> None:
        text = f"{where}: {message}" if where else message
        details = "; ".join(
            part for part in (expected and f"expected {expected}", got and f"got {got}") if part
        )
        super().__init__(f"{text} ({details})" if details else text)
        self.message = message
        self.expected = expected
        self.got = got
        self.where = where


class DeviceError(NumbguardError):
    """An insole or a link to one did not behave: not found, refused, timed out, disconnected."""


# Why Bluetooth cannot be used at all (see `numbguard.transports.ble_availability`).
BluetoothUnavailableReason = Literal[
    "no-system-bus",  # no D-Bus system bus to reach bluetoothd through
    "bluetoothd-not-running",
    "no-adapter",
    "powered-off",
    "blocked",  # rfkill: a soft block (software) or a hard block (a switch or key)
    "no-permission",
    "unknown",
]


class BluetoothUnavailableError(DeviceError):
    """Bluetooth cannot be used on this computer at all: no adapter, bluetoothd stopped, the
    radio off or blocked, no permission. `reason` names the case, `problem` says what is
    missing and `fix` how to fix it; the message is one line with both."""

    def __init__(self, reason: BluetoothUnavailableReason, problem: str, fix: str) -> None:
        super().__init__(f"Bluetooth is not available: {problem} ({fix})")
        self.reason: BluetoothUnavailableReason = reason
        self.problem = problem
        self.fix = fix
