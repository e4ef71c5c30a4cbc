"""The board's netlist, BOM, curve, placement and power budget agree with each other, with
hardware/pinout.csv and with the calibration model, and the committed tables are current."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hardware_scripts import HARDWARE_DIR, load_hardware_script

from numbguard.calibration import default_pad_calibration
from numbguard.calibration.parts import PAD_DESIGNS
from numbguard.pads import LACE_PADS, PAD_IDS

circuit_module = load_hardware_script("netlist")
bom_module = load_hardware_script("bom")
gen_pinout = load_hardware_script("gen_pinout")
adc_curve = load_hardware_script("adc_curve")
placement = load_hardware_script("placement")
power_budget = load_hardware_script("power_budget")

CIRCUIT = circuit_module.load_circuit()
MCU = CIRCUIT.part("U1")


def _net(pad: str) -> str:
    return f"PAD_{pad.upper()}"


@pytest.mark.parametrize("pad", PAD_IDS)
def test_each_pad_is_wired_as_the_calibration_model_assumes(pad: str) -> None:
    pins = {pin.signal: pin.gpio for pin in gen_pinout.read_pinout()}
    assert MCU.pins[f"GPIO{pins[pad]}"] == _net(pad)
    design = PAD_DESIGNS[pad]
    # Sensor from the (switched) 3.3 V rail to the pin ...
    sensors = CIRCUIT.between("3V3_SENS", _net(pad), "fsr")
    assert [s.mpn for s in sensors] == [design.sensor.part_number]
    # ... and the divider resistor the calibration uses, from the pin to ground.
    dividers = CIRCUIT.between(_net(pad), "GND", "resistor")
    assert [r.ohms for r in dividers] == [design.divider_ohms]
    assert default_pad_calibration(pad).divider_ohms == design.divider_ohms


def test_battery_led_wake_and_sensor_power_nets_reach_their_pins() -> None:
    pins = {pin.signal: pin for pin in gen_pinout.read_pinout()}
    assert MCU.pins[f"GPIO{pins['battery'].gpio}"] == "VBAT_SENSE"
    assert MCU.pins[f"GPIO{pins['led'].gpio}"] == "LED"
    assert MCU.pins[f"GPIO{pins['wake'].gpio}"] == "WAKE"
    assert MCU.pins[f"GPIO{pins['sensor_power'].gpio}"] == "SENSOR_PWR"
    top = CIRCUIT.between("VSYS", "VBAT_SENSE", "resistor")
    bottom = CIRCUIT.between("VBAT_SENSE", "GND", "resistor")
    assert len(top) == len(bottom) == 1
    ratio = (top[0].ohms + bottom[0].ohms) / bottom[0].ohms
    assert ratio == gen_pinout.BATTERY_DIVIDER == 2
    # 4.2 V full charge stays inside the ADC's linear range (2450 mV) after the divider.
    assert 4200 / ratio < 2450


def test_pad_supply_is_on_unless_the_firmware_turns_it_off() -> None:
    switch = CIRCUIT.part("Q1")
    assert switch.kind == "pmos"
    assert (switch.pins["S"], switch.pins["D"], switch.pins["G"]) == (
        "3V3",
        "3V3_SENS",
        "SENSOR_PWR",
    )
    assert CIRCUIT.between("SENSOR_PWR", "GND", "resistor")  # gate pulled low: P-MOSFET on
    power_on = next(p for p in gen_pinout.read_pinout() if p.kind == "sensor_power")
    assert power_on.active_level == "0"


def test_circuit_check_catches_dangling_nets_and_repeated_refs() -> None:
    parts = list(CIRCUIT.parts)
    lonely = replace(parts[-1], pins={"1": "NOWHERE", "2": "GND"})
    with pytest.raises(circuit_module.CircuitError, match="NOWHERE"):
        circuit_module.check_circuit(replace(CIRCUIT, parts=(*parts[:-1], lonely)))
    with pytest.raises(circuit_module.CircuitError, match="more than once"):
        circuit_module.check_circuit(replace(CIRCUIT, parts=(*parts, parts[0])))


def test_bom_covers_the_netlist_and_totals() -> None:
    rows = bom_module.read_bom()
    bom_module.check_bom(rows, CIRCUIT)
    total = bom_module.total_usd(rows)
    assert total == pytest.approx(sum(row.qty * row.unit_cost_usd for row in rows))
    assert sum(row.qty for row in rows if row.refs) == len(CIRCUIT.parts)
    assert 50 < total < 250  # rough cost of one insole, in USD
    summary = (HARDWARE_DIR / "bom.md").read_text(encoding="utf-8")
    assert summary == bom_module.summary_markdown(rows)
    assert f"**{total:.2f}**" in summary


def test_bom_check_catches_missing_parts_and_bad_quantities() -> None:
    rows = bom_module.read_bom()
    without_u1 = [row for row in rows if "U1" not in row.refs]
    with pytest.raises(bom_module.BomError, match="U1"):
        bom_module.check_bom(without_u1, CIRCUIT)
    wrong_qty = [replace(row, qty=row.qty + 1) if "R1" in row.refs else row for row in rows]
    with pytest.raises(bom_module.BomError, match="qty"):
        bom_module.check_bom(wrong_qty, CIRCUIT)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_adc_curve_tables_are_current_and_come_from_the_calibration_model() -> None:
    committed = _rows((HARDWARE_DIR / "adc_curve.csv").read_text(encoding="utf-8"))
    fresh = _rows(adc_curve.curve_csv())
    assert [(r["design"], r["counts"]) for r in committed] == [
        (r["design"], r["counts"]) for r in fresh
    ]
    np.testing.assert_allclose(
        [float(r["pressure_kpa"]) for r in committed],
        [float(r["pressure_kpa"]) for r in fresh],
        rtol=1e-4,
        atol=1e-3,
    )
    for row in committed[::17]:
        pad = adc_curve.DESIGNS[row["design"]]
        model = float(default_pad_calibration(pad).pressure_kpa(int(row["counts"])))
        assert float(row["pressure_kpa"]) == pytest.approx(model, rel=1e-4, abs=1e-3)
    summary = (HARDWARE_DIR / "adc_curve.md").read_text(encoding="utf-8")
    assert summary == adc_curve.summary_markdown()


def _inside(x: float, y: float, xs: np.ndarray, ys: np.ndarray) -> bool:
    """Ray casting: is the point inside the closed polygon?"""
    crossings = 0
    for i in range(len(xs) - 1):
        (x1, y1), (x2, y2) = (xs[i], ys[i]), (xs[i + 1], ys[i + 1])
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


@pytest.mark.parametrize("size_eu", placement.SIZES_EU)
def test_pads_sit_inside_the_insole_or_tongue_without_overlapping(size_eu: int) -> None:
    places = placement.placements(size_eu)
    assert [p.pad for p in places] == list(PAD_IDS)
    outline = placement.outline_mm(size_eu)
    tongue = placement.tongue_mm(size_eu)
    for p in places:
        xs, ys = outline if p.surface == "insole" else tongue
        radius = p.spreader_diameter_mm / 2
        for dx, dy in ((radius, 0), (-radius, 0), (0, radius), (0, -radius)):
            assert _inside(p.x_mm + dx, p.y_mm + dy, xs, ys), (p.pad, size_eu)
        assert (p.surface == "tongue") == (p.pad in LACE_PADS)
    for a in places:
        for b in places:
            if a.pad < b.pad and a.surface == b.surface:
                gap = np.hypot(a.x_mm - b.x_mm, a.y_mm - b.y_mm)
                assert gap > (a.spreader_diameter_mm + b.spreader_diameter_mm) / 2 + 2.0


def test_placement_table_is_current() -> None:
    committed = (HARDWARE_DIR / "placement.csv").read_text(encoding="utf-8")
    assert committed == placement.placement_csv()


def test_power_budget_is_current_and_lasts_a_marathon() -> None:
    committed = (HARDWARE_DIR / "power_budget.md").read_text(encoding="utf-8")
    assert committed == power_budget.summary_markdown()
    currents = power_budget.state_currents_ma()
    assert currents["deep_sleep"] < currents["idle"] < currents["connected_streaming"]
    assert power_budget.usable_mah() / currents["connected_streaming"] >= 5.0  # hours
    assert power_budget.usable_mah() / currents["deep_sleep"] >= 365 * 24  # a year asleep


def test_schematic_svg_is_drawn_from_the_current_netlist(tmp_path: Path) -> None:
    schematic = load_hardware_script("schematic")
    fresh = tmp_path / "schematic.svg"
    schematic.draw(CIRCUIT, fresh, "svg")
    committed = (HARDWARE_DIR / "schematic.svg").read_bytes()
    assert committed == fresh.read_bytes(), "run python hardware/schematic.py"
    for part in CIRCUIT.parts:
        assert part.ref.encode() in committed


def test_hardware_doc_carries_the_generated_tables() -> None:
    doc = (HARDWARE_DIR.parent / "docs" / "hardware.md").read_text(encoding="utf-8")
    for table in ("adc_curve.md", "bom.md", "power_budget.md"):
        assert (HARDWARE_DIR / table).read_text(encoding="utf-8") in doc, table
    for figure in ("adc_curve.png", "placement.png", "schematic.png"):
        assert f"../hardware/{figure}" in doc and (HARDWARE_DIR / figure).exists()
    for pin in gen_pinout.read_pinout():
        if pin.kind == "pad":
            assert f"| {pin.signal} | {pin.gpio} | {pin.adc_channel} |" in doc
    for row in csv.DictReader(io.StringIO(placement.placement_csv())):
        if row["size_eu"] == "42":
            assert f"| {row['pad']} | {row['surface']} | {row['x_mm']} | {row['y_mm']} |" in doc
