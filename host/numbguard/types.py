"""Data that flows between the analysis stages.

Stages are streaming: each consumes `PressureChunk`s of one foot in time order and emits
results as soon as they are final. Times are seconds on the session timeline (0 = session
start); pressures are kPa; a missing sample is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from numbguard.pads import Foot

FloatArray = npt.NDArray[np.float64]

Severity = Literal["info", "warning", "alert"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "alert")

Activity = Literal["running", "walking", "standing", "cyclic_unrelieved", "unknown"]


@dataclass(frozen=True)
class PressureChunk:
    """A block of consecutive calibrated samples of one foot.

    `pressure_kpa[pad]` has the same length as `t_s`; pads absent from the insole are absent
    from the dict. NaN marks a missing sample (lost frame, empty CSV cell).
    """

    foot: Foot
    t_s: FloatArray
    pressure_kpa: dict[str, FloatArray]
    sample_rate_hz: float


@dataclass(frozen=True)
class Contact:
    """One ground contact of one foot (on = foot strike, off = toe off)."""

    foot: Foot
    t_on_s: float
    t_off_s: float


@dataclass(frozen=True)
class StepMetrics:
    """Per-step numbers for one contact and the swing before it."""

    foot: Foot
    t_on_s: float
    t_off_s: float
    contact_s: float
    stride_s: float | None  # from the previous contact's onset; None for the first
    peak_kpa: dict[str, float]  # per pad, over the contact
    pti_kpa_s: dict[str, float]  # pressure-time integral per pad, over the contact
    forefoot_share: float | None  # forefoot share of plantar pressure-time integral, 0-1
    medial_lateral_index: float | None  # (medial - lateral) / (medial + lateral) forefoot PTI
    dorsal_swing_kpa: dict[str, float]  # per lace pad, median pressure in the preceding swing
    dorsal_stance_kpa: dict[str, float]  # per lace pad, mean pressure during the contact
    forefoot_swing_kpa: dict[str, float]  # per forefoot pad, median pressure in the swing


@dataclass(frozen=True)
class Alert:
    """A numbness-risk alert (or its clearing), with the evidence behind it."""

    t_s: float
    foot: Foot
    # tight_lacing, forefoot_overload, metatarsal_hotspot, unrelieved_pressure, sensor_fault, ...
    kind: str
    severity: Severity
    pads: tuple[str, ...]
    message: str
    suggestions: tuple[str, ...]
    evidence: dict[str, float | str] = field(default_factory=dict)
