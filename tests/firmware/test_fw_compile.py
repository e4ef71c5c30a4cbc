"""Every firmware file compiles for the ESP32 (xtensawin), as the board's build would."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fw_harness import FIRMWARE_DIR

FIRMWARE_FILES = sorted(FIRMWARE_DIR.glob("*.py"))


def test_firmware_files_are_found() -> None:
    names = {f.name for f in FIRMWARE_FILES}
    assert {"main.py", "protocol.py", "board.py", "pinout.py"} <= names


@pytest.mark.parametrize("source", FIRMWARE_FILES, ids=lambda f: f.name)
def test_compiles_with_mpy_cross_for_xtensawin(source: Path, tmp_path: Path,
                                                mpy_cross_bin: str) -> None:
    out = tmp_path / (source.stem + ".mpy")
    done = subprocess.run([mpy_cross_bin, "-march=xtensawin", "-o", str(out), str(source)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
