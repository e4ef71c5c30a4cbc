"""The external tools some tests run (the MicroPython unix port, mpy-cross, Chromium).

A test that needs one and does not find it fails and says what to install: a skipped test
proves nothing, and the README's setup installs every tool.
"""

from __future__ import annotations

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
    """The path of `name`, or fail saying what it is needed for."""
    path = find_tool(name)
    if path is None:
        pytest.fail(f"`{name}` not found on PATH or next to {sys.executable}; install it "
                    f"(see the README): it is needed for {needed_for}", pytrace=False)  # fmt: skip
    return path
