"""`numbguard replay RECORDING`: a recorded session through the live pipeline again."""

from __future__ import annotations

import argparse
import math
import sys

from numbguard.cli.log_options import add_log_arguments
from numbguard.cli.session_options import add_view_arguments, run_with_view
from numbguard.errors import BadFile
from numbguard.recording import Channel


def _speed(text: str) -> float:
    if text == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or 'max', got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or 'max', got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", help="a numbguard recording (.ngrec)")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=math.inf,
        help="1 = as recorded, N = N times faster, max (default)",
    )
    add_view_arguments(parser)
    add_log_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from numbguard.session.replay import recorded_calibrations
    from numbguard.transports.replay import ReplayTransport

    transport = ReplayTransport(f"replay://{args.recording}", args.recording, speed=args.speed)
    # The calibration the live session used, as the recording holds it.
    run_with_view(
        args,
        transport,
        session_start_s=0.0,
        channel=Channel.SIM,
        calibrations=recorded_calibrations(args.recording),
    )
    reader = transport.reader
    if reader.damage is not None:
        print(f"numbguard replay: {reader.damage}; replayed up to there", file=sys.stderr)
        return 1
    if transport.stats.undecodable:
        raise BadFile(
            "recorded frames did not decode",
            path=args.recording,
            expected="no undecodable frame",
            got=str(transport.stats.undecodable),
        )
    return 0
