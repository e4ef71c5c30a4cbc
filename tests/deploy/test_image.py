"""MicroPython onto the chip: the image check, esptool's command lines, and esptool's own
failures (run for real against a fake ROM bootloader on a pty) mapped to clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from deploy_sims import rom_argv
from esptool.bin_image import ESP32FirmwareImage, ESP32S3FirmwareImage, ImageSegment

from numbguard.deploy import FlashOptions, flash, image
from numbguard.deploy.tools import run_tool, shown
from numbguard.errors import DeviceError, InputError
from numbguard_lab.pty_peer import PtyPeer


def esp_image(path: Path, image_class: type[ESP32FirmwareImage]) -> Path:
    """A firmware image written by esptool's own image code."""
    built = image_class()
    built.entrypoint = 0x40080000
    segment = ImageSegment(0x3FFB0000, bytes(range(32)))
    segment.name = ".dram0.data"
    built.segments = [segment]
    built.save(str(path))
    return path


def test_an_esp32_image_passes(tmp_path: Path) -> None:
    image.check_image(esp_image(tmp_path / "esp32.bin", ESP32FirmwareImage))


def test_an_image_for_another_chip_is_refused_before_anything_is_erased(tmp_path: Path) -> None:
    path = esp_image(tmp_path / "s3.bin", ESP32S3FirmwareImage)
    with pytest.raises(InputError, match=r"expected a build for ESP32 .*got a build for ESP32-S3"):
        image.check_image(path)


@pytest.mark.parametrize(("content", "got"), [(b"PK\x03\x04" + bytes(30), "got 0x50"),
                                              (b"\xe9\x01", "got 2 bytes")])  # fmt: skip
def test_a_file_that_is_no_image_is_refused(tmp_path: Path, content: bytes, got: str) -> None:
    path = tmp_path / "firmware.bin"
    path.write_bytes(content)
    with pytest.raises(InputError, match=f"not an ESP32 firmware image.*{got}"):
        image.check_image(path)


def test_a_missing_image_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the MicroPython image"):
        image.check_image(tmp_path / "nothere.bin")


def test_command_lines_use_esptool_v5_names() -> None:
    assert image.erase_argv("/dev/ttyUSB0") == [
        sys.executable, "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0",
        "erase-flash",
    ]  # fmt: skip
    written = image.write_argv("/dev/ttyUSB0", Path("ESP32_GENERIC.bin"), before="no-reset")
    assert shown(written) == (
        "esptool --chip esp32 --port /dev/ttyUSB0 --before no-reset write-flash 0x1000 "
        "ESP32_GENERIC.bin"
    )


def test_esptool_meeting_another_chip_is_a_wrong_chip_error() -> None:
    with PtyPeer(rom_argv("--chip-id", "9")) as rom:
        run = run_tool(image.erase_argv(rom.path, before="no-reset"))
        assert run.returncode != 0 and "This chip is ESP32-S3" in run.output  # esptool's words
        with pytest.raises(DeviceError, match=r"wrong chip \(expected ESP32; got ESP32-S3\)"):
            image.check_esptool(run, rom.path)


def test_esptool_without_an_answer_says_so() -> None:
    with PtyPeer(rom_argv("--silent")) as rom:
        run = run_tool(image.erase_argv(rom.path, before="no-reset"))
        with pytest.raises(DeviceError, match="bootloader did not answer: expected an ESP32"):
            image.check_esptool(run, rom.path)


def test_flash_stops_at_the_wrong_chip_and_goes_no_further(tmp_path: Path) -> None:
    lines: list[str] = []
    bin_path = esp_image(tmp_path / "esp32.bin", ESP32FirmwareImage)
    with PtyPeer(rom_argv("--chip-id", "9")) as rom:
        options = FlashOptions(foot="left", name="L", port=rom.path, micropython_image=bin_path,
                               esptool_before="no-reset")  # fmt: skip
        with pytest.raises(DeviceError, match="wrong chip"):
            flash(options, lines.append)
    assert [line.split(":")[0] for line in lines] == ["[1/11] port", "[2/11] image"]
