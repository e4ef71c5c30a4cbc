"""Build step that pyproject.toml cannot say: the firmware ships inside the wheel.

`firmware/` stays at the top of the checkout (builders and the lab read it there), and a
built wheel carries a copy as `numbguard/firmware/`, so `pip install numbguard` then
`numbguard flash` has the firmware to flash. `numbguard.deploy.bundle.default_firmware_dir`
finds either.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

FIRMWARE_SOURCE = Path(__file__).resolve().parent / "firmware"


class BuildPyWithFirmware(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the checkout's firmware/ itself
        target = Path(self.build_lib) / "numbguard" / "firmware"
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted(FIRMWARE_SOURCE.glob("*.py")):
            shutil.copy2(source, target / source.name)


setup(cmdclass={"build_py": BuildPyWithFirmware})
