"""Frame packer and ring buffer under MicroPython: frame sizes per MTU, history, RESEND."""

from __future__ import annotations

import pytest
from fw_harness import MicroPython
from fw_reference import check_crc, decode_data

# Fills a ring through the packer with one pad value per set equal to the set's index (mod
# 4096), so every frame says which sets it holds.
FILL = """
import json, protocol as p
from ring import Ring
from packer import Packer, sets_per_frame
ring = Ring(RING_BYTES)
ring.set_live(LIVE)
packer = Packer(ring, MTU)
packer.configure(PAD_MASK, RATE, MTU)
n_pads = p.PAD_COUNT_OF[PAD_MASK]
values = [0] * 6
period = 1000000 // RATE
for i in range(N_SETS):
    for k in range(n_pads):
        values[k] = (i + 1000 * k) % 4096
    packer.add(values, i * period, False)
out = bytearray(p.MAX_FRAME_BYTES)
def drain(tag=0, max_len=244):
    frames = []
    while True:
        n = ring.next_frame(out, tag, max_len)
        if not n:
            return frames
        frames.append(bytes(out[:n]).hex())
        ring.sent()
"""


def fill(ring_bytes: int = 47104, live: bool = True, mtu: int = 23, pad_mask: int = 0x3F,
         rate_hz: int = 100, n_sets: int = 100) -> str:
    return (FILL.replace("RING_BYTES", str(ring_bytes)).replace("LIVE", str(live))
            .replace("MTU", str(mtu)).replace("PAD_MASK", str(pad_mask))
            .replace("RATE", str(rate_hz)).replace("N_SETS", str(n_sets)))


@pytest.mark.parametrize(("mtu", "pad_mask", "rate_hz", "sets"), [
    (23, 0x3F, 100, 1), (23, 0x01, 100, 6), (23, 0x1F, 100, 1), (185, 0x3F, 100, 19),
    (247, 0x3F, 100, 25), (247, 0x3F, 200, 25), (247, 0x3F, 25, 6), (247, 0x01, 200, 50),
    (512, 0x3F, 100, 25),
])
def test_sets_per_frame_fill_the_mtu_and_cap_the_span(mpy: MicroPython, mtu: int, pad_mask: int,
                                                      rate_hz: int, sets: int) -> None:
    got = mpy.json(fill(mtu=mtu, pad_mask=pad_mask, rate_hz=rate_hz, n_sets=60) + """
lengths = [len(f) // 2 for f in drain(5, 1000)]
print(json.dumps([sets_per_frame(MTU, n_pads, RATE), lengths]))
""".replace("MTU", str(mtu)).replace("RATE", str(rate_hz)))
    per_frame, lengths = got
    assert per_frame == sets
    assert max(lengths) <= min(mtu, 247) - 3
    n_pads = bin(pad_mask).count("1")
    assert max(lengths) == 11 + (3 * sets * n_pads + 1) // 2


def test_live_frames_are_consecutive_and_decode(mpy: MicroPython) -> None:
    frames = mpy.json(fill(mtu=247, n_sets=130) + """
packer.flush()
print(json.dumps(drain(0x85)))
""")
    decoded = [decode_data(bytes.fromhex(f)) for f in frames]
    assert all(check_crc(bytes.fromhex(f)) for f in frames)
    assert [d["seq"] for d in decoded] == list(range(6))  # 5 full frames of 25 sets, then 5
    sets = [s for d in decoded for s in d["samples"]]  # type: ignore[attr-defined]
    assert [s[0] for s in sets] == list(range(130))
    assert [d["t_first_us"] for d in decoded] == [i * 250000 for i in range(5)] + [1250000]
    assert decoded[0]["foot"] == "right" and decoded[0]["insole_tag"] == 5


@pytest.mark.parametrize("mtu", [23, 247])
def test_ring_holds_30_s_at_100_hz_for_any_mtu(mpy: MicroPython, mtu: int) -> None:
    got = mpy.json(fill(live=False, mtu=mtu, n_sets=100 * 40) + """
print(json.dumps([ring.count, ring.span_ds(), ring.frames_dropped, ring.oldest_seq()]))
""")
    _count, span_ds, dropped, _oldest = got
    assert span_ds >= 300
    assert dropped == 0  # no link: frames are history, not a queue that overflowed


def test_resend_answers_from_history_and_clips_to_what_is_held(mpy: MicroPython) -> None:
    got = mpy.json(fill(ring_bytes=1500, live=False, n_sets=300) + """
res = {"count": ring.count, "oldest": ring.oldest_seq(), "newest": (ring.next_seq - 1)}
res["all_old"] = ring.request_resend(0, 10)
res["partial"] = ring.request_resend((ring.oldest_seq() - 5) & 0xFFFF, ring.oldest_seq() + 2)
res["future"] = ring.request_resend(ring.next_seq - 2, ring.next_seq + 50)
res["frames"] = drain()
res["resent"] = ring.frames_resent
print(json.dumps(res))
""")
    oldest, newest = got["oldest"], got["newest"]
    # 1500 B hold six blocks of 25 one-set frames (7 + 225 B each).
    assert newest == 299 and got["count"] == 150 and oldest == 150
    assert got["all_old"] == [6, 0]  # NOT_HELD
    assert got["partial"] == [0, 3]
    assert got["future"] == [0, 2]
    decoded = [decode_data(bytes.fromhex(f)) for f in got["frames"]]
    assert [d["seq"] for d in decoded] == [150, 151, 152, 298, 299]
    # Each frame still carries the set it was built from, and its time.
    assert [d["samples"][0][0] for d in decoded] == [150, 151, 152, 298, 299]  # type: ignore[index]
    assert [d["t_first_us"] for d in decoded] == [1_500_000, 1_510_000, 1_520_000, 2_980_000,
                                                   2_990_000]
    assert got["resent"] == 5


def test_frames_overwritten_before_sending_are_counted_dropped(mpy: MicroPython) -> None:
    got = mpy.json(fill(ring_bytes=1500, live=True, n_sets=300) + """
n = ring.next_frame(out, 0, 244)
first = bytes(out[:n])
print(json.dumps([ring.frames_dropped, ring.count, first[3] | first[4] << 8]))
""")
    assert got == [150, 150, 150]


def test_refused_frame_is_offered_again_until_sent(mpy: MicroPython) -> None:
    got = mpy.json(fill(n_sets=3) + """
a = ring.next_frame(out, 0, 244); fa = bytes(out[:a])
b = ring.next_frame(out, 0, 244); fb = bytes(out[:b])
ring.sent()
c = ring.next_frame(out, 0, 244); fc = bytes(out[:c])
print(json.dumps([fa == fb, fa[3], fc[3]]))
""")
    assert got == [True, 0, 1]


def test_frames_too_long_for_a_smaller_mtu_are_skipped(mpy: MicroPython) -> None:
    got = mpy.json(fill(mtu=247, n_sets=60) + """
packer.configure(PAD_MASK_ALL, 100, 23)
for i in range(2):
    packer.add(values, 0, False)
frames = drain(0, 20)
print(json.dumps([[int(f[6:8], 16), len(f) // 2] for f in frames]))
""".replace("PAD_MASK_ALL", "63"))
    # Frames 0-1 (25 sets) and 2 (10 sets, ended by configure) are too long for MTU 23.
    assert got == [[3, 20], [4, 20]]


@pytest.mark.parametrize(("mtu", "pad_mask", "rate_hz"), [
    (23, 0x1F, 100), (23, 0x07, 200), (23, 0x01, 25), (23, 0x15, 100), (50, 0x1F, 100),
    (185, 0x07, 200), (247, 0x1F, 150),
])
def test_frames_cut_from_blocks_carry_every_set_once_with_its_time(
        mpy: MicroPython, mtu: int, pad_mask: int, rate_hz: int) -> None:
    n_sets = 177
    frames = mpy.json(fill(mtu=mtu, pad_mask=pad_mask, rate_hz=rate_hz, n_sets=n_sets) + """
packer.flush()
print(json.dumps(drain()))
""")
    period_us = 1_000_000 // rate_hz
    n_pads = bin(pad_mask).count("1")
    index = 0
    for seq, hex_frame in enumerate(frames):
        frame = bytes.fromhex(hex_frame)
        assert check_crc(frame) and len(frame) <= mtu - 3
        fields = decode_data(frame)
        assert fields["seq"] == seq and fields["t_first_us"] == index * period_us
        for sample in fields["samples"]:  # type: ignore[attr-defined]
            assert sample == [(index + 1000 * k) % 4096 for k in range(n_pads)]
            index += 1
    assert index == n_sets


def test_main_allocates_the_ring_at_its_full_size(mpy: MicroPython) -> None:
    got = mpy.json("""
        import json, main, ring
        fw = main.Firmware()
        print(json.dumps([len(main._ring_buf), ring.RING_BYTES, fw.insole.ring.cap]))
    """, stdin_open=True)
    assert got[0] == got[1] == got[2]


def test_sequence_numbers_wrap_and_resend_spans_the_wrap(mpy: MicroPython) -> None:
    # 65,586 one-set frames (MTU 23): seq wraps past 65535. The ring holds five closed blocks
    # of 25 frames and the open one (11 so far): seqs 65450-65535 and 0-49.
    got = mpy.json(fill(ring_bytes=1500, live=False, n_sets=65_586) + """
res = {"oldest": ring.oldest_seq(), "next": ring.next_seq, "count": ring.count}
res["gone"] = ring.request_resend(60000, 60010)
res["across"] = ring.request_resend(65530, 5)
res["frames"] = drain()
print(json.dumps(res))
""")
    assert (got["oldest"], got["next"], got["count"]) == (65_450, 50, 136)
    assert got["gone"] == [6, 0]  # NOT_HELD
    assert got["across"] == [0, 12]
    decoded = [decode_data(bytes.fromhex(f)) for f in got["frames"]]
    assert [d["seq"] for d in decoded] == [*range(65_530, 65_536), *range(6)]
    assert [d["samples"][0][0] for d in decoded] == [  # type: ignore[index]
        (65_530 + i) % 4096 for i in range(12)]


# The ring main.py allocates, filled at `rate_hz` through the packer as the sampler fills it.
MAIN_RING = """
import json, main, protocol as p
from ring import Ring
from packer import Packer
ring = Ring(0, main._ring_buf)
ring.set_live(False)
packer = Packer(ring, 23)
packer.configure(0x3F, RATE, 23)
values = [0] * 6
period = 1000000 // RATE
for i in range(RATE * 40):
    packer.add(values, i * period, False)
print(json.dumps([len(main._ring_buf), ring.span_ds()]))
"""


@pytest.mark.parametrize(("psram_kib", "rate_hz", "ring_bytes"), [
    (0, 100, 29696), (2048, 200, 59392), (2048, 100, 59392),
])  # fmt: skip
def test_main_sizes_the_ring_for_31_s_and_doubles_it_where_the_module_has_psram(
    mpy: MicroPython, psram_kib: int, rate_hz: int, ring_bytes: int
) -> None:
    env = {"NUMBGUARD_PSRAM_KIB": str(psram_kib)} if psram_kib else {}
    size, span_ds = mpy.json(MAIN_RING.replace("RATE", str(rate_hz)), env=env)
    assert size == ring_bytes
    assert span_ds >= 300  # at least 30 s of history at that rate
