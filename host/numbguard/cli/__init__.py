"""The `numbguard` command: a table of small subcommands, each a module of this package.

Each command module defines `add_arguments(parser)` and `run(args) -> int`; its one-line help
lives in `COMMANDS` below, so `numbguard --help` lists every command without importing any of
them, and `numbguard CMD ...` imports only CMD's module (the front door stays fast:
benchmarks/cli_help.py). The library works without the CLI; a command only parses arguments
and calls it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from numbguard import __version__
from numbguard.errors import NumbguardError

# Module names under numbguard.cli with their one-line help, in the order `--help` lists them.
COMMANDS: dict[str, str] = {
    "demo": "a short simulated run (both insoles, live view, alerts) through the real pipeline",
    "scan": "list the numbguard insoles in Bluetooth range (left/right, signal, paired)",
    "pair": (
        "pair with the insoles (a new insole pairs at once; one already bonded elsewhere after"
        " its button was held for 3 s) and remember them for `run`"
    ),
    "forget": (
        "make the paired insoles forget every bonded phone and computer (as a 10 s button"
        " press does), and forget them here; `pair` starts afresh"
    ),
    "run": "run a live session: both insoles, live view, alerts; recorded by default",
    "replay": (
        "replay a recording through the live pipeline: at real time, N x, or as fast as possible"
    ),
    "analyze": (
        "analyse a session file (recording, CSV interchange, Moticon export): gait and alerts"
    ),
    "report": "write an HTML report with plots of a session (recording, CSV or Moticon export)",
    "export": (
        "export a session (recording, CSV or Moticon export) as interchange CSV, a per-step"
        " table or a FIT activity file"
    ),
    "tag": "add or change a session's tags (shoe, lacing, note) after the run, in a sidecar",
    "history": (
        "list the indexed sessions (tags, cadence, lace and forefoot pressure, alerts/h);"
        " filter by shoe, lacing, date"
    ),
    "compare": (
        "compare two sessions or two tags (e.g. lacing=loose lacing=tight): per-step"
        " distributions, alert rates, and whether the difference is beyond the noise"
    ),
    "simulate": "write labelled simulated sessions (running, walking, risk patterns, faults)",
    "evaluate": "score alerts on labelled sessions: detections, misses, false alerts/h, delays",
    "flash": (
        "flash an insole: MicroPython (optional), firmware, foot and name; confirm the version"
    ),
    "calibrate": (
        "calibrate a connected insole with known loads; write the constants to it and to a file"
    ),
}

# Every command, as `build_parser(ALL)` takes it.
ALL = tuple(COMMANDS)


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"numbguard.cli.{name}")


def build_parser(load: Sequence[str] = ALL) -> argparse.ArgumentParser:
    """The whole command line; only the commands in `load` get their options (and imports)."""
    parser = argparse.ArgumentParser(
        prog="numbguard",
        description="Smart-insole host: live numbness-risk warnings for runners.",
    )
    parser.add_argument("--version", action="version", version=f"numbguard {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name in load:
            module = _load(name)
            module.add_arguments(sub)
            sub.set_defaults(_run=module.run)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The command an argument list runs: the first word that is not a top-level option."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    command = command_named(words)
    parser = build_parser(() if command is None else (command,))
    args = parser.parse_args(words)
    try:
        result: int = args._run(args)
    except NumbguardError as error:
        print(f"numbguard {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
