"""Tare from unloaded samples, and the power-law fit from known loads."""

from __future__ import annotations

import numpy as np
import pytest

from numbguard.calibration import (
    InsoleCalibration,
    default_pad_calibration,
    fit_pad,
    tare_counts_from_window,
)
from numbguard.errors import InputError

PADS = ("ball_center", "lace_upper")


def _window(levels: tuple[float, float], spread: float, n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(3)
    noise = rng.uniform(-spread / 2, spread / 2, size=(n, len(levels)))
    return np.round(np.asarray(levels) + noise)


def test_tare_takes_the_median_of_a_quiet_window_and_ignores_missing_samples() -> None:
    insole = InsoleCalibration.default(pads=PADS)
    window = _window((40.0, 120.0), spread=20.0)
    window[::10, 0] = np.nan
    offsets = tare_counts_from_window(insole, window)
    assert abs(offsets["ball_center"] - 40) <= 1 and abs(offsets["lace_upper"] - 120) <= 1
    tared = insole.with_tare(offsets)
    assert np.all(tared.convert(window[1:9]).pressure_kpa[:, 1] < 2.0)


def test_tare_refuses_a_moving_pad() -> None:
    insole = InsoleCalibration.default(pads=PADS)
    window = _window((40.0, 120.0), spread=10.0)
    window[:, 1] = np.linspace(100, 900, len(window))  # the foot is on it
    with pytest.raises(InputError, match="moving") as error:
        tare_counts_from_window(insole, window)
    assert "lace_upper" in str(error.value)


def test_tare_refuses_a_loaded_pad() -> None:
    insole = InsoleCalibration.default(pads=PADS)
    loaded = float(insole.pads["lace_upper"].counts_for_pressure(80.0))  # laced up tight
    with pytest.raises(InputError, match="loaded") as error:
        tare_counts_from_window(insole, _window((40.0, loaded), spread=10.0))
    assert "lace_upper" in str(error.value) and "80" in str(error.value)


def test_tare_needs_enough_samples_and_matching_columns() -> None:
    insole = InsoleCalibration.default(pads=PADS)
    with pytest.raises(InputError, match="too few samples"):
        tare_counts_from_window(insole, _window((40.0, 40.0), 5.0, n=5))
    with pytest.raises(InputError, match="does not match"):
        tare_counts_from_window(insole, _window((40.0, 40.0), 5.0)[:, :1])


def _readings(pad: str, gain: float, exponent: float, force_n: np.ndarray) -> np.ndarray:
    truth = default_pad_calibration(pad).with_power_law(gain, exponent)
    area = truth.area_mm2
    return np.round(truth.counts_for_pressure(force_n / area * 1000.0))


@pytest.mark.parametrize(
    ("pad", "gain", "exponent", "force_n"),
    [
        ("ball_center", 2.9, 1.04, np.array([2.0, 5.0, 10.0, 20.0, 40.0, 60.0])),
        ("lace_upper", 0.0041, 1.22, np.array([0.5, 1.0, 2.0, 5.0, 10.0, 15.0])),
    ],
)
def test_fit_recovers_known_constants(
    pad: str, gain: float, exponent: float, force_n: np.ndarray
) -> None:
    counts = _readings(pad, gain, exponent, force_n)
    fitted, quality = fit_pad(default_pad_calibration(pad), counts, force_n)
    assert fitted.gain == pytest.approx(gain, rel=0.03)
    assert fitted.exponent == pytest.approx(exponent, rel=0.01)
    assert quality.points_used == len(force_n) and quality.points_excluded == 0
    assert quality.max_relative_error < 0.02
    # Divider, area and limits are the pad's, unchanged.
    assert fitted.divider_ohms == default_pad_calibration(pad).divider_ohms


def test_fit_leaves_out_readings_outside_the_adc_range() -> None:
    force_n = np.array([0.3, 5.0, 10.0, 20.0, 40.0, 110.0])  # 0.3 N: below the floor; 110: above
    counts = _readings("ball_center", 2.22, 1.0, force_n)
    fitted, quality = fit_pad(default_pad_calibration("ball_center"), counts, force_n)
    assert quality.points_excluded == 2 and quality.points_used == 4
    assert fitted.gain == pytest.approx(2.22, rel=0.02)


def test_fit_refuses_too_few_or_bad_points() -> None:
    pad = default_pad_calibration("ball_center")
    with pytest.raises(InputError, match="too few usable readings"):
        fit_pad(pad, [1000, 1001], [20.0, 20.0])
    with pytest.raises(InputError, match="bad known load"):
        fit_pad(pad, [1000, 2000], [20.0, -1.0])
    with pytest.raises(InputError, match="differ in number"):
        fit_pad(pad, [1000, 2000, 2500], [20.0, 40.0])


def test_fit_refuses_constants_no_sensor_has() -> None:
    # Readings that fall as the load rises: a swapped cable, not a sensor.
    with pytest.raises(InputError, match="exponent"):
        fit_pad(default_pad_calibration("ball_center"), [2000, 1000], [10.0, 40.0])
