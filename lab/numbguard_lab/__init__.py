"""The numbguard lab: the real firmware under MicroPython, virtual radios and serial lines,
emulated insoles and the helpers that validate the host against them.

Installed beside numbguard for testing (``pip install -e ./lab``); it imports numbguard, and
numbguard never imports it (tests/test_layers.py checks that), except `numbguard demo --lab`,
which says how to install it when it is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

MICROPYTHON_SIM_DIR: Final = Path(__file__).resolve().parent / "micropython"
"""The simulated `machine`, `time`, `select` and `esp32` modules the firmware imports under
MicroPython's unix port: package data, put first on ``MICROPYPATH``."""
