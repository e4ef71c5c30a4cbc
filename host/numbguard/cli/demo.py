"""`numbguard demo`: the whole pipeline on a simulated pair of insoles, no hardware needed."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Final

from numbguard.cli.log_options import add_log_arguments
from numbguard.cli.session_options import add_view_arguments, run_with_view
from numbguard.cli.tag_options import (
    add_tag_arguments,
    index_session,
    tags_for_recording,
    tags_from,
)
from numbguard.errors import BadValue, ToolMissing
from numbguard.recording import Channel, RecordingWriter
from numbguard.simulate import SCENARIO_NAMES

DEFAULT_SCENARIO = "tight_lacing"
MAX_LAB_SPEED: Final = 100  # the firmware's simulated clock runs at most this much faster


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
    parser.add_argument(
        "--lab",
        action="store_true",
        help="run the real firmware of both insoles under MicroPython over a virtual BLE radio "
        "(needs a source checkout and the `micropython` unix port); --speed <= 100",
    )
    add_view_arguments(parser)
    add_tag_arguments(parser)
    parser.set_defaults(duration_s=None)
    add_log_arguments(parser)


def run(args: argparse.Namespace) -> int:
    tags_for_recording(args, recording=bool(args.record))
    if args.lab:
        return _run_lab(args)
    from numbguard.transports.sim import from_url  # the simulator: not for --help

    duration_s = args.duration_s or 120.0
    speed = "max" if args.speed <= 0 else f"{args.speed:g}"
    url = f"sim://{args.scenario}?speed={speed}&seed={args.seed}&duration_s={duration_s:g}&loss={args.loss:g}"
    transport = from_url(url)
    if args.record:
        from numbguard.history.steps import StepCollector

        collector = StepCollector()  # the index's per-step numbers, without a second analysis
        with RecordingWriter(args.record, {"source": url}, tags=tags_from(args)) as recorder:
            result = run_with_view(args, transport, session_start_s=0.0, channel=Channel.SIM,
                                   recorder=recorder, on_chunk=collector.add)  # fmt: skip
        index_session(args.record, collector.session_steps(args.record, result))
    else:
        run_with_view(args, transport, session_start_s=0.0, channel=Channel.SIM)
    return 0


def _run_lab(args: argparse.Namespace) -> int:
    """Both insoles' firmware on the virtual radio, through the BLE transport."""
    # Imported here, and only here: the lab is a package of its own (lab/ in the source
    # checkout) that the product never needs; tests/test_layers.py allows this one import.
    try:
        from numbguard_lab.ble_lab import FirmwareBleLab, LabBleTransport, lab_specs
        from numbguard_lab.radio_link import RadioFaults
        from numbguard_lab.traces import scenario_traces
    except ImportError as error:
        raise ToolMissing(
            f"the lab package ({error.name} is missing)",
            purpose="run numbguard demo --lab",
            install="in a source checkout, pip install -e ./lab",
        ) from error

    duration_s = args.duration_s or 120.0
    clock_scale = round(args.speed)
    if not 1 <= clock_scale <= MAX_LAB_SPEED:
        raise BadValue(
            "lab speed",
            expected=f"--speed from 1 to {MAX_LAB_SPEED} with --lab",
            got=f"{args.speed:g}",
            name="--speed",
        )
    traces = scenario_traces(args.scenario, duration_s, seed=args.seed)
    faults = {
        foot: RadioFaults(notify_loss=args.loss, seed=args.seed + i)
        for i, foot in enumerate(traces)
    }
    with tempfile.TemporaryDirectory(prefix="numbguard-lab-") as workdir:
        lab = FirmwareBleLab(Path(workdir), lab_specs(traces), faults=faults,
                             clock_scale=clock_scale)  # fmt: skip
        transport = LabBleTransport(lab)
        # The session ends after the run's insole time, in wall seconds of the sped-up clock.
        args.duration_s = duration_s / clock_scale
        source = f"lab:{args.scenario}?speed={clock_scale}&seed={args.seed}&loss={args.loss:g}"
        start_s = time.monotonic()
        if args.record:
            tags = tags_from(args)
            with RecordingWriter(args.record, {"source": source}, tags=tags) as recorder:
                run_with_view(args, transport, session_start_s=start_s, channel=Channel.BLE,
                              recorder=recorder)  # fmt: skip
        else:
            run_with_view(args, transport, session_start_s=start_s, channel=Channel.BLE)
    if args.record:
        index_session(args.record)
    return 0
