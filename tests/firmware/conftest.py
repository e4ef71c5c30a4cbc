"""Fixtures for the firmware tests: the MicroPython unix port and mpy-cross (the same port
with the real `bluetooth` module on NimBLE, `nimble_bin`, is in tests/conftest.py).

Without one of these binaries the tests that need it fail and say what to install.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fw_harness import MicroPython

from tests.required_tools import require_tool


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    return require_tool("micropython", "the firmware tests")


@pytest.fixture(scope="session")
def mpy_cross_bin() -> str:
    return require_tool("mpy-cross", "the firmware tests")


@pytest.fixture
def mpy(micropython_bin: str, tmp_path: Path) -> MicroPython:
    return MicroPython(micropython_bin, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.micropython)
