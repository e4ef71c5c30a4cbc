"""Latency, rates and recovery of the host transports over the lab's virtual links.

Run by hand; prints markdown for docs/performance.md (## Transports):

    python benchmarks/transport_links.py [--seconds 4] [--drops 5] [--no-firmware]

- latency: from a sample set's due time on the insole to the host's receive time of the frame
  that carries it (so it includes waiting for the frame to fill), per link. The insole clock is
  put on the host clock with one TIME_SYNC round trip (error at most half the round trip);
  the "last set" column is the latency of each frame's newest set: the link's own delay.
- BLE: both insoles on the timed virtual radio (`numbguard_lab.radio_link`: 30 ms connection
  events, six PDUs each; real ATT) through the host's `BleakClient`, at MTU 23, 100 and 247.
- serial: the CPython insole emulator and the real firmware (MicroPython unix port) on a pty.
- link drop: the left insole's link cut for 1 s; time from the insole advertising again to
  reconnected, and to every frame of the outage recovered by RESEND.
- 10% loss: how long after its first transmission a lost frame arrives through RESEND.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from numbguard.protocol.constants import OP_TIME_SYNC, T_FIRST_MODULO
from numbguard.protocol.frames import DataFrame
from numbguard.transports import open_transport
from numbguard.transports.base import FrameEvent, Transport
from numbguard.transports.ble import BleTransport
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard.transports.pairing import PairingRegistry
from numbguard_lab import MICROPYTHON_SIM_DIR
from numbguard_lab.bumble_backend import VirtualRadio
from numbguard_lab.pty_peer import PtyPeer, emulator_argv
from numbguard_lab.virtual_insole_ble import LinkFaults, VirtualInsoleBle

REPO = Path(__file__).resolve().parents[1]


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q) * 1e3) if values else float("nan")


async def device_clock_origin(transport: Transport, link: str) -> tuple[float, int]:
    """(host time, device time in us) of one instant, from the best of 5 TIME_SYNC round trips."""
    best: tuple[float, float, int] | None = None
    for _ in range(5):
        sent_s = time.monotonic()
        reply = await transport.control(link, OP_TIME_SYNC, host_token=1)
        received_s = time.monotonic()
        rtt_s = received_s - sent_s
        if best is None or rtt_s < best[0]:
            best = (rtt_s, (sent_s + received_s) / 2, int(reply.data["device_time_us"]))
    assert best is not None
    return best[1], best[2]


def latencies(
    events: list[FrameEvent], origin: tuple[float, int]
) -> tuple[list[float], list[float]]:
    """Per sample set and per frame (newest set): receive time - due time, seconds."""
    host_s, device_us = origin
    per_set: list[float] = []
    per_frame: list[float] = []
    for event in events:
        frame = event.frame
        if not isinstance(frame, DataFrame) or event.late:
            continue
        delta = (frame.t_first_us - device_us) % T_FIRST_MODULO
        if delta > T_FIRST_MODULO // 2:
            delta -= T_FIRST_MODULO
        first_s = host_s + delta / 1e6
        period_s = 1 / frame.rate_hz
        due = [first_s + i * period_s for i in range(frame.n_sets)]
        per_set += [event.received_s - t for t in due]
        per_frame.append(event.received_s - due[-1])
    return per_set, per_frame


async def collect(transport: Transport, seconds: float) -> list[FrameEvent]:
    events: list[FrameEvent] = []
    end_s = time.monotonic() + seconds
    while (left_s := end_s - time.monotonic()) > 0:
        try:
            event = await asyncio.wait_for(transport.next_event(), left_s)
        except TimeoutError:
            break
        if event is not None:
            events.append(event)
    return events


def row(name: str, events: list[FrameEvent], seconds: float, origin: tuple[float, int]) -> str:
    per_set, per_frame = latencies(events, origin)
    frames = [e for e in events if isinstance(e.frame, DataFrame)]
    return (
        f"| {name} | {len(frames) / seconds:.0f} | {percentile_ms(per_set, 50):.1f} | "
        f"{percentile_ms(per_set, 99):.1f} | {percentile_ms(per_frame, 50):.1f} | "
        f"{percentile_ms(per_frame, 99):.1f} |"
    )


async def ble_pair(
    mtu: int, faults: LinkFaults | None = None
) -> tuple[BleTransport, list[VirtualInsoleBle]]:
    radio = VirtualRadio(central_mtu=mtu)
    insoles = [
        VirtualInsoleBle(radio, InsoleEmulator(foot="left", insole_id=0x1A2B3C4D), faults=faults),
        VirtualInsoleBle(radio, InsoleEmulator(foot="right", insole_id=0x5E6F7081), faults=faults),
    ]
    for insole in insoles:
        await insole.start()
    transport = open_transport(
        "ble://", backend=radio.bleak_backend(), registry=PairingRegistry(None),
        reconnect_for_s=30.0, time_sync_period_s=60.0,
    )  # fmt: skip
    assert isinstance(transport, BleTransport)
    await transport.__aenter__()
    return transport, insoles


async def ble_latency(mtu: int, seconds: float) -> str:
    transport, insoles = await ble_pair(mtu)
    try:
        origin = await device_clock_origin(transport, transport.link_for("left"))
        events = await collect(transport, seconds)
    finally:
        await transport.close()
        for insole in insoles:
            await insole.stop()
    left = [e for e in events if e.foot == "left"]
    return row(f"BLE, MTU {mtu} (per insole)", left, seconds, origin)


async def serial_latency(name: str, peer: PtyPeer, seconds: float) -> str:
    with peer:
        async with open_transport(f"serial://{peer.path}") as transport:
            origin = await device_clock_origin(transport, peer.path)
            events = await collect(transport, seconds)
    return row(name, events, seconds, origin)


async def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> float:
    start_s = time.monotonic()
    while not condition():
        if time.monotonic() - start_s > timeout_s:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.002)
    return time.monotonic() - start_s


OUTAGE_FRAMES = 4  # frames an insole sends in a 1 s outage at MTU 247 (4 a second)


async def link_drops(drops: int) -> tuple[list[float], list[float], list[int]]:
    transport, insoles = await ble_pair(247)
    reconnect_s: list[float] = []
    filled_s: list[float] = []
    late: list[int] = []
    pump = asyncio.get_running_loop().create_task(collect(transport, 3600))
    try:
        link = transport.links[transport.link_for("left")]
        for n in range(drops):
            await asyncio.sleep(0.5)
            late_before = link.stream.stats.late
            newest_before = link.stream.newest_seq64 or 0
            await insoles[0].drop_link(down_s=1.0)
            back_s = time.monotonic()
            await wait_for(lambda n=n: transport.reconnects(link.link) == n + 1)
            reconnect_s.append(time.monotonic() - back_s)
            # Back when the frames of the outage are all placed. Most come late, through
            # RESEND; in about one drop in ten the emulated insole behind bumble loses none
            # and they come in order after reconnecting, so late frames are not waited for.
            until_seq = newest_before + OUTAGE_FRAMES
            await wait_for(
                lambda until=until_seq: (link.stream.newest_seq64 or 0) >= until
                and link.stream.missing() == 0
            )
            filled_s.append(time.monotonic() - back_s)
            late.append(link.stream.stats.late - late_before)
    finally:
        pump.cancel()
        await transport.close()
        for insole in insoles:
            await insole.stop()
    return reconnect_s, filled_s, late


async def loss_recovery(seconds: float) -> tuple[list[float], int, int]:
    transport, insoles = await ble_pair(23, LinkFaults(notify_loss=0.10, seed=5))
    try:
        events = await collect(transport, seconds)
        for insole in insoles:
            insole.faults.notify_loss = 0.0
        links = transport.links.values()
        await wait_for(lambda: all(link.stream.missing() == 0 for link in links))
        events += await collect(transport, 0.5)
    finally:
        await transport.close()
        for insole in insoles:
            await insole.stop()
    # A late frame's delay: its receive time minus that of the on-time frame after it.
    delays: list[float] = []
    for foot in ("left", "right"):
        on_time = {
            e.frame.seq: e.received_s
            for e in events
            if e.foot == foot and isinstance(e.frame, DataFrame) and not e.late
        }
        for e in events:
            if e.foot == foot and e.late and isinstance(e.frame, DataFrame):
                after = on_time.get((e.frame.seq + 1) % 65536)
                if after is not None:
                    delays.append(e.received_s - after)
    lost = sum(insole.notifications_lost for insole in insoles)
    late = sum(1 for e in events if e.late)
    return delays, lost, late


def firmware_peer(workdir: str) -> PtyPeer | None:
    binary = shutil.which("micropython") or str(Path(sys.executable).parent / "micropython")
    if not Path(binary).exists():
        return None
    path = f"{MICROPYTHON_SIM_DIR}:{REPO / 'firmware'}:.frozen"
    return PtyPeer([binary, str(REPO / "firmware" / "main.py")],
                   env=dict(os.environ, MICROPYPATH=path), cwd=workdir)  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    seconds = args.seconds
    print("| link | data frames/s | latency p50 (ms) | p99 | last set p50 (ms) | p99 |")
    print("|---|---|---|---|---|---|")
    for mtu in (23, 100, 247):
        print(await ble_latency(mtu, seconds))
    duration = str(seconds + 3)
    print(await serial_latency(
        "serial pty, CPython emulator", PtyPeer(emulator_argv("--duration-s", duration)), seconds
    ))  # fmt: skip
    if not args.no_firmware:
        with tempfile.TemporaryDirectory() as workdir:
            peer = firmware_peer(workdir)
            if peer is not None:
                print(await serial_latency("serial pty, firmware (MicroPython)", peer, seconds))
    reconnect_s, filled_s, late = await link_drops(args.drops)
    print()
    print(f"Link drop of 1 s, {args.drops} times (MTU 247): reconnected after "
          f"{statistics.median(reconnect_s) * 1e3:.0f} ms median "
          f"({max(reconnect_s) * 1e3:.0f} max) "
          f"of the insole advertising again; every frame of the outage back after "
          f"{statistics.median(filled_s) * 1e3:.0f} ms median ({max(filled_s) * 1e3:.0f} max); "
          f"{statistics.median(late):.0f} frames recovered per drop (median; "
          f"{late.count(0)} drops sent theirs in order after reconnecting).")  # fmt: skip
    delays, lost, late_n = await loss_recovery(seconds)
    print()
    print(f"10% notification loss for {seconds:.0f} s at MTU 23 (both insoles): {lost} "
          f"notifications lost, {late_n} frames recovered late; a lost frame arrived "
          f"{percentile_ms(delays, 50):.0f} ms (p50) / {percentile_ms(delays, 99):.0f} ms (p99) "
          f"after the frame that followed it.")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--no-firmware", action="store_true")
    asyncio.run(main(parser.parse_args()))
