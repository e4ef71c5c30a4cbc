"""The pad model: monotonic, invertible, tare, saturation, and the design targets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.calibration import (
    ADC_CEILING_COUNTS,
    ADC_FLOOR_COUNTS,
    FULL_SCALE_COUNTS,
    InsoleCalibration,
    PadCalibration,
    default_pad_calibration,
)
from numbguard.calibration.insole import TABLE_MIN_SETS
from numbguard.errors import InputError
from numbguard.pads import FOREFOOT_PADS, LACE_PADS, PAD_IDS

ALL_COUNTS = np.arange(FULL_SCALE_COUNTS + 1, dtype=np.float64)


def _pad(**changes: object) -> PadCalibration:
    base: dict[str, object] = {
        "pad": "ball_center",
        "divider_ohms": 100_000.0,
        "gain": 2.22,
        "exponent": 1.0,
        "area_mm2": 63.6,
        "rated_kpa": 1745.0,
    }
    base.update(changes)
    return PadCalibration(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("pad", PAD_IDS)
def test_pressure_rises_with_counts_over_the_whole_scale(pad: str) -> None:
    pressure = default_pad_calibration(pad).pressure_kpa(ALL_COUNTS)
    assert pressure[0] == 0.0
    assert np.all(np.diff(pressure) >= 0)
    trusted = pressure[1 : ADC_CEILING_COUNTS + 1]
    assert np.all(np.diff(trusted) > 0)


@settings(max_examples=60, deadline=None)
@given(
    divider_ohms=st.floats(500, 1_000_000),
    gain=st.floats(1e-3, 10),
    exponent=st.floats(0.7, 2.0),
    area_mm2=st.floats(20, 400),
    tare_counts=st.integers(0, 400),
    counts=st.floats(401, ADC_CEILING_COUNTS - 1),
)
def test_counts_and_kpa_round_trip(
    divider_ohms: float,
    gain: float,
    exponent: float,
    area_mm2: float,
    tare_counts: int,
    counts: float,
) -> None:
    pad = _pad(
        divider_ohms=divider_ohms,
        gain=gain,
        exponent=exponent,
        area_mm2=area_mm2,
        rated_kpa=20_000.0,
        tare_counts=tare_counts,
    )
    pressure = pad.pressure_kpa(counts)
    assert float(pad.counts_for_pressure(pressure)) == pytest.approx(counts, rel=1e-9)
    assert float(pad.pressure_kpa(pad.counts_for_pressure(pressure))) == pytest.approx(
        float(pressure), rel=1e-9
    )


def test_conversion_follows_the_documented_chain() -> None:
    pad = _pad(divider_ohms=10_000.0, gain=0.5, exponent=1.5, area_mm2=50.0, rated_kpa=9000.0)
    counts = 1365.0  # ratio 1/3: R_fsr = 2 * R_div = 20 kOhm -> 50 uS
    force_n = 0.5 * 50.0**1.5
    assert float(pad.pressure_kpa(counts)) == pytest.approx(force_n / 50.0 * 1000.0)


def test_tare_zeroes_the_preload_in_the_pressure_domain() -> None:
    plain = _pad()
    tared = plain.with_tare(300)
    assert float(tared.pressure_kpa(300)) == 0.0
    assert float(tared.pressure_kpa(120)) == 0.0  # below the zero: no negative pressure
    expected = float(plain.pressure_kpa(2000)) - float(plain.pressure_kpa(300))
    assert float(tared.pressure_kpa(2000)) == pytest.approx(expected)


def test_saturation_flags_the_adc_ceiling_and_the_rated_force() -> None:
    pad = _pad()
    pressure, saturated = pad.pressure_and_saturation(
        [ADC_CEILING_COUNTS - 1, ADC_CEILING_COUNTS, FULL_SCALE_COUNTS]
    )
    assert saturated.tolist() == [False, True, True]
    # A saturated sample reads as the ceiling: "at least this much", never a runaway number.
    assert pressure[2] == pressure[1] > pressure[0]
    over_rating = _pad(rated_kpa=300.0, saturation_counts=FULL_SCALE_COUNTS)
    at_rating = float(over_rating.counts_for_pressure(300.0))
    assert over_rating.saturated([at_rating - 5, at_rating + 5]).tolist() == [False, True]


def test_missing_samples_stay_missing_and_are_not_saturated() -> None:
    pressure, saturated = _pad().pressure_and_saturation([np.nan, 1000.0])
    assert math.isnan(pressure[0]) and not saturated[0]
    assert pressure[1] > 0


@pytest.mark.parametrize("counts", [-1, 4096, float("inf"), 5000])
def test_counts_outside_twelve_bits_are_refused(counts: float) -> None:
    with pytest.raises(InputError, match="ADC counts out of range") as error:
        _pad().pressure_kpa([10, counts])
    assert "index 1" in str(error.value) and "pad ball_center" in str(error.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("divider_ohms", 0.0),
        ("divider_ohms", 1.5),  # kOhm typed where ohms belong
        ("gain", -1.0),
        ("gain", float("nan")),
        ("exponent", 0.0),
        ("exponent", 12.0),
        ("area_mm2", 6.36e-5),  # m^2 typed where mm^2 belong
        ("rated_kpa", float("inf")),
        ("gain", True),
        ("gain", "2.2"),
        ("tare_counts", 4.5),
        ("tare_counts", 3040),  # at the saturation limit: nothing left to measure
        ("saturation_counts", 0),
        ("saturation_counts", 5000),
    ],
)
def test_bad_constants_are_refused_naming_pad_and_field(field: str, value: object) -> None:
    with pytest.raises(InputError, match=field) as error:
        _pad(**{field: value})
    assert "pad ball_center" in str(error.value)
    assert repr(value) in str(error.value)


def test_unknown_pad_is_refused() -> None:
    with pytest.raises(InputError, match="unknown pad"):
        _pad(pad="toe")


def test_device_constants_are_what_float32_keeps() -> None:
    gain, exponent = _pad(gain=0.1, exponent=1.153).device_constants()
    assert gain != 0.1 and gain == pytest.approx(0.1, rel=1e-7)
    assert exponent == pytest.approx(1.153, rel=1e-7)


# --- the design targets, with the default (nominal) constants ---------------------------


@pytest.mark.parametrize("pad", FOREFOOT_PADS)
def test_forefoot_pads_read_700_kpa_unsaturated(pad: str) -> None:
    calibration = default_pad_calibration(pad)
    assert calibration.readable_range_kpa()[1] >= 700.0
    counts_700 = float(calibration.counts_for_pressure(700.0))
    assert ADC_FLOOR_COUNTS < counts_700 < ADC_CEILING_COUNTS
    assert not calibration.saturated(round(counts_700))
    assert float(calibration.pressure_kpa(round(counts_700))) == pytest.approx(700.0, abs=1.0)
    # Margin for part-to-part spread: a sensor 30 % more conductive still reaches 700 kPa.
    hotter = calibration.with_power_law(calibration.gain / 1.3, calibration.exponent)
    assert hotter.readable_range_kpa()[1] >= 700.0


ADC_NOISE_COUNTS = 4.0
"""Reading noise assumed after the firmware's oversampling (ESP32 ADC: ~+-10 counts raw)."""


@pytest.mark.parametrize("pad", LACE_PADS)
def test_lace_pads_resolve_2_kpa_over_their_working_range(pad: str) -> None:
    calibration = default_pad_calibration(pad)
    low_kpa, high_kpa = calibration.readable_range_kpa()
    assert low_kpa <= 2.0 and high_kpa >= 150.0
    working_kpa = np.linspace(2.0, 150.0, 200)
    # A 2 kPa step moves the reading by more than the noise everywhere in the range.
    assert np.all(calibration.kpa_per_count(working_kpa) * ADC_NOISE_COUNTS <= 2.0)


def test_insole_convert_matches_the_pad_model_per_column() -> None:
    insole = InsoleCalibration.default().with_tare({"lace_upper": 250})
    rng = np.random.default_rng(1)
    counts = rng.integers(0, FULL_SCALE_COUNTS + 1, size=(500, len(PAD_IDS))).astype(float)
    counts[7, 2] = np.nan
    result = insole.convert(counts)
    for i, pad in enumerate(PAD_IDS):
        pressure, saturated = insole.pads[pad].pressure_and_saturation(counts[:, i])
        np.testing.assert_array_equal(result.pressure_kpa[:, i], pressure)
        np.testing.assert_array_equal(result.saturated[:, i], saturated)
    assert math.isnan(result.pressure_by_pad()["ball_center"][7])


@pytest.mark.parametrize("exponent", [0.7, 1.0, 1.153, 1.9])
@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.uint16])
def test_a_long_block_converts_through_the_table_to_the_bit(
    exponent: float, dtype: type[np.generic]
) -> None:
    # A block of whole counts of at least TABLE_MIN_SETS sets reads every sample from a
    # table of the 4096 counts: each value must be the one the block's own conversion gives.
    base = InsoleCalibration.default().with_tare({"lace_upper": 250, "heel": 40})
    insole = InsoleCalibration(
        {pad: c.with_power_law(c.gain, exponent) for pad, c in base.pads.items()}
    )
    rng = np.random.default_rng(2)
    sets = max(TABLE_MIN_SETS, 3 * (FULL_SCALE_COUNTS + 1))
    counts = np.stack(
        [rng.permutation(np.resize(ALL_COUNTS, sets)) for _ in PAD_IDS], axis=1
    ).astype(dtype)
    result = insole.convert(counts)
    for i, pad in enumerate(PAD_IDS):
        pressure, saturated = insole.pads[pad].pressure_and_saturation(counts[:, i])
        assert result.pressure_kpa[:, i].tobytes() == pressure.tobytes()
        np.testing.assert_array_equal(result.saturated[:, i], saturated)
    # A column subset in another order, and the block cut short of the table length.
    subset = insole.convert(counts[:, [5, 0]], pads=("lace_upper", "heel"))
    np.testing.assert_array_equal(subset.pressure_kpa, result.pressure_kpa[:, [5, 0]])
    short = insole.convert(counts[: TABLE_MIN_SETS - 1])
    np.testing.assert_array_equal(short.pressure_kpa, result.pressure_kpa[: TABLE_MIN_SETS - 1])


def test_a_long_block_with_gaps_fractions_or_bad_counts_converts_directly() -> None:
    insole = InsoleCalibration.default()
    counts = np.full((TABLE_MIN_SETS, len(PAD_IDS)), 1000.0)
    counts[3, 1] = np.nan
    assert math.isnan(insole.convert(counts).pressure_kpa[3, 1])
    counts[3, 1] = 1000.5
    half = insole.convert(counts).pressure_kpa[3, 1]
    assert (
        insole.convert(counts).pressure_kpa[2, 1]
        < half
        < insole.pads["ball_medial"].pressure_kpa(1001.0)
    )
    counts[3, 1] = FULL_SCALE_COUNTS + 1
    with pytest.raises(InputError, match="ADC counts out of range"):
        insole.convert(counts)
    with pytest.raises(InputError, match="ADC counts out of range"):
        insole.convert(counts.astype(np.int64) - 5000)


def test_insole_convert_takes_a_subset_of_columns_in_any_order() -> None:
    insole = InsoleCalibration.default(pads=("ball_center", "lace_upper"))
    result = insole.convert([[2000, 1000]], pads=("lace_upper", "ball_center"))
    assert result.pads == ("lace_upper", "ball_center")
    assert result.pressure_kpa[0, 0] == float(insole.pads["lace_upper"].pressure_kpa(2000))
    one_set = insole.convert([1000, 2000])
    assert one_set.pressure_kpa.shape == (2,)


def test_insole_convert_refuses_unknown_pads_and_wrong_shapes() -> None:
    insole = InsoleCalibration.default(pads=("ball_center",))
    with pytest.raises(InputError, match="no calibration for pad"):
        insole.convert([[1, 2]], pads=("ball_center", "heel"))
    with pytest.raises(InputError, match=r"shape \(samples, 1\)"):
        insole.counts_for([[1.0, 2.0]])
    with pytest.raises(InputError, match="finite"):
        insole.counts_for([[np.nan]])
    with pytest.raises(InputError, match=r"shape \(samples, 1\)"):
        insole.convert([[1, 2]])


def test_insole_keeps_wire_order_and_checks_its_parts() -> None:
    insole = InsoleCalibration(
        {
            "lace_upper": default_pad_calibration("lace_upper"),
            "heel": default_pad_calibration("heel"),
        },
        foot="left",
        insole_id=7,
    )
    assert insole.pad_ids == ("heel", "lace_upper")
    with pytest.raises(InputError, match="filed under another pad"):
        InsoleCalibration({"heel": default_pad_calibration("lace_upper")})
    with pytest.raises(InputError, match="unknown foot"):
        InsoleCalibration.default(foot="middle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="insole id"):
        InsoleCalibration.default(insole_id=2**32)
    with pytest.raises(InputError, match="at least one pad"):
        InsoleCalibration({})


def test_counts_for_inverts_convert_to_within_one_count() -> None:
    insole = InsoleCalibration.default().with_tare({"heel": 60, "lace_lower": 90})
    rng = np.random.default_rng(5)
    pressure = rng.uniform(0, 150, size=(300, len(PAD_IDS)))
    counts = insole.counts_for(pressure)
    assert counts.dtype == np.int64 and counts.min() >= 0 and counts.max() <= FULL_SCALE_COUNTS
    back = insole.convert(counts).pressure_kpa
    step = np.stack(
        [insole.pads[pad].kpa_per_count(pressure[:, i]) for i, pad in enumerate(PAD_IDS)], axis=1
    )
    assert np.all(np.abs(back - pressure) <= step)
    # Beyond the ADC's linear range the counts read back as saturated.
    top = insole.counts_for([[5000.0] * len(PAD_IDS)])
    assert np.all(top > ADC_CEILING_COUNTS)
    assert insole.convert(top).saturated.all()


def test_the_trusted_range_is_the_esp32_curves_and_holds_on_every_part() -> None:
    # One description of the chip (esp32_adc): the host's floor and ceiling are its usable
    # range, and on every part of the spread what an open pad reads is below the floor (the
    # fit leaves it out) and a pad at the ceiling reads far below what a shorted one reads.
    from numbguard.calibration import ADC_CEILING_COUNTS, ADC_FLOOR_COUNTS, esp32_adc

    assert ADC_FLOOR_COUNTS == esp32_adc.floor_counts() == 186
    assert ADC_CEILING_COUNTS == esp32_adc.ceiling_counts() == 3040
    for name in esp32_adc.SPREAD:
        part = esp32_adc.Part(name, seed=1)
        open_reads = [part.read_counts(0, 34, i) for i in range(500)]
        ceiling_reads = [part.read_counts(ADC_CEILING_COUNTS, 34, i) for i in range(500)]
        shorted_reads = [part.read_counts(4095, 34, i) for i in range(500)]
        assert max(open_reads) < ADC_FLOOR_COUNTS, name
        assert max(ceiling_reads) < esp32_adc.short_min_counts() <= min(shorted_reads), name
        # a shorted pad is flagged saturated by the host's calibration too
        assert min(shorted_reads) > ADC_CEILING_COUNTS
