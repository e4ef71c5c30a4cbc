"""Synthetic pad signals with known contacts, for the gait and activity tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from numbguard.analysis.types import FloatArray, PressureChunk
from numbguard.pads import Foot


@dataclass(frozen=True)
class Walk:
    t_s: FloatArray
    pressure_kpa: dict[str, FloatArray]
    contacts: list[tuple[float, float]]  # true (on, off) times
    sample_rate_hz: float


def _pulse(t_s: FloatArray, start_s: float, length_s: float, peak_kpa: float) -> FloatArray:
    phase = (t_s - start_s) / length_s
    inside = (phase >= 0) & (phase <= 1)
    return np.where(inside, peak_kpa * np.sin(np.pi * np.clip(phase, 0, 1)), 0.0)


def walk(
    duration_s: float = 30.0,
    *,
    stride_s: float = 1.1,
    contact_s: float = 0.7,
    sample_rate_hz: float = 100.0,
    heel_kpa: float = 250.0,
    forefoot_kpa: tuple[float, float, float] = (180.0, 300.0, 120.0),
    lace_kpa: tuple[float, float] = (15.0, 25.0),
    forefoot_floor_kpa: float = 0.0,
    first_on_s: float = 0.5,
    noise_kpa: float = 1.0,
    seed: int = 1,
) -> Walk:
    """A regular walk: heel loads in the first 45% of each contact, the forefoot in the last 70%.

    Lace pads carry a constant pressure plus a bump in stance.
    """
    rng = np.random.default_rng(seed)
    t_s = np.arange(round(duration_s * sample_rate_hz)) / sample_rate_hz
    heel = np.zeros_like(t_s)
    forefoot = np.zeros_like(t_s)
    contacts: list[tuple[float, float]] = []
    on = first_on_s
    while on + contact_s < duration_s - 0.1:
        heel += _pulse(t_s, on, 0.45 * contact_s, heel_kpa)
        forefoot += _pulse(t_s, on + 0.3 * contact_s, 0.7 * contact_s, 1.0)
        contacts.append((on, on + contact_s))
        on += stride_s
    pressure = {"heel": heel}
    for pad, peak in zip(("ball_medial", "ball_center", "ball_lateral"), forefoot_kpa, strict=True):
        pressure[pad] = forefoot_floor_kpa + peak * forefoot
    stance = np.clip(heel / heel_kpa + forefoot, 0, 1)
    for pad, level in zip(("lace_lower", "lace_upper"), lace_kpa, strict=True):
        pressure[pad] = level * (1 + 0.5 * stance)
    for pad in pressure:
        pressure[pad] = np.maximum(pressure[pad] + rng.normal(0, noise_kpa, len(t_s)), 0.0)
    return Walk(t_s, pressure, contacts, sample_rate_hz)


def chunks_of(
    w: Walk, foot: Foot, sizes: list[int] | int, pads: tuple[str, ...] | None = None
) -> Iterator[PressureChunk]:
    """Chunks of `w` with the given sizes (a list is cycled)."""
    cycle = sizes if isinstance(sizes, list) else [sizes]
    chosen = pads if pads is not None else tuple(w.pressure_kpa)
    start, i = 0, 0
    while start < len(w.t_s):
        stop = start + cycle[i % len(cycle)]
        yield PressureChunk(
            foot=foot,
            t_s=w.t_s[start:stop],
            pressure_kpa={pad: w.pressure_kpa[pad][start:stop] for pad in chosen},
            sample_rate_hz=w.sample_rate_hz,
        )
        start, i = stop, i + 1
