"""Options shared by the commands that run a session live: run, demo, replay.

Adding the options imports nothing heavy (`CMD --help` stays fast); running does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from numbguard.errors import BadCalibration, BadValue
from numbguard.pads import Foot
from numbguard.web.address import DEFAULT_HOST, DEFAULT_PORT, is_loopback

if TYPE_CHECKING:
    from numbguard.analysis.pipeline import SessionResult
    from numbguard.calibration.insole import InsoleCalibration
    from numbguard.live.json_events import EventSink
    from numbguard.recording import Channel, RecordingWriter
    from numbguard.transports.base import Transport
    from numbguard.types import PressureChunk
    from numbguard.web.server import WebServer


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
    web = parser.add_argument_group("live page in a browser (docs/web.md)")
    web.add_argument(
        "--web", action="store_true", help=f"serve the live page (default http://{DEFAULT_HOST}:"
        f"{DEFAULT_PORT}/, this computer only)"
    )  # fmt: skip
    web.add_argument(
        "--web-host",
        metavar="ADDRESS",
        help="serve on this address (implies --web); 0.0.0.0 = the local network, with a token "
        "in the address, printed with a QR code",
    )
    web.add_argument(
        "--web-port", type=int, metavar="PORT", help=f"port (implies --web; default {DEFAULT_PORT})"
    )
    web.add_argument(
        "--web-new-token",
        action="store_true",
        help="replace the stored token (every address given out before stops working)",
    )


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
            raise BadCalibration(
                "calibration names no foot",
                where=path,
                expected='"foot": "left" or "right"',
                got="none",
            )
        if calibration.foot in calibrations:
            raise BadValue(
                "two calibrations for one foot",
                name="--calibration",
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
    on_chunk: Callable[[PressureChunk], None] | None = None,
) -> SessionResult:
    """Run `transport` through a session runner with the sinks the options ask for;
    `on_chunk` sees every calibrated chunk the analysis gets."""
    from numbguard.cli.analyze import summary
    from numbguard.live.json_events import EventFanout, EventStream, JsonEventSink
    from numbguard.live.recording_sink import RecordingSink
    from numbguard.live.sink import SessionSink, chunk_sinks
    from numbguard.live.sound import AlertSound
    from numbguard.live.state import LiveState
    from numbguard.live.view import LiveView
    from numbguard.session.live import run_session
    from numbguard.session.runner import SessionRunner

    json_sink = JsonEventSink(sys.stdout) if args.json else None
    web = web_server(args)
    streams: list[EventSink] = [sink for sink in (json_sink, web) if sink is not None]
    show_view = not args.json and not args.no_view
    sound = AlertSound("speak" if args.speak else "off" if args.quiet or args.json else "bell")
    state = LiveState()
    view = LiveView(state) if show_view else None
    # The state before the event stream and the view, which show it.
    sinks: list[SessionSink] = [RecordingSink(recorder, channel)] if recorder is not None else []
    sinks += [state, sound]
    if streams:
        sinks.append(EventStream(EventFanout(*streams), state))
    if view is not None:
        sinks.append(view)
    sinks += chunk_sinks(on_chunk)
    runner = SessionRunner(calibrations=calibrations, session_start_s=session_start_s, sinks=sinks)

    async def session() -> SessionResult:
        async with contextlib.AsyncExitStack() as stack:
            if web is not None:  # before the view, so the address stays above it
                from numbguard.web.announce import announce

                await stack.enter_async_context(web)
                announce(web, sys.stderr)
            if view is not None:
                stack.enter_context(view)
            return await run_session(transport, runner, duration_s=args.duration_s)

    try:
        result = asyncio.run(session())
    finally:
        sound.close()
    if json_sink is None:
        print(summary(result))
    return result


def web_server(args: argparse.Namespace) -> WebServer | None:
    """The live page's server the options ask for (not started), or None."""
    if not (args.web or args.web_host is not None or args.web_port is not None):
        return None
    # Imported only when asked for: the web stack costs a quarter second to load.
    from numbguard.web.server import WebServer
    from numbguard.web.token import web_token

    host = DEFAULT_HOST if args.web_host is None else args.web_host
    port = DEFAULT_PORT if args.web_port is None else args.web_port
    if not 0 <= port <= 65535:
        raise BadValue(
            "web port", name="--web-port", expected="--web-port from 0 to 65535", got=str(port)
        )
    token = None if is_loopback(host) else web_token(new=args.web_new_token)
    return WebServer(host, port, token=token)
