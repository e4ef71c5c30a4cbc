"""Fixtures for the firmware tests: the MicroPython unix port, mpy-cross, and the same port
with the real `bluetooth` module on NimBLE (``micropython-nimble``, shared/micropython-ble).

Without one of these binaries the tests that need it skip and say why; in CI (CI=true) they
fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fw_harness import MicroPython

from numbguard.errors import DeviceError
from numbguard.lab.firmware_runner import find_micropython_nimble
from tests.required_tools import require_tool


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    return require_tool("micropython", "the firmware tests")


@pytest.fixture(scope="session")
def mpy_cross_bin() -> str:
    return require_tool("mpy-cross", "the firmware tests")


@pytest.fixture(scope="session")
def nimble_bin() -> str:
    """MicroPython with the real `bluetooth` module (NimBLE over an H4 UART)."""
    try:
        return find_micropython_nimble()
    except DeviceError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{error}; CI must run the firmware's BLE tests", pytrace=False)
        pytest.skip(str(error))


@pytest.fixture
def mpy(micropython_bin: str, tmp_path: Path) -> MicroPython:
    return MicroPython(micropython_bin, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.micropython)
