"""The physical model of the field simulator: what the foot puts on each pad, before the sensor.

Running and walking are rendered step by step. Each contact rolls over the pads in order:
the heel first, then the lateral, centre and medial ball pads, each with its own start, peak
and end (fractions of the contact), and the lace pads rise as the forefoot flexes at toe-off.
Speed sets cadence, contact time and the peaks:

- Peak pressure under the 2nd metatarsal head rises from about 634 to 731 kPa and under the
  heel from 304 to 427 kPa between 3.0 and 4.5 m/s (discrete transducers, product brief and
  issue 11). A pad spreads that point load over its area; `PAD_AREA_FACTOR` makes the centre
  pad read about 300 kPa at 3 m/s, the in-shoe 313 +/- 69 kPa of the brief
  (doi 10.1186/s13047-016-0176-z). The model keeps the transducers' relation to speed and the
  insole's level.
- Cadence rises and contact time falls with speed and slope as in real treadmill running
  (`running_cadence_spm`, `running_contact_s`), at the brief's recreational level
  (150-170 steps/min, contacts under ~300 ms).

Slopes move load: uphill onto the forefoot and off the heel, downhill onto the heel (sizes are
a judgement; the total changes little, as the real force data shows: -3% at +5 degrees, +7% at
-5 degrees). Drills (calf raises, weight shifts) and machines (elliptical, stair machine) are
continuous loads with no swing, rendered over a whole stretch at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from numbguard.types import FloatArray

PLANTAR: Final = ("heel", "ball_medial", "ball_center", "ball_lateral")
LACES: Final = ("lace_lower", "lace_upper")

# Discrete-transducer peaks at 3.0 and 4.5 m/s (kPa), issue 11 / product brief.
_MTH2_KPA: Final = (634.0, 731.0)
_HEEL_KPA: Final = (304.0, 427.0)
_SPEEDS_M_S: Final = (3.0, 4.5)
PAD_AREA_FACTOR: Final = {"heel": 0.56, "forefoot": 0.48}
"""What an insole pad reads of the point peak under it (area averaging). Judgement, set so the
centre pad reads the brief's in-shoe level at an easy pace."""
# The other ball pads relative to the centre one (the 2nd/3rd metatarsal heads carry most).
_BALL_SHARE: Final = {"ball_medial": 0.72, "ball_center": 1.0, "ball_lateral": 0.55}

# Roll-over: (start, peak, end) of each pad's load as fractions of the contact.
RUN_ROLLOVER: Final = {
    "heel": (0.0, 0.12, 0.45),
    "ball_lateral": (0.10, 0.50, 0.86),
    "ball_center": (0.15, 0.60, 0.95),
    "ball_medial": (0.20, 0.68, 1.0),
    "lace_lower": (0.30, 0.80, 1.0),
    "lace_upper": (0.25, 0.75, 1.0),
}
WALK_ROLLOVER: Final = {
    "heel": (0.0, 0.16, 0.58),
    "ball_lateral": (0.18, 0.70, 0.92),
    "ball_center": (0.24, 0.78, 0.97),
    "ball_medial": (0.30, 0.82, 1.0),
    "lace_lower": (0.40, 0.85, 1.0),
    "lace_upper": (0.35, 0.82, 1.0),
}
_WALK_PEAK_KPA: Final = {
    "heel": 215.0,
    "ball_medial": 140.0,
    "ball_center": 185.0,
    "ball_lateral": 110.0,
}
LACE_STATIC_KPA: Final = {"lace_lower": 2.5, "lace_upper": 4.0}
"""What a normally laced shoe presses on the top of the foot at rest. Judgement."""
LACE_FLEX_KPA: Final = {"lace_lower": 8.0, "lace_upper": 10.0}
"""Extra dorsal pressure as the forefoot flexes at toe-off. Judgement."""
# Standing on both feet: each foot's share is half the body's load.
STAND_KPA: Final = {"heel": 72.0, "ball_medial": 34.0, "ball_center": 44.0, "ball_lateral": 27.0}


def _between(speed_m_s: float, ends: tuple[float, float]) -> float:
    """Linear in speed through the two measured points, extrapolated gently outside them."""
    lo, hi = _SPEEDS_M_S
    slope = (ends[1] - ends[0]) / (hi - lo)
    return ends[0] + slope * (max(2.0, min(speed_m_s, 6.0)) - lo)


# How cadence and contact time move with speed and slope, from real treadmill running
# (alcantara2022 in ../shared/realdata/running: one runner, 2.5-4.17 m/s, -10 to +10 degrees;
# tests/simulate/test_field_realdata.py checks the model against it). From 2.5 to 4.17 m/s on
# the level, contact time falls as speed^-0.56 and cadence rises ~7.6% per m/s. That runner's
# cadence (185-210 steps/min) is high; the level here is the brief's recreational 150-170.
_CONTACT_SPEED_EXPONENT = 0.56
_CADENCE_PER_M_S = 0.076


def running_cadence_spm(speed_m_s: float, grade_pct: float = 0.0) -> float:
    """Steps per minute (both feet): 156 at 3 m/s, ~174 at 4.5 m/s; lower downhill."""
    slope = 1.0 + 0.007 * min(grade_pct, 0.0)  # real: -6% at -5 degrees (-8.7%)
    return 156.0 * (1.0 + _CADENCE_PER_M_S * (speed_m_s - 3.0)) * slope


def running_contact_s(speed_m_s: float, grade_pct: float = 0.0) -> float:
    """Ground contact: 245 ms at 3 m/s, ~195 ms at 4.5 m/s; longer uphill, shorter downhill."""
    # real: +5% at +5 degrees (+8.7%), -9% at -5 degrees
    slope = 1.0 + (0.006 if grade_pct > 0 else 0.01) * grade_pct
    return float(0.245 * (3.0 / max(speed_m_s, 1.5)) ** _CONTACT_SPEED_EXPONENT * slope)


def walking_cadence_spm(speed_m_s: float) -> float:
    return 108.0 + 15.0 * (speed_m_s - 1.3)


def slope_factors(grade_pct: float) -> dict[str, float]:
    """Peak factors per plantar pad on a slope (percent grade, + uphill). Judgement."""
    if grade_pct >= 0:
        heel = max(0.35, 1.0 - 0.06 * grade_pct)
        fore = 1.0 + 0.015 * grade_pct
    else:
        heel = 1.0 + 0.05 * -grade_pct
        fore = max(0.7, 1.0 - 0.01 * -grade_pct)
    return {"heel": heel, "ball_medial": fore, "ball_center": fore, "ball_lateral": fore}


def running_peaks_kpa(speed_m_s: float, grade_pct: float = 0.0) -> dict[str, float]:
    """Mean pad peaks of a running contact at a speed and grade (before body size)."""
    slope = slope_factors(grade_pct)
    centre = _between(speed_m_s, _MTH2_KPA) * PAD_AREA_FACTOR["forefoot"]
    peaks = {"heel": _between(speed_m_s, _HEEL_KPA) * PAD_AREA_FACTOR["heel"] * slope["heel"]}
    for pad, share in _BALL_SHARE.items():
        peaks[pad] = centre * share * slope[pad]
    return peaks


def walking_peaks_kpa(speed_m_s: float, grade_pct: float = 0.0) -> dict[str, float]:
    slope = slope_factors(grade_pct)
    pace = 1.0 + 0.3 * (speed_m_s - 1.3)
    return {pad: peak * pace * slope[pad] for pad, peak in _WALK_PEAK_KPA.items()}


def pulse(u: FloatArray, rollover: tuple[float, float, float], power: float) -> FloatArray:
    """A pad's load over a contact, 0-1: rises from `start`, peaks at `peak`, ends at `end`.

    `u` is time as a fraction of the contact; the sin^power bump is warped so its top lands at
    `peak` (power 2 for the sharp loads of running, 1 for the broad ones of walking).
    """
    start, top, end = rollover
    x = (u - start) / (end - start)
    inside = (x > 0.0) & (x < 1.0)
    k = np.log(0.5) / np.log((top - start) / (end - start))
    warped = np.clip(x, 0.0, 1.0) ** k
    return np.where(inside, np.sin(np.pi * warped) ** power, 0.0)


@dataclass(frozen=True)
class Contact:
    """One ground contact of the simulated foot."""

    t_on_s: float
    contact_s: float
    walking: bool
    peaks_kpa: dict[str, float]  # per plantar pad, this step's peak
    lace_flex: float  # factor on the toe-off lace rise


def calf_raise_lift(t_s: FloatArray, start_s: float, rate_per_min: float) -> FloatArray:
    """How far up on the toes (0-1) through calf raises: in each cycle up (35%), a short hold
    (10%), down (35%) and a short rest, as in a brisk warm-up set."""
    period_s = 60.0 / rate_per_min
    phase = np.mod(t_s - start_s, period_s) / period_s
    up = np.clip(phase / 0.35, 0.0, 1.0)
    down = np.clip((0.8 - phase) / 0.35, 0.0, 1.0)
    lift = np.minimum(up, down)
    return 0.5 - 0.5 * np.cos(np.pi * lift)


def calf_raises(t_s: FloatArray, start_s: float, rate_per_min: float) -> dict[str, FloatArray]:
    """Both feet rise onto the balls: the heel unloads, the forefoot takes it all, never 0."""
    lift = calf_raise_lift(t_s, start_s, rate_per_min)
    loads = {"heel": STAND_KPA["heel"] * (1.0 - 0.95 * lift)}
    for pad in _BALL_SHARE:
        loads[pad] = STAND_KPA[pad] * (1.0 + 2.3 * lift)
    return loads


def weight_shifts(
    t_s: FloatArray, start_s: float, rate_per_min: float, right: bool
) -> dict[str, FloatArray]:
    """Standing, shifting weight from foot to foot: each foot carries 15-85% of the body."""
    phase = 2 * np.pi * rate_per_min / 60.0 * (t_s - start_s) + (np.pi if right else 0.0)
    share = 0.5 + 0.35 * np.sin(phase)
    return {pad: level * share / 0.5 for pad, level in STAND_KPA.items()}


def standing(t_s: FloatArray, right: bool) -> dict[str, FloatArray]:
    """Standing still with a little postural sway."""
    sway = 1.0 + 0.12 * np.sin(2 * np.pi * 0.17 * t_s + (np.pi if right else 0.0))
    return {pad: level * sway for pad, level in STAND_KPA.items()}


def elliptical(
    t_s: FloatArray, start_s: float, rate_per_min: float, right: bool
) -> dict[str, FloatArray]:
    """On the pedals the whole time: the forefoot load cycles but never unloads."""
    phase = 2 * np.pi * rate_per_min / 60.0 * (t_s - start_s) + (np.pi if right else 0.0)
    wave = 0.5 - 0.5 * np.cos(phase)
    loads = {"heel": 8.0 + 75.0 * (1.0 - wave) ** 1.5}
    for pad, share in _BALL_SHARE.items():
        loads[pad] = share * (48.0 + 115.0 * wave)
    return loads


def stair_machine(
    t_s: FloatArray, start_s: float, rate_per_min: float, right: bool
) -> dict[str, FloatArray]:
    """Stepping on a stair machine: the ball pushes each step down and stays on the step as
    it rises; the heel hangs off the edge and carries little."""
    period_s = 120.0 / rate_per_min  # one foot's cycle is two steps
    phase = np.mod(t_s - start_s + (period_s / 2 if right else 0.0), period_s) / period_s
    push = np.where(phase < 0.55, np.sin(np.pi * phase / 0.55), 0.0)
    loads = {"heel": 6.0 + 35.0 * push}
    for pad, share in _BALL_SHARE.items():
        loads[pad] = share * (58.0 + 190.0 * push)
    return loads
