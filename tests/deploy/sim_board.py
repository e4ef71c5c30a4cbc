"""A simulated ESP32 board on a serial line, for `numbguard flash` without a chip.

Run with stdin and stdout on the far end of a pty (`numbguard_lab.pty_peer.PtyPeer`): the host
opens the pty with pyserial, as it would a USB serial port. Behind it runs the real MicroPython
unix port on a pty of its own (its REPL needs a terminal), with a directory as the board's
filesystem, and this process carries the bytes both ways. The unix port's REPL speaks the raw
REPL and raw-paste mode, so the real `mpremote` copies files, hashes them and runs code on it.

Like a board, it boots into `main.py` when the filesystem has one and into the REPL otherwise,
and boots again whenever MicroPython exits while the host is still there: `machine.reset()`
(tests/deploy/board/machine.py) ends the process, as a reset ends the running program.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import subprocess
import sys
import tty
from pathlib import Path

from numbguard_lab import MICROPYTHON_SIM_DIR

HERE = Path(__file__).resolve().parent
BOARD_LIB = HERE / "board"  # the board's `machine` module, first on the path
CHUNK_BYTES = 4096


def boot(micropython: str, fs: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start MicroPython as the board does after a reset; return it and its terminal's fd."""
    master_fd, slave_fd = os.openpty()
    tty.setraw(slave_fd)
    argv = [micropython, "main.py"] if (fs / "main.py").exists() else [micropython]
    process = subprocess.Popen(
        argv, stdin=slave_fd, stdout=slave_fd, stderr=slave_fd, cwd=fs, env=env, close_fds=True
    )
    os.close(slave_fd)
    return process, master_fd


def relay(micropython: str, fs: Path) -> int:
    # The board's path: its filesystem (the unix port puts "" first), its `machine`, frozen.
    env = dict(os.environ, MICROPYPATH=f"{BOARD_LIB}:.frozen",
               NUMBGUARD_SIM_MACHINE=str(MICROPYTHON_SIM_DIR / "machine.py"))  # fmt: skip
    host_in, host_out = sys.stdin.fileno(), sys.stdout.fileno()
    process, board_fd = boot(micropython, fs, env)
    try:
        while True:
            readable, _, _ = select.select([host_in, board_fd], [], [], 0.05)
            if host_in in readable:
                data = os.read(host_in, CHUNK_BYTES)
                if not data:
                    return 0  # the host side went away: power off
                os.write(board_fd, data)
            if board_fd in readable:
                try:
                    os.write(host_out, os.read(board_fd, CHUNK_BYTES))
                except OSError:  # EIO: MicroPython exited, its terminal is closed: reboot
                    process.wait()
                    os.close(board_fd)
                    process, board_fd = boot(micropython, fs, env)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--micropython", required=True, help="the unix port binary")
    parser.add_argument("--fs", type=Path, required=True, help="directory used as the filesystem")
    args = parser.parse_args()
    return relay(args.micropython, args.fs)


if __name__ == "__main__":
    sys.exit(main())
