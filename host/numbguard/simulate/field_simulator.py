"""Rendering a field scenario: the physical model, then the sensor chain, then the faults.

A foot is rendered whole (a 30 min session is ~1.4 MB per pad at 100 Hz) and then cut into
chunks, so the output is the same whatever chunk size a caller asks for. Randomness comes
from streams seeded by (seed, scenario, foot, purpose): steps, sensors, noise and faults.

Step to step, a running contact varies by 3% in length and 1.5% in stride, and each pad's
peak by 6% on top of a 4% whole-step factor. Changes of speed take 6 s.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np

from numbguard.errors import BadValue
from numbguard.pads import FOOT_IDS, PAD_IDS, Foot
from numbguard.simulate import physical, sensor_chain
from numbguard.simulate.field import STEPPING, Change, FieldScenario, Stretch
from numbguard.types import FloatArray, PressureChunk

_SPEED_RAMP_S = 6.0
# How each change moves the forefoot's load (factors on the step peaks). Judgement: each is
# sized so the condition is plain to a careful eye on the raw data.
_MEDIAL_SHIFT = {"ball_medial": 1.9, "ball_center": 0.6, "ball_lateral": 0.6}
_LATERAL_LOAD = {"ball_medial": 0.7, "ball_center": 0.75, "ball_lateral": 2.8}
_LATERAL_SWING_KPA = 16.0  # the toe box keeps pressing the lateral ball through swing
_FAVOURED = {"heel": 0.8, "ball_medial": 0.6, "ball_center": 0.6, "ball_lateral": 0.6}
_OTHER_FOOT = 1.08  # the other foot's plantar peaks while one is favoured
_TIGHT_STATIC_KPA = {"lace_lower": 12.0, "lace_upper": 18.0}
_TIGHT_FLEX = 1.8  # factor on the toe-off lace rise in a tight shoe


def _ramp(change: Change, t_s: float | FloatArray) -> FloatArray:
    """0 before onset, rising to 1 over `ramp_s`, 0 again after the end."""
    t = np.asarray(t_s, dtype=np.float64)
    if change.ramp_s > 0:
        rise = np.clip((t - change.onset_s) / change.ramp_s, 0.0, 1.0)
    else:
        rise = (t >= change.onset_s).astype(np.float64)
    return np.where(t < change.end_s, rise, 0.0)


class FieldFootRenderer:
    """One foot of a field scenario."""

    def __init__(self, scenario: FieldScenario, foot: Foot, seed: int, sample_rate_hz: float):
        self.scenario = scenario
        self.foot: Foot = foot
        self.right = foot == "right"
        self.fs = sample_rate_hz
        self._key = [seed, zlib.crc32(scenario.name.encode()), FOOT_IDS.index(foot)]
        self.n = round(scenario.duration_s * sample_rate_hz)
        self.t_s = np.arange(self.n, dtype=np.float64) / sample_rate_hz
        self.mine = tuple(c for c in scenario.changes if c.foot == foot)
        self.others = tuple(c for c in scenario.changes if c.foot != foot)

    def _rng(self, *purpose: int) -> np.random.Generator:
        return np.random.default_rng([*self._key, *purpose])

    # --- the body ---

    def _stretch_at(self, t_s: float) -> tuple[int, Stretch] | None:
        for index, stretch in enumerate(self.scenario.stretches):
            if stretch.start_s <= t_s < stretch.end_s:
                return index, stretch
        return None

    def _speed(self, index: int, t_s: float) -> tuple[float, float]:
        """Speed and grade at `t_s`, blending from the previous stepping stretch."""
        stretch = self.scenario.stretches[index]
        into_s = t_s - stretch.start_s
        if index > 0 and into_s < _SPEED_RAMP_S:
            before = self.scenario.stretches[index - 1]
            if before.activity in STEPPING:
                w = into_s / _SPEED_RAMP_S
                return (
                    before.speed_m_s + w * (stretch.speed_m_s - before.speed_m_s),
                    before.grade_pct + w * (stretch.grade_pct - before.grade_pct),
                )
        return stretch.speed_m_s, stretch.grade_pct

    def contacts(self) -> Iterator[physical.Contact]:
        """Every ground contact of this foot, in time order."""
        rng = self._rng(1)
        t = 0.0
        stretches = self.scenario.stretches
        while t < self.scenario.duration_s:
            found = self._stretch_at(t)
            if found is None:
                return
            index, stretch = found
            if stretch.activity not in STEPPING:
                nxt = next((s for s in stretches[index + 1 :] if s.activity in STEPPING), None)
                if nxt is None:
                    return
                cadence = self._cadence(nxt, nxt.speed_m_s, nxt.grade_pct)
                t = nxt.start_s + 0.15 + (60.0 / cadence if self.right else 0.0)
                continue
            speed, grade = self._speed(index, t)
            cadence = self._cadence(stretch, speed, grade)
            stride_s = 120.0 / cadence * (1.0 + rng.normal(0.0, 0.015))
            walking = stretch.activity == "walking"
            tired = 1.0 + self.scenario.fatigue_per_h * t / 3600.0
            if walking:
                contact_s = 0.62 * stride_s
                peaks = physical.walking_peaks_kpa(speed, grade)
            else:
                contact_s = physical.running_contact_s(speed, grade) * (1.0 + (tired - 1.0) / 2)
                peaks = physical.running_peaks_kpa(speed, grade)
                peaks = {p: v * (tired if p != "heel" else 1.0) for p, v in peaks.items()}
            contact_s *= 1.0 + rng.normal(0.0, 0.03)
            whole = 1.0 + rng.normal(0.0, 0.04)
            peaks = {
                pad: peak * self.scenario.body_scale * whole * (1.0 + rng.normal(0.0, 0.06))
                * self._step_factor(pad, t)
                for pad, peak in peaks.items()
            }  # fmt: skip
            if t + contact_s < stretch.end_s:
                yield physical.Contact(t, contact_s, walking, peaks, self._lace_flex(t))
            t += stride_s

    def _cadence(self, stretch: Stretch, speed: float, grade: float) -> float:
        if stretch.activity == "walking":
            return physical.walking_cadence_spm(speed)
        return physical.running_cadence_spm(speed, grade)

    def _step_factor(self, pad: str, t_s: float) -> float:
        factor = 1.0
        for change in self.mine:
            w = float(_ramp(change, t_s))
            if change.kind == "medial_shift":
                factor *= 1.0 + w * (_MEDIAL_SHIFT.get(pad, 1.0) - 1.0)
            elif change.kind == "lateral_load":
                factor *= 1.0 + w * (_LATERAL_LOAD.get(pad, 1.0) - 1.0)
            elif change.kind == "favour":
                factor *= 1.0 + w * (_FAVOURED[pad] - 1.0)
        for change in self.others:
            if change.kind == "favour":
                factor *= 1.0 + float(_ramp(change, t_s)) * (_OTHER_FOOT - 1.0)
        return factor

    def _lace_flex(self, t_s: float) -> float:
        tight = sum(float(_ramp(c, t_s)) for c in self.mine if c.kind == "tight_lacing")
        return 1.0 + (_TIGHT_FLEX - 1.0) * min(1.0, tight)

    def true_load(self) -> dict[str, FloatArray]:
        """What the foot puts on each pad (kPa), before the sensor."""
        load = {pad: np.zeros(self.n) for pad in PAD_IDS}
        t = self.t_s
        for contact in self.contacts():
            lo = int(np.ceil(contact.t_on_s * self.fs))
            hi = min(self.n, int(np.floor((contact.t_on_s + contact.contact_s) * self.fs)) + 1)
            u = (t[lo:hi] - contact.t_on_s) / contact.contact_s
            rollover = physical.WALK_ROLLOVER if contact.walking else physical.RUN_ROLLOVER
            power = 1.0 if contact.walking else 2.0
            for pad, peak in contact.peaks_kpa.items():
                load[pad][lo:hi] += peak * physical.pulse(u, rollover[pad], power)
            for pad in physical.LACES:
                rise = physical.LACE_FLEX_KPA[pad] * contact.lace_flex
                load[pad][lo:hi] += rise * physical.pulse(u, rollover[pad], 2.0)
        for stretch in self.scenario.stretches:
            if stretch.activity in STEPPING:
                continue
            inside = slice(
                round(stretch.start_s * self.fs), min(self.n, round(stretch.end_s * self.fs))
            )
            for pad, values in self._still(t[inside], stretch).items():
                load[pad][inside] += values * self.scenario.body_scale
        self._lace_static(load)
        self._swing_pressure(load)
        return load

    def _still(self, t: FloatArray, stretch: Stretch) -> dict[str, FloatArray]:
        """Loads of the activities without steps."""
        if stretch.activity == "standing":
            return physical.standing(t, self.right)
        if stretch.activity == "calf_raises":
            loads = physical.calf_raises(t, stretch.start_s, stretch.rate_per_min)
            lift = physical.calf_raise_lift(t, stretch.start_s, stretch.rate_per_min)
            for pad in physical.LACES:  # the forefoot flexes on the toes
                loads[pad] = 0.6 * physical.LACE_FLEX_KPA[pad] * lift
            return loads
        if stretch.activity == "weight_shifts":
            return physical.weight_shifts(t, stretch.start_s, stretch.rate_per_min, self.right)
        if stretch.activity == "elliptical":
            return physical.elliptical(t, stretch.start_s, stretch.rate_per_min, self.right)
        return physical.stair_machine(t, stretch.start_s, stretch.rate_per_min, self.right)

    def _lace_static(self, load: dict[str, FloatArray]) -> None:
        for pad, level in physical.LACE_STATIC_KPA.items():
            load[pad] += level
            for change in self.mine:
                if change.kind == "tight_lacing":
                    load[pad] += _TIGHT_STATIC_KPA[pad] * _ramp(change, self.t_s)

    def _swing_pressure(self, load: dict[str, FloatArray]) -> None:
        for change in self.mine:
            if change.kind == "lateral_load":
                stepping = np.zeros(self.n, dtype=bool)
                for s in self.scenario.stretches:
                    if s.activity in STEPPING:
                        stepping |= (self.t_s >= s.start_s) & (self.t_s < s.end_s)
                press = _LATERAL_SWING_KPA * _ramp(change, self.t_s) * stepping
                load["ball_lateral"] = np.maximum(load["ball_lateral"], press)

    # --- the sensors ---

    def readings(self) -> dict[str, FloatArray]:
        """What the calibrated insole reports for this foot (kPa), faults included."""
        load = self.true_load()
        sensors = self._rng(2)
        noise = self._rng(3)
        out = {}
        for pad in PAD_IDS:
            sensor = sensor_chain.draw_sensor(sensors, pad in physical.LACES)
            out[pad] = sensor_chain.sense(load[pad], self.t_s, sensor, noise, self.fs)
        faults = self._rng(4)
        for change in self.mine:
            if change.kind == "sweat_leak":
                sensor_chain.sweat_leak(out[change.pad], self.t_s, change.onset_s, faults)
            elif change.kind == "loose_wire":
                sensor_chain.loose_wire(
                    out[change.pad], load[change.pad], self.t_s, change.onset_s, faults, self.fs
                )
            elif change.kind == "pad_flat":
                sensor_chain.pad_flat(out[change.pad], self.t_s, change.onset_s)
        return {pad: np.round(values, 2) for pad, values in out.items()}


class FieldSimulator:
    """Both feet of a field scenario as `PressureChunk`s, seeded and deterministic."""

    def __init__(
        self, scenario: FieldScenario, *, seed: int = 0, sample_rate_hz: float = 100.0
    ) -> None:
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

    def renderer(self, foot: Foot) -> FieldFootRenderer:
        return FieldFootRenderer(self.scenario, foot, self.seed, self.sample_rate_hz)

    def foot(self, foot: Foot) -> PressureChunk:
        """One foot's whole session as one chunk."""
        renderer = self.renderer(foot)
        return PressureChunk(foot, renderer.t_s, renderer.readings(), self.sample_rate_hz)

    def foot_chunks(self, foot: Foot, chunk_s: float = 1.0) -> Iterator[PressureChunk]:
        if not chunk_s > 0:
            raise BadValue(
                "bad chunk length", expected="seconds > 0", got=repr(chunk_s), name="chunk_s"
            )
        whole = self.foot(foot)
        step = max(1, round(chunk_s * self.sample_rate_hz))
        for start in range(0, len(whole.t_s), step):
            part = slice(start, start + step)
            yield PressureChunk(
                foot,
                whole.t_s[part],
                {pad: values[part] for pad, values in whole.pressure_kpa.items()},
                self.sample_rate_hz,
            )

    def chunks(self, chunk_s: float = 1.0) -> Iterator[PressureChunk]:
        """Both feet, alternating left and right chunks that cover the same time."""
        left = self.foot_chunks("left", chunk_s)
        right = self.foot_chunks("right", chunk_s)
        for pair in zip(left, right, strict=True):
            yield from pair
