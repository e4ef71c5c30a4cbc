"""`numbguard forget`: the paired insoles delete their bonds, and this computer forgets them."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from numbguard.cli import insole_choice
from numbguard.errors import DeviceNotFound

if TYPE_CHECKING:
    from numbguard.transports.ble import BleTransport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    insole_choice.add_arguments(parser)


async def forget_insoles(transport: BleTransport) -> list[str]:
    """Connect on the stored bonds, FORGET_BONDS, drop this host's bonds; a line per insole."""
    if not any(transport.registry.get(foot) for foot in transport.feet):
        raise DeviceNotFound("a paired insole to forget", None, "`numbguard pair` pairs them")
    async with transport:
        return [
            f"{identity.foot}: {identity.name} at {identity.link} forgot its bonds"
            for identity in await transport.forget_bonds()
        ]


def run(args: argparse.Namespace) -> int:
    for line in asyncio.run(forget_insoles(insole_choice.ble_transport(args, pair=False))):
        print(line)
    return 0
