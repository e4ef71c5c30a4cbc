"""Sensor drift: a slow gain drift or a drifting / untared zero does not look like a rise, and
real rises during the drift are still seen.

Each drift case runs twice: with the drift correction (no alert) and with it switched off
(gain and zero pinned), where the same signal raises the rise alert, so the test proves the
correction is what keeps it quiet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from numbguard.analysis.risk import FootRiskEngine, RiskConfig, is_clearing
from numbguard.analysis.risk.drift import DriftTracker
from numbguard.types import Alert, FloatArray, PressureChunk

RATE_HZ = 100.0
STRIDE_S = 0.7
CONTACT_S = 0.25
PLANTAR = ("heel", "ball_medial", "ball_center", "ball_lateral")
# Drift correction off: the zero can never leave 0 and the gain never leaves 1.
NO_DRIFT_CORRECTION = RiskConfig(drift_zero_max_kpa=1e-9, drift_gain_max=1.0 + 1e-12)

Effect = Callable[[FloatArray, dict[str, FloatArray]], None]


def stance(t: FloatArray, start_frac: float = 0.1) -> FloatArray:
    u = (np.mod(t, STRIDE_S) / CONTACT_S - start_frac) / (1 - start_frac)
    return np.where((u >= 0) & (u <= 1), np.sin(np.pi * np.clip(u, 0, 1)) ** 2, 0.0)


def run(t: FloatArray) -> dict[str, FloatArray]:
    """A normal run with a little stride-to-stride variation and sensor noise."""
    rng = np.random.default_rng(int(t[0] * 100))
    stride = 1.0 + 0.03 * np.sin(2 * np.pi * t / 37.0)
    pads = {
        "heel": 170 * stance(t, 0.0),
        "ball_medial": 210 * stance(t),
        "ball_center": 310 * stance(t),
        "ball_lateral": 160 * stance(t),
    }
    out = {pad: v * stride for pad, v in pads.items()}
    out["lace_lower"] = 3 + 7 * stance(t, 0.0)
    out["lace_upper"] = 4.5 + 11 * stance(t, 0.0)
    return {pad: np.maximum(v + np.abs(rng.normal(0, 0.3, len(t))), 0.0) for pad, v in out.items()}


def ramp(t: FloatArray, start_s: float, length_s: float) -> FloatArray:
    """0 before `start_s`, rising linearly to 1 over `length_s`, then 1."""
    return np.clip((t - start_s) / length_s, 0.0, 1.0)


def warm_up(rise: float = 0.35) -> Effect:
    """Every plantar pad's gain rises by `rise` from minute 2 to minute 22 (the insole warms)."""

    def apply(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        for pad in PLANTAR:
            pressure[pad] = pressure[pad] * (1.0 + rise * ramp(t, 120.0, 1200.0))

    return apply


def analyse(
    *effects: Effect, duration_s: float = 1500.0, config: RiskConfig | None = None
) -> list[Alert]:
    engine = FootRiskEngine("left", config)
    alerts: list[Alert] = []
    n = round(10.0 * RATE_HZ)
    for start in range(0, round(duration_s * RATE_HZ), n):
        t = np.arange(start, start + n) / RATE_HZ
        pressure = run(t)
        for effect in effects:
            effect(t, pressure)
        alerts += engine.feed(PressureChunk("left", t, pressure, RATE_HZ))
    return alerts + engine.finish()


def kinds(alerts: list[Alert]) -> list[str]:
    return [a.kind for a in alerts if not is_clearing(a)]


def test_a_warm_up_gain_drift_raises_no_rise_alert() -> None:
    assert kinds(analyse(warm_up())) == []
    # The same drift, uncorrected, looks like a 1.35x forefoot rise.
    assert "forefoot_overload" in kinds(analyse(warm_up(), config=NO_DRIFT_CORRECTION))


def test_one_pad_drifting_30_percent_is_undone_on_that_pad_alone() -> None:
    def centre_drifts(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        pressure["ball_center"] = pressure["ball_center"] * (1 + 0.3 * ramp(t, 120, 1200))

    tracker = drift_after(centre_drifts)
    gains = dict(zip(PLANTAR, tracker.gain, strict=True))
    assert abs(gains.pop("ball_center") - 1.3) < 0.05
    np.testing.assert_allclose(list(gains.values()), 1.0, atol=0.02)


def test_load_moving_between_pads_at_the_same_total_is_not_drift() -> None:
    # Load shifts from the heel onto the forefoot (the body's total unchanged): a real change.
    def shift(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        heel = pressure["heel"]
        moved = 0.4 * heel * ramp(t, 300, 60)
        pressure["heel"] = heel - moved
        pressure["ball_center"] = pressure["ball_center"] + moved

    np.testing.assert_allclose(drift_after(shift).gain, 1.0, atol=0.02)


def test_a_real_lacing_rise_during_the_drift_still_raises() -> None:
    def tightened(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        pressure["lace_upper"] = np.where(
            t >= 900, 24 + 12 * stance(t, 0.0), pressure["lace_upper"]
        )

    alerts = [a for a in analyse(warm_up(), tightened) if not is_clearing(a)]
    assert {a.kind for a in alerts} == {"tight_lacing"}  # raised, then escalated by the dose
    assert 900 < alerts[0].t_s <= 930


def test_a_real_forefoot_overload_during_the_drift_still_raises() -> None:
    def overloaded(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        for pad in ("ball_medial", "ball_center", "ball_lateral"):
            pressure[pad] = np.where(t >= 900, 1.6 * pressure[pad], pressure[pad])

    alerts = [a for a in analyse(warm_up(), overloaded) if not is_clearing(a)]
    assert alerts and alerts[0].kind == "forefoot_overload"
    assert 900 < alerts[0].t_s <= 930


def test_an_untared_or_drifting_zero_is_not_a_hotspot() -> None:
    def untared(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        pressure["ball_medial"] = pressure["ball_medial"] + 15.0  # from the first sample

    def creeping(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        pressure["ball_lateral"] = pressure["ball_lateral"] + 16.0 * ramp(t, 120.0, 1200.0)

    for effect in (untared, creeping):
        assert kinds(analyse(effect)) == [], effect.__name__
        # Uncorrected, the floor looks like a pad held through swing (a tight toe box).
        assert "metatarsal_hotspot" in kinds(analyse(effect, config=NO_DRIFT_CORRECTION))


def test_a_real_toe_box_floor_appearing_mid_run_is_still_a_hotspot() -> None:
    def toe_box(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        pressure["ball_lateral"] = np.where(
            t >= 600, 18.0 + pressure["ball_lateral"], pressure["ball_lateral"]
        )

    alerts = [a for a in analyse(toe_box, duration_s=900) if not is_clearing(a)]
    assert [(a.kind, a.pads) for a in alerts] == [("metatarsal_hotspot", ("ball_lateral",))]
    assert 600 < alerts[0].t_s <= 630


def drift_after(*effects: Effect, duration_s: float = 1500.0) -> DriftTracker:
    engine = FootRiskEngine("left")
    n = round(10.0 * RATE_HZ)
    for start in range(0, round(duration_s * RATE_HZ), n):
        t = np.arange(start, start + n) / RATE_HZ
        pressure = run(t)
        for effect in effects:
            effect(t, pressure)
        engine.feed(PressureChunk("left", t, pressure, RATE_HZ))
    tracker = engine._drift
    assert isinstance(tracker, DriftTracker)
    return tracker


def test_a_sudden_rise_of_the_total_is_a_real_change_not_drift() -> None:
    # The forefoot carries 1.35x from 5 min on, at once: faster than any drift followed, so
    # the gains stay put (the rise is the forefoot rules' to judge), during the warm-up too.
    def jump(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        for pad in ("ball_medial", "ball_center", "ball_lateral"):
            pressure[pad] = pressure[pad] * np.where(t >= 300.0, 1.35, 1.0)

    np.testing.assert_allclose(drift_after(jump).gain, 1.0, atol=0.01)
    # The warm-up that follows the jump is still followed.
    tracker = drift_after(jump, warm_up(0.2), duration_s=1800.0)
    assert all(tracker.gain > 1.1)


def test_the_tracker_follows_a_warm_up_and_a_raised_floor() -> None:
    def heel_floor(t: FloatArray, pressure: dict[str, FloatArray]) -> None:
        pressure["heel"] = pressure["heel"] + 8.0

    tracker = drift_after(warm_up(0.3), heel_floor)
    np.testing.assert_allclose(tracker.gain, 1.3, atol=0.05)
    assert abs(tracker.zero_kpa[0] - 8.0) < 1.0  # heel: its swing floor
    np.testing.assert_allclose(tracker.zero_kpa[1:], 0.0, atol=1.0)
