"""The pad model: ADC counts -> divider ratio -> FSR conductance -> force -> pressure (kPa).

Each pad is a force-sensing resistor (FSR) from the 3.3 V rail to an ADC1 pin, with a fixed
divider resistor from the pin to ground. The firmware sends the ratiometric value
``counts = min(4095, read_uv * 4095 // 3_300_000)``, so ``ratio = counts / 4095`` is the
divider fraction ``R_div / (R_div + R_fsr)`` whatever the exact rail voltage. Then:

- conductance of the FSR: ``G_us = 1e6 / R_div * ratio / (1 - ratio)``;
- force on the sensor (the usual FSR fit, a power law): ``force_n = gain * G_us ** exponent``
  (FlexiForce-type sensors are linear in conductance: ``exponent`` = 1);
- pressure over the load spreader (the rigid disc that carries the load onto the sensor):
  ``pressure_kpa = force_n / area_mm2 * 1000``.

Tare is stored in counts (as the firmware reports it, status page 4) and applied in the
pressure domain: a preload adds force, so ``net = P(counts) - P(tare_counts)``, floored at 0.

Every function here is vectorised: the pad constants may be scalars or arrays that broadcast
against the counts (one column per pad), so one insole converts in a handful of numpy passes.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from numbguard.calibration import esp32_adc
from numbguard.errors import BadValue

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ArrayLike = npt.ArrayLike

FULL_SCALE_COUNTS: Final[int] = 4095
"""Largest 12-bit value on the wire."""
SUPPLY_UV: Final[int] = 3_300_000
"""The rail the counts are a fraction of (firmware: ``read_uv * 4095 // 3_300_000``)."""
ADC_FLOOR_UV: Final[int] = esp32_adc.USABLE_LOW_MV * 1000
ADC_CEILING_UV: Final[int] = esp32_adc.USABLE_HIGH_MV * 1000
"""ESP32 ADC at 11 dB attenuation is usable from ~150 to ~2450 mV and non-linear outside
(`esp32_adc`: a pin at 0 V reads 142 mV, one at the rail the chip's top, 3056-3212 mV)."""
ADC_FLOOR_COUNTS: Final[int] = esp32_adc.floor_counts()  # 186
ADC_CEILING_COUNTS: Final[int] = esp32_adc.ceiling_counts()  # 3040
"""Default saturation threshold: above it the ADC leaves its calibrated, linear range."""

# A reading of exactly 4095 means "at or above full scale"; evaluating it half a count lower
# keeps the conductance finite, and such a sample is flagged saturated anyway.
_TOP_FINITE_COUNTS: Final[float] = FULL_SCALE_COUNTS - 0.5


def as_counts(counts: ArrayLike, where: str = "counts") -> FloatArray:
    """Counts as float64; NaN (a missing sample) passes, anything outside 0-4095 raises."""
    values = np.asarray(counts, dtype=np.float64)
    bad = (values < 0) | (values > FULL_SCALE_COUNTS) | np.isinf(values)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise BadValue(
            "ADC counts out of range",
            expected=f"0-{FULL_SCALE_COUNTS} (or NaN for a missing sample)",
            got=f"{values[index]!r} at index {index if len(index) > 1 else index[0]}",
            where=where,
            name="counts",
        )
    return values


def conductance_us_from_counts(counts: FloatArray, divider_ohms: ArrayLike) -> FloatArray:
    """FSR conductance in microsiemens from the divider ratio."""
    ratio = np.minimum(counts, _TOP_FINITE_COUNTS) / FULL_SCALE_COUNTS
    result: FloatArray = (1e6 / np.asarray(divider_ohms, dtype=np.float64)) * ratio / (1.0 - ratio)
    return result


def counts_from_conductance_us(conductance_us: ArrayLike, divider_ohms: ArrayLike) -> FloatArray:
    """Inverse of `conductance_us_from_counts`, as unrounded counts."""
    conductance = np.asarray(conductance_us, dtype=np.float64)
    divider_us = 1e6 / np.asarray(divider_ohms, dtype=np.float64)
    result: FloatArray = FULL_SCALE_COUNTS * conductance / (conductance + divider_us)
    return result


def raw_pressure_kpa(
    counts: FloatArray,
    divider_ohms: ArrayLike,
    gain: ArrayLike,
    exponent: ArrayLike,
    area_mm2: ArrayLike,
) -> FloatArray:
    """Pressure on the spreader before tare: counts -> conductance -> force -> kPa."""
    force_n = np.asarray(gain) * conductance_us_from_counts(counts, divider_ohms) ** np.asarray(
        exponent
    )
    result: FloatArray = force_n * (1000.0 / np.asarray(area_mm2, dtype=np.float64))
    return result


def counts_from_raw_pressure_kpa(
    pressure_kpa: ArrayLike,
    divider_ohms: ArrayLike,
    gain: ArrayLike,
    exponent: ArrayLike,
    area_mm2: ArrayLike,
) -> FloatArray:
    """Inverse of `raw_pressure_kpa`, as unrounded counts (they approach 4095, never reach it)."""
    force_n = np.maximum(np.asarray(pressure_kpa, dtype=np.float64), 0.0) * (
        np.asarray(area_mm2) / 1000.0
    )
    conductance_us = (force_n / np.asarray(gain)) ** (1.0 / np.asarray(exponent))
    return counts_from_conductance_us(conductance_us, divider_ohms)


def pressure_and_saturation(
    counts: FloatArray,
    divider_ohms: ArrayLike,
    gain: ArrayLike,
    exponent: ArrayLike,
    area_mm2: ArrayLike,
    tare_kpa: ArrayLike,
    rated_kpa: ArrayLike,
    saturation_counts: ArrayLike,
) -> tuple[FloatArray, BoolArray]:
    """Net pressure after tare (never below 0) and the saturation flags.

    A sample at or above `saturation_counts` reads as the pressure there ("at least this
    much") and is flagged, as is one whose load exceeds the sensor's rating. NaN stays NaN.
    """
    limit = np.asarray(saturation_counts, dtype=np.float64)
    raw = raw_pressure_kpa(np.minimum(counts, limit), divider_ohms, gain, exponent, area_mm2)
    pressure: FloatArray = np.maximum(raw - np.asarray(tare_kpa, dtype=np.float64), 0.0)
    saturated: BoolArray = (counts >= limit) | (raw > np.asarray(rated_kpa))
    return pressure, saturated
