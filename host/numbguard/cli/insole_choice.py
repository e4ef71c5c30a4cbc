"""Options of the commands that look for the insoles over BLE themselves: pair, forget."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from numbguard.pads import parse_feet
from numbguard.transports.ble_timing import DEFAULT_SCAN_TIMEOUT_S

if TYPE_CHECKING:
    from numbguard.transports.ble import BleTransport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feet", default="left,right", help="which insoles: left, right or left,right (default)"
    )
    parser.add_argument(
        "--timeout-s", type=float, default=DEFAULT_SCAN_TIMEOUT_S,
        help=f"how long to look for them (default: {DEFAULT_SCAN_TIMEOUT_S:g})",
    )  # fmt: skip


def ble_transport(args: argparse.Namespace, *, pair: bool) -> BleTransport:
    """The BLE transport for the chosen feet, with this computer's pairing registry."""
    from numbguard.transports.ble import BleTransport  # bleak: not for --help
    from numbguard.transports.pairing import PairingRegistry, default_registry_path

    return BleTransport(
        "ble://?pair=1" if pair else "ble://", pair=pair, feet=parse_feet(args.feet),
        scan_timeout_s=args.timeout_s, registry=PairingRegistry(default_registry_path()),
    )  # fmt: skip
