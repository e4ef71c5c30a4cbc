"""A lab session over serial: both insoles' real firmware on ptys, into the host's real pipeline.

`run_serial_lab` boots one `FirmwareProcess` per foot behind a `SerialLine`, opens them with the
host's own transport (``serial://LEFT,RIGHT``, pyserial), feeds every event to a
`SessionRunner` (recording included), and at `duration_s` of insole time sends STOP to both, so
each firmware flushes its last frame and stops sampling, then ends the processes and the run.
Faults are scripted per run: damage on the lines (`LineFaults`), and resets at insole times.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from numbguard.analysis.pipeline import SessionResult
from numbguard.errors import DeviceError
from numbguard.lab.firmware_runner import FirmwareProcess, InsoleSpec, LineFaults, SerialLine
from numbguard.lab.traces import PadTrace
from numbguard.pads import Foot
from numbguard.protocol.constants import OP_STOP, OP_TIME_SYNC
from numbguard.protocol.frames import DataFrame, Reply
from numbguard.session.clock import token_from_host_time
from numbguard.session.runner import SessionRunner
from numbguard.transports import open_transport
from numbguard.transports.base import FrameEvent
from numbguard.transports.serial import SerialTransport

INSOLE_IDS: Final[dict[Foot, int]] = {"left": 0x1AB0C0DE, "right": 0x2AB0C0DE}
CLOCK_OFFSETS_US: Final[dict[Foot, int]] = {"left": 3_000_000, "right": 11_500_000}
QUIET_S: Final = 0.5  # no data frame for this long after STOP: the insoles are done
EVENT_WAIT_S: Final = 0.2


@dataclass
class LabRun:
    """What happened: the firmware side (`firmware`, `lines`) and the host side (`runner`)."""

    runner: SessionRunner
    firmware: dict[Foot, FirmwareProcess]
    lines: dict[Foot, SerialLine]
    transport: SerialTransport
    result: SessionResult | None = None
    events: int = 0
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
    on_event: Callable[[FrameEvent], None] | None = None,
    micropython: str | None = None,
) -> LabRun:
    """Run both (or one) insoles for `duration_s` of insole time; see the module docstring.

    `resets_at_s`: per foot, the insole time (since the start) of a watchdog reset.
    """
    firmware: dict[Foot, FirmwareProcess] = {}
    lines: dict[Foot, SerialLine] = {}
    with contextlib.ExitStack() as stack:
        for foot, trace in traces.items():
            spec = InsoleSpec(foot, INSOLE_IDS[foot], trace, CLOCK_OFFSETS_US[foot])
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
            for line in lines.values():
                await transport.control(
                    line.path, OP_TIME_SYNC, host_token=token_from_host_time(time.monotonic())
                )
            stop_sent = False
            last_data_s = time.monotonic()
            while True:
                insole_s = (time.monotonic() - start_s) * clock_scale
                for foot, at_s in list(pending_resets.items()):
                    if insole_s >= at_s:
                        del pending_resets[foot]
                        firmware[foot].reset()
                        run.resets_s.append((foot, time.monotonic()))
                if not stop_sent and insole_s >= duration_s:
                    stop_sent = True
                    for line in lines.values():
                        await _stop(transport, line.path)
                if stop_sent and time.monotonic() - last_data_s >= QUIET_S:
                    break
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
                if isinstance(event.frame, DataFrame):
                    last_data_s = time.monotonic()
                    run.data_events.append(event)
            for process in firmware.values():
                process.stop()
        run.result = runner.finish()
        return run


async def _stop(transport: SerialTransport, link: str) -> None:
    """STOP; a reply lost on a damaged line is asked for again by the transport."""
    reply = await transport.control(link, OP_STOP)
    if not isinstance(reply, Reply) or not reply.ok:
        raise DeviceError(f"{link}: STOP refused: {reply}")
