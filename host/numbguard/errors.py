"""One error tree for the whole package: every error numbguard raises is a `NumbguardError`.

Two branches say whose fault it is: `InputError` (a file, an argument, a URL that does not fit
its form) and `DeviceError` (an insole, a link or an adapter that did not behave). The leaves
say what happened and carry its fields, so a caller can act on them without reading the text:

    NumbguardError
    ├── InputError(message, expected, got, where)
    │   ├── BadFile(path, line, column, expected, got)   a file's content does not fit
    │   ├── UnreadableFile(path, reason)                 a file that cannot be opened or read
    │   ├── FileExistsAlready(path)                      would overwrite a file
    │   └── BadUrl(url, expected, got)                   a transport URL that does not parse
    └── DeviceError
        ├── NoAdapter(detail)                            no usable adapter for the link
        │   └── BluetoothUnavailableError(reason, problem, fix)
        ├── DeviceNotFound(name_or_address, scanned_s)   looked for, not there
        ├── DeviceTimeout(device, operation, timeout_s)  no answer in time
        ├── LinkLost(device, after_s)                    a working link went away
        ├── WrongDevice(device, expected, got)           another insole answered
        └── DeviceRefused(device, operation, detail)     the device or its stack said no

Every message says what was expected and what came, e.g.
``data.csv line 7, column 3 (left.heel): not a number (expected a pressure in kPa; got 'abc')``.
Code that catches a branch (``except DeviceError``) catches its leaves.
"""

from __future__ import annotations

import os
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


class BadFile(InputError):
    """A file whose content does not fit its format. `line` and `column` are 1-based; None
    when the fault is the file as a whole (no header, wrong magic bytes)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str],
        line: int | None = None,
        column: int | None = None,
        column_name: str = "",
        expected: str = "",
        got: str = "",
    ) -> None:
        where = str(path)
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}" + (f" ({column_name})" if column_name else "")
        super().__init__(message, expected=expected, got=got, where=where)
        self.path = str(path)
        self.line = line
        self.column = column


class UnreadableFile(InputError):
    """A file that cannot be opened or read at all; `reason` is what the system said."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, expected: str) -> None:
        super().__init__("cannot open file", expected=expected, got=reason, where=str(path))
        self.path = str(path)
        self.reason = reason


class FileExistsAlready(InputError):
    """Writing would replace a file that is there already."""

    def __init__(self, path: str | os.PathLike[str], what: str) -> None:
        super().__init__(f"{what} exists already", expected="a new file name", got=str(path))
        self.path = str(path)


class BadUrl(InputError):
    """A transport URL that does not parse or names an unknown option."""

    def __init__(self, message: str, *, url: str, expected: str, got: str) -> None:
        super().__init__(message, expected=expected, got=got, where=url)
        self.url = url


class DeviceError(NumbguardError):
    """An insole or a link to one did not behave: not found, refused, timed out, disconnected."""


class NoAdapter(DeviceError):
    """The computer has no usable adapter for the link (Bluetooth radio, USB serial)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class DeviceNotFound(DeviceError):
    """An insole or port looked for and not there. `scanned_s` is how long a scan listened
    (None: nothing to scan, e.g. a serial port path that does not exist)."""

    def __init__(self, name_or_address: str, scanned_s: float | None, detail: str = "") -> None:
        looked = f" in {scanned_s:g} s" if scanned_s is not None else ""
        text = f"{name_or_address}: not found{looked}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.name_or_address = name_or_address
        self.scanned_s = scanned_s
        self.detail = detail


class DeviceTimeout(DeviceError):
    """`device` gave no answer to `operation` within `timeout_s` (per attempt)."""

    def __init__(
        self, device: str, operation: str, timeout_s: float, *, attempts: int = 1, detail: str = ""
    ) -> None:
        tries = f" after {attempts} attempts of {timeout_s:g} s" if attempts > 1 else ""
        text = f"{device}: no {operation}" + (tries or f" in {timeout_s:g} s")
        super().__init__(f"{text} ({detail})" if detail else text)
        self.device = device
        self.operation = operation
        self.timeout_s = timeout_s
        self.attempts = attempts


class LinkLost(DeviceError):
    """A working link to `device` went away. `after_s` is how long reconnecting was tried
    before giving up (None: the transport does not reconnect, or has not yet tried)."""

    def __init__(self, device: str, after_s: float | None = None, detail: str = "") -> None:
        text = f"{device}: link lost"
        if after_s is not None:
            text += f" and not back within {after_s:g} s"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.device = device
        self.after_s = after_s
        self.detail = detail


class WrongDevice(DeviceError):
    """Another insole answered than the one expected (e.g. after a reconnection)."""

    def __init__(self, device: str, *, expected: str, got: str) -> None:
        super().__init__(f"{device}: another insole answered (expected {expected}; got {got})")
        self.device = device
        self.expected = expected
        self.got = got


class DeviceRefused(DeviceError):
    """The device, or the system's stack for it, refused `operation`; `detail` says how."""

    def __init__(self, device: str, operation: str, detail: str) -> None:
        super().__init__(f"{device}: {operation} failed: {detail}")
        self.device = device
        self.operation = operation
        self.detail = detail


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


class BluetoothUnavailableError(NoAdapter):
    """Bluetooth cannot be used on this computer at all: no adapter, bluetoothd stopped, the
    radio off or blocked, no permission. `reason` names the case, `problem` says what is
    missing and `fix` how to fix it; the message is one line with both."""

    def __init__(self, reason: BluetoothUnavailableReason, problem: str, fix: str) -> None:
        super().__init__(f"Bluetooth is not available: {problem} ({fix})")
        self.detail = problem
        self.reason: BluetoothUnavailableReason = reason
        self.problem = problem
        self.fix = fix
