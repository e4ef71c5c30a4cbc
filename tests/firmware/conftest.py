"""Fixtures for the firmware tests: the MicroPython unix port (see fw_harness)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fw_harness import MicroPython, require_tool


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    return require_tool("micropython")


@pytest.fixture
def mpy(micropython_bin: str, tmp_path: Path) -> MicroPython:
    return MicroPython(micropython_bin, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.micropython)
