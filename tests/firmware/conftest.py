"""Fixtures for the firmware tests: the MicroPython unix port and mpy-cross.

Without a `micropython` (or `mpy-cross`) binary the tests that need it skip and say why; in CI
(CI=true) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from fw_harness import MicroPython


def find_tool(name: str) -> str | None:
    """A command from PATH or from the running interpreter's bin directory (the venv)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else None


def require_tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        reason = f"`{name}` not found on PATH or next to {sys.executable}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the firmware tests", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    return require_tool("micropython")


@pytest.fixture(scope="session")
def mpy_cross_bin() -> str:
    return require_tool("mpy-cross")


@pytest.fixture
def mpy(micropython_bin: str, tmp_path: Path) -> MicroPython:
    return MicroPython(micropython_bin, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.micropython)
