"""The error tree: leaves sit under the branch a caller catches, carry their fields, and say
in one line what was expected and what came. Each leaf is also provoked where it is raised
(tests/transports, tests/recording, tests/io, tests/cli/test_front_door.py)."""

from __future__ import annotations

import pytest

from numbguard.errors import (
    BadFile,
    BadUrl,
    BluetoothUnavailableError,
    DeviceError,
    DeviceNotFound,
    DeviceRefused,
    DeviceTimeout,
    FileExistsAlready,
    InputError,
    LinkLost,
    NoAdapter,
    NumbguardError,
    UnreadableFile,
    WrongDevice,
)

LEAVES: list[tuple[NumbguardError, type[NumbguardError], str]] = [
    (BadFile("not a number", path="a.csv", line=7, column=3, column_name="left.heel",
             expected="a pressure in kPa", got="'abc'"), InputError,
     "a.csv line 7, column 3 (left.heel): not a number (expected a pressure in kPa; got 'abc')"),
    (UnreadableFile("a.csv", "No such file", expected="a CSV file"), InputError,
     "a.csv: cannot open file (expected a CSV file; got No such file)"),
    (FileExistsAlready("s.ngrec", "recording file"), InputError,
     "recording file exists already (expected a new file name; got s.ngrec)"),
    (BadUrl("bad pair option", url="ble://?pair=2", expected="pair=0 or pair=1", got="2"),
     InputError, "ble://?pair=2: bad pair option (expected pair=0 or pair=1; got 2)"),
    (NoAdapter("no USB serial adapter"), DeviceError, "no USB serial adapter"),
    (BluetoothUnavailableError("no-adapter", "no adapter", "plug one in"), NoAdapter,
     "Bluetooth is not available: no adapter (plug one in)"),
    (DeviceNotFound("left insole on ble://", 10.0, "heard: nothing"), DeviceError,
     "left insole on ble://: not found in 10 s: heard: nothing"),
    (DeviceTimeout("/dev/ttyUSB0", "identity page", 3.0), DeviceError,
     "/dev/ttyUSB0: no identity page in 3 s"),
    (DeviceTimeout("AA", "reply to control opcode 5 (request 9)", 0.5, attempts=3), DeviceError,
     "AA: no reply to control opcode 5 (request 9) after 3 attempts of 0.5 s"),
    (LinkLost("AA", 60.0, "not in range"), DeviceError,
     "AA: link lost and not back within 60 s (not in range)"),
    (WrongDevice("AA", expected="insole 1", got="insole 2"), DeviceError,
     "AA: another insole answered (expected insole 1; got insole 2)"),
    (DeviceRefused("AA", "control write", "ATT error 0x05"), DeviceError,
     "AA: control write failed: ATT error 0x05"),
]  # fmt: skip


@pytest.mark.parametrize(("error", "branch", "text"), LEAVES, ids=lambda v: type(v).__name__)
def test_each_leaf_is_caught_by_its_branch_and_says_what_happened(
    error: NumbguardError, branch: type[NumbguardError], text: str
) -> None:
    assert isinstance(error, branch) and isinstance(error, NumbguardError)
    assert str(error) == text
    assert "\n" not in str(error)


def test_the_leaves_carry_their_fields() -> None:
    bad = BadFile("cut", path="a.csv", line=4, expected="3 cells", got="2")
    assert (bad.path, bad.line, bad.column, bad.expected, bad.got) == (
        "a.csv",
        4,
        None,
        "3 cells",
        "2",
    )
    timeout = DeviceTimeout("AA", "frame", 5.0)
    assert (timeout.device, timeout.operation, timeout.timeout_s) == ("AA", "frame", 5.0)
    lost = LinkLost("AA")
    assert (lost.device, lost.after_s) == ("AA", None)
    missing = DeviceNotFound("/dev/x", None)
    assert (missing.name_or_address, missing.scanned_s, str(missing)) == (
        "/dev/x",
        None,
        "/dev/x: not found",
    )
    unavailable = BluetoothUnavailableError("powered-off", "the adapter is off", "power it on")
    assert unavailable.detail == "the adapter is off" and unavailable.reason == "powered-off"
