"""`numbguard forget`: the paired insoles delete their bonds, and this computer forgets them."""

from __future__ import annotations

import argparse
import asyncio

from numbguard.errors import DeviceError
from numbguard.pads import Foot, parse_feet
from numbguard.transports.ble import DEFAULT_SCAN_TIMEOUT_S, BleTransport
from numbguard.transports.pairing import PairingRegistry, default_registry_path

NAME = "forget"
HELP = (
    "make the paired insoles forget every bonded phone and computer (as a 10 s button press "
    "does), and forget them here; `pair` starts afresh"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--feet", default="left,right", help="which insoles: left, right or left,right (default)"
    )
    parser.add_argument(
        "--timeout-s", type=float, default=DEFAULT_SCAN_TIMEOUT_S,
        help=f"how long to look for them (default: {DEFAULT_SCAN_TIMEOUT_S:g})",
    )  # fmt: skip


async def forget_insoles(transport: BleTransport) -> list[str]:
    """Connect on the stored bonds, FORGET_BONDS, drop this host's bonds; a line per insole."""
    if not any(transport.registry.get(foot) for foot in transport.feet):
        raise DeviceError("no paired insole to forget (`numbguard pair` pairs them)")
    async with transport:
        return [
            f"{identity.foot}: {identity.name} at {identity.link} forgot its bonds"
            for identity in await transport.forget_bonds()
        ]


def run(args: argparse.Namespace) -> int:
    feet: tuple[Foot, ...] = parse_feet(args.feet)
    transport = BleTransport(
        "ble://", feet=feet, scan_timeout_s=args.timeout_s,
        registry=PairingRegistry(default_registry_path()),
    )  # fmt: skip
    for line in asyncio.run(forget_insoles(transport)):
        print(line)
    return 0
