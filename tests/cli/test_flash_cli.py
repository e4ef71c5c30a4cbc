"""`numbguard flash` from the command line, against the simulated board of tests/deploy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import serial

from numbguard.cli import main
from numbguard_lab.pty_peer import PtyPeer
from tests.required_tools import require_tool

SIM_BOARD = Path(__file__).resolve().parents[1] / "deploy" / "sim_board.py"


def board_argv(fs: Path) -> list[str]:
    micropython = require_tool("micropython", "the flash command against the simulated board")
    return [sys.executable, str(SIM_BOARD), "--micropython", micropython, "--fs", str(fs)]


def test_flash_prints_each_stage_and_the_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with PtyPeer(board_argv(tmp_path)) as peer:
        code = main(["flash", "--foot", "left", "--name", "L-42", "--port", peer.path])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("board: MicroPython 1.28 ESP32_GENERIC, SPIRAM variant")
    stages = ["port", "repl", "config", "clean", "copy", "verify", "reset", "confirm"]
    expected = [f"[{n}/8] {stage}" for n, stage in enumerate(stages, start=1)]
    assert [line.split(":")[0] for line in lines[1:9]] == expected
    assert lines[-1].startswith(f"flashed {peer.path}: firmware ") and lines[-1].endswith(
        "left foot"
    )
    assert (tmp_path / "main.py").exists() and (tmp_path / "insole_main.mpy").exists()


def test_dry_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with PtyPeer(board_argv(tmp_path)) as peer:
        code = main(["flash", "--foot", "right", "--port", peer.path, "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[8/8] confirm: read status page 0 over serial: expect firmware" in out
    assert list(tmp_path.iterdir()) == []


def test_a_busy_port_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with PtyPeer(board_argv(tmp_path)) as peer:
        holder = serial.Serial(peer.path, exclusive=True)
        try:
            code = main(["flash", "--foot", "right", "--port", peer.path])
        finally:
            holder.close()
    assert code == 2
    assert (
        f"numbguard flash: {peer.path}: port busy: expected a free port" in capsys.readouterr().err
    )


def test_flash_frozen_copies_only_the_stub_and_removes_modules_that_would_shadow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ring.mpy").write_bytes(b"M\x06")  # an earlier .mpy flash's module
    with PtyPeer(board_argv(tmp_path)) as peer:
        code = main(["flash", "--foot", "left", "--port", peer.path, "--frozen",
                     "--boot-timeout", "1"])  # fmt: skip
    out = capsys.readouterr().out
    assert code != 0  # see below
    assert "a MicroPython 1.28 build with the firmware frozen in" in out
    # The unix port has nothing frozen, so the stub finds no firmware: the board then holds
    # just the stub and the config, and the confirmation says no version came.
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".py", ".mpy")) == [
        "main.py"]


def test_stage_frozen_writes_the_modules_and_a_manifest_without_a_board(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flash", "--stage-frozen", str(tmp_path / "stage")]) == 0
    out = capsys.readouterr().out
    manifest = tmp_path / "stage" / "manifest.py"
    assert f"FROZEN_MANIFEST={manifest.resolve()}" in out
    modules = {p.name for p in (tmp_path / "stage" / "modules").iterdir()}
    assert "insole_main.py" in modules and "ring.py" in modules and "main.py" not in modules
    assert 'include("$(PORT_DIR)/boards/manifest.py")' in manifest.read_text()


def test_flash_without_a_foot_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["flash", "--port", "/dev/null"])
    assert "one of the arguments --foot --stage-frozen is required" in capsys.readouterr().err
