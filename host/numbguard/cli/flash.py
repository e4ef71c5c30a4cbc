"""`numbguard flash`: put MicroPython (optionally) and the insole firmware on an ESP32 board."""

from __future__ import annotations

import argparse
from pathlib import Path

from numbguard.deploy import FlashOptions, flash
from numbguard.deploy.bundle import check_foot

NAME = "flash"
HELP = "flash an insole: MicroPython (optional), firmware, foot and name; confirm the version"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--foot", required=True, choices=("left", "right"), help="which insole")
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
        help="insole firmware sources (default: ./firmware of numbguard)",
    )
    parser.add_argument(
        "--boot-timeout", type=float, default=15.0, metavar="S", help="wait for the boot this long"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")


def run(args: argparse.Namespace) -> int:
    options = FlashOptions(
        foot=check_foot(args.foot),
        name=args.name,
        port=args.port,
        micropython_image=args.micropython,
        firmware_dir=args.firmware_dir,
        boot_timeout_s=args.boot_timeout,
    )
    result = flash(options, lambda line: print(line, flush=True), dry_run=args.dry_run)
    if not args.dry_run and result.running is not None:
        print(f"flashed {result.port}: firmware {result.running.version_text}, {args.foot} foot")
    return 0
