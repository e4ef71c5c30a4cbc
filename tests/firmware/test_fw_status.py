"""Status pages built from a running insole's state, under MicroPython."""

from __future__ import annotations

import struct

from fw_harness import MicroPython
from fw_reference import check_crc, unpack12
from fw_scripts import insole


def test_status_pages_report_the_insole_state(mpy: MicroPython) -> None:
    (mpy.workdir / "config.json").write_text('{"rate_hz": 50, "foot": "right"}')
    got = mpy.json(insole() + """
ins.set_link(True, 23)
clock[0] = 2 ** 24 + 5   # past the 24-bit wrap of t_first_us
ins.sampler.restart()
for i in range(100):                  # 2 s at 50 Hz, 300 us late each
    clock[0] = ins.sampler.deadline + 300
    ins.tick()
clock[0] = ins.sampler.deadline + 50000   # one stall: two slots missed
ins.tick()
out = bytearray(244)
for i in range(30):                   # the host took 30 frames
    ring_n = ins.ring.next_frame(out, ins.tag, 20)
    ins.ring.sent()
ins.config.set_tare([1, 2, 3, 4, 5, 4095])
pages = [ins.status_frame(page).hex() for page in range(5)]
print(json.dumps([pages, ins.device_time_us(), ins.ring.next_seq]))
""")
    pages_hex, device_time_us, next_seq = got
    pages = [bytes.fromhex(h) for h in pages_hex]
    assert all(check_crc(f) and f[1] >> 6 == 1 and f[2] & 0x80 for f in pages)  # right foot
    assert [int.from_bytes(f[3:5], "little") for f in pages] == [0, 1, 2, 3, 4]
    insole_id, boot_id, major, minor, patch, rate_hz, flags = struct.unpack("<IHBBBBB",
                                                                            pages[0][6:17])
    assert (insole_id, boot_id, rate_hz) == (0xC4A1B2C3, 0xBEEF, 50)
    assert (major, minor, patch) == (0, 1, 0)
    assert flags == 0b111  # streaming, connected, config loaded from flash
    clock_us, battery_mv, battery_pct, last_seq, oversample = struct.unpack("<IHBHB",
                                                                            pages[1][6:16])
    assert clock_us == device_time_us and clock_us > 2**24
    # 3.9 V behind the 1:2 divider, as the simulated chip reads it: a few mV of noise.
    assert abs(battery_mv - 3900) <= 10 and abs(battery_pct - 66) <= 1 and oversample == 1
    assert last_seq == next_seq - 1 == 100  # 101 sets, one per frame at MTU 23
    sent, resent, dropped, retries, ring_frames, span_ds = struct.unpack("<6H", pages[2][6:18])
    assert (sent, resent, dropped, retries, ring_frames) == (30, 0, 0, 0, 101)
    assert span_ds == 20  # 101 sets at 50 Hz
    jitter_mean, jitter_max, late, fault_open, fault_short = struct.unpack("<HHHBB",
                                                                           pages[3][6:14])
    assert jitter_max == 10000 and late == 2  # 50 ms late = two missed 20 ms slots + 10 ms
    assert 300 <= jitter_mean <= 400 and (fault_open, fault_short) == (0, 0)
    assert unpack12(pages[4][6:15], 6) == [1, 2, 3, 4, 5, 4095]
