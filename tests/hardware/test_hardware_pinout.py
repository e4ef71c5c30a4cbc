"""hardware/pinout.csv is the one source of the pins; firmware/pinout.py is generated from it."""

from __future__ import annotations

import ast
import csv
import subprocess
import sys
from dataclasses import replace

import pytest
from hardware_scripts import HARDWARE_DIR, load_hardware_script

from numbguard.pads import PAD_IDS
from tests.required_tools import require_tool

REPO_ROOT = HARDWARE_DIR.parent
gen_pinout = load_hardware_script("gen_pinout")


def _firmware_constants() -> dict[str, object]:
    tree = ast.parse((REPO_ROOT / "firmware" / "pinout.py").read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }


def test_firmware_pinout_is_generated_and_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(HARDWARE_DIR / "gen_pinout.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = gen_pinout.render(gen_pinout.read_pinout())
    assert (REPO_ROOT / "firmware" / "pinout.py").read_text(encoding="utf-8") == expected


def test_firmware_pinout_matches_the_csv_row_by_row() -> None:
    with (HARDWARE_DIR / "pinout.csv").open(newline="", encoding="utf-8") as file:
        rows = {row["signal"]: row for row in csv.DictReader(file)}
    constants = _firmware_constants()
    assert constants["PAD_PINS"] == tuple((pad, int(rows[pad]["gpio"])) for pad in PAD_IDS)
    assert constants["BATTERY_PIN"] == int(rows["battery"]["gpio"])
    assert constants["LED_PIN"] == int(rows["led"]["gpio"])
    assert constants["WAKE_PIN"] == int(rows["wake"]["gpio"])
    assert constants["SENSOR_POWER_PIN"] == int(rows["sensor_power"]["gpio"])
    # The names and values the firmware was written against.
    assert (constants["BATTERY_PIN"], constants["LED_PIN"], constants["WAKE_PIN"]) == (37, 2, 4)


def test_pads_and_battery_use_adc1_only() -> None:
    constants = _firmware_constants()
    adc_pins = [pin for _, pin in constants["PAD_PINS"]] + [constants["BATTERY_PIN"]]  # type: ignore[attr-defined]
    assert all(32 <= pin <= 39 for pin in adc_pins)
    assert len(set(adc_pins)) == 7


@pytest.mark.parametrize(
    ("signal", "change", "message"),
    [
        ("ball_center", {"gpio": 27, "adc_channel": ""}, "not on ADC1"),
        ("battery", {"gpio": 26}, "not on ADC1"),  # an ADC2 pin: dead while the radio is on
        ("heel", {"adc_channel": "ADC1_CH3"}, "is ADC1_CH0"),
        ("led", {"gpio": 36}, "more than once"),
        ("lace_upper", {"signal": "toe"}, "wire order"),
        ("wake", {"kind": "sensor_power"}, "exactly one"),
    ],
)
def test_pinout_rules_catch_mistakes(signal: str, change: dict[str, object], message: str) -> None:
    pins = gen_pinout.read_pinout()
    broken = [replace(pin, **change) if pin.signal == signal else pin for pin in pins]
    with pytest.raises(gen_pinout.PinoutError, match=message):
        gen_pinout.check_pinout(broken)


def test_generated_pinout_runs_under_micropython() -> None:
    micropython = require_tool("micropython", "the generated pinout under MicroPython")
    result = subprocess.run(
        [micropython, "-c", "import pinout; print(len(pinout.PAD_PINS), pinout.BATTERY_PIN)"],
        env={"MICROPYPATH": str(REPO_ROOT / "firmware")},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.stdout.strip() == "6 37", result.stderr
