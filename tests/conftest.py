"""Shared test fixtures: where the repository lives, and the MicroPython build with the real
BLE stack that the firmware and lab tests run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from numbguard.errors import DeviceError
from numbguard.lab.firmware_runner import find_micropython_nimble

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def nimble_bin() -> str:
    """MicroPython with the real `bluetooth` module on NimBLE (``micropython-nimble``,
    shared/micropython-ble). Without it the tests that need it skip and say why; in CI
    (CI=true) they fail instead."""
    try:
        return find_micropython_nimble(REPO_ROOT)
    except DeviceError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{error}; CI must run the firmware's and the lab's BLE tests",
                        pytrace=False)  # fmt: skip
        pytest.skip(str(error))
