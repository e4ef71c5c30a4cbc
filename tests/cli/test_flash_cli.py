"""`numbguard flash` from the command line, against the simulated board of tests/deploy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import serial

from numbguard.cli import main
from numbguard.lab.pty_peer import PtyPeer
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
    stages = ["port", "repl", "config", "copy", "verify", "reset", "confirm"]
    expected = [f"[{n}/7] {stage}" for n, stage in enumerate(stages, start=1)]
    assert [line.split(":")[0] for line in lines[:7]] == expected
    assert lines[-1].startswith(f"flashed {peer.path}: firmware ") and lines[-1].endswith(
        "left foot"
    )
    assert (tmp_path / "main.py").exists()


def test_dry_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with PtyPeer(board_argv(tmp_path)) as peer:
        code = main(["flash", "--foot", "right", "--port", peer.path, "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[7/7] confirm: read status page 0 over serial: expect firmware" in out
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
