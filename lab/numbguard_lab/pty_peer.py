"""A process on the far end of a pty pair: a virtual USB serial port for the host's pyserial.

`PtyPeer(argv)` opens a pty, puts the slave side in raw mode before the peer starts (or the
line discipline would echo the peer's frames back to it), runs `argv` with stdin and stdout
on the master side, and offers `path`, the slave's device name, for ``serial.Serial``. When the
peer exits its master closes, and reads on the slave fail as they do when a board is unplugged.

With `LineNoise`, the peer's output passes through a relay thread that puts bursts of random
bytes on the line between frames (after a 0x00 delimiter, each burst ended by one), as
electrical noise on a cable would: a receiver must drop them and lose no frame. It can also
corrupt a byte inside a frame: that frame is lost, and the host must get it back by RESEND.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self


@dataclass(frozen=True)
class LineNoise:
    """Faults on the line towards the host, for the first `until_s` seconds of the peer.

    A burst of `burst_bytes` random bytes between frames every `every_s` seconds (0 = none),
    and one corrupted byte inside a frame every `corrupt_every_s` seconds (0 = none).
    """

    every_s: float = 0.0
    burst_bytes: int = 40
    corrupt_every_s: float = 0.0
    until_s: float = math.inf
    seed: int = 0


class _NoiseRelay:
    """Copies the peer's stdout to the pty master, adding noise bursts at frame boundaries."""

    def __init__(self, source_fd: int, master_fd: int, noise: LineNoise) -> None:
        self.source_fd = source_fd
        self.master_fd = master_fd
        self.noise = noise
        self.bursts = 0
        self.corrupted = 0
        self._random = random.Random(noise.seed)
        self._thread = threading.Thread(target=self._run, name="pty noise relay", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        noise = self.noise
        start_s = time.monotonic()
        next_burst_s = start_s + noise.every_s if noise.every_s else math.inf
        next_corrupt_s = start_s + noise.corrupt_every_s if noise.corrupt_every_s else math.inf
        try:
            while chunk := os.read(self.source_fd, 4096):
                now_s = time.monotonic()
                cut = chunk.find(0)
                if now_s - start_s < noise.until_s and cut >= 2:
                    if now_s >= next_corrupt_s:
                        # Flip a byte of the frame that ends at `cut`: it fails its check.
                        next_corrupt_s += noise.corrupt_every_s
                        self.corrupted += 1
                        flipped = chunk[cut - 2] ^ 0x55 or 0xAA
                        chunk = chunk[: cut - 2] + bytes([flipped]) + chunk[cut - 1 :]
                    if now_s >= next_burst_s:
                        next_burst_s += noise.every_s
                        self.bursts += 1
                        burst = self._random.randbytes(noise.burst_bytes) + b"\x00"
                        chunk = chunk[: cut + 1] + burst + chunk[cut + 1 :]
                _write_all(self.master_fd, chunk)
        except OSError:
            pass  # the host side went away; the peer is stopped by PtyPeer
        finally:
            # The peer is gone: drop the master so the host's reads fail, as on unplugging.
            with contextlib.suppress(OSError):
                os.close(self.master_fd)
            with contextlib.suppress(OSError):
                os.close(self.source_fd)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class PtyPeer:
    """Run `argv` on the master side of a fresh pty; use as a (sync) context manager."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        noise: LineNoise | None = None,
    ) -> None:
        self.argv = list(argv)
        self.noise = noise
        self.relay: _NoiseRelay | None = None
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
        if self.noise is None:
            try:
                self.process = subprocess.Popen(
                    self.argv, stdin=master_fd, stdout=master_fd, stderr=self._stderr,
                    env=self.env, cwd=self.cwd, close_fds=True,
                )  # fmt: skip
            finally:
                # Only the peer holds the master: when it exits, the host's reads fail.
                os.close(master_fd)
            return self
        read_fd, write_fd = os.pipe()
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=master_fd, stdout=write_fd, stderr=self._stderr,
                env=self.env, cwd=self.cwd, close_fds=True,
            )  # fmt: skip
        except BaseException:
            os.close(read_fd)
            os.close(master_fd)
            raise
        finally:
            os.close(write_fd)
        self.relay = _NoiseRelay(read_fd, master_fd, self.noise)
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
        if self.relay is not None:
            self.relay.join(2.0)
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
    """The command line of the CPython serial insole (`numbguard_lab.serial_insole`)."""
    return [sys.executable, "-m", "numbguard_lab.serial_insole", *options]
