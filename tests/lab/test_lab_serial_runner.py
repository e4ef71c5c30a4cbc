"""The firmware runner's parts: the simulated clock modules, traces, identities and errors."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from numbguard.deploy.bundle import default_firmware_dir
from numbguard.errors import DeviceError, InputError
from numbguard.protocol.decoder import SerialFrameDecoder
from numbguard.protocol.frames import DataFrame, StatusIdentity
from numbguard.simulate.files import write_session
from numbguard_lab import MICROPYTHON_SIM_DIR
from numbguard_lab.firmware_runner import FirmwareProcess, InsoleSpec, SerialLine
from numbguard_lab.traces import PadTrace, file_traces, pad_gpio, scenario_traces

FIRMWARE_DIR = default_firmware_dir()
CLOCK_PROBE = """
import time, utime, select, uselect
print(time.ticks_us is utime.ticks_us, select.poll is uselect.poll)
"""
# Fed while the loop runs, then not: asyncio's next wait after 1 s (insole time) resets.
WATCHDOG_PROBE = """
import asyncio, machine
wdt = machine.WDT(timeout=1000)
async def main():
    for _ in range(5):
        await asyncio.sleep_ms(500)
        wdt.feed()
    print("fed")
    await asyncio.sleep_ms(3000)
    print("too late")
asyncio.run(main())
"""


def run_micropython(micropython: str, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    path = f"{MICROPYTHON_SIM_DIR}:{FIRMWARE_DIR}:.frozen"
    return subprocess.run(
        [micropython, "-c", code], env=dict(os.environ, MICROPYPATH=path, **env),
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip


def test_without_a_clock_setting_time_is_the_built_in_and_poll_watches_the_watchdog(
    micropython_bin: str,
) -> None:
    # poll is always the simulated one: it checks the simulated watchdog around every wait.
    done = run_micropython(micropython_bin, CLOCK_PROBE)
    assert done.stdout.split() == ["True", "False"], done.stderr


def test_a_fast_clock_replaces_ticks(micropython_bin: str) -> None:
    done = run_micropython(micropython_bin, CLOCK_PROBE, NUMBGUARD_CLOCK_SCALE="10")
    assert done.stdout.split() == ["False", "False"], done.stderr
    done = run_micropython(micropython_bin, CLOCK_PROBE, NUMBGUARD_CLOCK_OFFSET_US="5000")
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_a_starved_watchdog_resets_the_simulated_chip(micropython_bin: str) -> None:
    done = run_micropython(micropython_bin, WATCHDOG_PROBE, NUMBGUARD_CLOCK_SCALE="10")
    assert done.returncode == 3, done  # machine.WDT_EXIT_CODE: the chip reset
    assert "fed" in done.stdout and "too late" not in done.stdout
    assert "watchdog not fed for 1000 ms" in done.stderr


@pytest.mark.parametrize(
    "setting", [{"NUMBGUARD_CLOCK_SCALE": "0"}, {"NUMBGUARD_CLOCK_OFFSET_US": "-1"}]
)
def test_a_bad_clock_setting_stops_the_firmware_with_a_message(
    micropython_bin: str, setting: dict[str, str]
) -> None:
    done = run_micropython(micropython_bin, "import time", **setting)
    assert done.returncode != 0 and "NUMBGUARD_CLOCK_SCALE >= 1" in done.stdout + done.stderr


def test_a_trace_holds_the_counts_of_its_kpa_in_wire_order(tmp_path: Path) -> None:
    trace = scenario_traces("normal_run_no_heel", 30.0, rate_hz=50)["right"]
    assert trace.pads[0] == "ball_medial" and trace.counts.shape == (1500, 5)
    assert trace.pad_mask == 0b111110
    shuffled = PadTrace.from_kpa("right", 50, trace.pads[::-1], trace.pressure_kpa[:, ::-1])
    assert np.array_equal(shuffled.counts, trace.counts)
    path = trace.write_adc_file(tmp_path / "trace.bin", FIRMWARE_DIR)
    header, rows = path.read_bytes().split(b"\n", 1)
    gpio = pad_gpio(FIRMWARE_DIR)
    assert header.decode() == ",".join(str(gpio[pad]) for pad in trace.pads)
    assert np.array_equal(np.frombuffer(rows, "<u2").reshape(1500, 5), trace.counts)


def test_a_missing_sample_reads_as_an_unloaded_pad() -> None:
    kpa = np.array([[np.nan, 200.0], [0.0, 200.0]])
    trace = PadTrace.from_kpa("left", 100, ("heel", "ball_center"), kpa)
    assert trace.counts[0, 0] == trace.counts[1, 0]


@pytest.mark.parametrize("rate_hz", [20, 100.5, 400])
def test_a_rate_the_firmware_cannot_sample_at_is_refused(rate_hz: float) -> None:
    with pytest.raises(InputError, match="25-200"):
        PadTrace.from_kpa("left", rate_hz, ("heel",), np.zeros((3, 1)))


def test_specs_out_of_range_are_refused() -> None:
    with pytest.raises(InputError, match="32 bits"):
        InsoleSpec("left", 1 << 32)
    trace = scenario_traces("walking", 30.0)["right"]
    with pytest.raises(InputError, match="other foot"):
        InsoleSpec("left", 1, trace)
    with pytest.raises(InputError, match="clock offset"):
        InsoleSpec("left", 1, clock_offset_us=-5)


def test_no_binary_is_a_clear_error(tmp_path: Path) -> None:
    firmware = FirmwareProcess(
        InsoleSpec("left", 7), tmp_path / "flash", micropython=str(tmp_path / "micropython")
    )
    with pytest.raises(DeviceError, match="cannot start"):
        firmware.start()


def test_identity_and_flash_are_the_insoles_own(micropython_bin: str, tmp_path: Path) -> None:
    spec = InsoleSpec("right", 0xC0FFEE42)
    with FirmwareProcess(spec, tmp_path / "flash", micropython=micropython_bin) as firmware:
        assert firmware.process is not None and firmware.process.stdout is not None
        decoder = SerialFrameDecoder()
        pages: list[StatusIdentity] = []
        data: list[DataFrame] = []
        while not (pages and data):
            for decoded in decoder.feed_raw(os.read(firmware.process.stdout.fileno(), 4096)):
                if isinstance(decoded.frame, StatusIdentity):
                    pages.append(decoded.frame)
                elif isinstance(decoded.frame, DataFrame):
                    data.append(decoded.frame)
    assert (pages[0].insole_id, pages[0].foot) == (0xC0FFEE42, "right")
    assert data[0].foot == "right"
    assert '"foot": "right"' in (tmp_path / "flash" / "config.json").read_text()
    assert firmware.stderr_text == ""


def test_a_crashing_firmware_leaves_its_traceback_on_the_line(
    micropython_bin: str, tmp_path: Path
) -> None:
    # The unix port, like a board on its UART, prints tracebacks on the serial line.
    spec = InsoleSpec("left", 1)
    crashing = FirmwareProcess(
        spec, tmp_path, micropython=micropython_bin, env={"NUMBGUARD_CLOCK_PPM": "-100000"}
    )
    with crashing as firmware, SerialLine(firmware) as line:
        assert firmware.process is not None and firmware.process.wait(20) == 1
        for _ in range(500):  # the relay passes the output on within moments
            if b"ValueError" in line.stats.tail:
                break
            time.sleep(0.01)
    assert b"NUMBGUARD_CLOCK_SCALE >= 1" in line.stats.tail
    assert line.stats.packets == 0


def test_a_csv_of_a_scenario_gives_the_scenarios_traces(tmp_path: Path) -> None:
    files = write_session("tight_lacing", tmp_path, duration_s=30.0)
    from_file = file_traces(files.csv_path)
    simulated = scenario_traces("tight_lacing", 30.0)
    for foot in ("left", "right"):
        assert from_file[foot].pads == simulated[foot].pads
        # The CSV keeps kPa to its printed precision: the counts agree within one step.
        difference = from_file[foot].counts - simulated[foot].counts
        assert np.abs(difference).max() <= 1


def test_a_file_that_is_no_session_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("not,a,session\n")
    with pytest.raises(InputError):
        file_traces(path)
