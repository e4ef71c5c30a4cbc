"""The real firmware over the virtual BLE radio: delivery under faults, recovery, MTU figures.

Run by hand; prints markdown for docs/performance.md (## Lab):

    python benchmarks/lab_ble.py [--seconds 60] [--scale 5]

Both insoles' firmware (micropython-nimble: MicroPython's unix port with its real `bluetooth`
module on NimBLE, clock sped up `--scale` times, the radio's timing with it) pair with the host
and stream a tight-lacing trace over the lab's timed virtual radio (30 ms connection events,
six PDUs each) into the host's BLE transport (the real `BleakClient` on bumble, behaving as on
BlueZ) and a `SessionRunner`.

- fault profiles: samples the host holds at the end / samples the firmware took. "after
  connecting" leaves out what the firmware sent before the host subscribed (over USB serial
  while no central was connected, then the moment before the subscription).
- recovery: a 3 s link drop with the insole clock at real speed; from the insole being in reach
  again to reconnected (bonded: re-encryption, no pairing), and to the last frame of the outage
  recovered by RESEND.
- MTU 23 / 100 / 247: data notifications per insole second at 100 Hz x 6 pads, what the radio
  carried per wall second, and payload efficiency: packed sample bytes / (notification + ATT
  opcode and handle (3) + L2CAP header (4)).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from numbguard.pads import Foot
from numbguard.protocol.codec import packed_sample_bytes
from numbguard.protocol.frames import DataFrame
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import FrameEvent
from numbguard_lab.ble_lab import BleLabRun, FirmwareBleLab, lab_specs, run_ble_lab
from numbguard_lab.radio_link import RadioFaults
from numbguard_lab.traces import PadTrace, scenario_traces

_ATT_L2CAP_BYTES = 3 + 4


async def _run(
    traces: dict[Foot, PadTrace], seconds: float, scale: int, *,
    faults: dict[Foot, RadioFaults] | None = None, central_mtu: int = 247,
) -> BleLabRun:  # fmt: skip
    with tempfile.TemporaryDirectory() as workdir:
        lab = FirmwareBleLab(Path(workdir), lab_specs(traces), faults=faults, clock_scale=scale,
                             central_mtu=central_mtu)  # fmt: skip
        runner = SessionRunner(session_start_s=time.monotonic())
        return await run_ble_lab(lab, runner, duration_s=seconds)


def _unique_frames(events: list[FrameEvent], foot: Foot) -> dict[int, DataFrame]:
    return {
        e.frame.seq: e.frame for e in events if e.foot == foot and isinstance(e.frame, DataFrame)
    }


def _head(trace: PadTrace, first: DataFrame) -> int:
    """The trace row of a frame's first sample set (the pads' noise makes it unique)."""
    n = first.n_sets
    for row in range(len(trace.counts) - n + 1):
        if (trace.counts[row : row + n] == first.samples).all():
            return row
    raise ValueError(f"frame {first.seq}: samples not in the trace")


def _delivered(run: BleLabRun, traces: dict[Foot, PadTrace]) -> tuple[float, float]:
    """Over both feet: samples held / taken, and held / taken since the first frame heard."""
    held = taken = since = 0
    for foot, n_taken in run.samples_taken.items():
        frames = _unique_frames(run.data_events, foot)
        held += sum(frame.n_sets for frame in frames.values())
        taken += n_taken
        since += n_taken - _head(traces[foot], frames[min(frames)])
    return held / taken, held / since


def _profiles(traces: dict[Foot, PadTrace], seconds: float, scale: int) -> list[str]:
    s = seconds
    profiles: dict[str, RadioFaults] = {
        "none": RadioFaults(),
        "10% notifications lost": RadioFaults(notify_loss=0.10),
        "two 3 s link drops": RadioFaults(link_drops=((0.3 * s, 3.0), (0.65 * s, 3.0))),
        "two 3 s radio stalls (ENOMEM)": RadioFaults(stalls=((0.3 * s, 3.0), (0.65 * s, 3.0))),
        "all of the above": RadioFaults(
            notify_loss=0.10,
            link_drops=((0.3 * s, 3.0), (0.65 * s, 3.0)),
            stalls=((0.5 * s, 3.0),),
        ),
    }
    rows = [
        "| fault profile | samples held / taken | after connecting | recovered (late) frames "
        "| notifications lost |",
        "|---|---|---|---|---|",
    ]
    for name, fault in profiles.items():
        faults = {foot: RadioFaults(fault.notify_loss, fault.link_drops, fault.stalls, seed=i)
                  for i, foot in enumerate(traces)}  # fmt: skip
        run = asyncio.run(_run(traces, seconds, scale, faults=faults))
        all_taken, after = _delivered(run, traces)
        missing = sum(run.runner.tracks[foot].stream.missing() for foot in traces)
        late = sum(event.late for event in run.data_events)
        lost = sum(radio.counters.notifications_lost for radio in run.lab.radios.values())
        rows.append(f"| {name} | {all_taken:.3f} | {after:.4f} ({missing} missing) | {late} "
                    f"| {lost} |")  # fmt: skip
    return rows


def _recovery(traces: dict[Foot, PadTrace]) -> list[str]:
    seconds = 14.0
    faults = {foot: RadioFaults(link_drops=((5.0, 3.0),)) for foot in traces}
    run = asyncio.run(_run(traces, seconds, 1, faults=faults))
    rows = ["| foot | reconnected after (s) | outage recovered after (s) |", "|---|---|---|"]
    for foot, radio in run.lab.radios.items():
        (back_s,) = radio.counters.back_in_reach_at_s
        late = [e.received_s for e in run.data_events if e.foot == foot and e.late]
        filled = max((t for t in late if t > back_s), default=float("nan")) - back_s
        (reconnected_s,) = radio.counters.reconnected_after_s
        rows.append(f"| {foot} | {reconnected_s:.3f} | {filled:.3f} |")
    return rows


def _mtus(traces: dict[Foot, PadTrace], seconds: float, scale: int) -> list[str]:
    rows = [
        "| MTU | notifications / insole s | per wall s (clock x{scale}) | sets per frame "
        "| payload efficiency |".replace("{scale}", str(scale)),
        "|---|---|---|---|---|",
    ]
    for mtu in (23, 100, 247):
        run = asyncio.run(_run(traces, seconds, scale, central_mtu=mtu))
        frames = [f for foot in traces for f in _unique_frames(run.data_events, foot).values()]
        frames = [f for f in frames if f.n_sets]
        sets = sum(f.n_sets for f in frames)
        payload = sum(packed_sample_bytes(f) for f in frames)
        sizes = {id(e.frame): len(e.raw) for e in run.data_events}
        on_air = sum(sizes[id(f)] + _ATT_L2CAP_BYTES for f in frames if id(f) in sizes)
        insole_s = sets / len(traces) / 100.0
        per_insole_s = len(frames) / len(traces) / insole_s
        per_wall_s = per_insole_s * scale
        rows.append(f"| {mtu} | {per_insole_s:.1f} | {per_wall_s:.0f} | {sets / len(frames):.1f} "
                    f"| {payload / on_air:.3f} |")  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="insole seconds per run")
    parser.add_argument("--scale", type=int, default=5, help="insole clock speed-up")
    args = parser.parse_args()
    traces = scenario_traces("tight_lacing", max(args.seconds, 20.0), seed=5)
    started = time.monotonic()
    for title, rows in (
        ("Delivery under faults", _profiles(traces, args.seconds, args.scale)),
        ("Recovery after a 3 s link drop (insole clock at real speed)", _recovery(traces)),
        ("Notifications and payload at each MTU", _mtus(traces, args.seconds / 3, args.scale)),
    ):
        print(f"\n{title}\n")
        print("\n".join(rows))
    print(f"\n({time.monotonic() - started:.0f} s, {sys.platform})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
