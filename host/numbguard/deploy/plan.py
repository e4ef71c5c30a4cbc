"""`numbguard flash` as stages: each has a title, what it will do (shown by a dry run) and
the action. The stages run in order and stop at the first error; each reports one line.

1. find the board (USB bridge ids, or ``--port``) and check its port is free;
2. with an image: check it is an ESP32 build, erase the flash, write MicroPython at 0x1000;
3. wake the REPL; read the board's config file; compile the firmware to `.mpy` for the
   ESP32 (`numbguard.deploy.compile`), remove the sources an older flash left (they would
   shadow the compiled modules), copy the compiled firmware and the merged config;
4. verify every copied file by sha256 on the board; reset; read status page 0: the version
   must be the firmware's, the foot the one asked for.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from numbguard.deploy import board_files, image
from numbguard.deploy.boards import DetectedBoard, check_port_free, choose_port, find_boards
from numbguard.deploy.bundle import FirmwareBundle, check_foot, check_name, config_text, load_bundle
from numbguard.deploy.compile import (
    ENTRY_MODULE,
    compile_firmware,
    compiled_names,
    stale_sources,
)
from numbguard.deploy.confirm import BOOT_TIMEOUT_S, RunningFirmware, read_running_firmware
from numbguard.deploy.repl import wake_repl
from numbguard.deploy.tools import run_tool, shown
from numbguard.errors import WrongDevice
from numbguard.pads import Foot

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
SPIRAM_BOARD_MARK = b"with SPIRAM"  # MICROPY_HW_BOARD_NAME of ESP32_GENERIC's SPIRAM variant
FIRST_BOOT_S = 5.0  # MicroPython's first boot formats its filesystem


@dataclass(frozen=True)
class FlashOptions:
    foot: Foot
    name: str
    port: str | None = None
    micropython_image: Path | None = None
    firmware_dir: Path | None = None
    boot_timeout_s: float = BOOT_TIMEOUT_S
    esptool_before: str = "default-reset"  # esptool's --before: how to enter the bootloader
    frozen: bool = False  # the MicroPython image has the firmware frozen in: copy no modules


@dataclass
class FlashResult:
    port: str
    files: list[str] = field(default_factory=list)
    running: RunningFirmware | None = None


@dataclass(frozen=True)
class Stage:
    title: str
    detail: str
    action: Callable[[], str]


def plan_stages(
    options: FlashOptions, work_dir: Path, boards: list[DetectedBoard] | None = None
) -> tuple[FlashResult, list[Stage]]:
    """The stages for `options`; detection happens now (a dry run shows the port found).

    `boards` are the USB boards to choose from (default: those plugged in now); the config
    file is written in `work_dir` before it is copied.
    """
    foot = check_foot(options.foot)
    name = check_name(options.name)
    bundle = load_bundle(options.firmware_dir)
    found = find_boards() if boards is None and options.port is None else (boards or [])
    port = choose_port(options.port, found)
    result = FlashResult(port)
    where = next((board.describe() for board in found if board.port == port), port)
    config_path = work_dir / bundle.config_name
    compiled = compile_firmware(bundle.files, work_dir / "board")
    stale = stale_sources(bundle.files)
    if options.frozen:  # files on the filesystem come before frozen modules on sys.path
        compiled = {ENTRY_MODULE: compiled[ENTRY_MODULE]}
        stale += compiled_names(bundle.files)
    files = {**compiled, bundle.config_name: config_path}
    result.files = list(files)
    stages = [Stage("port", f"use {where}; check no other program holds it",
                    lambda: _check_port(port, where))]  # fmt: skip
    if options.micropython_image is not None:
        img = options.micropython_image
        before = options.esptool_before
        stages += [
            Stage("image", f"check {img} is a MicroPython build for ESP32",
                  lambda: _check_image(img, frozen=options.frozen)),
            Stage("erase", shown(image.erase_argv(port, before=before)),
                  lambda: _esptool(image.erase_argv(port, before=before), port, "flash erased")),
            Stage("write", shown(image.write_argv(port, img, before=before)),
                  lambda: _esptool(image.write_argv(port, img, before=before), port,
                                   f"MicroPython written at {image.FLASH_OFFSET}")),
        ]  # fmt: skip
    stages += [
        Stage("repl", "reset and interrupt the board until MicroPython's prompt shows",
              lambda: _wake(port, written=options.micropython_image is not None)),
        Stage("config", f"{shown(board_files.cat_argv(port, bundle.config_name))}; set "
              f"foot={foot}, name={name!r}, keep the rest",
              lambda: _write_config(port, bundle, config_path, foot, name)),
        Stage("clean", f"{shown(board_files.mpremote_argv(port, ['exec', '...']))} (remove "
              f"{len(stale)} old firmware files if present: {', '.join(stale)})",
              lambda: _remove(port, stale)),
        Stage("copy", f"{shown(board_files.mpremote_argv(port, ['cp', '...']))} "
              f"({len(files)} files: {', '.join(files)})",
              lambda: _copy(port, files)),
        Stage("verify", shown(board_files.hashes_argv(port, list(files))),
              lambda: _verify(port, files)),
        Stage("reset", shown(board_files.reset_argv(port)), lambda: _reset(port)),
        Stage("confirm", f"read status page 0 over serial: expect firmware "
              f"{bundle.version_text}, foot {foot}",
              lambda: _confirm(port, bundle, foot, options.boot_timeout_s, result)),
    ]  # fmt: skip
    return result, stages


def _check_port(port: str, where: str) -> str:
    check_port_free(port)
    return f"{where}, free"


def _check_image(path: Path, *, frozen: bool) -> str:
    image.check_image(path)
    said = f"{path.name}: ESP32 image, {path.stat().st_size} bytes"
    if not frozen and SPIRAM_BOARD_MARK not in path.read_bytes():
        said += ("; warning: its board name does not say SPIRAM, and the .mpy firmware needs "
                 "more heap than an ESP32 without PSRAM has (use the SPIRAM variant, or "
                 "freeze the firmware: flash --stage-frozen)")  # fmt: skip
    return said


def _esptool(argv: list[str], port: str, done: str) -> str:
    image.check_esptool(run_tool(argv), port)
    return done


def _wake(port: str, *, written: bool) -> str:
    # esptool reset the chip after writing: let MicroPython's first boot finish undisturbed.
    wake_repl(port, reset=not written, quiet_s=FIRST_BOOT_S if written else 0.0)
    return "MicroPython prompt"


def _write_config(port: str, bundle: FirmwareBundle, path: Path, foot: Foot, name: str) -> str:
    existing = board_files.read_board_file(port, bundle.config_name)
    path.write_text(config_text(existing, foot, name))
    kept = "new file" if existing is None else "merged into the board's file"
    return f"{bundle.config_name}: foot={foot}, name={name!r} ({kept})"


def _remove(port: str, names: list[str]) -> str:
    board_files.remove_files(port, names)
    return f"no old firmware files left to shadow the new ones ({len(names)} checked)"


def _copy(port: str, files: dict[str, Path]) -> str:
    board_files.copy_files(port, files)
    return f"{len(files)} files copied"


def _verify(port: str, files: dict[str, Path]) -> str:
    expected = board_files.local_hashes(files)
    board_files.verify_hashes(expected, board_files.board_hashes(port, list(files)), port)
    return f"{len(files)} files match by sha256"


def _reset(port: str) -> str:
    board_files.reset_board(port)
    return "reset"


def _confirm(
    port: str, bundle: FirmwareBundle, foot: Foot, timeout_s: float, result: FlashResult
) -> str:
    running = asyncio.run(read_running_firmware(port, boot_timeout_s=timeout_s))
    result.running = running
    if running.version != bundle.version:
        raise WrongDevice(
            port, what="firmware version after flashing", expected=bundle.version_text,
            got=running.version_text, hint="an older main.py still runs? flash again",
        )  # fmt: skip
    if running.foot != foot:
        raise WrongDevice(
            port, what="foot after flashing", expected=foot, got=running.foot,
            hint="the config file was not loaded at boot",
        )  # fmt: skip
    warning = "" if running.config_loaded else (
        f"; warning: the firmware refused fields of {bundle.config_name} and uses its defaults "
        "for them"
    )
    return (f"firmware {running.version_text} running, foot {running.foot}, insole id "
            f"0x{running.insole_id:08X}{warning}")  # fmt: skip


def flash(
    options: FlashOptions,
    progress: Progress = print,
    *,
    dry_run: bool = False,
    boards: list[DetectedBoard] | None = None,
) -> FlashResult:
    """Run (or with `dry_run`, only print) the stages; raise at the first that fails."""
    with tempfile.TemporaryDirectory(prefix="numbguard-flash-") as work_dir:
        result, stages = plan_stages(options, Path(work_dir), boards)
        for number, stage in enumerate(stages, start=1):
            head = f"[{number}/{len(stages)}] {stage.title}:"
            logger.info("%s %s%s", head, stage.detail, " (dry run)" if dry_run else "")
            outcome = stage.detail if dry_run else stage.action()
            logger.info("%s done: %s", head, outcome)
            progress(f"{head} {outcome}")
    return result
