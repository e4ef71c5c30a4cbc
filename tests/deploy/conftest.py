"""Fixtures for the deploy tests: a simulated board (the real MicroPython unix port behind a
pty, tests/deploy/sim_board.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_sims import SimBoard, board_argv

from numbguard_lab.pty_peer import PtyPeer


@pytest.fixture
def board_fs(tmp_path: Path) -> Path:
    fs = tmp_path / "board"
    fs.mkdir()
    return fs


@pytest.fixture
def board(board_fs: Path) -> Iterator[SimBoard]:
    """A board with MicroPython and an empty filesystem (seed `board_fs` first to change it)."""
    with PtyPeer(board_argv(board_fs)) as peer:
        yield SimBoard(peer, board_fs)
