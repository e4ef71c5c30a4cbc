"""Options shared by the commands that run a session live: run, demo, replay.

Adding the options imports nothing heavy (`CMD --help` stays fast); running does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from numbguard.errors import InputError
from numbguard.pads import Foot

if TYPE_CHECKING:
    from numbguard.analysis.pipeline import SessionResult
    from numbguard.calibration.insole import InsoleCalibration
    from numbguard.recording import Channel, RecordingWriter
    from numbguard.transports.base import Transport


def add_view_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="stream events as JSON lines on stdout (no live view)"
    )
    parser.add_argument(
        "--no-view", action="store_true", help="no live view; print the summary at the end"
    )
    sound = parser.add_mutually_exclusive_group()
    sound.add_argument("--speak", action="store_true", help="speak alerts with espeak-ng")
    sound.add_argument(
        "--quiet", action="store_true", help="no alert sound (default: terminal bell)"
    )
    parser.add_argument("--duration-s", type=float, help="stop after this much session time")


def add_calibration_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calibration",
        action="append",
        default=[],
        metavar="FILE",
        help="an insole's calibration JSON from `numbguard calibrate` (once per foot; "
        "default: the nominal constants of the chosen parts)",
    )


def load_calibrations(paths: list[str]) -> dict[Foot, InsoleCalibration]:
    """Each foot's calibration from the files given; two files for one foot is an error."""
    from numbguard.calibration.store import load_calibration

    calibrations: dict[Foot, InsoleCalibration] = {}
    for path in paths:
        calibration = load_calibration(path)
        if calibration.foot is None:
            raise InputError(
                "calibration names no foot",
                where=path,
                expected='"foot": "left" or "right"',
                got="none",
            )
        if calibration.foot in calibrations:
            raise InputError(
                "two calibrations for one foot",
                expected="at most one file per foot",
                got=f"a second {calibration.foot} calibration in {path}",
            )
        calibrations[calibration.foot] = calibration
    return calibrations


def run_with_view(
    args: argparse.Namespace,
    transport: Transport,
    *,
    session_start_s: float,
    channel: Channel,
    recorder: RecordingWriter | None = None,
    calibrations: Mapping[Foot, InsoleCalibration] | None = None,
) -> SessionResult:
    """Run `transport` through a session runner with the sinks the options ask for."""
    from numbguard.cli.analyze import summary
    from numbguard.live.json_events import JsonEventSink
    from numbguard.live.sound import AlertSound
    from numbguard.live.view import LiveView
    from numbguard.session.live import SessionSinks, run_session
    from numbguard.session.runner import SessionRunner

    json_sink = JsonEventSink(sys.stdout) if args.json else None
    show_view = not args.json and not args.no_view
    sound = AlertSound("speak" if args.speak else "off" if args.quiet or args.json else "bell")
    view = LiveView() if show_view else None
    sinks = SessionSinks(view=view, sound=sound, json_sink=json_sink)
    runner = SessionRunner(
        calibrations=calibrations,
        session_start_s=session_start_s,
        channel=channel,
        recorder=recorder,
        on_alert=sinks.alert,
    )
    try:
        if view is not None:
            with view:
                result = asyncio.run(
                    run_session(transport, runner, sinks, duration_s=args.duration_s)
                )
        else:
            result = asyncio.run(run_session(transport, runner, sinks, duration_s=args.duration_s))
    finally:
        sound.close()
    if json_sink is None:
        print(summary(result))
    return result
