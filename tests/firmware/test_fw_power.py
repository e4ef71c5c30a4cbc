"""Power states under MicroPython (firmware/power.py): streaming, sampling while the host is
briefly gone, idle with the pad supply off, deep sleep woken by the button, and the wake; the
defaults match the power budget in hardware/.

The state machine itself runs on the plain unix port with a scripted clock and no radio (Power
takes ble=None, as on a port without one). What the states do to BLE (the advertising
interval, re-advertising, a central connecting to an idle insole, a short drop's gap resent) is
shown with main.py on the real BLE stack: ``micropython-nimble`` against a bumble controller,
whose advertising parameters are what NimBLE set over HCI.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import select
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from fw_harness import ROOT, MicroPython
from fw_radio import Central, SerialWatch, connect, data_seqs, until
from fw_reference import check_crc, cobs_decode, cobs_encode, control_frame, decode_data

from numbguard.calibration import esp32_adc
from numbguard.protocol import Reply, StatusFrame, StatusIdentity
from numbguard.protocol.constants import OP_RESEND
from numbguard_lab.ble_lab import INSOLE_IDS, FirmwareBleLab
from numbguard_lab.firmware_runner import InsoleSpec

STREAMING, SAMPLING, IDLE, SLEEP = "streaming", "sampling", "idle", "sleep"
FLAG_STREAMING, FLAG_CONNECTED, FLAG_IDLE, FLAG_WOKE = 1, 2, 8, 16
SUPPLY_PIN, SUPPLY_OFF, WAKE_PIN = 25, 1, 4
WAIT_S = 30.0  # longest wait for the firmware to reach a state (a slow machine)

# Board and insole on the simulated hardware, with a scripted clock, and the power state
# machine over them, without a radio. `run(seconds, host)` moves the clock in steps, sampling
# and updating the power state as main.py's tasks do; `host` is whether a host is present (a
# trusted BLE central, or one that spoke over serial). Every pad is held loaded at 1200 counts
# (967 mV, read through the simulated chip), not left to the walking pattern, which follows the
# wall clock: an unloaded pad reads the chip's floor, as an open one does, and would be flagged
# open or not depending on the machine's speed.
SCRIPTED = """
import json, machine, protocol as p, status
for pin in (36, 39, 34, 35, 32, 33):
    machine.set_trace(pin, [1200])
from board import Board
from config import Config
from insole import Insole
from power import Power, NAMES
clock_us = [1000000]
def ticks_us():
    return clock_us[0]
def ticks_ms():
    return clock_us[0] // 1000
board = Board()
ins = Insole(board.pad_reads, Config("config.json"), board.insole_id(), 1, board.battery_mv,
             ticks_us=ticks_us)
power = Power(board, ins, None, ticks_ms=ticks_ms)
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
    report.append({"at": name, "state": NAMES[power.state],
                   "samples": ins.sampler.samples_taken, "supply": machine.level(25),
                   "led": machine.level(2),
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
run(5, True)
snap("streaming")
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
    assert steps["grace_end"]["samples"] - steps["streaming"]["samples"] == 118 * 100


def test_idle_switches_the_pads_off_and_takes_no_samples(day: dict[str, Any]) -> None:
    steps = by_name(day["report"])
    idle, later = steps["idle"], steps["idle_10min"]
    for step in (idle, later):
        assert step["state"] == IDLE and step["supply"] == SUPPLY_OFF and step["led"] == 0
        assert step["flags"] & (FLAG_STREAMING | FLAG_IDLE) == FLAG_IDLE
        # The dividers are unpowered: every pin at 0 V, which an ESP32 reads as its floor.
        assert step["pads"] == [esp32_adc.floor_mv(esp32_adc.VREF_NOMINAL_MV) * 1000] * 6
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
    # After the wake the loaded pads must read their level, not the chip's floor that an
    # unpowered divider reads.
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
run(0.5, True)   # a host came
snap("connected")
print(json.dumps(report))
""")
    steps = by_name(got)
    assert steps["idle"]["state"] == IDLE
    button = steps["button"]
    assert button["state"] == SAMPLING and button["supply"] == 0
    assert button["flags"] & (FLAG_STREAMING | FLAG_IDLE) == 1
    assert steps["sampled"]["samples"] - steps["idle"]["samples"] >= 35 * 100 - 1
    floor_uv = esp32_adc.floor_mv(esp32_adc.VREF_NOMINAL_MV) * 1000
    assert steps["idle"]["pads"] == [floor_uv] * 6  # the supply is off
    assert steps["sampled"]["open"] == 0
    assert all(abs(uv - 967_000) < 10_000 for uv in steps["sampled"]["pads"])  # 1200 counts
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

# main.py on the real BLE stack, with short power times from its config.json and the clock
# sped up; a bumble central (the lab radio's) pairs, goes away and comes back.
HOST_GONE_S: Final = 10  # insole seconds
IDLE_SLEEP_S: Final = 4
POWER_CLOCK_SCALE: Final = 2
ADV_100_MS, ADV_1_S = 160, 1600  # HCI advertising interval, 0.625 ms units
ADV_IND: Final = 0  # connectable, scannable, undirected
GAP_FRAMES: Final = 40  # frames taken while the central is away (0.4 s at MTU 23)
BUTTON_PRESS_S: Final = 0.5  # a short press: wakes an idle insole, opens no pairing window


@dataclass
class PowerOnBle:
    """What the central saw: the advertising (interval, HCI type) at each step, the frames."""

    advertising: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    identity: dict[str, StatusIdentity] = field(default_factory=dict)  # asked over BLE
    gap: tuple[int, int] = (0, -1)
    resend_reply: Reply | None = None
    resent: set[int] = field(default_factory=set)
    serial_seq: dict[str, int] = field(default_factory=dict)  # newest data frame on serial
    data_after_idle: list[int] = field(default_factory=list)
    exit_code: int | None = None
    stdin_open_at_exit: bool = False


def _advertising(lab: FirmwareBleLab) -> tuple[int, int] | None:
    controller = lab.radios["left"].controller
    if controller is None or not controller.le_legacy_advertiser.enabled:
        return None
    advertiser = controller.le_legacy_advertiser
    return advertiser.advertising_interval_min, advertiser.advertising_type


async def _advertising_at(lab: FirmwareBleLab, interval: int, what: str) -> tuple[int, int]:
    def now() -> tuple[int, int] | None:
        found = _advertising(lab)
        return found if found is not None and found[0] == interval else None

    return await until(now, f"advertising every {interval * 0.625:g} ms {what}")


async def _identity_over_ble(central: Central, request_id: int) -> StatusIdentity:
    """The identity page GET_STATUS gets from the trusted central."""
    identity = (await central.get_status(request_id))[StatusIdentity]
    assert isinstance(identity, StatusIdentity)
    return identity


async def _after_status_pages(serial: SerialWatch, pages: int) -> int:
    """The newest data frame on serial once `pages` more status pages came there."""
    seen = max((f.seq for f in serial.frames() if isinstance(f, StatusFrame)), default=-1)
    await until(lambda: any(isinstance(f, StatusFrame) and f.seq >= seen + pages
                            for f in serial.frames()), f"{pages} status pages on serial")
    return serial.last_data_seq()


async def _reconnect(lab: FirmwareBleLab, heard: Central) -> Central:
    """The bonded central back: re-encrypted from its stored bond, subscribed again."""
    connection = await connect(lab)
    await connection.encrypt()
    central = Central(connection, heard.heard)
    await central.discover()
    await central.subscribe()
    return central


async def _run_power_day(workdir: Path, nimble_bin: str) -> PowerOnBle:
    day = PowerOnBle()
    flash = workdir / "left"
    flash.mkdir(parents=True)
    (flash / "config.json").write_text(json.dumps(
        {"foot": "left", "host_gone_s": HOST_GONE_S, "idle_sleep_s": IDLE_SLEEP_S}))
    lab = FirmwareBleLab(workdir, (InsoleSpec("left", INSOLE_IDS["left"]),),
                         clock_scale=POWER_CLOCK_SCALE, micropython=nimble_bin)  # fmt: skip
    async with lab:
        serial = SerialWatch(lab)
        firmware = lab.firmware["left"]
        day.advertising["boot"] = await until(lambda: _advertising(lab), "advertising at boot")

        connection = await connect(lab)
        await connection.pair()  # a fresh insole takes the first pairing
        central = Central(connection)
        await central.discover()
        await central.subscribe()
        await until(lambda: len(central.data()) >= 10, "data frames")
        day.identity["streaming"] = await _identity_over_ble(central, 1)

        # A drop much shorter than host_gone_s: the insole samples on into its ring.
        last_before = max(data_seqs(central.heard))
        await connection.disconnect()
        # The controller keeps the slow advertising of while a central was connected until
        # the insole's disconnect IRQ sets it back to every 100 ms.
        day.advertising["host_gone"] = await _advertising_at(lab, ADV_100_MS,
                                                             "after the disconnect")
        await until(lambda: serial.last_data_seq() >= last_before + GAP_FRAMES,
                    "frames taken while the central is away")  # fmt: skip
        day.advertising["before_back"] = _advertising(lab)
        central = await _reconnect(lab, central)
        back = len(central.heard)
        first_after = (await until(lambda: central.data(back), "data after reconnecting"))[0]
        day.gap = (last_before + 1, first_after.frame.seq - 1)
        day.resend_reply = await central.resend(100, *day.gap)
        day.resent = set(data_seqs(central.heard[back:]))
        day.identity["back"] = await _identity_over_ble(central, 3)

        # The host leaves for good: idle after host_gone_s, woken by the button.
        await central.connection.disconnect()
        day.advertising["left_again"] = await _advertising_at(lab, ADV_100_MS,
                                                              "after the last disconnect")
        day.advertising["idle"] = await _advertising_at(lab, ADV_1_S, "once idle")
        # Idle: status pages on serial (one a second), but no data frame (no samples).
        day.serial_seq["idle"] = await _after_status_pages(serial, 1)
        day.serial_seq["idle_later"] = await _after_status_pages(serial, 2)
        await lab.press_button("left", BUTTON_PRESS_S)
        day.advertising["button"] = await _advertising_at(lab, ADV_100_MS, "after the button")
        woke_at = serial.last_data_seq()
        day.serial_seq["sampling_again"] = await until(
            lambda: (seq := serial.last_data_seq()) > woke_at + 10 and seq, "sampling again")

        # Idle again; a central connecting to the idle insole brings it back to streaming.
        day.advertising["idle_again"] = await _advertising_at(lab, ADV_1_S, "idle again")
        central = await _reconnect(lab, central)
        came = len(central.heard)
        await until(lambda: len(central.data(came)) >= 10, "data from the insole woken by BLE")
        day.data_after_idle = data_seqs(central.heard[came:])
        day.identity["connected_in_idle"] = await _identity_over_ble(central, 4)

        # Gone for good: idle, then deep sleep (the unix port's simulated deepsleep ends the
        # program with exit code 0; its serial input is still open, so nothing else ends it).
        await central.connection.disconnect()
        day.advertising["last_idle"] = await _advertising_at(lab, ADV_1_S, "idle at the end")
        await until(lambda: not firmware.running, "the deep sleep")
        process = firmware.process
        assert process is not None and process.stdin is not None
        day.exit_code = process.returncode
        day.stdin_open_at_exit = not process.stdin.closed
    return day


@pytest.fixture(scope="module")
def day_on_ble(nimble_bin: str, tmp_path_factory: pytest.TempPathFactory) -> PowerOnBle:
    return asyncio.run(_run_power_day(tmp_path_factory.mktemp("power-ble"), nimble_bin))


def test_advertising_every_100_ms_while_sampling_and_every_second_when_idle(
        day_on_ble: PowerOnBle) -> None:
    adv = day_on_ble.advertising
    for step in ("boot", "host_gone", "before_back", "left_again", "button"):
        assert adv[step] == (ADV_100_MS, ADV_IND), step
    for step in ("idle", "idle_again", "last_idle"):
        assert adv[step] == (ADV_1_S, ADV_IND), step  # still connectable
    # The insole woken by a central: streaming, not idle, sampling again.
    identity = day_on_ble.identity["connected_in_idle"]
    assert identity.flags & (FLAG_STREAMING | FLAG_CONNECTED | FLAG_IDLE) == 3
    after = day_on_ble.data_after_idle
    assert after and after[0] > day_on_ble.serial_seq["sampling_again"]


def test_main_resends_a_short_drop_then_idles_and_sleeps(day_on_ble: PowerOnBle) -> None:
    for step in ("streaming", "back"):
        flags = day_on_ble.identity[step].flags
        assert flags & (FLAG_STREAMING | FLAG_CONNECTED | FLAG_IDLE) == 3, step
    # The short drop stayed sampling, and its gap came back on request.
    first, last = day_on_ble.gap
    assert last - first + 1 >= GAP_FRAMES
    reply = day_on_ble.resend_reply
    assert reply is not None and (reply.opcode, reply.result) == (OP_RESEND, 0)
    assert reply.data["frames_queued"] == last - first + 1
    assert set(range(first, last + 1)) <= day_on_ble.resent
    # No sampling while idle, and sampling again after the button.
    seqs = day_on_ble.serial_seq
    assert seqs["idle"] == seqs["idle_later"] < seqs["sampling_again"]
    # Idle for idle_sleep_s: deep sleep, which ends the unix port's program cleanly.
    assert day_on_ble.exit_code == 0 and day_on_ble.stdin_open_at_exit


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
locked(2, False)         # the host gone: sampling
print(json.dumps([errors, NAMES[power.state], ins.sampler.samples_taken]))
""")
    assert got == [[], SAMPLING, 500]
