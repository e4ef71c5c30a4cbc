"""A lab session over serial: both insoles' real firmware on ptys, into the host's real pipeline.

`run_serial_lab` boots one `FirmwareProcess` per foot behind a `SerialLine`, opens them with the
host's own transport (``serial://LEFT,RIGHT``, pyserial), feeds every event to a
`SessionRunner` (recording included), and at `duration_s` of insole time sends STOP to both, so
each firmware flushes its last frame and stops sampling. The run ends when, for each insole, a
status page built after STOP names the newest frame received and none is missing.
Faults are scripted per run: damage on the lines (`LineFaults`), and resets at insole times.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from numbguard.analysis.pipeline import SessionResult
from numbguard.errors import DeviceError
from numbguard.pads import Foot
from numbguard.protocol.constants import OP_STOP, OP_TIME_SYNC
from numbguard.protocol.frames import DataFrame, Reply, StatusClock
from numbguard.protocol.time_sync import token_from_host_time
from numbguard.session.runner import SessionRunner
from numbguard.transports import open_transport
from numbguard.transports.base import FrameEvent
from numbguard.transports.serial import SerialTransport
from numbguard_lab.firmware_runner import FirmwareProcess, InsoleSpec, LineFaults, SerialLine
from numbguard_lab.traces import PadTrace

INSOLE_IDS: Final[dict[Foot, int]] = {"left": 0x1AB0C0DE, "right": 0x2AB0C0DE}
CLOCK_OFFSETS_US: Final[dict[Foot, int]] = {"left": 3_000_000, "right": 11_500_000}
DRAIN_TIMEOUT_S: Final = 30.0  # wall time after STOP for the last frames (a busy host lags)
EVENT_WAIT_S: Final = 0.2


def lab_spec(foot: Foot, trace: PadTrace, clock_ppm: int = 0) -> InsoleSpec:
    """The lab's insole for `foot`: its id and clock offset, pads driven by `trace`."""
    return InsoleSpec(foot, INSOLE_IDS[foot], trace, CLOCK_OFFSETS_US[foot], clock_ppm)


@dataclass
class LabRun:
    """What happened: the firmware side (`firmware`, `lines`) and the host side (`runner`)."""

    runner: SessionRunner
    firmware: dict[Foot, FirmwareProcess]
    lines: dict[Foot, SerialLine]
    transport: SerialTransport
    result: SessionResult | None = None
    events: int = 0
    wall_s: float = 0.0  # from opening the ports to the end of the run
    drained: bool = False  # every insole's last frame came before DRAIN_TIMEOUT_S
    samples_taken: dict[Foot, int] = field(default_factory=dict)  # by the last boot of each
    exit_codes: dict[Foot, int | None] = field(default_factory=dict)  # of the last boots
    resets_s: list[tuple[Foot, float]] = field(default_factory=list)  # (foot, wall time)
    data_events: list[FrameEvent] = field(default_factory=list)


async def run_serial_lab(
    traces: Mapping[Foot, PadTrace],
    workdir: Path,
    runner: SessionRunner,
    *,
    duration_s: float,
    clock_scale: int = 10,
    faults: Mapping[Foot, LineFaults] | None = None,
    resets_at_s: Mapping[Foot, float] | None = None,
    clock_ppm: Mapping[Foot, int] | None = None,
    on_event: Callable[[FrameEvent], None] | None = None,
    micropython: str | None = None,
) -> LabRun:
    """Run both (or one) insoles for `duration_s` of insole time; see the module docstring.

    `resets_at_s`: per foot, the insole time (since the start) of a watchdog reset;
    `clock_ppm`: per foot, the error of the insole's crystal (a skewed clock).
    """
    firmware: dict[Foot, FirmwareProcess] = {}
    lines: dict[Foot, SerialLine] = {}
    with contextlib.ExitStack() as stack:
        for foot, trace in traces.items():
            spec = lab_spec(foot, trace, (clock_ppm or {}).get(foot, 0))
            process = FirmwareProcess(
                spec, workdir / foot, clock_scale=clock_scale, micropython=micropython
            )
            firmware[foot] = stack.enter_context(process)
            lines[foot] = stack.enter_context(SerialLine(process, (faults or {}).get(foot)))
        url = "serial://" + ",".join(line.path for line in lines.values())
        transport = open_transport(url)
        assert isinstance(transport, SerialTransport)
        run = LabRun(runner, firmware, lines, transport)
        pending_resets = dict(resets_at_s or {})
        start_s = time.monotonic()
        async with transport:
            stopped_s: dict[Foot, float] = {}  # when each STOP was answered
            drained: set[Foot] = set()
            last_seq: dict[Foot, int] = {}  # newest in-order data frame of each insole
            synced: set[Foot] = set()
            while len(drained) < len(lines):
                insole_s = (time.monotonic() - start_s) * clock_scale
                for foot, at_s in list(pending_resets.items()):
                    if insole_s >= at_s:
                        del pending_resets[foot]
                        firmware[foot].reset()
                        run.resets_s.append((foot, time.monotonic()))
                if not stopped_s and insole_s >= duration_s:
                    for foot, line in lines.items():
                        # The host asks for a missing frame when a newer one arrives; after
                        # the last frame none does, so the line carries the tail undamaged.
                        line.calm()
                        await _stop(transport, line.path)
                        stopped_s[foot] = time.monotonic()
                if stopped_s and time.monotonic() - max(stopped_s.values()) > DRAIN_TIMEOUT_S:
                    break  # some frames never came: the checks of the run will say which
                try:
                    event = await asyncio.wait_for(transport.next_event(), EVENT_WAIT_S)
                except TimeoutError:
                    continue
                if event is None:
                    break
                run.events += 1
                runner.on_event(event)
                if on_event is not None:
                    on_event(event)
                frame = event.frame
                if isinstance(frame, DataFrame):
                    run.data_events.append(event)
                    if not event.late:
                        last_seq[event.foot] = frame.seq
                elif isinstance(frame, StatusClock) and event.foot not in synced:
                    # The first page 1 ties the device clock to the stream; now a TIME_SYNC
                    # puts the insole's clock on the host's, as a live session does.
                    synced.add(event.foot)
                    await _time_sync(transport, lines[event.foot].path)
                elif (
                    isinstance(frame, StatusClock)
                    and event.received_s > stopped_s.get(event.foot, math.inf)
                    and frame.last_data_seq == last_seq.get(event.foot)
                    and runner.tracks[event.foot].stream.missing() == 0
                ):
                    # A status page built after STOP names the last frame: all are here.
                    drained.add(event.foot)
            run.wall_s = time.monotonic() - start_s
            run.drained = len(drained) == len(lines)
            for foot, process in firmware.items():
                run.exit_codes[foot] = process.stop()
                if run.exit_codes[foot] != 0:
                    tail = lines[foot].stats.tail.decode(errors="replace")
                    raise DeviceError(
                        f"{process.name} did not end cleanly; its output ends: {tail}"
                    )
                run.samples_taken[foot] = process.samples_taken()
        run.result = runner.finish()
        return run


async def _time_sync(transport: SerialTransport, link: str) -> None:
    token = token_from_host_time(time.monotonic())
    reply = await transport.control(link, OP_TIME_SYNC, host_token=token)
    if not reply.ok:
        raise DeviceError(f"{link}: TIME_SYNC refused: {reply}")


async def _stop(transport: SerialTransport, link: str) -> None:
    """STOP; a reply lost on a damaged line is asked for again by the transport."""
    reply = await transport.control(link, OP_STOP)
    if not isinstance(reply, Reply) or not reply.ok:
        raise DeviceError(f"{link}: STOP refused: {reply}")


def main(argv: list[str] | None = None) -> int:
    """Boot a pair of lab insoles behind ptys and print their URL for `numbguard run`."""
    import argparse

    from numbguard_lab.traces import file_traces, scenario_traces

    parser = argparse.ArgumentParser(
        prog="python -m numbguard_lab.serial_lab", description=main.__doc__
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scenario", default="tight_lacing", help="simulated scenario name")
    source.add_argument("--file", type=Path, help="a recording, interchange CSV or Moticon file")
    parser.add_argument("--seconds", type=float, default=300.0, help="scenario length")
    parser.add_argument("--scale", type=int, default=1, help="insole clock speed-up")
    parser.add_argument("--workdir", type=Path, help="the insoles' flash (default: temporary)")
    args = parser.parse_args(argv)
    traces = file_traces(args.file) if args.file else scenario_traces(args.scenario, args.seconds)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        lines = []
        for foot, trace in traces.items():
            process = stack.enter_context(
                FirmwareProcess(lab_spec(foot, trace), workdir / foot, clock_scale=args.scale)
            )
            lines.append(stack.enter_context(SerialLine(process)))
        print("serial://" + ",".join(line.path for line in lines), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while all(line.firmware.running for line in lines):
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
