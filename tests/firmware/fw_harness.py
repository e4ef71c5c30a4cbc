"""Runs firmware modules under the real MicroPython unix port, with the simulated `machine`,
`time`, `select` and `esp32` from lab/numbguard_lab/micropython first on the path.

The binaries are found (and missing ones skipped or failed) by tests/firmware/conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from numbguard_lab import MICROPYTHON_SIM_DIR

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = ROOT / "firmware"
SIM_DIR = MICROPYTHON_SIM_DIR
MICROPYPATH = f"{SIM_DIR}:{FIRMWARE_DIR}:.frozen"
RUN_TIMEOUT_S = 120


class MicroPython:
    """Runs scripts under the unix port with the firmware and the simulated hardware."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ, MICROPYPATH=MICROPYPATH)
        env.update(extra or {})
        return env

    def run(self, script: str, *, env: dict[str, str] | None = None,
            heapsize: str | None = None, stdin_open: bool = False) -> str:
        """Run `script` (dedented) with cwd = a temporary directory; return its stdout.

        stdin is empty; with stdin_open it stays open (no end of input) until the script ends.
        """
        path = self.workdir / "script.py"
        path.write_text(textwrap.dedent(script))
        command = [self.binary]
        if heapsize:
            command += ["-X", f"heapsize={heapsize}"]
        stdin_read, stdin_write = os.pipe()
        if not stdin_open:
            os.close(stdin_write)
        try:
            done = subprocess.run(
                [*command, str(path)], stdin=stdin_read, capture_output=True,
                cwd=self.workdir, env=self.env(env), timeout=RUN_TIMEOUT_S, check=False,
            )
        finally:
            os.close(stdin_read)
            if stdin_open:
                os.close(stdin_write)
        out = done.stdout.decode(errors="replace")
        if done.returncode != 0:
            raise AssertionError(
                f"micropython exited {done.returncode}\n--- stdout\n{out}\n--- stderr\n"
                + done.stderr.decode(errors="replace")
            )
        return out

    def json(self, script: str, **kwargs: Any) -> Any:
        """Run a script whose last line of output is one JSON value; return it."""
        lines = self.run(script, **kwargs).strip().splitlines()
        return json.loads(lines[-1])
