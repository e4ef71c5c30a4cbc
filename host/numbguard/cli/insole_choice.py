"""Options of the commands that look for the insoles over BLE themselves: pair, forget."""

from __future__ import annotations

import argparse

from numbguard.pads import parse_feet
from numbguard.transports.ble import DEFAULT_SCAN_TIMEOUT_S, BleTransport
from numbguard.transports.pairing import PairingRegistry, default_registry_path


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
    return BleTransport(
        "ble://?pair=1" if pair else "ble://", pair=pair, feet=parse_feet(args.feet),
        scan_timeout_s=args.timeout_s, registry=PairingRegistry(default_registry_path()),
    )  # fmt: skip
