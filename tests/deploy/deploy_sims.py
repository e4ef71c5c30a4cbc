"""Helpers of the deploy tests: the simulated board and fake ROM commands, the MicroPython
binary (missing: skipped, or failed in CI)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from numbguard.lab.pty_peer import PtyPeer

HERE = Path(__file__).resolve().parent


def micropython_binary() -> str:
    found = shutil.which("micropython") or str(Path(sys.executable).parent / "micropython")
    if not Path(found).exists():
        reason = f"`micropython` not found on PATH or next to {sys.executable}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the deploy tests", pytrace=False)
        pytest.skip(reason)
    return found


@dataclass
class SimBoard:
    peer: PtyPeer
    fs: Path  # the board's filesystem

    @property
    def port(self) -> str:
        return self.peer.path


def board_argv(fs: Path) -> list[str]:
    return [sys.executable, str(HERE / "sim_board.py"), "--micropython", micropython_binary(),
            "--fs", str(fs)]  # fmt: skip


def rom_argv(*options: str) -> list[str]:
    return [sys.executable, str(HERE / "fake_rom.py"), *options]
