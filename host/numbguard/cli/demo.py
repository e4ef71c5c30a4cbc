"""`numbguard demo`: the whole pipeline on a simulated pair of insoles, no hardware needed."""

from __future__ import annotations

import argparse

from numbguard.cli.session_options import add_view_arguments, run_with_view
from numbguard.recording import Channel, RecordingWriter
from numbguard.simulate import SCENARIO_NAMES
from numbguard.transports.sim import from_url

NAME = "demo"
HELP = "a short simulated run (both insoles, live view, alerts) through the real pipeline"

DEFAULT_SCENARIO = "tight_lacing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        choices=SCENARIO_NAMES,
        help=f"what the simulated runner does (default: {DEFAULT_SCENARIO})",
    )
    parser.add_argument(
        "--speed", type=float, default=15.0, help="times faster than real time (default: 15)"
    )
    parser.add_argument("--seed", type=int, default=0, help="simulation seed")
    parser.add_argument(
        "--loss",
        type=float,
        default=0.05,
        help="share of radio packets lost, then resent (default: 0.05)",
    )
    parser.add_argument("--record", metavar="PATH", help="also record the session to this file")
    add_view_arguments(parser)
    parser.set_defaults(duration_s=None)


def run(args: argparse.Namespace) -> int:
    duration_s = args.duration_s or 120.0
    speed = "max" if args.speed <= 0 else f"{args.speed:g}"
    url = f"sim://{args.scenario}?speed={speed}&seed={args.seed}&duration_s={duration_s:g}&loss={args.loss:g}"
    transport = from_url(url)
    if args.record:
        with RecordingWriter(args.record, {"source": url}) as recorder:
            run_with_view(
                args, transport, session_start_s=0.0, channel=Channel.SIM, recorder=recorder
            )
    else:
        run_with_view(args, transport, session_start_s=0.0, channel=Channel.SIM)
    return 0
