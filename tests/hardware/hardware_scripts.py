"""Loads the hardware scripts (plain scripts under hardware/, not a package) as modules.

They import each other by file name, as they do when run, so hardware/ goes on sys.path.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

HARDWARE_DIR = Path(__file__).resolve().parents[2] / "hardware"


def load_hardware_script(name: str) -> ModuleType:
    if str(HARDWARE_DIR) not in sys.path:
        sys.path.append(str(HARDWARE_DIR))
    module = importlib.import_module(name)
    assert Path(module.__file__ or "").parent == HARDWARE_DIR, f"{name} is not hardware/{name}.py"
    return module
