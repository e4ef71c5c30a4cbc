"""The serial path of the lab: the real firmware (MicroPython unix port) on ptys into the host.

Run by hand; prints markdown for docs/performance.md (## Lab, serial rows):

    python benchmarks/lab_serial.py [--seconds 60] [--scale 10] [--five-minutes]

- delivered / taken: sample sets in the host's recording over sample sets the firmware read,
  per fault profile (clean line; noise bursts between frames; 1% of frames corrupted and 1%
  cut, refilled by RESEND), both insoles, `--seconds` of a tight-lacing session at `--scale`.
- wall time of that run, and the firmware's skipped sample slots (a sample a whole period
  late: the clock runs `--scale` times fast, and a busy machine delays the process).
- reset: the left insole killed and restarted (watchdog reset) at real speed; time from the
  kill to the first frame of the new boot at the host, and the gap in samples.
- latency at real speed: from a sample taken on the firmware to the host's analysis having
  decided on it (alerts), p50 / p99; the sample's time on the host clock comes from the
  session's own clock alignment (a TIME_SYNC round trip: error at most half of it, ~1 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from numbguard.live.sink import ChunkListener
from numbguard.pads import Foot
from numbguard.protocol.frames import DataFrame
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import FrameEvent
from numbguard.types import PressureChunk
from numbguard_lab.firmware_runner import LineFaults
from numbguard_lab.serial_lab import LabRun, run_serial_lab
from numbguard_lab.traces import PadTrace, scenario_traces

PROFILES = {
    "clean line": None,
    "noise bursts every 50 ms": LineFaults(burst_every_s=0.05, seed=1),
    "1% frames corrupted + 1% cut": LineFaults(corrupt_fraction=0.01, cut_fraction=0.01, seed=2),
}


async def _run(
    traces: Mapping[Foot, PadTrace], seconds: float, scale: int, **kwargs: Any
) -> LabRun:
    runner = SessionRunner(session_start_s=time.monotonic())
    with tempfile.TemporaryDirectory() as workdir:
        return await run_serial_lab(
            traces, Path(workdir), runner, duration_s=seconds, clock_scale=scale, **kwargs
        )


def _delivered(run: LabRun, foot: Foot) -> int:
    """Sample sets of the distinct data frames the host received from `foot`."""
    sets = {
        (e.frame.seq, e.frame.t_first_us): e.frame.n_sets
        for e in run.data_events
        if e.foot == foot and isinstance(e.frame, DataFrame)
    }
    return sum(sets.values())


async def fault_profiles(seconds: float, scale: int) -> None:
    traces = scenario_traces("tight_lacing", seconds)
    print(f"| serial, {seconds:.0f} s of session at x{scale} | delivered / taken | wall s "
          "| skipped slots | RESEND-recovered frames |")  # fmt: skip
    print("|---|---|---|---|---|")
    for name, faults in PROFILES.items():
        run = await _run(traces, seconds, scale, faults={f: faults for f in traces if faults})
        delivered = sum(_delivered(run, foot) for foot in traces)
        taken = sum(run.samples_taken.values())
        skipped = sum(t.assembler.stats.samples_missing for t in run.runner.tracks.values())
        late = sum(t.stream.stats.late for t in run.runner.tracks.values())
        print(f"| {name} | {delivered} / {taken} | {run.wall_s:.1f} | {skipped} | {late} |")


async def reset_recovery(seconds: float) -> None:
    # Scenarios last at least 30 s; the run takes the first `seconds` of one.
    traces: dict[Foot, PadTrace] = {"left": scenario_traces("walking", 30.0)["left"]}
    firsts: list[float] = []
    boot_started = False

    def on_event(event: FrameEvent) -> None:
        nonlocal boot_started
        if isinstance(event.frame, DataFrame) and event.frame.seq == 0 and not event.late:
            if boot_started:
                firsts.append(event.received_s)
            boot_started = True

    run = await _run(traces, seconds, 1, resets_at_s={"left": seconds / 3}, on_event=on_event)
    (_, reset_s), first_s = run.resets_s[0], firsts[0]
    gap = run.runner.tracks["left"].assembler.stats.samples_missing
    recovery_s = first_s - reset_s
    print(f"| reset (kill + restart) at real speed | first frame of the new boot "
          f"{recovery_s:.2f} s after the kill | gap of {gap} samples recorded |")  # fmt: skip


async def latency(seconds: float) -> None:
    traces = scenario_traces("tight_lacing", max(seconds, 30.0))
    pending: list[PressureChunk] = []
    latencies_s: list[float] = []
    holder: dict[str, SessionRunner] = {}

    def on_event(event: FrameEvent) -> None:
        now_s = time.monotonic()
        runner = holder["runner"]
        for chunk in pending:
            track = runner.tracks[chunk.foot]
            assert track.t0_s is not None and track.assembler.rate_hz is not None
            if not track.aligner.sync_samples:
                continue  # the insole clock is not on the host's yet
            index = round((chunk.t_s[-1] - track.t0_s) * track.assembler.rate_hz)
            stream_us = track.assembler.t0_us + index * 1e6 / track.assembler.rate_hz
            taken_s = runner.session_start_s + track.aligner.to_host_s(stream_us / 1e6)
            latencies_s.append(now_s - taken_s)
        pending.clear()

    runner = SessionRunner(session_start_s=time.monotonic(), sinks=[ChunkListener(pending.append)])
    holder["runner"] = runner
    with tempfile.TemporaryDirectory() as workdir:
        await run_serial_lab(
            traces, Path(workdir), runner, duration_s=seconds, clock_scale=1, on_event=on_event
        )
    values = np.array(latencies_s)
    print(f"| latency, sample on the firmware to its analysis on the host, x1, {seconds:.0f} s "
          f"| p50 {statistics.median(values) * 1e3:.0f} ms | p99 "
          f"{np.percentile(values, 99) * 1e3:.0f} ms | {len(values)} chunks |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--five-minutes", action="store_true", help="also 300 s per profile")
    args = parser.parse_args()
    asyncio.run(fault_profiles(args.seconds, args.scale))
    if args.five_minutes:
        asyncio.run(fault_profiles(300.0, args.scale))
    asyncio.run(reset_recovery(15.0))
    asyncio.run(latency(20.0))


if __name__ == "__main__":
    main()
