"""Wire protocol cost: bytes on air per insole, payload efficiency, and host decoder speed.

Run by hand; prints markdown for docs/performance.md (## Protocol):

    python benchmarks/protocol_bytes_on_air.py

Bytes on air: one insole streaming six pads for 10 s, framed by the firmware's packing rule
(`sets_per_frame`: as many sets as fit MTU - 3, capped at 250 ms), plus one status page per
second, every frame built by the host encoder. Each frame is one ATT notification, counted as:

- "link bytes": frame + ATT 3 (opcode, handle) + L2CAP 4 (length, channel) + link-layer data
  header 2 + MIC 4 (encrypted link), per link-layer packet;
- "radio bytes": link bytes + preamble 1 + access address 4 + CRC 3 (LE 1M PHY), per packet.

At MTU 247 a frame of 236 bytes needs the LE Data Length Extension (link-layer payload up to
251 bytes) to go in one packet; without it the L2CAP packet is cut into 27-byte fragments, each
with its own header, MIC and radio overhead ("no DLE" rows).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from numbguard.protocol import (
    DataFrame,
    NotificationDecoder,
    SerialFrameDecoder,
    StatusClock,
    StatusCounters,
    StatusFrame,
    StatusIdentity,
    StatusTare,
    StatusTiming,
    decode_frame,
    encode_frame,
    encode_serial,
)
from numbguard.protocol.packing import packed_bytes, sets_per_frame
from numbguard.protocol.stream import InsoleStream

ATT_BYTES = 3
L2CAP_BYTES = 4
LL_HEADER_BYTES = 2
MIC_BYTES = 4
RADIO_BYTES = 1 + 4 + 3  # preamble, access address, CRC
LL_PAYLOAD_NO_DLE = 27
SECONDS = 10
N_PADS = 6


def packets(frame_bytes: int, dle: bool) -> int:
    l2cap = frame_bytes + ATT_BYTES + L2CAP_BYTES
    return 1 if dle else math.ceil(l2cap / LL_PAYLOAD_NO_DLE)


def link_bytes(frame_bytes: int, dle: bool) -> int:
    n = packets(frame_bytes, dle)
    return frame_bytes + ATT_BYTES + L2CAP_BYTES + n * (LL_HEADER_BYTES + MIC_BYTES)


def radio_bytes(frame_bytes: int, dle: bool) -> int:
    return link_bytes(frame_bytes, dle) + packets(frame_bytes, dle) * RADIO_BYTES


def status_pages() -> list[StatusFrame]:
    return [
        StatusIdentity(pad_mask=0x3F, insole_id=1, boot_id=2, fw_major=1, fw_minor=0,
                       fw_patch=0, rate_hz=100, flags=3),
        StatusClock(pad_mask=0x3F, device_time_us=0, battery_mv=3900, battery_pct=80,
                    last_data_seq=0, oversample=1),
        StatusCounters(pad_mask=0x3F, frames_sent=0, frames_resent=0, frames_dropped=0,
                       notify_retries=0, ring_frames=0, ring_span_ds=0),
        StatusTiming(pad_mask=0x3F, jitter_mean_us=0, jitter_max_us=0, late_samples=0,
                     fault_open_mask=0, fault_short_mask=0),
        StatusTare(pad_mask=0x3F, tare_offsets=(0,) * 6),
    ]  # fmt: skip


def data_frames(rate_hz: int, mtu: int, seconds: int) -> list[bytes]:
    sets = sets_per_frame(mtu, N_PADS, rate_hz)
    rng = np.random.default_rng(1)
    frames = []
    for seq in range(rate_hz * seconds // sets):
        t_us = seq * sets * 1_000_000 // rate_hz
        frames.append(encode_frame(DataFrame(
            seq=seq % 65536, pad_mask=0x3F, t_first_us=t_us % (1 << 24), rate_hz=rate_hz,
            samples=rng.integers(0, 4096, size=(sets, N_PADS)),
        )))  # fmt: skip
    return frames


def air_table() -> list[str]:
    status = [len(encode_frame(page)) for page in status_pages()]
    rows = [
        "| rate | MTU | DLE | sets/frame | frame B | frames/s | link B/s | radio B/s "
        "| efficiency (link) | efficiency (radio) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rate_hz in (100, 200):
        for mtu, dle in ((23, True), (247, True), (247, False)):
            frames = data_frames(rate_hz, mtu, SECONDS)
            status_sent = [status[i % len(status)] for i in range(SECONDS)]
            sizes = [len(f) for f in frames] + status_sent
            sample_bytes = packed_bytes(rate_hz * SECONDS * N_PADS)
            link = sum(link_bytes(n, dle) for n in sizes)
            radio = sum(radio_bytes(n, dle) for n in sizes)
            rows.append(
                f"| {rate_hz} Hz | {mtu} | {'yes' if dle else 'no'} "
                f"| {sets_per_frame(mtu, N_PADS, rate_hz)} | {len(frames[0])} "
                f"| {len(frames) / SECONDS:g} | {link / SECONDS:,.0f} | {radio / SECONDS:,.0f} "
                f"| {sample_bytes / link:.1%} | {sample_bytes / radio:.1%} |"
            )
    return rows


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def decoder_table() -> list[str]:
    rows = ["| what | frames/s | MB/s |", "|---|---|---|"]
    for label, mtu in (("236 B frames (MTU 247)", 247), ("20 B frames (MTU 23)", 23)):
        frames = data_frames(200, mtu, 50)[:2000]
        total = sum(len(f) for f in frames)

        def decode_all(frames: list[bytes] = frames) -> None:
            for raw in frames:
                decode_frame(raw)

        def notify_all(frames: list[bytes] = frames) -> None:
            decoder = NotificationDecoder()
            for raw in frames:
                decoder.feed(raw)

        stream = b"".join(encode_serial(f) for f in frames)

        def serial_all(stream: bytes = stream) -> None:
            decoder = SerialFrameDecoder()
            for start in range(0, len(stream), 4096):
                decoder.feed(stream[start : start + 4096])

        decoded = [decode_frame(f) for f in frames]

        def place_all(decoded: list[object] = decoded) -> None:
            tracker = InsoleStream()
            for frame in decoded:
                assert isinstance(frame, DataFrame)
                tracker.place(frame)

        for what, work, n_bytes in (
            (f"`decode_frame`, {label}", decode_all, total),
            (f"`NotificationDecoder.feed`, {label}", notify_all, total),
            (f"`SerialFrameDecoder.feed` 4 KB reads, {label}", serial_all, len(stream)),
            (f"`InsoleStream.place`, {label}", place_all, total),
        ):
            seconds = best_of(5, work)
            rows.append(
                f"| {what} | {len(frames) / seconds:,.0f} | {n_bytes / seconds / 1e6:.2f} |"
            )
    return rows


def main() -> None:
    print("Bytes per second per insole, six pads, data plus one status page per second:\n")
    print("\n".join(air_table()))
    print("\nHost decoder throughput (one core, best of 5):\n")
    print("\n".join(decoder_table()))


if __name__ == "__main__":
    main()
