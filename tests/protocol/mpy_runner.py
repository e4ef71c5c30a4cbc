"""Runs code under the real MicroPython unix port with the firmware and its simulated hardware.

Without the `micropython` binary the caller skips, saying why; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from numbguard_lab import MICROPYTHON_SIM_DIR
from tests.required_tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = ROOT / "firmware"
MICROPYPATH = f"{MICROPYTHON_SIM_DIR}:{FIRMWARE_DIR}:.frozen"
TIMEOUT_S = 60


def micropython_binary() -> str:
    return require_tool("micropython", "the firmware side of the protocol")


def micropython_env() -> dict[str, str]:
    return dict(os.environ, MICROPYPATH=MICROPYPATH)


def run_micropython(script: str, workdir: Path) -> list[str]:
    """Run `script` with cwd `workdir`; return its stdout lines (a failure shows stderr)."""
    path = workdir / "script.py"
    path.write_text(script)
    done = subprocess.run(
        [micropython_binary(), str(path)], capture_output=True, text=True, cwd=workdir,
        env=micropython_env(), timeout=TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()
