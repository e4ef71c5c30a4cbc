"""A process on the far end of a pty pair: a virtual USB serial port for the host's pyserial.

`PtyPeer(argv)` opens a pty, puts the slave side in raw mode before the peer starts (or the
line discipline would echo the peer's frames back to it), runs `argv` with stdin and stdout
on the master side, and offers `path`, the slave's device name, for ``serial.Serial``. When the
peer exits its master closes, and reads on the slave fail as they do when a board is unplugged.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import tty
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self


class PtyPeer:
    """Run `argv` on the master side of a fresh pty; use as a (sync) context manager."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self._slave_fd = -1
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._stderr_text = ""
        self.path = ""

    def __enter__(self) -> Self:
        master_fd, slave_fd = os.openpty()
        tty.setraw(slave_fd)
        self._slave_fd = slave_fd
        self.path = os.ttyname(slave_fd)
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=master_fd, stdout=master_fd, stderr=self._stderr,
                env=self.env, cwd=self.cwd, close_fds=True,
            )  # fmt: skip
        finally:
            # Only the peer holds the master: when it exits, the host's reads fail.
            os.close(master_fd)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait(self, timeout_s: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(2.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._slave_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._slave_fd)
            self._slave_fd = -1
        if not self._stderr.closed:
            self._stderr_text = self.stderr_text
            self._stderr.close()

    @property
    def stderr_text(self) -> str:
        """What the peer wrote on stderr (for a failing test's message)."""
        if self._stderr.closed:
            return self._stderr_text
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")


def emulator_argv(*options: str) -> list[str]:
    """The command line of the CPython serial insole (`numbguard.lab.serial_insole`)."""
    return [sys.executable, "-m", "numbguard.lab.serial_insole", *options]
