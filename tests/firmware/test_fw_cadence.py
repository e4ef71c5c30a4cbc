"""firmware/cadence.py under MicroPython: cadence from the insole's own contact detection.

The firmware's contact detector is fed the ADC counts of simulated scenarios (the counts the
lab's insole pads read, sample by sample at 100 Hz) and its cadence is compared with the
scenario's own (the plan the simulator walked) and with the host's analysis of the same trace.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from fw_harness import MicroPython

from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.pads import Foot
from numbguard.simulate import build_scenario
from numbguard_lab.traces import PadTrace, scenario_traces

DURATION_S = 90.0
RATE_HZ = 100
SPM_TOLERANCE = 5.0  # the simulated runner varies stride by a few % (a median of five strides)

# Reads the counts file (uint16 LE rows of six pads), feeds every row to Cadence at its sample
# time and prints the cadence at each whole second.
FEED = """
    import json, struct
    from cadence import Cadence
    c = Cadence()
    raw = open("counts.bin", "rb").read()
    n = len(raw) // 12
    values = [0] * 6
    out = []
    for k in range(n):
        row = struct.unpack_from("<6H", raw, 12 * k)
        for i in range(6):
            values[i] = row[i]
        t_us = k * 10000
        c.add(values, 6, t_us)
        if k % 100 == 99:
            out.append(c.spm(t_us))
    print(json.dumps({"spm": out, "contacts": c.contacts}))
"""


@functools.cache
def _traces(name: str) -> dict[Foot, PadTrace]:
    return scenario_traces(name, DURATION_S, seed=4, rate_hz=RATE_HZ)


def _feed(mpy: MicroPython, trace: PadTrace) -> dict[str, list[int] | int]:
    (mpy.workdir / "counts.bin").write_bytes(trace.counts.astype("<u2").tobytes())
    result: dict[str, list[int] | int] = mpy.json(FEED)
    return result


def _planned_spm(name: str, t_s: float) -> float:
    for segment in build_scenario(name, DURATION_S).segments:
        if segment.start_s <= t_s < segment.end_s:
            return segment.cadence_spm
    raise AssertionError(f"{name}: no segment at {t_s} s")


@pytest.mark.parametrize("foot", ["left", "right"])
def test_a_steady_run_gives_the_runs_cadence_and_the_hosts(mpy: MicroPython, foot: Foot) -> None:
    traces = _traces("normal_run")
    got = _feed(mpy, traces[foot])
    spm = got["spm"]
    assert isinstance(spm, list)
    analyzer = SessionAnalyzer()
    for trace in traces.values():
        analyzer.feed(trace.chunk())
    host_spm = analyzer.finish().cadence_spm
    assert host_spm is not None
    # From the fifth second on (a few strides in), every second's value.
    steady = np.array(spm[5:], dtype=float)
    assert np.all(np.abs(steady - _planned_spm("normal_run", 45.0)) <= SPM_TOLERANCE), spm
    assert np.all(np.abs(steady - host_spm) <= SPM_TOLERANCE), (spm, host_spm)
    # One contact per stride of this foot: 170 steps/min is 85 strides a minute.
    assert abs(int(got["contacts"]) - 85 * DURATION_S / 60) <= 2  # type: ignore[arg-type]


def test_a_change_of_pace_is_followed_within_a_few_strides(mpy: MicroPython) -> None:
    spm = _feed(mpy, _traces("pace_change")["left"])["spm"]
    assert isinstance(spm, list)
    for segment in build_scenario("pace_change", DURATION_S).segments:
        # Five seconds after a change (seven strides) the median holds only the new pace.
        seconds = range(int(segment.start_s) + 5, int(segment.end_s) - 1)
        for second in seconds:
            assert abs(spm[second] - segment.cadence_spm) <= SPM_TOLERANCE, (second, spm)


def test_standing_still_is_no_cadence_and_a_stop_is_zero(mpy: MicroPython) -> None:
    spm = _feed(mpy, _traces("crossing_stops")["left"])["spm"]
    assert isinstance(spm, list)
    for segment in build_scenario("crossing_stops", DURATION_S).segments:
        inside = range(int(segment.start_s) + 5, int(segment.end_s) - 1)
        for second in inside:
            if segment.activity == "standing":
                assert spm[second] == 0, (second, spm)
            else:
                assert abs(spm[second] - segment.cadence_spm) <= SPM_TOLERANCE, (second, spm)


def test_add_allocates_nothing_and_spm_is_a_small_int(mpy: MicroPython, tmp_path: Path) -> None:
    got = mpy.json("""
        import json, micropython
        from array import array
        from cadence import Cadence
        c = Cadence()
        values = array("H", [200] * 6)
        ok = True
        k = phase = level = i = 0  # globals exist before the lock: a new name would allocate
        micropython.heap_lock()
        try:
            for k in range(3000):  # 30 s at 100 Hz, 170 steps/min: load 0.3 s in each 0.706 s
                phase = (k * 10000) % 705882
                level = 1800 if phase < 300000 else 200
                for i in range(6):
                    values[i] = level
                c.add(values, 6, k * 10000)
        except MemoryError:
            ok = False
        micropython.heap_unlock()
        print(json.dumps({"ok": ok, "spm": c.spm(2999 * 10000), "contacts": c.contacts}))
    """)
    assert got["ok"] is True
    # Contacts fall on the 10 ms grid: strides of 700 and 710 ms (170.0 steps/min between).
    assert 169 <= got["spm"] <= 171 and 41 <= got["contacts"] <= 43
    json.dumps(got)  # plain JSON values
