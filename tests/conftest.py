"""Shared test fixtures: where the repository lives, and the MicroPython build with the real
BLE stack that the firmware and lab tests run."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from numbguard.errors import DeviceError
from numbguard.lab.firmware_runner import find_micropython_nimble

REPO_ROOT = Path(__file__).resolve().parents[1]

# `from tests.required_tools import ...` means this folder. It is a namespace package (no
# __init__.py), and a regular package named `tests` anywhere on sys.path wins over one:
# garmin-fit-sdk's wheel installs its own unit tests as a top-level `tests` package into
# site-packages. This conftest is loaded before any test module, so claim the name here.
_tests_package = types.ModuleType("tests")
_tests_package.__path__ = [str(REPO_ROOT / "tests")]
sys.modules["tests"] = _tests_package


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def nimble_bin() -> str:
    """MicroPython with the real `bluetooth` module on NimBLE (``micropython-nimble``,
    shared/micropython-ble). Without it the tests that need it fail and say where to get it."""
    try:
        return find_micropython_nimble(REPO_ROOT)
    except DeviceError as error:
        pytest.fail(f"{error}; the firmware's and the lab's BLE tests need it", pytrace=False)
