"""Fit a pad's power law `force_n = gain * conductance_us ** exponent` from known loads.

Least squares in log space: ``log F = log gain + exponent * log G``, so a 10% error weighs the
same at 1 N as at 100 N, as FSR errors are relative. Readings outside the ADC's trustworthy
range (below its floor, at or above the pad's saturation counts) carry no information about
the sensor and are left out, and said so in the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numbguard.calibration.model import (
    ADC_FLOOR_COUNTS,
    ArrayLike,
    FloatArray,
    as_counts,
    conductance_us_from_counts,
)
from numbguard.calibration.pad import PadCalibration
from numbguard.errors import BadCalibration


def power_law_from_points(conductance_us: FloatArray, force_n: FloatArray) -> tuple[float, float]:
    """(gain, exponent) by least squares on the logs; needs two distinct conductances."""
    exponent, log_gain = np.polyfit(np.log(conductance_us), np.log(force_n), 1)
    return float(np.exp(log_gain)), float(exponent)


@dataclass(frozen=True)
class PowerLawFit:
    """The fitted constants and how well they describe the points used."""

    gain: float
    exponent: float
    points_used: int
    points_excluded: int  # outside the ADC's trustworthy range
    rms_log_error: float  # RMS of ln(predicted / applied force); 0.05 ~ 5 %
    max_relative_error: float  # worst |predicted / applied - 1| over the points used


def fit_pad(
    calibration: PadCalibration, counts: ArrayLike, force_n: ArrayLike
) -> tuple[PadCalibration, PowerLawFit]:
    """Fit gain and exponent of one pad from readings under known forces on its spreader.

    `counts` are the pad's raw readings (not tared) and `force_n` the whole force on the
    spreader at each reading. Returns the pad's calibration with the new constants (divider,
    area, tare and limits unchanged) and the fit's quality.
    """
    where = f"pad {calibration.pad}"
    readings = as_counts(counts, where=where).ravel()
    forces = np.asarray(force_n, dtype=np.float64).ravel()
    if readings.shape != forces.shape:
        raise BadCalibration(
            "readings and loads differ in number",
            expected="one known force per reading",
            got=f"{readings.size} readings, {forces.size} forces",
            where=where,
            pad=calibration.pad,
        )
    if not np.all(np.isfinite(forces) & (forces > 0)):
        bad = forces[~(np.isfinite(forces) & (forces > 0))][0]
        raise BadCalibration(
            "bad known load",
            expected="a force above 0 N",
            got=repr(float(bad)),
            where=where,
            pad=calibration.pad,
        )
    usable = (
        np.isfinite(readings)
        & (readings >= ADC_FLOOR_COUNTS)
        & (readings < calibration.saturation_counts)
    )
    conductance_us = conductance_us_from_counts(readings[usable], calibration.divider_ohms)
    used_forces = forces[usable]
    if np.unique(used_forces).size < 2 or np.unique(conductance_us).size < 2:
        raise BadCalibration(
            "too few usable readings to fit",
            expected=(
                f"at least two different loads read between {ADC_FLOOR_COUNTS} and "
                f"{calibration.saturation_counts - 1} counts"
            ),
            got=f"{int(usable.sum())} usable of {readings.size} readings",
            where=where,
            pad=calibration.pad,
        )
    gain, exponent = power_law_from_points(conductance_us, used_forces)
    fitted = calibration.with_power_law(gain, exponent)  # checks the bounds
    log_error = np.log(gain * conductance_us**exponent / used_forces)
    quality = PowerLawFit(
        gain=gain,
        exponent=exponent,
        points_used=int(usable.sum()),
        points_excluded=int(readings.size - usable.sum()),
        rms_log_error=float(np.sqrt(np.mean(log_error**2))),
        max_relative_error=float(np.max(np.abs(np.expm1(log_error)))),
    )
    return fitted, quality
