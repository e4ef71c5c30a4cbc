"""Sampler, self-check and the allocation-free hot path under MicroPython."""

from __future__ import annotations

import random

import pytest
from fw_harness import MicroPython
from fw_scripts import insole

from numbguard.calibration import esp32_adc

UV_FULL_SCALE = 3_300_000


def test_no_drift_over_a_simulated_hour(mpy: MicroPython) -> None:
    # The clock is scripted: every sample is taken 0-2.9 ms late, and every 1000th after a
    # 35 ms stall. Whatever the lateness, samples stay on the grid started at t0.
    got = mpy.json("""
        import json
        from sampler import Sampler
        clock = [123456]
        def ticks():
            return clock[0]
        reads = [lambda: 1000000] * 6
        s = Sampler(reads, 100, 1, 0x01, ticks)
        t0 = s.deadline
        hour_end = t0 + 3600 * 1000000
        taken = off_grid = max_late = 0
        seed = 1
        last_t = t0
        while True:
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            late = seed % 2900
            if taken % 1000 == 999:
                late = 35000
            clock[0] = s.deadline + late
            if clock[0] >= hour_end:
                break
            t = s.sample()
            taken += 1
            if (t - t0) % 10000:
                off_grid += 1
            last_t = t
        print(json.dumps([taken, s.late_samples, off_grid, last_t - t0, s.jitter_max_us,
                          s.jitter_mean_us()]))
    """)
    taken, late, off_grid, last_t_us, jitter_max_us, jitter_mean_us = got
    assert off_grid == 0
    # Every grid slot of the hour was either sampled or counted late: nothing drifted away.
    assert taken + late == 360_000
    assert last_t_us == (taken + late - 1) * 10_000
    assert late == 3 * (taken // 1000)  # each 35 ms stall skips three 10 ms slots
    assert jitter_max_us <= 5000 and 1000 <= jitter_mean_us <= 2000


def test_oversampling_averages_and_conversion_is_exact(mpy: MicroPython) -> None:
    rng = random.Random(5)
    uvs = [0, 1, 805, 806, UV_FULL_SCALE - 1, UV_FULL_SCALE, 4_000_000, -5]
    uvs += [rng.randrange(0, 3_400_000) for _ in range(300)]
    # The ideal stand-in, chosen for this test only: the sampler's arithmetic is exact.
    got = mpy.json(insole() + f"""
machine.adc_part("ideal")
machine.set_trace(36, [100, 200, 300, 400])
ins.config.set_oversample(4)
ins.apply_config()
advance(10000)
from sampler import uv_to_count
back = [uv_to_count(machine.counts_to_uv(c)) for c in range(4096)]
print(json.dumps([ins.sampler.values[0], back == list(range(4096)),
                  [uv_to_count(uv) for uv in {uvs!r}]]))
""")
    averaged, round_trip, counts = got
    assert averaged == 250
    assert round_trip
    assert counts == [max(0, min(4095, uv * 4095 // UV_FULL_SCALE)) for uv in uvs]


@pytest.mark.parametrize("part", esp32_adc.SPREAD)
@pytest.mark.parametrize("seed", [0, 7])
def test_self_check_flags_open_and_shorted_pads_on_every_part_and_clears(
    mpy: MicroPython, part: str, seed: int
) -> None:
    # Traces are pin voltages (counts of 3.3 V); what the firmware sees is what this part of the
    # spread reads: 142 mV at 0 V, its top (3056-3212 mV) at the rail, noise on everything.
    got = mpy.json(insole(window_s=1) + f"""
machine.adc_part({part!r}, {seed})
machine.set_trace(36, [0])                # heel: open, its divider holds the pin at 0 V
machine.set_trace(39, [4095])             # ball_medial: shorted to the rail
machine.set_trace(34, [0, 2500, 40])      # ball_center: loaded now and then
machine.set_trace(35, [3040])             # ball_lateral: held at the top of the usable range
machine.set_trace(32, [0] * 20 + [250])   # lace_lower: unloaded, but pressed once in a while
machine.set_trace(33, [3100, 3040])       # lace_upper: loaded just past the usable range
for i in range(150):
    advance(10000)
page3 = bytes.fromhex(ins.status_frame(3).hex())
first = [ins.selfcheck.open_mask, ins.selfcheck.short_mask, page3[12], page3[13]]
values = list(ins.sampler.values)
machine.set_trace(36, [0, 1800])
machine.set_trace(39, [4095, 300])
for i in range(100):
    advance(10000)
print(json.dumps([first, [ins.selfcheck.open_mask, ins.selfcheck.short_mask], values]))
""")
    first, cleared, values = got
    assert first == [0x01, 0x02, 0x01, 0x02], values
    assert cleared == [0, 0]


@pytest.mark.parametrize(("mtu", "rate_hz", "pad_mask"), [(23, 200, 0x3F), (247, 200, 0x3F),
                                                         (247, 25, 0x15), (185, 100, 0x3E)])
def test_steady_state_sample_pack_and_send_allocate_nothing(mpy: MicroPython, mtu: int,
                                                            rate_hz: int, pad_mask: int) -> None:
    # A small ring so records are evicted (and the writer wraps) while the heap is locked.
    got = mpy.json(insole(ring_bytes=3000) + f"""
import micropython
from slices import Slices
ins.config.set_rate({rate_hz})
ins.config.set_pad_mask({pad_mask})
ins.config.set_oversample(2)
ins.apply_config()
ins.set_link(True, {mtu})
out = Slices(bytearray(p.MAX_FRAME_BYTES))
ring = ins.ring
def run(n):
    sent = 0
    for i in range(n):
        clock[0] = ins.sampler.deadline + (i % 7) * 100  # on time, up to 0.6 ms late
        ins.tick()
        if i % 3 == 0:
            while True:
                k = ring.next_frame(out.buf, ins.tag, {mtu} - 3)
                if not k:
                    break
                out.view(k)
                ring.sent()
                sent += 1
    return sent
run(3 * {rate_hz})   # warm up: every frame length's view made once
sent = 0     # globals exist before the lock: a new global name would allocate
error = None
micropython.heap_lock()
try:
    sent = run(10 * {rate_hz})
except MemoryError:
    error = "allocation in the hot path"
micropython.heap_unlock()
print(json.dumps([error, sent, ring.next_seq, ins.sampler.samples_taken]))
""")
    error, sent, _next_seq, samples = got
    assert error is None
    assert sent > 0 and samples == 13 * rate_hz
