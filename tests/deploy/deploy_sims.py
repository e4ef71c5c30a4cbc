"""Helpers of the deploy tests: the simulated board and fake ROM commands, the MicroPython
binary (missing: skipped, or failed in CI)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from numbguard_lab.pty_peer import PtyPeer
from tests.required_tools import require_tool

HERE = Path(__file__).resolve().parent


def micropython_binary() -> str:
    return require_tool("micropython", "the deploy tests")


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
