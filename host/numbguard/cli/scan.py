"""`numbguard scan`: list the insoles in range."""

from __future__ import annotations

import argparse
import asyncio


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout-s", type=float, default=5.0, help="how long to listen (default: 5)"
    )


def run(args: argparse.Namespace) -> int:
    from numbguard.transports.pairing import PairingRegistry, default_registry_path
    from numbguard.transports.scan import scan_insoles  # bleak: not for --help

    registry = PairingRegistry(default_registry_path())
    found = asyncio.run(scan_insoles(args.timeout_s, registry=registry))
    if not found:
        print(
            f"no insole heard in {args.timeout_s:g} s "
            "(is it on, charged, and not connected to another host?)"
        )
        return 1
    for insole in found:
        foot = insole.foot or "?"
        note = "paired" if insole.paired else ""
        if insole.not_used_because:
            note = f"{note}; not used: {insole.not_used_because}".lstrip("; ")
        print(f"{insole.address}  {insole.name:<10} {foot:<6} {insole.rssi_dbm:4d} dBm  {note}")
    return 0
