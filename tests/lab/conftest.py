"""Fixtures for the lab tests: the real firmware under the MicroPython unix port.

Without a `micropython` binary the lab tests skip and say why; in CI (CI=true) they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from numbguard.errors import DeviceError
from numbguard.lab.firmware_runner import find_micropython, find_micropython_nimble


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    try:
        return find_micropython()
    except DeviceError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{error}; CI must run the lab tests", pytrace=False)
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def nimble_bin() -> str:
    """MicroPython with the real `bluetooth` module on NimBLE (shared/micropython-ble)."""
    try:
        return find_micropython_nimble()
    except DeviceError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{error}; CI must run the BLE lab tests", pytrace=False)
        pytest.skip(str(error))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.micropython)
