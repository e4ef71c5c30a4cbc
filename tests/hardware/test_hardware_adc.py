"""One description of the ESP32's ADC curve (host/numbguard/calibration/esp32_adc.py): the
firmware's self-check thresholds are generated from it, the host's trusted range comes from it,
and the simulated chip reads through it. Here: it says what Espressif publishes, and the
thresholds and the range agree with it on every part of the spread."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
from hardware_scripts import HARDWARE_DIR, load_hardware_script

from numbguard.calibration import ADC_CEILING_COUNTS, ADC_FLOOR_COUNTS, esp32_adc
from tests.required_tools import find_tool, require_tool

REPO_ROOT = HARDWARE_DIR.parent
gen_adclimits = load_hardware_script("gen_adclimits")
READS = range(2000)  # reads of one level: the noise takes every value it can in far fewer


def _firmware_limits() -> dict[str, int]:
    tree = ast.parse((REPO_ROOT / "firmware" / "adclimits.py").read_text(encoding="utf-8"))
    limits = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            assert isinstance(node.targets[0], ast.Name)
            limits[node.targets[0].id] = ast.literal_eval(node.value.args[0])
    return limits


def _reads(part: esp32_adc.Part, mv: int) -> list[int]:
    """Counts the firmware gets for a pin held at `mv`, over many reads."""
    counts = mv * esp32_adc.FULL_SCALE_COUNTS // esp32_adc.RAIL_MV
    return [part.read_counts(counts, 36, index) for index in READS]


def test_firmware_adclimits_is_generated_and_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(HARDWARE_DIR / "gen_adclimits.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (REPO_ROOT / "firmware" / "adclimits.py").read_text(encoding="utf-8") == (
        gen_adclimits.render()
    )
    assert _firmware_limits() == {
        "OPEN_MAX_COUNT": esp32_adc.open_max_counts(),
        "SHORT_MIN_COUNT": esp32_adc.short_min_counts(),
    }


def test_the_self_check_takes_its_thresholds_from_the_generated_limits() -> None:
    source = (REPO_ROOT / "firmware" / "selfcheck.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "adclimits"]
    assert {a.name for n in imports for a in n.names} == {"OPEN_MAX_COUNT", "SHORT_MIN_COUNT"}
    assigned = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Name)}  # fmt: skip
    assert not assigned & {"OPEN_MAX_COUNT", "SHORT_MIN_COUNT"}


def test_the_curve_is_espressifs() -> None:
    # ESP-IDF adc_cali_line_fitting.c, ADC1 at 11 dB: raw 0 reads the offset, 142 mV; the last
    # code reads the lookup table's last points, 3060 mV (Vref 1000) and 3209 mV (Vref 1200).
    assert esp32_adc.floor_mv(1000) == esp32_adc.floor_mv(1200) == 142
    assert esp32_adc.top_mv(1000) == 3060 and esp32_adc.top_mv(1200) == 3209
    # The straight part: ~0.81 mV per code at Vref 1100, 2462 mV where the table takes over.
    assert esp32_adc.calibrated_mv(2000, 1100) == 142 + (52799 * 2000 + 32768) // 65536
    assert esp32_adc.calibrated_mv(2880, 1100) == 2462
    # The top is compressed: each code spans more millivolts than on the straight part.
    straight = esp32_adc.calibrated_mv(2000, 1100) - esp32_adc.calibrated_mv(1936, 1100)
    bent = esp32_adc.calibrated_mv(4032, 1100) - esp32_adc.calibrated_mv(3968, 1100)
    assert bent < straight  # fewer mV per 64 codes: the chip's codes are squeezed up there
    # Espressif's documented usable range at 11 dB.
    assert (esp32_adc.USABLE_LOW_MV, esp32_adc.USABLE_HIGH_MV) == (150, 2450)
    assert (esp32_adc.VREF_LOW_MV, esp32_adc.VREF_HIGH_MV) == (995, 1205)


@pytest.mark.parametrize("name", esp32_adc.SPREAD)
def test_open_and_shorted_pins_fall_beyond_the_thresholds_on_every_part(name: str) -> None:
    part = esp32_adc.Part(name, seed=3)
    open_pin = _reads(part, 0)
    shorted = _reads(part, esp32_adc.RAIL_MV)
    assert max(open_pin) <= esp32_adc.open_max_counts() < ADC_FLOOR_COUNTS
    assert min(shorted) >= esp32_adc.short_min_counts()


@pytest.mark.parametrize("name", esp32_adc.SPREAD)
def test_readings_inside_the_usable_range_stay_clear_of_the_thresholds(name: str) -> None:
    part = esp32_adc.Part(name, seed=3)
    # A loaded pad at the top of the usable range, even on a part reading 2.5 % high.
    at_ceiling = _reads(part, esp32_adc.USABLE_HIGH_MV)
    assert max(at_ceiling) < esp32_adc.short_min_counts() - 500
    assert abs(sum(at_ceiling) / len(at_ceiling) - ADC_CEILING_COUNTS) < 0.03 * ADC_CEILING_COUNTS
    # A pad pressed just above the floor reads above the open threshold on every read.
    assert min(_reads(part, esp32_adc.USABLE_LOW_MV + 10)) > esp32_adc.open_max_counts()
    # The noise is a few codes, centred.
    mid = _reads(part, 1200)
    assert 4 <= max(mid) - min(mid) <= 16


def test_the_ideal_part_gives_the_trace_back_exactly() -> None:
    ideal = esp32_adc.Part(esp32_adc.IDEAL)
    assert [ideal.read_counts(c, 36, c) for c in range(4096)] == list(range(4096))
    assert esp32_adc.DEFAULT_PART != esp32_adc.IDEAL  # the simulated chip is a real one


@pytest.mark.parametrize("binary", ["micropython", "micropython-nimble32"])
def test_micropython_reads_the_curve_as_the_host_computes_it(binary: str) -> None:
    # The simulated machine imports this file under MicroPython (64-bit and the ESP32-sized
    # 32-bit port): its readings must be the host's, bit for bit, for the lab's exact checks.
    if binary == "micropython":
        path = require_tool(binary, "the ADC curve under MicroPython")
    else:
        found = find_tool(binary) or str(REPO_ROOT.parents[0] / "shared" / "micropython-ble"
                                         / "bin" / binary)  # fmt: skip
        path = require_tool(found, "the ADC curve on a 32-bit MicroPython")
    script = (
        "import json, esp32_adc as a\n"
        "out = {}\n"
        "for name in a.SPREAD:\n"
        "    part = a.Part(name, 5)\n"
        "    out[name] = [part.read_uv(c, 39, i) for i, c in enumerate(range(0, 4096, 37))]\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [path, "-c", script],
        env={"MICROPYPATH": str(REPO_ROOT / "host" / "numbguard" / "calibration")},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = {
        name: [esp32_adc.Part(name, 5).read_uv(c, 39, i) for i, c in enumerate(range(0, 4096, 37))]
        for name in esp32_adc.SPREAD
    }
    assert json.loads(result.stdout) == expected
