"""MicroPython onto the chip with esptool (v5 command names), and esptool's failures named.

Before esptool touches the chip, the image file is checked: an ESP32 firmware image starts
with the magic byte 0xE9 and says in its extended header which chip it was built for, so a
MicroPython build for another chip (ESP32-S3, -C3, ...) is refused without erasing anything.
esptool itself checks the chip it talks to; its "This chip is X, not ESP32" becomes a
`DeviceError` that says what was expected and what came.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from numbguard.deploy.tools import ToolRun, tool_argv
from numbguard.errors import BadFile, DeviceRefused, PortBusy, UnreadableFile, WrongDevice

CHIP: Final = "esp32"
CHIP_NAME: Final = "ESP32"
FLASH_OFFSET: Final = "0x1000"  # the classic ESP32's bootloader sits at 0x1000, not 0
IMAGE_MAGIC: Final = 0xE9
IMAGE_CHIP_ID_OFFSET: Final = 12  # u16 in the extended header
IMAGE_HEADER_BYTES: Final = 24
# esptool's IMAGE_CHIP_ID of each chip (esptool/targets/*.py)
IMAGE_CHIP_IDS: Final[dict[int, str]] = {
    0: "ESP32",
    2: "ESP32-S2",
    5: "ESP32-C3",
    9: "ESP32-S3",
    12: "ESP32-C2",
    13: "ESP32-C6",
    16: "ESP32-H2",
    18: "ESP32-P4",
    20: "ESP32-C61",
    23: "ESP32-C5",
}


def check_image(path: Path) -> None:
    """Refuse a file that is not an ESP32 (classic) firmware image."""
    try:
        head = path.read_bytes()[:IMAGE_HEADER_BYTES]
    except OSError as error:
        raise UnreadableFile(
            path, str(error), expected="a readable .bin file",
            message="cannot read the MicroPython image",
        ) from error  # fmt: skip
    if len(head) < IMAGE_HEADER_BYTES or head[0] != IMAGE_MAGIC:
        got = f"{len(head)} bytes" if len(head) < IMAGE_HEADER_BYTES else f"0x{head[0]:02X}"
        raise BadFile(
            "not an ESP32 firmware image",
            expected=f"a MicroPython .bin for ESP32 starting with 0x{IMAGE_MAGIC:02X}",
            got=got,
            path=path,
        )
    chip_id = int.from_bytes(head[IMAGE_CHIP_ID_OFFSET : IMAGE_CHIP_ID_OFFSET + 2], "little")
    if chip_id != 0:
        chip = IMAGE_CHIP_IDS.get(chip_id, f"chip id {chip_id}")
        raise BadFile(
            "MicroPython image built for another chip",
            expected=f"a build for {CHIP_NAME} (e.g. ESP32_GENERIC)",
            got=f"a build for {chip}",
            path=path,
        )


def esptool_argv(port: str, command: str, *args: str, before: str = "default-reset") -> list[str]:
    """``esptool --chip esp32 --port P [--before MODE] COMMAND ARGS``."""
    extra = [] if before == "default-reset" else ["--before", before]
    return tool_argv("esptool", "--chip", CHIP, "--port", port, *extra, command, *args)


def erase_argv(port: str, *, before: str = "default-reset") -> list[str]:
    return esptool_argv(port, "erase-flash", before=before)


def write_argv(port: str, image: Path, *, before: str = "default-reset") -> list[str]:
    return esptool_argv(port, "write-flash", FLASH_OFFSET, str(image), before=before)


_WRONG_CHIP = re.compile(r"This chip is (\S+), not (\S+?)\.")
_NO_ANSWER = re.compile(r"Failed to connect to (\S+?): (.*)")
_NOT_OPEN = re.compile(r"Could not open (\S+), the port is busy or doesn't exist")


def check_esptool(run: ToolRun, port: str) -> None:
    """Raise `DeviceError` naming what went wrong when esptool failed."""
    if run.returncode == 0:
        return
    text = run.output
    if match := _WRONG_CHIP.search(text):
        raise WrongDevice(
            port, what="wrong chip", expected=match.group(2), got=match.group(1),
            hint="this firmware runs on the classic ESP32 only",
        )  # fmt: skip
    if match := _NO_ANSWER.search(text):
        raise DeviceRefused(
            port, "esptool connect",
            f"the chip's bootloader did not answer: expected an {match.group(1)} in download "
            f"mode, got: {match.group(2).strip()} (hold BOOT while plugging in, or check the "
            "board's auto-reset)",
        )  # fmt: skip
    if _NOT_OPEN.search(text):
        raise PortBusy(
            port, f"busy or absent ({run.tail(2)})", doing="running esptool",
            fix="close any other program that uses it, or check the port name",
        )  # fmt: skip
    raise DeviceRefused(port, "esptool", f"exit {run.returncode}: {run.tail()}")
