"""The sensor chain of the field simulator: what a calibrated FSR pad reports of a true load.

From the product brief (Interlink FSR data): part-to-part repeatability +/-6%, hysteresis
~10%, drift under 5% per decade of time under load, temperature shifting resistance by -15% to
+30%. After per-pad calibration a residual of each remains:

- gain: a per-pad gain error, N(1, 0.04) clipped to +/-10% (what calibration leaves of the
  +/-6% spread; judgement);
- warm-up: the shoe warms over the first minutes and the pad reads 3-10% more, with a 5 min
  time constant (judgement, inside the brief's temperature range);
- creep: under load the reading drifts up by 1-4% per decade of loaded time (log-time drift,
  under the brief's 5%);
- zero offset: the unloaded reading creeps up by 0-2 kPa over a run as the insole settles
  and warms (judgement);
- hysteresis: on the unloading side of each load cycle the pad reads high by up to ~10% of
  the cycle's peak;
- noise: |N(0, 0.4)| kPa on plantar pads, |N(0, 0.3)| on lace pads, then clipped at zero.

The faults are plausibility breakers, each on one pad from its onset:

- `sweat_leak`: moisture bridges the pad; it reads a slowly wandering 580-800 kPa, through
  swing too, while the rest of the foot is unloaded;
- `loose_wire`: an intermittent contact; inside stance it drops to zero for 30-80 ms, and it
  bounces to full scale (1000 kPa) for a sample or two, faster than any foot can load;
- `pad_flat`: a live pad goes open and reads exactly zero from then on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from numbguard.types import FloatArray

FULL_SCALE_KPA = 1000.0
_WARMUP_TAU_S = 300.0
_OFFSET_TAU_S = 900.0
_HYSTERESIS = 0.4  # y = x + h x (1 - x / peak) unloading: at most h/4 = 10% of the peak
_PEAK_WINDOW_S = 0.6  # "the cycle's peak": the highest true load in the last 0.6 s
_LOADED_KPA = 20.0  # counts as time under load for creep


@dataclass(frozen=True)
class PadSensor:
    """One pad's residual errors after calibration, drawn per session."""

    gain: float
    warm_gain: float  # extra sensitivity once warm
    creep_per_decade: float
    offset_kpa: float  # unloaded reading once settled
    noise_kpa: float


def draw_sensor(rng: np.random.Generator, lace: bool) -> PadSensor:
    return PadSensor(
        gain=float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1)),
        warm_gain=float(rng.uniform(0.03, 0.10)),
        creep_per_decade=float(rng.uniform(0.01, 0.04)),
        offset_kpa=float(rng.uniform(0.0, 1.2 if lace else 2.0)),
        noise_kpa=0.3 if lace else 0.4,
    )


def _recent_peak(load: FloatArray, window: int) -> FloatArray:
    """The highest load over the last `window` samples, sample by sample (causal)."""
    padded = np.concatenate([np.zeros(window - 1), load])
    out = np.empty_like(load)
    step = 20000
    for i in range(0, len(load), step):
        part = padded[i : i + step + window - 1]
        out[i : i + step] = sliding_window_view(part, window).max(axis=1)
    return out


def hysteresis(load: FloatArray, sample_rate_hz: float) -> FloatArray:
    """The reading of a pad whose unloading branch lies above its loading branch."""
    if len(load) < 2:
        return load.copy()
    peak = _recent_peak(load, max(2, round(_PEAK_WINDOW_S * sample_rate_hz)))
    falling = np.concatenate([[False], np.diff(load) < 0])
    share = np.divide(load, peak, out=np.zeros_like(load), where=peak > 1e-9)
    return load + np.where(falling, _HYSTERESIS * load * (1.0 - share), 0.0)


def sense(
    load_kpa: FloatArray,
    t_s: FloatArray,
    sensor: PadSensor,
    rng: np.random.Generator,
    sample_rate_hz: float,
) -> FloatArray:
    """The calibrated reading of one pad (kPa) for its true load over a whole session."""
    loaded_s = np.cumsum(load_kpa > _LOADED_KPA) / sample_rate_hz
    creep = 1.0 + sensor.creep_per_decade * np.log10(1.0 + loaded_s / 10.0)
    warm = 1.0 + sensor.warm_gain * (1.0 - np.exp(-t_s / _WARMUP_TAU_S))
    offset = sensor.offset_kpa * (1.0 - np.exp(-t_s / _OFFSET_TAU_S))
    reading = hysteresis(load_kpa, sample_rate_hz) * sensor.gain * warm * creep + offset
    reading += np.abs(rng.normal(0.0, sensor.noise_kpa, len(t_s)))
    return np.clip(reading, 0.0, FULL_SCALE_KPA)


def sweat_leak(
    reading: FloatArray, t_s: FloatArray, onset_s: float, rng: np.random.Generator
) -> None:
    """From `onset_s` (after a 10 s soak-in) the pad reads 580-800 kPa whatever the load."""
    phase = rng.uniform(0.0, 2 * np.pi, 2)
    level = (
        690.0
        + 75.0 * np.sin(2 * np.pi * t_s / 97.0 + phase[0])
        + 30.0 * np.sin(2 * np.pi * t_s / 23.0 + phase[1])
    )
    soak = np.clip((t_s - onset_s) / 10.0, 0.0, 1.0)
    leaked = np.maximum(reading, level * soak + np.abs(rng.normal(0.0, 4.0, len(t_s))))
    after = t_s >= onset_s
    reading[after] = np.clip(leaked[after], 0.0, FULL_SCALE_KPA)


def loose_wire(
    reading: FloatArray,
    load_kpa: FloatArray,
    t_s: FloatArray,
    onset_s: float,
    rng: np.random.Generator,
    sample_rate_hz: float,
) -> None:
    """From `onset_s`: zero-runs inside stance and single-sample bounces to full scale."""
    loaded = (load_kpa > 60.0) & (t_s >= onset_s)
    edges = np.diff(loaded.astype(np.int8), prepend=0, append=0)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        span = end - start
        if span < 4:
            continue
        if rng.random() < 0.45:  # a dropout of 30-80 ms inside the stance
            length = min(span - 2, round(float(rng.uniform(0.03, 0.08)) * sample_rate_hz))
            at = start + int(rng.integers(1, max(2, span - length)))
            reading[at : at + max(1, length)] = 0.0
        if rng.random() < 0.3:  # a contact bounce: full scale for one or two samples
            at = start + int(rng.integers(0, span))
            reading[at : at + int(rng.integers(1, 3))] = FULL_SCALE_KPA


def pad_flat(reading: FloatArray, t_s: FloatArray, onset_s: float) -> None:
    """From `onset_s` the pad is open: exactly zero."""
    reading[t_s >= onset_s] = 0.0
