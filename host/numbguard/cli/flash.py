"""`numbguard flash`: put MicroPython (optionally) and the insole firmware on an ESP32 board."""

from __future__ import annotations

import argparse
from pathlib import Path

from numbguard.cli.log_options import add_log_arguments

BUILD_NEEDED = (
    "board: MicroPython 1.28 ESP32_GENERIC, SPIRAM variant (the BOM's ESP32-PICO-MINI-02-N8R2 "
    "has 2 MB PSRAM, which the firmware's heap grows into; the firmware goes on as .mpy)"
)
FROZEN_BUILD_NEEDED = (
    "board: a MicroPython 1.28 build with the firmware frozen in (flash --stage-frozen DIR); "
    "only the boot stub and the config are copied"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--foot", choices=("left", "right"), help="which insole")
    parser.add_argument("--name", default="numbguard", help="insole name, 1-11 ASCII characters")
    parser.add_argument("--port", help="serial port (default: the one ESP32 board found on USB)")
    parser.add_argument(
        "--micropython",
        type=Path,
        metavar="FIRMWARE.bin",
        help="erase the chip and write this MicroPython build first (esptool)",
    )
    parser.add_argument(
        "--firmware-dir",
        type=Path,
        help="insole firmware sources (default: the firmware that ships with numbguard)",
    )
    parser.add_argument(
        "--boot-timeout", type=float, default=15.0, metavar="S", help="wait for the boot this long"
    )
    parser.add_argument(
        "--frozen", action="store_true",
        help="the MicroPython image has the firmware frozen in (--stage-frozen): copy only the "
        "boot stub and the config",
    )  # fmt: skip
    what.add_argument(
        "--stage-frozen", type=Path, metavar="DIR",
        help="write the firmware and a freeze manifest for a MicroPython build of a board "
        "without PSRAM into DIR, print the build command, and stop (no board needed)",
    )  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    add_log_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # Imported here: deploy pulls in pyserial and esptool, which `flash --help` does not need.
    from numbguard.deploy import FlashOptions, flash
    from numbguard.deploy.bundle import check_foot, load_bundle
    from numbguard.deploy.compile import stage_frozen

    if args.stage_frozen is not None:
        bundle = load_bundle(args.firmware_dir)
        manifest = stage_frozen(bundle.files, args.stage_frozen)
        print(f"firmware {bundle.version_text} staged for freezing in {args.stage_frozen}")
        print(f"build: make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST={manifest} "
              "(MicroPython 1.28, ESP-IDF)")  # fmt: skip
        print("then: numbguard flash --micropython build/firmware.bin --frozen --foot ...")
        return 0
    print(BUILD_NEEDED if not args.frozen else FROZEN_BUILD_NEEDED, flush=True)
    options = FlashOptions(
        foot=check_foot(args.foot),
        name=args.name,
        port=args.port,
        micropython_image=args.micropython,
        firmware_dir=args.firmware_dir,
        boot_timeout_s=args.boot_timeout,
        frozen=args.frozen,
    )
    result = flash(options, lambda line: print(line, flush=True), dry_run=args.dry_run)
    if not args.dry_run and result.running is not None:
        print(f"flashed {result.port}: firmware {result.running.version_text}, {args.foot} foot")
    return 0
