"""Shared test fixtures: where the repository lives, and the MicroPython build with the real
BLE stack that the firmware and lab tests run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numbguard.errors import DeviceError
from numbguard_lab.firmware_runner import find_micropython_nimble
from tests.realdata import realdata_dir

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def private_session_index(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test (and every command it starts) indexes sessions into a file of its own, never
    into the user's index: `numbguard run` and `demo --record` index what they record."""
    path = tmp_path_factory.mktemp("index") / "index.sqlite3"
    monkeypatch.setenv("NUMBGUARD_INDEX", str(path))
    yield path


@pytest.fixture(scope="session")
def nimble_bin() -> str:
    """MicroPython with the real `bluetooth` module on NimBLE (``micropython-nimble``,
    shared/micropython-ble). Without it the tests that need it fail and say where to get it."""
    try:
        return find_micropython_nimble()
    except DeviceError as error:
        pytest.fail(f"{error}; the firmware's and the lab's BLE tests need it", pytrace=False)


@pytest.fixture
def realdata() -> Path:
    """../shared/realdata; a test using it fails, saying where the data goes, without it."""
    return realdata_dir()
