"""`numbguard run [URL]`: a live session with the insoles, recorded by default."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from numbguard.cli.session_options import (
    add_calibration_argument,
    add_view_arguments,
    load_calibrations,
    run_with_view,
)
from numbguard.cli.tag_options import add_tag_arguments, index_session, tags_for_recording
from numbguard.history.paths import sessions_dir
from numbguard.history.steps import StepCollector
from numbguard.recording import Channel, RecordingWriter
from numbguard.transports import open_transport, url_forms

CHANNELS = {"ble": Channel.BLE, "serial": Channel.SERIAL}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        nargs="?",
        default="ble://",
        help="where the insoles are (default: ble://). Forms: " + "; ".join(url_forms()),
    )
    record = parser.add_mutually_exclusive_group()
    record.add_argument("--record", type=Path, metavar="PATH", help="record to this file")
    record.add_argument("--no-record", action="store_true", help="do not record the session")
    add_view_arguments(parser)
    add_calibration_argument(parser)
    add_tag_arguments(parser)


def run(args: argparse.Namespace) -> int:
    tags = tags_for_recording(args, recording=not args.no_record)
    calibrations = load_calibrations(args.calibration)
    transport = open_transport(args.url)
    channel = CHANNELS.get(urlsplit(args.url).scheme, Channel.SIM)
    # Simulated and replayed sources carry their own clock from 0; live links the host's.
    session_start_s = time.monotonic() if channel != Channel.SIM else 0.0
    if args.no_record:
        run_with_view(
            args,
            transport,
            session_start_s=session_start_s,
            channel=channel,
            calibrations=calibrations,
        )
        return 0
    path: Path = args.record or sessions_dir() / f"{datetime.now():%Y%m%d-%H%M%S}.ngrec"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    received = False
    collector = StepCollector()  # the index's per-step numbers, without a second analysis
    result = None
    try:
        with RecordingWriter(path, {"source": args.url}, tags=tags) as recorder:
            try:
                result = run_with_view(
                    args,
                    transport,
                    session_start_s=session_start_s,
                    channel=channel,
                    recorder=recorder,
                    calibrations=calibrations,
                    on_chunk=collector.add,
                )
            finally:
                received = recorder.frames_written > 0
    finally:
        if received:
            print(f"recorded to {path}", file=sys.stderr)
        else:  # nothing came (no insole, no Bluetooth): no empty recording left behind
            path.unlink(missing_ok=True)
    if received and result is not None:
        index_session(path, collector.session_steps(path, result))
    return 0
