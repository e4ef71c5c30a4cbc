"""`numbguard pair`: bond this computer with the insoles and remember them."""

from __future__ import annotations

import argparse
import asyncio

from numbguard.pads import Foot, parse_feet
from numbguard.transports.ble import DEFAULT_SCAN_TIMEOUT_S, BleTransport
from numbguard.transports.pairing import PairingRegistry, default_registry_path

NAME = "pair"
HELP = (
    "pair with the insoles (a new insole pairs at once; one already bonded elsewhere after its "
    "button was held for 3 s) and remember them for `run`"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feet", default="left,right", help="which insoles: left, right or left,right (default)"
    )
    parser.add_argument(
        "--timeout-s", type=float, default=DEFAULT_SCAN_TIMEOUT_S,
        help=f"how long to look for them (default: {DEFAULT_SCAN_TIMEOUT_S:g})",
    )  # fmt: skip


async def pair_insoles(transport: BleTransport) -> list[str]:
    """Pair through `transport` (built with pair=True); one line per insole paired."""
    async with transport:
        return [
            f"{identity.foot}: paired with {identity.name} at {identity.link} "
            f"(insole {identity.insole_id or 0:#010x})"
            for identity in transport.insoles
        ]


def run(args: argparse.Namespace) -> int:
    feet: tuple[Foot, ...] = parse_feet(args.feet)
    transport = BleTransport(
        "ble://?pair=1", pair=True, feet=feet, scan_timeout_s=args.timeout_s,
        registry=PairingRegistry(default_registry_path()),
    )  # fmt: skip
    for line in asyncio.run(pair_insoles(transport)):
        print(line)
    return 0
