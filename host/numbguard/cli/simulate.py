"""`numbguard simulate`: write labelled simulated sessions (CSV + labels JSON) into a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from numbguard.errors import InputError
from numbguard.simulate import SCENARIO_NAMES, describe_scenarios


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--scenario", action="append", metavar="NAME", help="a scenario (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every scenario")
    which.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument("--duration-s", type=float, default=None, help="session length (240)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--sample-rate-hz", type=float, default=100.0, help="samples/s (100)")


def run(args: argparse.Namespace) -> int:
    if args.list:
        for name, description in describe_scenarios().items():
            print(f"{name:<28}{description}")
        return 0
    if args.out is None:
        raise InputError("no output folder", expected="--out DIR", got="nothing")
    from numbguard.simulate.files import write_session  # numpy: not for --help

    names = SCENARIO_NAMES if args.all else tuple(args.scenario)
    for index, name in enumerate(names):
        print(f"simulate: {index + 1}/{len(names)} {name}", file=sys.stderr)
        files = write_session(
            name,
            args.out,
            seed=args.seed,
            duration_s=args.duration_s,
            sample_rate_hz=args.sample_rate_hz,
        )
        print(files.csv_path)
    return 0
