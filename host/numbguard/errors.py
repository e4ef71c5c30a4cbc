"""One error tree for the whole package: every error numbguard raises is a `NumbguardError`.

Two branches say whose fault it is: `InputError` (a file, an argument, a URL that does not fit
its form) and `DeviceError` (an insole, a link or an adapter that did not behave). The leaves
say what happened and carry its fields, so a caller can act on them without reading the text:

    NumbguardError
    ├── InputError(message, expected, got, where)
    │   ├── BadFile(path, line, column, expected, got)   a file's content does not fit
    │   ├── UnreadableFile(path, reason)                 a file that cannot be opened or read
    │   ├── FileExistsAlready(path)                      would overwrite a file
    │   ├── BadUrl(url, expected, got)                   a transport URL that does not parse
    │   ├── FrameError(reason, expected, got)            bytes that are not a valid frame
    │   │                                                (numbguard.protocol.errors)
    │   ├── BadValue(name, expected, got)                an option, argument or field given
    │   │                                                by the user or a caller does not fit
    │   ├── BadChunk(foot, what, expected, got)          a pressure chunk that does not fit
    │   │                                                its stream (foot, pads, rate, time)
    │   ├── BadCalibration(pad, expected, got)           constants, loads or readings that
    │   │                                                cannot make or apply a calibration
    │   └── ToolMissing(tool, purpose, install)          an external program not installed
    └── DeviceError
        ├── NoAdapter(detail)                            no usable adapter for the link
        │   └── BluetoothUnavailableError(reason, problem, fix)
        ├── DeviceNotFound(name_or_address, scanned_s)   looked for, not there
        ├── DeviceTimeout(device, operation, timeout_s)  no answer in time
        ├── LinkLost(device, after_s)                    a working link went away
        ├── WrongDevice(device, what, expected, got)     another insole, chip, firmware or
        │                                                pad set than the one expected
        ├── DeviceRefused(device, operation, detail)     the device, its stack or a flashing
        │                                                tool said no
        └── PortBusy(port, doing)                        a serial port another program holds

Every message says what was expected and what came, e.g.
``data.csv line 7, column 3 (left.heel): not a number (expected a pressure in kPa; got 'abc')``.
Code that catches a branch (``except DeviceError``) catches its leaves; code that raises
raises a leaf, never a bare branch (tests/test_errors.py reads the source to keep it so).
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

    def __init__(
        self,
        path: str | os.PathLike[str],
        reason: str,
        *,
        expected: str,
        message: str = "cannot open file",
    ) -> None:
        super().__init__(message, expected=expected, got=reason, where=str(path))
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


class BadValue(InputError):
    """A value given by the user or a caller that does not fit its form: an option, a function
    argument, a config key, a frame field to encode, an array of the wrong shape. `name` is
    the value's name as the giver knows it (``--web-port``, ``rate_hz``, ``samples``)."""

    def __init__(
        self, message: str, *, name: str, expected: str = "", got: str = "", where: str = ""
    ) -> None:
        super().__init__(message, expected=expected, got=got, where=where)
        self.name = name


class BadChunk(InputError):
    """A chunk of pressure samples that does not fit the stream it is fed to: another foot,
    other pads or sample rate than the chunks before, time that does not increase, columns of
    another length than its times, or a chunk after the stream was finished. `foot` is the
    chunk's foot (None when not known); `what` names the part at fault: ``foot``, ``pads``,
    ``sample_rate_hz``, ``t_s``, ``pressure_kpa`` or ``finished``."""

    def __init__(
        self, message: str, *, foot: str | None, what: str, expected: str = "", got: str = ""
    ) -> None:
        super().__init__(message, expected=expected, got=got)
        self.foot = foot
        self.what = what


class BadCalibration(InputError):
    """Calibration constants, a load table or the readings taken for one that cannot make or
    apply a calibration (a constant out of range, a loaded pad at tare, too few loads to
    fit, a pad the calibration does not have). `pad` names the pad at fault (None: the
    calibration as a whole)."""

    def __init__(
        self,
        message: str,
        *,
        pad: str | None = None,
        expected: str = "",
        got: str = "",
        where: str = "",
    ) -> None:
        super().__init__(message, expected=expected, got=got, where=where)
        self.pad = pad


class ToolMissing(InputError):
    """An external program or package numbguard runs is not installed: `tool` names it,
    `purpose` says what it was needed for and `install` how to install it; `detail` what
    the system said when it is there but cannot be run."""

    def __init__(self, tool: str, *, purpose: str, install: str, detail: str = "") -> None:
        got = detail or f"no {tool} found"
        super().__init__(f"cannot {purpose}", expected=f"{tool} ({install})", got=got)
        self.tool = tool
        self.purpose = purpose
        self.install = install


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
    """Another insole answered than the one expected (e.g. after a reconnection), or the
    device is not what it must be: another chip, another firmware or foot after flashing,
    several boards where one was expected. `what` says which; `hint` what to do."""

    def __init__(
        self,
        device: str,
        *,
        expected: str,
        got: str,
        what: str = "another insole answered",
        hint: str = "",
    ) -> None:
        text = f"{device}: {what} (expected {expected}; got {got})"
        super().__init__(f"{text}; {hint}" if hint else text)
        self.device = device
        self.expected = expected
        self.got = got
        self.what = what


class DeviceRefused(DeviceError):
    """The device, or the system's stack for it, refused `operation`; `detail` says how."""

    def __init__(self, device: str, operation: str, detail: str) -> None:
        super().__init__(f"{device}: {operation} failed: {detail}")
        self.device = device
        self.operation = operation
        self.detail = detail


class PortBusy(DeviceError):
    """A serial port another program holds (a serial monitor, a session), or, where the tool
    cannot tell, one busy or gone. `doing` is what numbguard was doing; `fix` what to do."""

    def __init__(
        self,
        port: str,
        got: str,
        *,
        doing: str = "",
        fix: str = "close the serial monitor or numbguard session that uses it",
    ) -> None:
        during = f" while {doing}" if doing else ""
        super().__init__(f"{port}: port busy{during}: expected a free port, got {got}; {fix}")
        self.port = port
        self.doing = doing


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
