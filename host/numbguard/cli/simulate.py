"""`numbguard simulate`: write labelled simulated sessions (CSV + labels JSON) into a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from numbguard.errors import BadValue
from numbguard.simulate import SCENARIO_NAMES, describe_scenarios


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--scenario", action="append", metavar="NAME", help="a scenario (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every scenario")
    which.add_argument(
        "--field",
        type=Path,
        metavar="DIR",
        help="the field set (every field scenario, at its own length) into DIR",
    )
    which.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument(
        "--duration-s", type=float, default=None, help="session length (240; not field)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    parser.add_argument("--sample-rate-hz", type=float, default=100.0, help="samples/s (100)")


def _write(name: str, out: Path, args: argparse.Namespace) -> Path:
    """Simulate `name` into `out`; the session CSV's path."""
    from numbguard.simulate.field import FIELD_SCENARIOS
    from numbguard.simulate.files import write_field_session, write_session  # numpy: not --help

    if name in FIELD_SCENARIOS:
        if args.duration_s is not None:
            raise BadValue(
                "a field scenario has its own length",
                expected="no --duration-s with " + name,
                got=f"--duration-s {args.duration_s:g}",
                name="--duration-s",
            )
        field = write_field_session(name, out, seed=args.seed, sample_rate_hz=args.sample_rate_hz)
        return field.csv_path
    files = write_session(
        name, out, seed=args.seed, duration_s=args.duration_s, sample_rate_hz=args.sample_rate_hz
    )
    return files.csv_path


def run(args: argparse.Namespace) -> int:
    from numbguard.simulate.field import FIELD_NAMES, FIELD_SCENARIOS  # numpy: not for --help

    if args.list:
        for name, description in describe_scenarios().items():
            print(f"{name:<28}{description}")
        for name, scenario in FIELD_SCENARIOS.items():
            print(f"{name:<28}field, {scenario.duration_s / 60:g} min: {scenario.description}")
        return 0
    out = args.field if args.field is not None else args.out
    if out is None:
        raise BadValue("no output folder", expected="--out DIR", got="nothing", name="--out")
    if args.field is not None and args.out is not None:
        raise BadValue(
            "two output folders", expected="--field DIR alone", got="--out too", name="--out"
        )
    if args.field is not None:
        names: tuple[str, ...] = FIELD_NAMES
    else:
        names = SCENARIO_NAMES if args.all else tuple(args.scenario)
    for index, name in enumerate(names):
        print(f"simulate: {index + 1}/{len(names)} {name}", file=sys.stderr)
        print(_write(name, out, args))
    return 0
