"""One pad's calibration constants, checked on construction, and its conversions."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, replace

import numpy as np

from numbguard.calibration.model import (
    ADC_CEILING_COUNTS,
    ADC_FLOOR_COUNTS,
    FULL_SCALE_COUNTS,
    ArrayLike,
    BoolArray,
    FloatArray,
    as_counts,
    counts_from_raw_pressure_kpa,
    pressure_and_saturation,
    raw_pressure_kpa,
)
from numbguard.errors import BadCalibration
from numbguard.pads import PAD_IDS

# Bounds a real build stays well inside; a value outside is a typo or a unit mix-up
# (ohms vs kilohms, m² vs mm²), so it is refused rather than converted into nonsense.
DIVIDER_OHMS_RANGE = (100.0, 10_000_000.0)
GAIN_RANGE = (1e-12, 1e12)  # N per uS**exponent; also far inside float32, as the firmware stores it
EXPONENT_RANGE = (0.25, 4.0)  # FSR power-law fits fall between ~0.7 and ~2
AREA_MM2_RANGE = (1.0, 5000.0)
RATED_KPA_RANGE = (1.0, 20_000.0)


NUMERIC_FIELDS = (
    "divider_ohms",
    "gain",
    "exponent",
    "area_mm2",
    "rated_kpa",
    "tare_counts",
    "saturation_counts",
)
"""The constants of a pad that are numbers (besides them: `pad` and the `sensor` name)."""


def _number(pad: str, name: str, value: object, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise BadCalibration(
            f"bad calibration constant {name}",
            expected=f"a number from {low:g} to {high:g}",
            got=repr(value),
            where=f"pad {pad}",
            pad=pad,
        )
    return float(value)


def _count(pad: str, name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadCalibration(
            f"bad calibration constant {name}",
            expected=f"a whole number of ADC counts from {low} to {high}",
            got=repr(value),
            where=f"pad {pad}",
            pad=pad,
        )
    return value


def to_float32(value: float) -> float:
    """The value the firmware keeps after SET_CAL (an IEEE float32)."""
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


@dataclass(frozen=True)
class PadCalibration:
    """Constants of one pad: its divider, its power-law fit, its spreader, tare and limits.

    `force_n = gain * conductance_us ** exponent`; `pressure_kpa = force_n / area_mm2 * 1000`.
    `rated_kpa` is the sensor's rated force over the spreader area; `saturation_counts` is where
    the ADC stops being trustworthy (default: 2450 mV, the top of the ESP32's linear range).
    """

    pad: str
    divider_ohms: float
    gain: float
    exponent: float
    area_mm2: float
    rated_kpa: float
    tare_counts: int = 0
    saturation_counts: int = ADC_CEILING_COUNTS
    sensor: str = ""

    def __post_init__(self) -> None:
        if self.pad not in PAD_IDS:
            raise BadCalibration(
                "unknown pad",
                expected="one of " + ", ".join(PAD_IDS),
                got=repr(self.pad),
                pad=self.pad,
            )
        pad = self.pad
        set_field = object.__setattr__  # frozen: normalise ints given for floats once, here
        set_field(
            self,
            "divider_ohms",
            _number(pad, "divider_ohms", self.divider_ohms, DIVIDER_OHMS_RANGE),
        )
        set_field(self, "gain", _number(pad, "gain", self.gain, GAIN_RANGE))
        set_field(self, "exponent", _number(pad, "exponent", self.exponent, EXPONENT_RANGE))
        set_field(self, "area_mm2", _number(pad, "area_mm2", self.area_mm2, AREA_MM2_RANGE))
        set_field(self, "rated_kpa", _number(pad, "rated_kpa", self.rated_kpa, RATED_KPA_RANGE))
        _count(pad, "saturation_counts", self.saturation_counts, 1, FULL_SCALE_COUNTS)
        _count(pad, "tare_counts", self.tare_counts, 0, self.saturation_counts - 1)
        if not isinstance(self.sensor, str):
            raise BadCalibration(
                "bad sensor name",
                expected="a string",
                got=repr(self.sensor),
                where=f"pad {pad}",
                pad=pad,
            )

    # --- conversions -------------------------------------------------------------------

    def raw_pressure_kpa(self, counts: ArrayLike) -> FloatArray:
        """Pressure before tare (the whole load on the sensor)."""
        values = as_counts(counts, where=f"pad {self.pad}")
        return raw_pressure_kpa(values, self.divider_ohms, self.gain, self.exponent, self.area_mm2)

    def tare_kpa(self) -> float:
        """The preload that tare removes."""
        return float(self.raw_pressure_kpa(float(self.tare_counts)))

    def pressure_and_saturation(self, counts: ArrayLike) -> tuple[FloatArray, BoolArray]:
        """Net kPa after tare (never below 0; NaN stays NaN) and saturation flags; a
        saturated sample reads as the pad's ceiling."""
        return pressure_and_saturation(
            as_counts(counts, where=f"pad {self.pad}"),
            self.divider_ohms,
            self.gain,
            self.exponent,
            self.area_mm2,
            self.tare_kpa(),
            self.rated_kpa,
            self.saturation_counts,
        )

    def pressure_kpa(self, counts: ArrayLike) -> FloatArray:
        return self.pressure_and_saturation(counts)[0]

    def saturated(self, counts: ArrayLike) -> BoolArray:
        return self.pressure_and_saturation(counts)[1]

    def counts_for_pressure(self, pressure_kpa: ArrayLike) -> FloatArray:
        """Unrounded counts that read as this net pressure (inverse of `pressure_kpa`)."""
        total = np.asarray(pressure_kpa, dtype=np.float64) + self.tare_kpa()
        return counts_from_raw_pressure_kpa(
            total, self.divider_ohms, self.gain, self.exponent, self.area_mm2
        )

    def kpa_per_count(self, pressure_kpa: ArrayLike) -> FloatArray:
        """Resolution: the pressure step of one ADC count at these net pressures."""
        counts = self.counts_for_pressure(pressure_kpa)
        upper = np.clip(counts + 0.5, 1.0, FULL_SCALE_COUNTS - 0.5)  # step stays in 0-4095
        step = raw_pressure_kpa(upper, self.divider_ohms, self.gain, self.exponent, self.area_mm2)
        low = raw_pressure_kpa(
            upper - 1.0, self.divider_ohms, self.gain, self.exponent, self.area_mm2
        )
        result: FloatArray = step - low
        return result

    def readable_range_kpa(self) -> tuple[float, float]:
        """Net pressures this pad reads trustworthily: from the ADC floor (or the tare, if
        higher) up to the first of the ADC ceiling and the sensor's rated force."""
        floor_counts = max(ADC_FLOOR_COUNTS, self.tare_counts)
        low = float(self.pressure_kpa(float(floor_counts)))
        ceiling = min(float(self.raw_pressure_kpa(float(self.saturation_counts))), self.rated_kpa)
        return low, ceiling - self.tare_kpa()

    # --- derived calibrations ----------------------------------------------------------

    def with_tare(self, tare_counts: int) -> PadCalibration:
        return replace(self, tare_counts=tare_counts)

    def with_power_law(self, gain: float, exponent: float) -> PadCalibration:
        return replace(self, gain=gain, exponent=exponent)

    def device_constants(self) -> tuple[float, float]:
        """(gain, exponent) as the firmware stores them (float32, SET_CAL / GET_CAL)."""
        return to_float32(self.gain), to_float32(self.exponent)
