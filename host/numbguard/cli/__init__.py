"""The `numbguard` command: a table of small subcommands, each a module of this package.

Each command module defines `NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`.
The library works without the CLI; a command only parses arguments and calls it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from numbguard import __version__
from numbguard.errors import NumbguardError

# Module names under numbguard.cli, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = (
    "demo",
    "scan",
    "pair",
    "forget",
    "run",
    "replay",
    "analyze",
    "report",
    "export",
    "simulate",
    "evaluate",
    "flash",
    "calibrate",
)


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"numbguard.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="numbguard",
        description="Smart-insole host: live numbness-risk warnings for runners.",
    )
    parser.add_argument("--version", action="version", version=f"numbguard {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = _load(name)
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args._run(args)
    except NumbguardError as error:
        print(f"numbguard {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
