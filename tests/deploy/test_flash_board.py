"""`flash` against a simulated board: the real MicroPython unix port on a pty, driven by the
real mpremote, booting the copied firmware after the reset (tests/deploy/sim_board.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import serial
from deploy_sims import SimBoard, board_argv

from numbguard.deploy import FlashOptions, flash
from numbguard.deploy.board_files import board_hashes, copy_files, local_hashes, verify_hashes
from numbguard.deploy.bundle import default_firmware_dir, load_bundle
from numbguard.deploy.compile import MAIN_STUB, compile_firmware
from numbguard.deploy.repl import wake_repl
from numbguard.errors import DeviceError, InputError
from numbguard_lab.pty_peer import PtyPeer

STAGES = ["port", "repl", "config", "clean", "copy", "verify", "reset", "confirm"]


def stage_titles(lines: list[str]) -> list[str]:
    return [line.split("] ", 1)[1].split(":")[0] for line in lines]


def test_flash_copies_the_firmware_sets_foot_and_name_and_reads_the_version(
    board: SimBoard, tmp_path: Path
) -> None:
    (board.fs / "ring.py").write_text("# an older flash's source: it would shadow ring.mpy\n")
    lines: list[str] = []
    result = flash(FlashOptions(foot="right", name="runner R", port=board.port), lines.append)
    assert stage_titles(lines) == STAGES
    bundle = load_bundle()
    compiled = compile_firmware(bundle.files, tmp_path / "compiled")
    assert set(compiled) == {"main.py", "insole_main.mpy"} | {
        name[:-3] + ".mpy" for name in bundle.files if name != "main.py"}
    for name, path in compiled.items():  # the compiled firmware, byte for byte
        assert (board.fs / name).read_bytes() == path.read_bytes(), name
    # Only the boot stub is source: the board compiles nothing on its heap.
    assert sorted(path.name for path in board.fs.glob("*.py")) == ["main.py"]
    assert (board.fs / "main.py").read_text() == MAIN_STUB
    assert json.loads((board.fs / "config.json").read_text()) == {"foot": "right",
                                                                  "name": "runner R"}  # fmt: skip
    running = result.running
    assert running is not None
    assert running.version == bundle.version and running.foot == "right"
    assert running.config_loaded  # the firmware read the config file at boot
    assert lines[-1].endswith(f"firmware {bundle.version_text} running, foot right, insole id "
                              f"0x{running.insole_id:08X}")  # fmt: skip


def test_flash_keeps_the_board_config_and_reports_a_field_the_firmware_refuses(
    board_fs: Path,
) -> None:
    stored = {"foot": "left", "name": "old", "rate_hz": 50, "cal": [[2.5, 1.1]] * 6,
              "tare": [10, 20, 30, 40, 50, 60], "oversample": 99}  # fmt: skip
    (board_fs / "config.json").write_text(json.dumps(stored))
    lines: list[str] = []
    with PtyPeer(board_argv(board_fs)) as peer:
        result = flash(FlashOptions(foot="right", name="new", port=peer.path), lines.append)
    assert json.loads((board_fs / "config.json").read_text()) == {**stored, "foot": "right",
                                                                   "name": "new"}  # fmt: skip
    assert result.running is not None and result.running.foot == "right"
    assert not result.running.config_loaded  # oversample 99 is out of the firmware's range
    assert "warning: the firmware refused fields of config.json" in lines[-1]


def test_a_copy_altered_on_the_board_does_not_verify(board: SimBoard) -> None:
    files = dict(list(load_bundle().files.items())[:3])
    wake_repl(board.port, reset=False)
    copy_files(board.port, files)
    expected = local_hashes(files)
    verify_hashes(expected, board_hashes(board.port, list(files)), board.port)  # intact
    first, second, _ = files
    (board.fs / first).write_bytes(b"# flipped bits\n")  # as a worn flash would return it
    (board.fs / second).unlink()
    with pytest.raises(DeviceError) as raised:
        verify_hashes(expected, board_hashes(board.port, list(files)), board.port)
    text = str(raised.value)
    assert "verifying the copy failed: 2 of 3 file(s) differ" in text
    assert f"{first} (expected {expected[first][:12]}..., got " in text
    assert f"{second} (expected {expected[second][:12]}..., got no file)" in text


def test_a_busy_port_stops_before_anything_is_written(board: SimBoard) -> None:
    holder = serial.Serial(board.port, exclusive=True)
    try:
        with pytest.raises(DeviceError, match="port busy: expected a free port"):
            flash(FlashOptions(foot="left", name="L", port=board.port), lambda _: None)
    finally:
        holder.close()
    assert list(board.fs.iterdir()) == []


def test_firmware_that_does_not_start_is_a_version_not_read(
    board: SimBoard, tmp_path: Path
) -> None:
    firmware = tmp_path / "firmware"
    shutil.copytree(default_firmware_dir(), firmware)
    (firmware / "main.py").write_text("import time\ntime.sleep(30)\n")  # boots, sends nothing
    options = FlashOptions(foot="left", name="L", port=board.port, firmware_dir=firmware,
                           boot_timeout_s=2.0)  # fmt: skip
    waited = r"no status page 0 from the insole after the reset in 2 s \(firmware version not read"
    with pytest.raises(DeviceError, match=waited):
        flash(options, lambda _: None)


def test_a_board_running_the_firmware_without_a_reset_line_has_no_prompt(board_fs: Path) -> None:
    for name, path in load_bundle().files.items():
        shutil.copy(path, board_fs / name)
    no_prompt = pytest.raises(DeviceError, match="no MicroPython prompt '>>>' after Ctrl-C in")
    with PtyPeer(board_argv(board_fs)) as peer, no_prompt:  # boots into main.py: Ctrl-C is off
        wake_repl(peer.path, timeout_s=1.0)


def test_dry_run_prints_the_plan_and_touches_nothing(board: SimBoard, tmp_path: Path) -> None:
    lines: list[str] = []
    image_path = tmp_path / "ESP32_GENERIC.bin"
    options = FlashOptions(foot="left", name="L", port=board.port, micropython_image=image_path)
    flash(options, lines.append, dry_run=True)
    assert stage_titles(lines) == ["port", "image", "erase", "write", *STAGES[1:]]
    assert f"esptool --chip esp32 --port {board.port} write-flash 0x1000 {image_path}" in lines[3]
    assert f"mpremote connect {board.port} resume sha256sum :adclimits.mpy :ble.mpy" in lines[8]
    assert list(board.fs.iterdir()) == []


BAD_SETTINGS = [
    ("middle", "x", "left or right"),
    ("left", "", "1-11 printable ASCII"),
    ("left", "a name too long", "1-11"),
    ("left", "caf\u00e9", "1-11"),
]


@pytest.mark.parametrize(("foot", "name", "expected"), BAD_SETTINGS)
def test_bad_foot_or_name_is_refused_before_the_board_is_touched(
    foot: str, name: str, expected: str
) -> None:
    with pytest.raises(InputError, match=expected):
        flash(FlashOptions(foot=foot, name=name, port="/dev/null"), lambda _: None)  # type: ignore[arg-type]
