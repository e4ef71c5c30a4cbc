"""Tare (re-zero) from a window of unloaded samples.

FSRs drift (up to 5 % per decade of time under load, -15 % to +30 % with temperature), and a
pad built into an insole or under a tongue carries some preload, so the zero is taken again
before each session from samples with the pads unloaded: the insole out of the shoe or the foot
lifted with the laces open. A window that moves too much or reads a real load is refused: a
tare taken under the foot, or under tight laces, would hide exactly what numbguard looks for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from numbguard.calibration.insole import InsoleCalibration
from numbguard.calibration.model import ArrayLike, as_counts
from numbguard.errors import BadCalibration, BadValue

MIN_TARE_SAMPLES = 10
MAX_TARE_SPREAD_COUNTS = 64.0
"""5th-95th percentile spread allowed in the window; the ESP32 ADC alone shows ~+-20 counts."""
MAX_TARE_KPA = 50.0
"""A pad that reads more than this is loaded, not at rest."""


def tare_counts_from_window(
    calibration: InsoleCalibration,
    counts: ArrayLike,
    pads: Sequence[str] | None = None,
    *,
    max_spread_counts: float = MAX_TARE_SPREAD_COUNTS,
    max_tare_kpa: float = MAX_TARE_KPA,
) -> dict[str, int]:
    """Tare offsets (median counts) per pad from unloaded samples (samples x pads)."""
    columns = tuple(pads) if pads is not None else calibration.pad_ids
    values = as_counts(counts, where="tare window")
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise BadValue(
            "tare window does not match the pads",
            expected=f"shape (samples, {len(columns)}) for {', '.join(columns)}",
            got=f"shape {values.shape}",
            name="counts",
        )
    offsets: dict[str, int] = {}
    for i, pad in enumerate(columns):
        if pad not in calibration.pads:
            raise BadCalibration(
                "no calibration for pad",
                expected="one of " + ", ".join(calibration.pad_ids),
                got=pad,
                pad=pad,
            )
        column = values[:, i][~np.isnan(values[:, i])]
        where = f"tare window, pad {pad}"
        if column.size < MIN_TARE_SAMPLES:
            raise BadCalibration(
                "too few samples to tare",
                expected=f">= {MIN_TARE_SAMPLES}",
                got=str(column.size),
                where=where,
                pad=pad,
            )
        low, median, high = np.percentile(column, (5, 50, 95))
        if high - low > max_spread_counts:
            raise BadCalibration(
                "pad is moving, not at rest: lift the foot or take the insole out, then tare",
                expected=f"a spread of at most {max_spread_counts:g} counts",
                got=f"{high - low:g} counts",
                where=where,
                pad=pad,
            )
        offset = round(float(median))
        pad_calibration = calibration.pads[pad]
        loaded_kpa = float(pad_calibration.raw_pressure_kpa(float(offset)))
        if loaded_kpa > max_tare_kpa or offset >= pad_calibration.saturation_counts:
            raise BadCalibration(
                "pad is loaded: unlace or lift the foot, then tare",
                expected=f"at most {max_tare_kpa:g} kPa at rest",
                got=f"{loaded_kpa:.1f} kPa",
                where=where,
                pad=pad,
            )
        offsets[pad] = offset
    return offsets
