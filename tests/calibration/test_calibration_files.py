"""The insole's JSON constants file and the tester's known-load table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from numbguard.calibration import (
    InsoleCalibration,
    LoadTable,
    calibrate_from_loads,
    calibration_from_json,
    calibration_to_json,
    default_pad_calibration,
    load_calibration,
    parse_load_table,
    read_load_table,
    save_calibration,
)
from numbguard.errors import InputError


def _document(**pads: object) -> str:
    return json.dumps(
        {
            "format": "numbguard-insole-calibration",
            "version": 1,
            "foot": "right",
            "insole_id": 99,
            "pads": pads,
        }
    )


def test_json_round_trip_keeps_every_constant(tmp_path: Path) -> None:
    insole = InsoleCalibration.default(foot="left", insole_id=0x12345678).with_tare({"heel": 31})
    insole = insole.with_pad(insole.pads["lace_lower"].with_power_law(0.0041, 1.21))
    assert calibration_from_json(calibration_to_json(insole)) == insole
    path = tmp_path / "left.json"
    save_calibration(insole, path)
    assert load_calibration(path) == insole
    assert [p.name for p in tmp_path.iterdir()] == ["left.json"]


def test_missing_fields_take_the_pad_positions_defaults() -> None:
    insole = calibration_from_json(_document(lace_upper={"gain": 0.004, "exponent": 1.2}))
    pad = insole.pads["lace_upper"]
    assert (pad.gain, pad.exponent) == (0.004, 1.2)
    assert pad.divider_ohms == default_pad_calibration("lace_upper").divider_ohms
    assert insole.pad_ids == ("lace_upper",) and insole.foot == "right"


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("{", "not JSON", "line 1"),
        (json.dumps({"format": "other", "version": 1, "pads": {}}), "known version", "other"),
        (_document(toe={}), "unknown pad", "pads"),
        (_document(heel={"gain": -2.0}), "gain", "pads.heel"),
        (_document(heel={"gain": 2.0, "gian": 3.0}), "unknown calibration field", "gian"),
        (_document(heel=[1, 2]), "not an object", "pads.heel"),
        (_document(), "no pads", "pads"),
        (_document(heel={"divider_ohms": "100k"}), "divider_ohms", "'100k'"),
    ],
)
def test_bad_files_are_refused_saying_where(text: str, message: str, where: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        calibration_from_json(text, where="left.json")
    assert "left.json" in str(error.value) and where in str(error.value)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read calibration file"):
        load_calibration(tmp_path / "missing.json")
    with pytest.raises(InputError, match="cannot read load table"):
        read_load_table(tmp_path / "missing.csv")


def _table_for(truth: InsoleCalibration, loads_n: dict[str, list[float]], tare: int) -> LoadTable:
    table = LoadTable(metadata={"insole_id": "99", "foot": "left"})
    for pad, forces in loads_n.items():
        calibration = truth.pads[pad]
        table.add(pad, 0.0, float(tare))  # unloaded on the bench: below the ADC floor
        for force_n in forces:
            kpa = force_n / calibration.area_mm2 * 1000.0
            table.add(pad, force_n, float(np.round(calibration.counts_for_pressure(kpa))))
    return table


def test_known_load_table_calibrates_an_insole_end_to_end(tmp_path: Path) -> None:
    truth = InsoleCalibration.default(pads=("ball_center", "lace_upper"))
    truth = truth.with_pad(truth.pads["ball_center"].with_power_law(2.6, 1.05))
    truth = truth.with_pad(truth.pads["lace_upper"].with_power_law(0.0045, 1.1))
    table = _table_for(
        truth,
        {"ball_center": [4.9, 9.8, 19.6, 39.2, 58.8], "lace_upper": [0.49, 0.98, 1.96, 4.9, 9.8]},
        tare=30,
    )
    path = tmp_path / "loads.csv"
    path.write_text(table.to_csv())
    parsed = read_load_table(path)
    assert parsed.metadata == {"insole_id": "99", "foot": "left"}
    fitted, fits = calibrate_from_loads(InsoleCalibration.default(pads=truth.pad_ids), parsed)
    for pad in truth.pad_ids:
        assert fitted.pads[pad].tare_counts == 30
        assert fitted.pads[pad].gain == pytest.approx(truth.pads[pad].gain, rel=0.05)
        assert fitted.pads[pad].exponent == pytest.approx(truth.pads[pad].exponent, rel=0.02)
        assert fits[pad].points_used == 5


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("pad,load,counts\n", "bad header", "line 1"),
        ("# foot=left\n#oops\npad,load_n,counts\n", "bad metadata line", "line 2"),
        ("pad,load_n,counts\nheel,1,2\ntoe,1,2\n", "unknown pad", "line 3, column 1"),
        ("pad,load_n,counts\nheel,abc,2\n", "bad load_n", "line 2, column 2"),
        ("pad,load_n,counts\nheel,1,4096\n", "bad counts", "line 2, column 3"),
        ("pad,load_n,counts\nheel,1\n", "wrong number of cells", "line 2"),
        ("pad,load_n,counts\n\n", "no readings", "loads.csv"),
    ],
)
def test_bad_load_tables_name_line_and_column(text: str, message: str, where: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        parse_load_table(text, source="loads.csv")
    assert where in str(error.value)


def test_load_table_for_a_pad_the_insole_lacks_is_refused() -> None:
    table = parse_load_table("pad,load_n,counts\nheel,10,900\nheel,20,1500\n")
    with pytest.raises(InputError, match="does not have"):
        calibrate_from_loads(InsoleCalibration.default(pads=("ball_center",)), table)


def test_load_table_with_a_preloaded_pad_is_refused() -> None:
    table = parse_load_table("pad,load_n,counts\nheel,0,400\nheel,10,900\nheel,20,1500\n")
    with pytest.raises(InputError, match="nothing on it") as error:
        calibrate_from_loads(InsoleCalibration.default(), table)
    assert "pad heel" in str(error.value) and "400 counts" in str(error.value)
