"""The real recordings of ../shared/realdata, which the real-data tests need.

Without them those tests fail and say where the data goes (a skipped test proves nothing), as
the tests that need MicroPython do (tests/required_tools.py). `holdout/` is never read here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

REALDATA: Final = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def realdata_dir() -> Path:
    """The data folder, or fail saying where it is expected."""
    if not REALDATA.is_dir():
        pytest.fail(f"{REALDATA} not found: the real-data tests need the shared recordings "
                    "beside the checkout (../shared/realdata)", pytrace=False)  # fmt: skip
    return REALDATA


def records(pattern: str) -> list[Path | None]:
    """The files matching `pattern` under the data folder, for parametrize; `[None]` when
    there are none, so the test runs and `need` fails it rather than pytest skipping it."""
    found = sorted(REALDATA.glob(pattern)) if REALDATA.is_dir() else []
    return [p for p in found if not p.name.startswith("LICENSE")] or [None]


def need(path: Path | None, pattern: str) -> Path:
    if path is None:
        pytest.fail(f"no {pattern} under {REALDATA}: the real-data tests need the shared "
                    "recordings beside the checkout", pytrace=False)  # fmt: skip
    return path


def record_id(path: Path | None) -> str:
    return "missing" if path is None else path.stem
