"""`numbguard pair`: bond this computer with the insoles and remember them."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from numbguard.cli import insole_choice

if TYPE_CHECKING:
    from numbguard.transports.ble import BleTransport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    insole_choice.add_arguments(parser)


async def pair_insoles(transport: BleTransport) -> list[str]:
    """Pair through `transport` (built with pair=True); one line per insole paired."""
    async with transport:
        return [
            f"{identity.foot}: paired with {identity.name} at {identity.link} "
            f"(insole {identity.insole_id or 0:#010x})"
            for identity in transport.insoles
        ]


def run(args: argparse.Namespace) -> int:
    for line in asyncio.run(pair_insoles(insole_choice.ble_transport(args, pair=True))):
        print(line)
    return 0
