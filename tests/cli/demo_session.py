"""The `numbguard` command as a subprocess, and a demo recording made with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def numbguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "numbguard", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def record_demo(path: Path, duration_s: int = 90) -> subprocess.CompletedProcess[str]:
    """The demo run (its left laces get too tight mid-run) recorded at `path`, at full speed."""
    result = numbguard(
        "demo", "--no-view", "--speed", "0", "--duration-s", str(duration_s), "--record", str(path)
    )
    assert result.returncode == 0, result.stderr
    return result
