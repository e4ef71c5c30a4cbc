"""Deploying the firmware to an insole's ESP32: what `numbguard flash` does, as a library.

- `boards`: find the board on USB by its USB-serial bridge, choose the port, check it is free;
- `tools`: run esptool and mpremote (real dependencies) as ``python -m`` subprocesses;
- `image`: MicroPython onto the chip with esptool, after checking the image is for an ESP32;
- `board_files`: copy files with mpremote and verify each by its sha256 on the board;
- `bundle`: the firmware files, their version and the insole's config file (foot, name);
- `confirm`: after the reset, read status page 0 over serial: version, foot, insole id;
- `plan`: the stages in order, with progress lines and a dry run.
"""

from numbguard.deploy.plan import FlashOptions, FlashResult, flash, plan_stages

__all__ = ["FlashOptions", "FlashResult", "flash", "plan_stages"]
