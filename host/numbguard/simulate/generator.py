"""Rendering a scenario into per-foot pad pressures in kPa, block by block.

Shapes follow the product brief: running contacts under 300 ms at 150-180 steps/min with
forefoot peaks ~300 kPa on the centre pad (313 +/- 69 kPa, doi 10.1186/s13047-016-0176-z),
walking with a heel then forefoot hump, lace pads with a small static pressure that rises in
stance. Each contact is a sum of sin^2 bumps per pad with step-to-step variation.

Determinism: steps come from one random stream per foot and noise from a stream per
(foot, one-second block), both seeded from `seed`, so the output is identical whatever chunk
size a caller asks for. Memory holds the steps that overlap the current block only.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from numbguard.analysis.risk.windows import BoolArray
from numbguard.errors import BadValue
from numbguard.pads import FOOT_IDS, PAD_IDS, Foot
from numbguard.simulate.scenarios import Scenario, Segment
from numbguard.types import FloatArray, PressureChunk

FULL_SCALE_KPA = 1000.0  # what a shorted pad reads (RiskConfig.fault_saturation_kpa)

# Peak pressure per pad in a normal contact (kPa), and the part of the contact each pad loads
# (as fractions of the contact time: start, end).
_RUN_PEAKS = {"heel": 170.0, "ball_medial": 210.0, "ball_center": 300.0, "ball_lateral": 165.0}
_WALK_PEAKS = {"heel": 210.0, "ball_medial": 150.0, "ball_center": 180.0, "ball_lateral": 105.0}
_RUN_SPAN = {"heel": (0.0, 0.45), "forefoot": (0.12, 1.0)}
_WALK_SPAN = {"heel": (0.0, 0.6), "forefoot": (0.25, 1.0)}
_LACE_STATIC_KPA = {"lace_lower": 3.0, "lace_upper": 4.5}
_LACE_STANCE_KPA = {"lace_lower": 7.0, "lace_upper": 11.0}
_STAND_KPA = {"heel": 75.0, "ball_medial": 38.0, "ball_center": 46.0, "ball_lateral": 26.0}
_ELLIPTICAL_FLOOR_KPA = {
    "heel": 5.0,
    "ball_medial": 34.0,
    "ball_center": 42.0,
    "ball_lateral": 30.0,
}
_ELLIPTICAL_SWING_KPA = {
    "heel": 60.0,
    "ball_medial": 70.0,
    "ball_center": 95.0,
    "ball_lateral": 55.0,
}

# How each risk pattern changes a foot (documented in docs/risk-model.md).
_TIGHT_STATIC_ADD_KPA = {"lace_lower": 13.0, "lace_upper": 22.0}
_TIGHT_STANCE_ADD_KPA = {"lace_lower": 6.0, "lace_upper": 10.0}
_OVERLOAD_SCALE = 1.7
_HOTSPOT_SCALE = {"ball_medial": 0.45, "ball_center": 0.45, "ball_lateral": 2.1}
_HOTSPOT_SWING_KPA = 18.0
_FAVOURED_SCALE = 0.55  # the other foot's forefoot load when one foot is favoured


@dataclass(frozen=True)
class _Step:
    t_on_s: float
    contact_s: float
    walking: bool
    scale: dict[str, float]  # per-pad peak factor of this step


def _bump(u: FloatArray, power: float = 2.0) -> FloatArray:
    """sin^power over 0..1, zero outside: power 2 for the sharp loads of running, 1 for the
    broad, flat-topped loads of walking."""
    inside = (u >= 0.0) & (u <= 1.0)
    return np.where(inside, np.sin(np.pi * np.clip(u, 0.0, 1.0)) ** power, 0.0)


class FootSimulator:
    """One foot of a scenario, rendered in blocks of `block_s`."""

    def __init__(
        self, scenario: Scenario, foot: Foot, *, seed: int, sample_rate_hz: float, block_s: float
    ) -> None:
        self.scenario = scenario
        self.foot: Foot = foot
        self.sample_rate_hz = sample_rate_hz
        self.pads = tuple(pad for pad in PAD_IDS if scenario.heel or pad != "heel")
        self._seed = seed
        self._foot_index = FOOT_IDS.index(foot)
        self._name_key = zlib.crc32(scenario.name.encode())
        self._block_samples = max(1, round(block_s * sample_rate_hz))
        self._total_samples = round(scenario.duration_s * sample_rate_hz)
        self._steps = self._step_stream()
        self._pending: deque[_Step] = deque()
        self._overlays = [o for o in scenario.overlays if foot in o.feet]
        # How strongly each pattern shows in this session (0.8-1.2 of its nominal size):
        # drawn per session, so both feet of one overlay agree.
        session_rng = np.random.default_rng([seed, self._name_key, 1 << 31])
        self._strength = {o.kind: float(session_rng.uniform(0.8, 1.2)) for o in scenario.overlays}
        self._loss_left = 0  # samples still to drop in the current loss run

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self._seed, self._name_key, self._foot_index, *key])

    def _step_stream(self) -> Iterator[_Step]:
        rng = self._rng(1 << 30)
        for segment in self.scenario.segments:
            if segment.activity not in ("running", "walking"):
                continue
            walking = segment.activity == "walking"
            stride_s = 120.0 / segment.cadence_spm
            # The right foot lands half a stride after the left.
            t = segment.start_s + 0.2 + (0.5 * stride_s if self.foot == "right" else 0.0)
            while True:
                this_stride_s = stride_s * (1.0 + rng.normal(0.0, 0.015))
                contact_s = (
                    min(0.72, 0.62 * this_stride_s)
                    if walking
                    else 0.235 * (170.0 / segment.cadence_spm) ** 0.5
                ) * (1.0 + rng.normal(0.0, 0.03))
                if t + contact_s > segment.end_s:
                    break
                scale = {
                    pad: segment.load_scale * float(1.0 + rng.normal(0.0, 0.06))
                    for pad in ("heel", "ball_medial", "ball_center", "ball_lateral", "lace")
                }
                yield _Step(t, contact_s, walking, scale)
                t += this_stride_s

    def blocks(self) -> Iterator[PressureChunk]:
        """The whole foot, one block at a time."""
        n = self._block_samples
        for index, start in enumerate(range(0, self._total_samples, n)):
            stop = min(start + n, self._total_samples)
            yield self._render(index, start, stop)

    def _render(self, index: int, start: int, stop: int) -> PressureChunk:
        fs = self.sample_rate_hz
        t = np.arange(start, stop, dtype=np.float64) / fs
        t0, t1 = t[0], t[-1]
        rng = self._rng(index)
        pressure = {pad: np.zeros(len(t)) for pad in self.pads}
        cyclic = np.zeros(len(t), dtype=bool)  # inside a running/walking segment
        for segment in self.scenario.segments:
            inside = (t >= segment.start_s) & (t < segment.end_s)
            if not inside.any():
                continue
            if segment.activity in ("running", "walking"):
                cyclic |= inside
            elif segment.activity == "standing":
                self._stand(t, inside, pressure)
            else:
                self._elliptical(t, inside, segment, pressure)
        self._contacts(t, t0, t1, pressure)
        self._lace_static(t, pressure)
        self._patterns(t, cyclic, pressure)
        for pad in self.pads:
            noise = np.abs(rng.normal(0.0, 0.3 if pad in _LACE_STATIC_KPA else 0.4, len(t)))
            pressure[pad] = np.maximum(pressure[pad] + noise, 0.0)
        self._faults(t, rng, pressure)
        self._packet_loss(rng, pressure)
        return PressureChunk(
            foot=self.foot,
            t_s=t,
            pressure_kpa={pad: np.round(values, 2) for pad, values in pressure.items()},
            sample_rate_hz=fs,
        )

    def _stand(self, t: FloatArray, inside: BoolArray, pressure: dict[str, FloatArray]) -> None:
        phase = 0.0 if self.foot == "left" else np.pi  # weight shifts from foot to foot
        sway = 1.0 + 0.15 * np.sin(2 * np.pi * 0.2 * t + phase)
        for pad, level in _STAND_KPA.items():
            if pad in pressure:
                pressure[pad] += np.where(inside, level * sway, 0.0)

    def _elliptical(
        self, t: FloatArray, inside: BoolArray, segment: Segment, pressure: dict[str, FloatArray]
    ) -> None:
        cycle_hz = segment.cadence_spm / 120.0
        phase = 0.0 if self.foot == "left" else np.pi
        wave = 0.5 - 0.5 * np.cos(2 * np.pi * cycle_hz * (t - segment.start_s) + phase)
        for pad in _ELLIPTICAL_FLOOR_KPA:
            if pad in pressure:
                load = _ELLIPTICAL_FLOOR_KPA[pad] + _ELLIPTICAL_SWING_KPA[pad] * (
                    1.0 - wave if pad == "heel" else wave
                )
                pressure[pad] += np.where(inside, load, 0.0)

    def _contacts(
        self, t: FloatArray, t0: float, t1: float, pressure: dict[str, FloatArray]
    ) -> None:
        while not self._pending or self._pending[-1].t_on_s <= t1:
            step = next(self._steps, None)
            if step is None:
                break
            self._pending.append(step)
        while self._pending and self._pending[0].t_on_s + self._pending[0].contact_s < t0:
            self._pending.popleft()
        for step in self._pending:
            if step.t_on_s > t1:
                break
            u = (t - step.t_on_s) / step.contact_s
            peaks, spans = (_WALK_PEAKS, _WALK_SPAN) if step.walking else (_RUN_PEAKS, _RUN_SPAN)
            for pad, peak in peaks.items():
                if pad not in pressure:
                    continue
                lo, hi = spans["heel" if pad == "heel" else "forefoot"]
                factor = self._pattern_factor(pad, step.t_on_s)
                shape = _bump((u - lo) / (hi - lo), 1.0 if step.walking else 2.0)
                pressure[pad] += peak * step.scale[pad] * factor * shape
            for pad, rise in _LACE_STANCE_KPA.items():
                extra = (
                    self._tight(step.t_on_s)
                    * _TIGHT_STANCE_ADD_KPA[pad]
                    * self._strength_of("tight_lacing")
                )
                pressure[pad] += (rise + extra) * step.scale["lace"] * _bump(u)

    def _active(self, kind: str, t_s: float) -> bool:
        return any(o.kind == kind and o.onset_s <= t_s < o.end_s for o in self._overlays)

    def _tight(self, t_s: float) -> float:
        return 1.0 if self._active("tight_lacing", t_s) else 0.0

    def _strength_of(self, kind: str) -> float:
        return self._strength.get(kind, 1.0)

    def _scaled(self, nominal: float, kind: str) -> float:
        """A load factor moved from 1 towards `nominal` by the pattern's strength."""
        return 1.0 + (nominal - 1.0) * self._strength_of(kind)

    def _pattern_factor(self, pad: str, t_s: float) -> float:
        factor = 1.0
        if pad != "heel" and self._active("forefoot_overload", t_s):
            factor *= self._scaled(_OVERLOAD_SCALE, "forefoot_overload")
        if self._active("metatarsal_hotspot", t_s):
            factor *= self._scaled(_HOTSPOT_SCALE.get(pad, 1.0), "metatarsal_hotspot")
        if pad != "heel" and self._other_foot_favoured(t_s):
            factor *= self._scaled(_FAVOURED_SCALE, "asymmetry")
        return factor

    def _other_foot_favoured(self, t_s: float) -> bool:
        # An asymmetry overlay names the heavier foot; the other foot is unloaded.
        return any(
            o.kind == "asymmetry" and self.foot not in o.feet and o.onset_s <= t_s < o.end_s
            for o in self.scenario.overlays
        )

    def _overlay_mask(self, t: FloatArray, kind: str) -> BoolArray:
        mask = np.zeros(len(t), dtype=bool)
        for o in self._overlays:
            if o.kind == kind:
                mask |= (t >= o.onset_s) & (t < o.end_s)
        return mask

    def _lace_static(self, t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        tight = self._overlay_mask(t, "tight_lacing")
        for pad, level in _LACE_STATIC_KPA.items():
            add_kpa = _TIGHT_STATIC_ADD_KPA[pad] * self._strength_of("tight_lacing")
            pressure[pad] += level + np.where(tight, add_kpa, 0.0)

    def _patterns(self, t: FloatArray, cyclic: BoolArray, pressure: dict[str, FloatArray]) -> None:
        # A tight toe box keeps the lateral forefoot loaded through swing.
        hotspot = self._overlay_mask(t, "metatarsal_hotspot") & cyclic
        swing_kpa = _HOTSPOT_SWING_KPA * self._strength_of("metatarsal_hotspot")
        pressure["ball_lateral"] += np.where(hotspot, swing_kpa, 0.0)

    def _faults(
        self, t: FloatArray, rng: np.random.Generator, pressure: dict[str, FloatArray]
    ) -> None:
        for o in self._overlays:
            if o.kind != "sensor_fault" or o.pad not in pressure:
                continue
            mask = (t >= o.onset_s) & (t < o.end_s)
            values = pressure[o.pad]
            if o.fault == "open":
                values[mask] = 0.0
            elif o.fault == "shorted":
                values[mask] = FULL_SCALE_KPA
            else:
                wild = mask & (rng.random(len(t)) < 0.08)
                values[wild] = rng.uniform(-300.0, 3000.0, int(wild.sum()))

    def _packet_loss(self, rng: np.random.Generator, pressure: dict[str, FloatArray]) -> None:
        fraction = self.scenario.packet_loss_fraction
        if fraction <= 0:
            return
        n = len(next(iter(pressure.values())))
        lost = np.zeros(n, dtype=bool)
        mean_run = 20.0  # samples per lost run (0.2 s at 100 Hz)
        i = 0
        while i < n:
            if self._loss_left > 0:
                take = min(self._loss_left, n - i)
                lost[i : i + take] = True
                self._loss_left -= take
                i += take
                continue
            gap = int(rng.exponential(mean_run * (1.0 - fraction) / fraction))
            i += max(1, gap)
            if i < n:
                self._loss_left = int(rng.integers(5, 2 * int(mean_run) - 4))
        for values in pressure.values():
            values[lost] = np.nan


def _merge(parts: list[PressureChunk]) -> PressureChunk:
    first = parts[0]
    if len(parts) == 1:
        return first
    return PressureChunk(
        foot=first.foot,
        t_s=np.concatenate([p.t_s for p in parts]),
        pressure_kpa={
            pad: np.concatenate([p.pressure_kpa[pad] for p in parts]) for pad in first.pressure_kpa
        },
        sample_rate_hz=first.sample_rate_hz,
    )


def _rechunk(blocks: Iterator[PressureChunk], samples_per_chunk: int) -> Iterator[PressureChunk]:
    """Re-cut a stream of chunks into chunks of exactly `samples_per_chunk` (the last shorter)."""
    held: list[PressureChunk] = []
    count = 0
    for block in blocks:
        held.append(block)
        count += len(block.t_s)
        while count >= samples_per_chunk:
            merged = _merge(held)
            yield PressureChunk(
                foot=merged.foot,
                t_s=merged.t_s[:samples_per_chunk],
                pressure_kpa={p: v[:samples_per_chunk] for p, v in merged.pressure_kpa.items()},
                sample_rate_hz=merged.sample_rate_hz,
            )
            rest = PressureChunk(
                foot=merged.foot,
                t_s=merged.t_s[samples_per_chunk:],
                pressure_kpa={p: v[samples_per_chunk:] for p, v in merged.pressure_kpa.items()},
                sample_rate_hz=merged.sample_rate_hz,
            )
            held = [rest] if len(rest.t_s) else []
            count = len(rest.t_s)
    if count:
        yield _merge(held)


class SessionSimulator:
    """Both feet of a scenario as a stream of `PressureChunk`s, seeded and deterministic."""

    def __init__(self, scenario: Scenario, *, seed: int = 0, sample_rate_hz: float = 100.0) -> None:
        if not (10.0 <= sample_rate_hz <= 1000.0):
            raise BadValue(
                "bad simulated sample rate",
                expected="10-1000 Hz",
                got=repr(sample_rate_hz),
                name="sample_rate_hz",
            )
        self.scenario = scenario
        self.seed = seed
        self.sample_rate_hz = sample_rate_hz
        self.pads = tuple(pad for pad in PAD_IDS if scenario.heel or pad != "heel")

    def foot_chunks(self, foot: Foot, chunk_s: float = 1.0) -> Iterator[PressureChunk]:
        """One foot's samples in chunks of `chunk_s` seconds."""
        if not chunk_s > 0:
            raise BadValue(
                "bad chunk length", expected="seconds > 0", got=repr(chunk_s), name="chunk_s"
            )
        foot_sim = FootSimulator(
            self.scenario, foot, seed=self.seed, sample_rate_hz=self.sample_rate_hz, block_s=1.0
        )
        return _rechunk(foot_sim.blocks(), max(1, round(chunk_s * self.sample_rate_hz)))

    def chunks(self, chunk_s: float = 1.0) -> Iterator[PressureChunk]:
        """Both feet, alternating left and right chunks that cover the same time."""
        left = self.foot_chunks("left", chunk_s)
        right = self.foot_chunks("right", chunk_s)
        for pair in zip(left, right, strict=True):
            yield from pair
