"""Power states under MicroPython (firmware/power.py): streaming, sampling while the host is
briefly gone, idle with the pad supply off, deep sleep woken by the button, and the wake; the
defaults match the power budget in hardware/."""

from __future__ import annotations

import csv
import json
import re
import select
import subprocess
import time
from typing import Any

import pytest
from fw_harness import ROOT, MicroPython
from fw_reference import check_crc, cobs_decode, cobs_encode, control_frame, decode_data

STREAMING, SAMPLING, IDLE, SLEEP = "streaming", "sampling", "idle", "sleep"
FLAG_STREAMING, FLAG_CONNECTED, FLAG_IDLE, FLAG_WOKE = 1, 2, 8, 16
SUPPLY_PIN, SUPPLY_OFF, WAKE_PIN = 25, 1, 4
WAIT_S = 30.0  # longest wait for the firmware to reach a state (a slow machine)

# Board, insole and BLE peripheral on the simulated hardware, with a scripted clock, and the
# power state machine over them. `run(seconds, host)` moves the clock in steps, sampling and
# updating the power state as main.py's tasks do.
SCRIPTED = """
import json, machine, bluetooth, protocol as p, status
from board import Board
from config import Config
from insole import Insole
from ble import Peripheral
from power import Power, NAMES
clock_us = [1000000]
def ticks_us():
    return clock_us[0]
def ticks_ms():
    return clock_us[0] // 1000
board = Board()
ins = Insole(board.pad_reads, Config("config.json"), board.insole_id(), 1, board.battery_mv,
             ticks_us=ticks_us)
radio = bluetooth.BLE()
ble = Peripheral(bluetooth, "NGL-b2c3", "numbguard", "c4a1b2c3", "0.1.0")
power = Power(board, ins, ble, ticks_ms=ticks_ms)
board.start_watchdog(8000)
report = []
def run(seconds, host, step_us=10000):
    end = clock_us[0] + seconds * 1000000
    while clock_us[0] < end:
        clock_us[0] += step_us
        ins.tick()
        power.update(host)
        board.feed()
def snap(name):
    adv = radio.radio.advertising
    report.append({"at": name, "state": NAMES[power.state],
                   "samples": ins.sampler.samples_taken, "supply": machine.level(25),
                   "led": machine.level(2), "adv_us": adv[0] if adv else None,
                   "flags": status.flags(ins), "open": ins.selfcheck.open_mask,
                   "pads": [read() for read in board.pad_reads], "fed": board._wdt.fed})
"""


def by_name(report: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {step["at"]: step for step in report}


@pytest.fixture(scope="module")
def day(micropython_bin: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The default times (no config file): a run, the host leaving, idle, deep sleep."""
    mpy = MicroPython(micropython_bin, tmp_path_factory.mktemp("power"))
    result: dict[str, Any] = mpy.json(SCRIPTED + """
radio.central_connect(64)
run(5, True)
snap("streaming")
radio.central_disconnect(64)
run(1, False)
snap("host_gone")
run(117, False)
snap("grace_end")
run(3, False)
snap("idle")
run(600, False, 100000)
snap("idle_10min")
try:
    run(400, False, 100000)
except SystemExit:
    snap("asleep")
print(json.dumps({"report": report, "slept": machine.slept}))
""")
    return result


def test_host_gone_keeps_sampling_through_the_grace_time(day: dict[str, Any]) -> None:
    steps = by_name(day["report"])
    assert steps["streaming"]["state"] == STREAMING
    assert steps["streaming"]["flags"] & (FLAG_STREAMING | FLAG_IDLE | FLAG_WOKE) == 1
    for name in ("host_gone", "grace_end"):  # 2 minutes by default: the ring keeps filling
        assert steps[name]["state"] == SAMPLING and steps[name]["supply"] == 0
        assert steps[name]["adv_us"] == 100000
    assert steps["grace_end"]["samples"] - steps["streaming"]["samples"] == 118 * 100


def test_idle_switches_the_pads_off_and_takes_no_samples(day: dict[str, Any]) -> None:
    steps = by_name(day["report"])
    idle, later = steps["idle"], steps["idle_10min"]
    for step in (idle, later):
        assert step["state"] == IDLE and step["supply"] == SUPPLY_OFF and step["led"] == 0
        assert step["adv_us"] == 1000000  # advertising once a second, still connectable
        assert step["flags"] & (FLAG_STREAMING | FLAG_IDLE) == FLAG_IDLE
        assert step["pads"] == [0] * 6  # the dividers are unpowered
        assert step["open"] == 0  # no samples of unpowered pads reached the self-check
    assert later["samples"] == idle["samples"] <= steps["grace_end"]["samples"] + 300
    assert later["fed"] > idle["fed"]  # the watchdog is fed while idle


def test_deep_sleep_after_15_minutes_idle_holds_the_pads_off_and_wakes_on_the_button(
        day: dict[str, Any]) -> None:
    steps = by_name(day["report"])
    assert steps["asleep"]["state"] == SLEEP
    assert day["slept"] == [{"time_ms": 0, "levels": day["slept"][0]["levels"],
                             "held": [SUPPLY_PIN], "wake": [[WAKE_PIN, 0]]}]
    assert day["slept"][0]["levels"][str(SUPPLY_PIN)] == SUPPLY_OFF
    assert day["slept"][0]["levels"]["2"] == 0  # LED off


def test_wake_button_and_connection_in_idle_resume_sampling(mpy: MicroPython) -> None:
    (mpy.workdir / "config.json").write_text('{"host_gone_s": 40, "idle_sleep_s": 600}')
    got = mpy.json(SCRIPTED + """
run(41, False)
snap("idle")
machine.press(4)
run(0.02, False)
machine.release(4)
snap("button")
run(35, False)   # past a self-check window: the pads were read powered
snap("sampled")
run(6, False)
snap("idle_again")
radio.central_connect(64)
run(0.5, True)
snap("connected")
print(json.dumps(report))
""")
    steps = by_name(got)
    assert steps["idle"]["state"] == IDLE
    button = steps["button"]
    assert button["state"] == SAMPLING and button["supply"] == 0
    assert button["adv_us"] == 100000 and button["flags"] & (FLAG_STREAMING | FLAG_IDLE) == 1
    assert steps["sampled"]["samples"] - steps["idle"]["samples"] >= 35 * 100 - 1
    assert steps["sampled"]["open"] == 0 and steps["sampled"]["pads"] != [0] * 6
    assert steps["idle_again"]["state"] == IDLE
    connected = steps["connected"]
    assert connected["state"] == STREAMING and connected["supply"] == 0
    assert connected["samples"] > steps["idle_again"]["samples"]


# Records what a running firmware does in each power state: [state, samples taken when it
# was first seen, samples taken when last seen in it, pad supply level].
NOTE = """
from power import NAMES

def note(segments, fw):
    state = NAMES[fw.power.state]
    samples = fw.insole.sampler.samples_taken
    if segments and segments[-1][0] == state:
        segments[-1][2] = samples
        return False
    segments.append([state, samples, samples, machine.level(25)])
    return True
"""

# main.py's own tasks on the simulated BLE radio, with short times from config.json: a drop
# shorter than host_gone_s and the resend of its gap, then a drop that lasts: idle, deep sleep.
MAIN_FLOW = """
import asyncio, json, struct, sys, bluetooth, machine, protocol as p, status
import main
""" + NOTE + """

fw = main.Firmware()
fw.board.start_watchdog(main.WATCHDOG_MS)
ble = bluetooth.BLE()
radio = ble.radio
data_h = ble.handle_of(p.DATA_UUID)
control_h = ble.handle_of(p.CONTROL_UUID)
report = {"states": [], "data_h": data_h}
fed = {}

def control(rid, op, args=b""):
    buf = bytearray(32)
    n = p.encode_control(buf, 0, rid, op, args)
    ble.central_write(64, control_h, bytes(buf[:n]))

async def watch():
    while True:
        note(report["states"], fw)
        fed[NAMES[fw.power.state]] = fw.board._wdt.fed
        await asyncio.sleep_ms(10)

async def scenario():
    tasks = [asyncio.create_task(t) for t in (fw.sample_task(), fw.send_task(),
                                              fw.status_task(), fw.control_task(), watch())]
    await asyncio.sleep_ms(100)
    ble.central_connect(64)
    ble.central_exchange_mtu(64, 247)
    await asyncio.sleep_ms(300)
    ble.central_disconnect(64)
    report["gap_first"] = fw.insole.ring.next_seq
    await asyncio.sleep_ms(600)
    report["gap_end"] = fw.insole.ring.next_seq
    ble.central_connect(64)
    ble.central_exchange_mtu(64, 247)
    report["resend_at"] = len(radio.notifications)
    control(9, p.OP_RESEND, struct.pack("<HH", report["gap_first"], report["gap_end"] - 1))
    await asyncio.sleep_ms(300)
    report["resend_end"] = len(radio.notifications)
    ble.central_disconnect(64)
    await asyncio.sleep_ms(10000)  # deep sleep ends the program before this is over
    for t in tasks:
        t.cancel()

try:
    asyncio.run(scenario())
except SystemExit:
    note(report["states"], fw)
report["fed"] = fed
report["slept"] = machine.slept
report["notifications"] = [[h, d.hex()] for c, h, d in radio.notifications]
print(chr(10) + json.dumps(report))
"""


def test_main_resends_a_short_drop_then_idles_and_sleeps(mpy: MicroPython) -> None:
    (mpy.workdir / "config.json").write_text('{"host_gone_s": 2, "idle_sleep_s": 1}')
    flow = mpy.json(MAIN_FLOW, stdin_open=True)
    states = flow["states"]
    assert [s[0] for s in states] == [SAMPLING, STREAMING, SAMPLING, STREAMING, SAMPLING,
                                      IDLE, SLEEP]
    assert all(supply == 0 and last > first for _, first, last, supply in states[1:5])
    idle, asleep = states[5], states[6]
    assert idle[3] == SUPPLY_OFF and idle[1] == idle[2] == asleep[1]  # no samples while idle
    assert all(flow["fed"][state] > 0 for state in (STREAMING, SAMPLING, IDLE))
    assert flow["slept"][0]["held"] == [SUPPLY_PIN] and flow["slept"][0]["wake"] == [[4, 0]]
    # The short drop stayed sampling, and its gap came back on request.
    first, end = flow["gap_first"], flow["gap_end"]
    assert end - first >= 5
    notes = flow["notifications"][flow["resend_at"]:flow["resend_end"]]
    resent = {decode_data(bytes.fromhex(d))["seq"] for h, d in notes if h == flow["data_h"]}
    assert set(range(first, end)) <= resent


def test_boot_from_a_deep_sleep_wake_releases_the_pads_and_starts_sampling(
        mpy: MicroPython) -> None:
    got = mpy.json("""
import asyncio, json, machine, protocol as p, status
machine.boot_as(machine.DEEPSLEEP_RESET, machine.EXT0_WAKE)
machine.Pin(25, machine.Pin.OUT, value=1, hold=True)   # as the sleep left it
machine.press(4)                                       # the button that woke it, still held
import main
from power import NAMES
repl = main.Board.stay_in_repl()
fw = main.Firmware()
after_boot = [machine.level(25), machine.held(25), NAMES[fw.power.state]]
async def briefly():
    task = asyncio.create_task(fw.sample_task())
    await asyncio.sleep_ms(200)
    task.cancel()
asyncio.run(briefly())
page = fw.insole.status_frame(p.PAGE_IDENTITY)
print(json.dumps([repl, after_boot, fw.insole.sampler.samples_taken, page[16]]))
""")
    repl, after_boot, samples, flags = got
    assert repl is False  # the wake button is not the hold-at-reset for the REPL
    assert after_boot == [0, False, SAMPLING]
    assert samples >= 10
    assert flags & FLAG_WOKE and not flags & FLAG_IDLE


def _wait_line(stream: Any, want: str) -> None:
    """Read lines from the firmware's stderr until `want`; fail after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = stream.readline()
        if not line:
            break
        seen += line
        if line.strip() == want.encode():
            return
    raise AssertionError(f"no {want!r} from the firmware; stderr: {seen.decode()}")


# main.py over serial only (no host ever spoke): it goes idle; the test then sends GET_STATUS.
# The state changes go to stderr as they happen; stdout carries the serial frames.
SERIAL_FLOW = """
import asyncio, json, sys, machine
import main
""" + NOTE + """

fw = main.Firmware()
states = []

async def watch():
    while True:
        if note(states, fw):
            sys.stderr.write(states[-1][0] + chr(10))
        await asyncio.sleep_ms(10)

async def run():
    watcher = asyncio.create_task(watch())
    await fw.run()   # until the test closes stdin
    watcher.cancel()

asyncio.run(run())
with open("states.json", "w") as f:
    json.dump(states, f)
"""


def test_serial_control_frame_in_idle_wakes_sampling(mpy: MicroPython) -> None:
    (mpy.workdir / "config.json").write_text('{"host_gone_s": 1, "idle_sleep_s": 600}')
    (mpy.workdir / "script.py").write_text(SERIAL_FLOW)
    proc = subprocess.Popen(
        [mpy.binary, "script.py"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=mpy.workdir, env=mpy.env(),
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        _wait_line(proc.stderr, IDLE)
        proc.stdin.write(cobs_encode(control_frame(7, 8)))  # GET_STATUS
        proc.stdin.flush()
        _wait_line(proc.stderr, STREAMING)
        time.sleep(0.3)
        out, err = proc.communicate(b"", timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err.decode()
    states = json.loads((mpy.workdir / "states.json").read_text())
    assert [s[0] for s in states] == [SAMPLING, IDLE, STREAMING]
    _, idle, streaming = states
    assert idle[3] == SUPPLY_OFF and idle[1] == idle[2]  # no samples while idle
    assert streaming[3] == 0 and streaming[2] > streaming[1] >= idle[2]  # sampling again
    frames = [cobs_decode(p) for p in out.split(b"\x00") if p]
    assert frames and all(check_crc(f) for f in frames)
    reply_at = next(i for i, f in enumerate(frames) if f[1] >> 6 == 2)
    assert (int.from_bytes(frames[reply_at][3:5], "little"), frames[reply_at][6]) == (7, 0)
    identity = frames[reply_at + 1]
    assert identity[5] == 0 and identity[16] & (FLAG_STREAMING | FLAG_CONNECTED | FLAG_IDLE) == 3
    before = [decode_data(f)["seq"] for f in frames[:reply_at] if f[1] >> 6 == 0]
    after = [decode_data(f)["seq"] for f in frames[reply_at:] if f[1] >> 6 == 0]
    assert before and after  # data over serial before the idle time and after the wake
    assert before + after == list(range(len(before) + len(after)))


def load_budget() -> tuple[Any, list[dict[str, str]]]:
    import sys

    sys.path.insert(0, str(ROOT / "hardware"))
    try:
        import power_budget
    finally:
        sys.path.remove(str(ROOT / "hardware"))
    with (ROOT / "hardware" / "power_budget.csv").open(newline="", encoding="utf-8") as f:
        return power_budget, list(csv.DictReader(f))


def _advertising_interval_us(rows: list[dict[str, str]], state: str) -> int:
    for row in rows:
        found = re.search(r"advertising every (\d+) (ms|s)\b", row["consumer"])
        if row["state"] == state and found:
            return int(found.group(1)) * (1000 if found.group(2) == "ms" else 1000000)
    raise AssertionError(f"no advertising row for {state} in power_budget.csv")


def test_firmware_times_match_the_power_budget(mpy: MicroPython) -> None:
    budget, rows = load_budget()
    got = mpy.json("""
import json, config, ble, power
d = config.defaults()
print(json.dumps([d["host_gone_s"], d["idle_sleep_s"], ble.ADV_INTERVAL_US,
                  power.IDLE_ADV_INTERVAL_US]))
""")
    host_gone_s, idle_sleep_s, adv_us, idle_adv_us = got
    assert host_gone_s == budget.HOST_GONE_MIN * 60
    assert idle_sleep_s == budget.IDLE_TO_SLEEP_MIN * 60
    assert adv_us == _advertising_interval_us(rows, "sampling_advertising")
    assert idle_adv_us == _advertising_interval_us(rows, "idle")


def test_bad_power_times_in_the_config_fall_back(mpy: MicroPython) -> None:
    (mpy.workdir / "config.json").write_text(
        '{"host_gone_s": 0, "idle_sleep_s": 86401, "rate_hz": 50}')
    got = mpy.json("""
import json
from config import Config
c = Config("config.json")
print(json.dumps([c.host_gone_s, c.idle_sleep_s, c.rate_hz, sorted(c.rejected)]))
""")
    assert got == [120, 900, 50, ["host_gone_s", "idle_sleep_s"]]


def test_power_flags_are_documented_in_the_protocol(mpy: MicroPython) -> None:
    got = mpy.json("""
import json, status
print(json.dumps([status.FLAG_IDLE, status.FLAG_WOKE]))
""")
    assert got == [FLAG_IDLE, FLAG_WOKE]
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert "bit 3 idle" in doc and "bit 4 woken from deep sleep" in doc


def test_power_updates_allocate_nothing_while_sampling(mpy: MicroPython) -> None:
    got = mpy.json(SCRIPTED + """
import micropython
radio.central_connect(64)
run(1, True)
errors = []
def locked(seconds, host):
    micropython.heap_lock()
    try:
        run(seconds, host)
    except MemoryError:
        errors.append(NAMES[power.state])
    micropython.heap_unlock()
locked(2, True)          # streaming
radio.central_disconnect(64)   # the simulated radio allocates: outside the lock
locked(2, False)         # the host gone: sampling
print(json.dumps([errors, NAMES[power.state], ins.sampler.samples_taken]))
""")
    assert got == [[], SAMPLING, 500]
