"""The chosen sensors, load spreaders and divider resistors, and the default calibration
they give before an insole is calibrated with known loads.

Why these parts (numbers in docs/hardware.md, curve from hardware/adc_curve.py):

- A plain Interlink FSR 402 under the ball of the foot tops out near 20 N over its 12.7 mm
  area (~160 kPa) while running peaks reach 300-730 kPa. The plantar pads therefore use a
  Tekscan FlexiForce A201-25 (rated 111 N, 9.53 mm sensing area, conductance linear in force)
  under a 9.0 mm rigid disc: 111 N over 63.6 mm^2 is ~1.7 MPa rated, and the 100 kOhm divider
  keeps 1000 kPa inside the ADC's linear range.
- The lace pads see tens of kPa and must resolve 2 kPa: an FSR 402 under a 12.0 mm disc
  (113 mm^2, 20 N -> 177 kPa rated) with a 1.5 kOhm divider gives ~0.01-0.13 kPa per count
  from 2 to 100 kPa, and its ADC ceiling (~174 kPa) sits at the sensor's rated force.

The nominal power laws are fits (least squares in log space, the same fit as a calibration)
to the typical points of each datasheet's force-resistance figure. Parts vary by +-6-10%
and drift with temperature: calibrate each pad (hardware/calibration.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from numbguard.calibration.fit import power_law_from_points
from numbguard.calibration.model import FloatArray
from numbguard.calibration.pad import PadCalibration
from numbguard.errors import BadValue
from numbguard.pads import LACE_PADS, PAD_IDS


@dataclass(frozen=True)
class SensorPart:
    """A force sensor as its datasheet describes it."""

    name: str
    part_number: str
    rated_force_n: float
    active_diameter_mm: float
    typical_force_n: tuple[float, ...]
    """Typical points of the datasheet's force-resistance figure (force side)."""
    typical_resistance_ohms: tuple[float, ...]
    """... and the resistance at each of those forces."""

    def typical_conductance_us(self) -> FloatArray:
        return 1e6 / np.asarray(self.typical_resistance_ohms, dtype=np.float64)


@dataclass(frozen=True)
class PadDesign:
    """How one pad position is built: the sensor, its load spreader and its divider."""

    sensor: SensorPart
    spreader_diameter_mm: float
    divider_ohms: float

    @property
    def area_mm2(self) -> float:
        return math.pi * (self.spreader_diameter_mm / 2.0) ** 2

    @property
    def rated_kpa(self) -> float:
        return self.sensor.rated_force_n / self.area_mm2 * 1000.0


FLEXIFORCE_A201_25 = SensorPart(
    name="Tekscan FlexiForce A201, 111 N (25 lb) range",
    part_number="A201-25",
    rated_force_n=111.0,
    active_diameter_mm=9.53,
    # Conductance linear in force; about 20 kOhm at the rated force.
    typical_force_n=(11.1, 55.5, 111.0),
    typical_resistance_ohms=(200_000.0, 40_000.0, 20_000.0),
)

INTERLINK_FSR_402 = SensorPart(
    name="Interlink FSR 402 (12.7 mm round)",
    part_number="FSR 402",
    rated_force_n=20.0,
    active_diameter_mm=12.7,
    # ~30 kOhm at 0.2 N (turn-on), ~6 kOhm at 1 N, ~1 kOhm at 10 N.
    typical_force_n=(0.2, 1.0, 10.0),
    typical_resistance_ohms=(30_000.0, 6_000.0, 1_000.0),
)

PLANTAR_DESIGN = PadDesign(
    sensor=FLEXIFORCE_A201_25, spreader_diameter_mm=9.0, divider_ohms=100_000.0
)
LACE_DESIGN = PadDesign(sensor=INTERLINK_FSR_402, spreader_diameter_mm=12.0, divider_ohms=1_500.0)

PAD_DESIGNS: dict[str, PadDesign] = {
    pad: LACE_DESIGN if pad in LACE_PADS else PLANTAR_DESIGN for pad in PAD_IDS
}
"""The design of each pad position (heel and ball pads share the plantar design)."""


def default_pad_calibration(pad: str) -> PadCalibration:
    """The calibration a new pad gets from its design's nominal datasheet fit."""
    if pad not in PAD_DESIGNS:
        raise BadValue(
            "unknown pad", expected="one of " + ", ".join(PAD_IDS), got=repr(pad), name="pad"
        )
    design = PAD_DESIGNS[pad]
    gain, exponent = power_law_from_points(
        design.sensor.typical_conductance_us(),
        np.asarray(design.sensor.typical_force_n, dtype=np.float64),
    )
    # Four significant digits: the datasheet points are no better, and the defaults stay the
    # same numbers on every platform.
    return PadCalibration(
        pad=pad,
        divider_ohms=design.divider_ohms,
        gain=float(f"{gain:.4g}"),
        exponent=float(f"{exponent:.4g}"),
        area_mm2=design.area_mm2,
        rated_kpa=design.rated_kpa,
        sensor=design.sensor.part_number,
    )


def default_pad_calibrations(pads: Iterable[str] = PAD_IDS) -> dict[str, PadCalibration]:
    return {pad: default_pad_calibration(pad) for pad in pads}
