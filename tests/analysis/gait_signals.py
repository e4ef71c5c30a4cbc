"""Synthetic pad signals with known contacts, for the gait and activity tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from numbguard.pads import Foot
from numbguard.types import FloatArray, PressureChunk


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


# --- Sessions of several activities, for the risk rules -------------------------------------
#
# Running at speed v follows the treadmill runs of Alcantara et al. 2022 (PeerJ 10:e12752,
# ../shared/realdata/running): contact 0.25 s at 2.5 m/s, 0.19 s at 4.17 m/s, step 0.33-0.29 s.
# Forefoot peaks grow with speed faster than the summed load would (x (v / 3) ** 0.6), like
# the discrete transducers under the metatarsal heads (brief: 634 to 731 kPa, 3.0-4.5 m/s,
# plus margin), so a 4.5 m/s repetition is a 1.4x rise over a 2.6 m/s warm-up.

RUN_PEAKS_KPA = {"heel": 170.0, "ball_medial": 210.0, "ball_center": 310.0, "ball_lateral": 160.0}
WALK_PEAKS_KPA = {"heel": 230.0, "ball_medial": 130.0, "ball_center": 170.0, "ball_lateral": 90.0}
STAND_KPA = {"heel": 75.0, "ball_medial": 38.0, "ball_center": 46.0, "ball_lateral": 26.0}
LACE_STATIC_KPA = {"lace_lower": 3.0, "lace_upper": 4.5}


@dataclass(frozen=True)
class Bout:
    """One stretch of a session: `kind` is run, walk, stand, calf_raises, elliptical or stairs;
    `speed_mps` for a run; `scale` multiplies each named pad's load (a pattern or a limp)."""

    kind: str
    duration_s: float
    speed_mps: float = 3.0
    scale: tuple[tuple[str, float], ...] = ()


def _sin2(u: FloatArray) -> FloatArray:
    inside = (u >= 0) & (u <= 1)
    return np.where(inside, np.sin(np.pi * np.clip(u, 0, 1)) ** 2, 0.0)


def session(
    bouts: list[Bout], foot: Foot = "left", *, sample_rate_hz: float = 100.0, seed: int = 3
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Times and pad pressures (kPa) of one foot through `bouts`; the right foot steps half a
    stride after the left. Gait phase runs on across bouts, so a change of pace is smooth."""
    rng = np.random.default_rng(seed)
    fs = sample_rate_hz
    parts: dict[str, list[FloatArray]] = {pad: [] for pad in (*RUN_PEAKS_KPA, *LACE_STATIC_KPA)}
    phase = 0.0 if foot == "left" else 0.5
    t0 = 0.0
    for bout in bouts:
        t = t0 + np.arange(round(bout.duration_s * fs)) / fs
        local = t - t0
        scale = dict(bout.scale)
        load: dict[str, FloatArray]
        if bout.kind in ("run", "walk"):
            walking = bout.kind == "walk"
            v = bout.speed_mps
            stride_s = 1.1 if walking else 2 * 0.325 * (2.5 / v) ** 0.2
            contact_s = 0.68 if walking else 0.252 * (2.5 / v) ** 0.5
            cycle = phase + local / stride_s
            phase = float(phase + bout.duration_s / stride_s) % 1.0
            u = np.mod(cycle, 1.0) * stride_s / contact_s  # 0..1 through the contact
            effort = 1.0 if walking else (v / 3.0) ** 0.6
            peaks = WALK_PEAKS_KPA if walking else RUN_PEAKS_KPA
            load = {
                pad: peak
                * (1.0 if pad == "heel" else effort)
                * _sin2(u / 0.45 if pad == "heel" else (u - 0.12) / 0.88)
                for pad, peak in peaks.items()
            }
            for pad, static in LACE_STATIC_KPA.items():
                load[pad] = static + 2.5 * static * _sin2(u)
        else:
            hz = {"stand": 0.2, "calf_raises": 0.5, "elliptical": 1.08, "stairs": 0.7}[bout.kind]
            shift = 0.0 if foot == "left" else np.pi
            if bout.kind == "calf_raises":
                shift = 0.0  # both heels rise together
            wave = 0.5 - 0.5 * np.cos(2 * np.pi * hz * local + shift)
            if bout.kind == "stand":
                load = {
                    pad: level * (1 + 0.15 * (2 * wave - 1)) for pad, level in STAND_KPA.items()
                }
            elif bout.kind == "calf_raises":
                # Up on the toes: the heel unloads and the ball carries the body weight.
                load = {
                    pad: level * ((1 - wave) if pad == "heel" else 1 + 1.4 * wave)
                    for pad, level in STAND_KPA.items()
                }
            elif bout.kind == "elliptical":
                floor = {
                    "heel": 5.0,
                    "ball_medial": 34.0,
                    "ball_center": 42.0,
                    "ball_lateral": 30.0,
                }
                swing = {
                    "heel": 60.0,
                    "ball_medial": 70.0,
                    "ball_center": 95.0,
                    "ball_lateral": 55.0,
                }
                load = {
                    pad: floor[pad] + swing[pad] * ((1 - wave) if pad == "heel" else wave)
                    for pad in floor
                }
            else:  # stairs: the pedal carries the foot; it takes the body weight each step
                floor = {
                    "heel": 15.0,
                    "ball_medial": 32.0,
                    "ball_center": 38.0,
                    "ball_lateral": 30.0,
                }
                load = {pad: floor[pad] + 3.5 * floor[pad] * wave for pad in floor}
            for pad, static in LACE_STATIC_KPA.items():
                load[pad] = static + 0 * local
        for pad in parts:
            values = load.get(pad, 0 * local) * scale.get(pad, 1.0)
            parts[pad].append(np.maximum(values + np.abs(rng.normal(0, 0.4, len(t))), 0.0))
        t0 += bout.duration_s
    t_all = np.arange(round(t0 * fs)) / fs
    return t_all, {pad: np.concatenate(values) for pad, values in parts.items()}


def session_chunks(
    t_s: FloatArray, pressure: dict[str, FloatArray], foot: Foot, chunk_s: float = 5.0
) -> Iterator[PressureChunk]:
    n = max(1, round(chunk_s / (t_s[1] - t_s[0])))
    rate = 1.0 / float(t_s[1] - t_s[0])
    for start in range(0, len(t_s), n):
        yield PressureChunk(
            foot=foot,
            t_s=t_s[start : start + n],
            pressure_kpa={pad: v[start : start + n] for pad, v in pressure.items()},
            sample_rate_hz=rate,
        )
