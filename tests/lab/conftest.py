"""Fixtures for the lab tests: the real firmware under the MicroPython unix port.

Without a `micropython` binary the lab tests fail and say what to install.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.required_tools import require_tool


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    return require_tool("micropython", "the lab tests")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.micropython)
