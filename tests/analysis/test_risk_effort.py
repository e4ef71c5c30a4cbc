"""The risk rules on sessions of real-world shape (issue 11, items 1, 2, 3 and 5): warm-ups and
drills before the run, pace changes, machines, and the rule details; each failure mode that
raised false alerts, and each condition that must still be caught."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from gait_signals import Bout, session, session_chunks

from numbguard.analysis.activity import classify_activity
from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.analysis.risk import RiskConfig, is_clearing
from numbguard.analysis.risk.baseline import Baseline
from numbguard.analysis.risk.bouts import BoutTracker
from numbguard.analysis.risk.cycles import CycleClock
from numbguard.analysis.risk.windows import (
    Bouts,
    FootWindower,
    GaitWindows,
    WindowBatch,
    pad_statistics,
)
from numbguard.pads import FOREFOOT_PADS, Foot
from numbguard.simulate import physical
from numbguard.types import Alert, FloatArray

Scales = tuple[tuple[str, float], ...]


def alerts_of(
    bouts: list[Bout],
    config: RiskConfig | None = None,
    right: list[Bout] | None = None,
) -> list[Alert]:
    """Raised alerts (not clearings) of both feet through the session analyzer; `right` gives
    the right foot its own bouts (a limp, one overloaded foot), else it mirrors the left."""
    analyzer = SessionAnalyzer(config)
    feet: dict[Foot, list[Bout]] = {"left": bouts, "right": right or bouts}
    streams = {foot: session_chunks(*session(b, foot), foot) for foot, b in feet.items()}
    for left_chunk, right_chunk in zip(streams["left"], streams["right"], strict=True):
        analyzer.feed(left_chunk)
        analyzer.feed(right_chunk)
    return [a for a in analyzer.finish().alerts if not is_clearing(a)]


def kinds(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.kind, a.foot) for a in alerts]


# Without the fixes: no settle time, a rise counts at once, any forefoot cycle is a machine.
OLD_STYLE = RiskConfig(
    baseline_settle_s=1e-3,
    bout_change_s=1e9,
    forefoot_rise_sustain_s=1e-3,
    forefoot_effort_exponent=1e-9,
    cyclic_min_relief=1e-9,
    machine_max_cycle_s=1e9,
)

WALK_3_MIN = Bout("walk", 180.0)
RUN_15_MIN = Bout("run", 900.0, 3.0)


def intervals() -> list[Bout]:
    """5 x 3 min at 4.5 m/s with 2 min easy in between, after a 2.6 m/s warm-up."""
    reps: list[Bout] = [Bout("run", 600.0, 2.6)]
    for _ in range(5):
        reps += [Bout("run", 180.0, 4.5), Bout("run", 120.0, 2.6)]
    return reps


def test_a_walk_before_the_run_does_not_set_the_running_baseline() -> None:
    # A runner whose running peaks (~370 kPa per step) are normal but above the 350 kPa a
    # rise needs: the walk's peaks are half of that.
    firm = tuple((pad, 1.2) for pad in ("ball_medial", "ball_center", "ball_lateral"))
    bouts = [Bout("walk", 180.0, scale=firm), Bout("run", 900.0, 3.0, firm)]
    assert alerts_of(bouts) == []
    # The failure mode is real: a baseline taken from the walk raises forefoot_overload.
    assert ("forefoot_overload", "left") in kinds(alerts_of(bouts, OLD_STYLE))


def test_standing_and_calf_raises_before_the_run_raise_nothing() -> None:
    bouts = [Bout("stand", 60.0), Bout("calf_raises", 30.0), Bout("stand", 20.0), RUN_15_MIN]
    assert alerts_of(bouts) == []


def test_intervals_do_not_raise_forefoot_overload() -> None:
    assert alerts_of(intervals()) == []
    # Each repetition is a 1.4x rise over the warm-up: judged without effort, it alerts.
    assert ("forefoot_overload", "left") in kinds(alerts_of(intervals(), OLD_STYLE))


def test_calf_raises_are_not_unrelieved_pressure() -> None:
    bouts = [Bout("run", 120.0), Bout("calf_raises", 30.0), Bout("stand", 60.0)]
    assert alerts_of(bouts) == []
    # Without the steps test, the forefoot that cycles without unloading looks like a machine.
    assert ("unrelieved_pressure", "left") in kinds(alerts_of(bouts, OLD_STYLE))


def on_the_spot(activity: str, foot: Foot, seconds: float = 90.0) -> dict[str, FloatArray]:
    """One foot on the field simulator's model (`simulate/physical.py`): 60 s standing,
    then `seconds` of calf raises (30/min, on the toes), an elliptical (62 strokes/min) or a
    stair machine (80 steps/min), then 30 s standing."""
    fs = 100.0
    t = np.arange(round((90.0 + seconds) * fs)) / fs
    right = foot == "right"
    loads = physical.standing(t, right)
    during = (t >= 60.0) & (t < 60.0 + seconds)
    if activity == "calf_raises":
        moving = physical.calf_raises(t, 60.0, 30.0)
    elif activity == "elliptical":
        moving = physical.elliptical(t, 60.0, 62.0, right)
    else:
        moving = physical.stair_machine(t, 60.0, 80.0, right)
    rng = np.random.default_rng(7 if right else 3)
    return {
        "t": t,
        **{
            pad: np.where(during, moving[pad], loads[pad]) + np.abs(rng.normal(0, 0.4, len(t)))
            for pad in loads
        },
    }


def alerts_on_the_spot(activity: str, config: RiskConfig | None = None) -> list[Alert]:
    analyzer = SessionAnalyzer(config)
    feet: tuple[Foot, ...] = ("left", "right")
    streams = []
    for foot in feet:
        signals = on_the_spot(activity, foot)
        t = signals.pop("t")
        streams.append(session_chunks(t, signals, foot))
    for left_chunk, right_chunk in zip(*streams, strict=True):
        analyzer.feed(left_chunk)
        analyzer.feed(right_chunk)
    return [a for a in analyzer.finish().alerts if not is_clearing(a)]


def test_calf_raises_that_drop_the_load_like_an_elliptical_are_not_a_machine() -> None:
    # On the toes the heel unloads and the ball pads read ~3x standing: the summed load drops
    # by about half of its peak, as on an elliptical, so the steps test alone passes them.
    steps_only = RiskConfig(machine_max_cycle_s=1e9)
    assert ("unrelieved_pressure", "left") in kinds(alerts_on_the_spot("calf_raises", steps_only))
    # 2 s per raise is slower than any machine's stroke or step.
    assert alerts_on_the_spot("calf_raises") == []


@pytest.mark.parametrize("machine", ["elliptical", "stair_machine"])
def test_machines_of_the_field_model_are_still_unrelieved_pressure(machine: str) -> None:
    alerts = alerts_on_the_spot(machine)
    assert sorted(kinds(alerts)) == [
        ("unrelieved_pressure", "left"),
        ("unrelieved_pressure", "right"),
    ]
    assert all(60.0 < a.t_s <= 90.0 for a in alerts)


@pytest.mark.parametrize("chunk_s", [0.37, 2.0, 7.3])
def test_cycle_times_do_not_depend_on_chunking(chunk_s: float) -> None:
    signals = on_the_spot("stair_machine", "left", 30.0)
    t = signals.pop("t")

    def periods(size_s: float) -> FloatArray:
        windower = FootWindower("left", 2.0, saturation_kpa=1000.0, min_kpa=-20.0, max_kpa=1500.0)
        clock = CycleClock(FOREFOOT_PADS)
        parts = [
            clock.periods_s(batch)
            for chunk in session_chunks(t, signals, "left", size_s)
            if (batch := windower.feed(chunk)) is not None
        ]
        return np.concatenate(parts)

    whole = periods(1e6)
    np.testing.assert_array_equal(periods(chunk_s), whole)
    # 80 steps/min is 1.5 s per foot; calf raises and standing have no machine pace.
    stepping_part = whole[31:44]
    np.testing.assert_allclose(stepping_part, 1.5, atol=0.02)


@pytest.mark.parametrize("machine", ["elliptical", "stairs"])
def test_machines_are_still_unrelieved_pressure(machine: str) -> None:
    alerts = alerts_of([Bout("run", 120.0), Bout(machine, 120.0)])
    assert sorted(kinds(alerts)) == [
        ("unrelieved_pressure", "left"),
        ("unrelieved_pressure", "right"),
    ]
    assert all(120.0 < a.t_s <= 150.0 for a in alerts)


def shifted(scales: Scales, minutes: float = 3.0, speed: float = 3.0) -> list[Bout]:
    """2 min of normal running, then `minutes` with the forefoot load scaled per pad."""
    return [Bout("run", 120.0, speed), Bout("run", minutes * 60.0, speed, scales)]


def test_a_medial_shift_is_caught_promptly() -> None:
    # Medial share 0.31 -> 0.54: under the absolute 0.58, but +0.23 over its own baseline.
    shift = (("ball_medial", 1.7), ("ball_center", 0.75), ("ball_lateral", 0.5))
    alerts = alerts_of(shifted(shift))
    assert {(a.kind, a.pads) for a in alerts} == {("metatarsal_hotspot", ("ball_medial",))}
    assert all(120.0 < a.t_s <= 120.0 + 30.0 for a in alerts)
    assert alerts[0].evidence["baseline_share"] == pytest.approx(0.31, abs=0.03)


def test_load_onto_the_lateral_ball_past_450_kpa_is_a_hotspot_with_toe_box_advice() -> None:
    # Lateral 160 -> 480 kPa per step, the others halved: concentrated and over 450 kPa.
    shift = (("ball_medial", 0.55), ("ball_center", 0.6), ("ball_lateral", 3.0))
    alerts = alerts_of(shifted(shift))
    assert {(a.kind, a.pads) for a in alerts} == {("metatarsal_hotspot", ("ball_lateral",))}
    assert all(any("wider toe box" in s for s in a.suggestions) for a in alerts)
    assert alerts[0].evidence["top_peak_kpa"] >= 450


def test_a_hotspot_held_by_its_swing_signature_is_not_also_overload() -> None:
    # The toe box presses the lateral ball (480 kPa per step, 14 kPa through swing); after
    # 3 min the other pads take a little more load and the lateral share drops to ~0.50,
    # under the share's hold level, while the pad stays pressed through swing: one cause.
    strong = (("ball_medial", 0.55), ("ball_center", 0.6), ("ball_lateral", 3.0))
    milder = (("ball_medial", 0.9), ("ball_center", 0.9), ("ball_lateral", 3.0))
    bouts = [Bout("run", 120.0), Bout("run", 180.0, 3.0, strong), Bout("run", 240.0, 3.0, milder)]
    analyzer = SessionAnalyzer()
    streams = []
    for foot in ("left", "right"):
        t, pressure = session(bouts if foot == "left" else [Bout("run", 540.0)], foot)
        if foot == "left":
            pressure["ball_lateral"] = pressure["ball_lateral"] + 14.0 * (t >= 120.0)
        streams.append(session_chunks(t, pressure, foot))
    for left_chunk, right_chunk in zip(*streams, strict=True):
        analyzer.feed(left_chunk)
        analyzer.feed(right_chunk)
    alerts = [a for a in analyzer.finish().alerts if not is_clearing(a)]
    assert kinds(alerts) == [("metatarsal_hotspot", "left")]
    assert alerts[0].suggestions[0].startswith("Try a shoe with a wider toe box")


def limp() -> tuple[list[Bout], list[Bout]]:
    """A heavy runner (forefoot peaks ~420 kPa per step, over the 400 kPa hold level) who
    starts sparing the left foot after 3 minutes."""
    heavy = (("ball_medial", 1.35), ("ball_center", 1.35), ("ball_lateral", 1.35))
    spared = (("ball_medial", 0.6), ("ball_center", 0.6), ("ball_lateral", 0.6))
    left = [Bout("run", 180.0, 3.0, heavy), Bout("run", 180.0, 3.0, spared)]
    right = [Bout("run", 180.0, 3.0, heavy), Bout("run", 180.0, 3.0, heavy)]
    return left, right


def test_a_limping_heavy_runner_gets_asymmetry_on_the_heavier_foot() -> None:
    left, right = limp()
    alerts = alerts_of(left, right=right)
    assert kinds(alerts) == [("asymmetry", "right")]
    assert 180.0 < alerts[0].t_s <= 210.0


def test_one_foot_overloaded_is_forefoot_overload_not_asymmetry() -> None:
    overloaded = (("ball_medial", 1.7), ("ball_center", 1.7), ("ball_lateral", 1.7))
    alerts = alerts_of(shifted(()), right=shifted(overloaded))
    assert kinds(alerts) == [("forefoot_overload", "right")]


Case = Callable[[], list[Bout]]


@pytest.mark.parametrize(
    "bouts",
    [
        pytest.param(lambda: [WALK_3_MIN, *shifted((("lace_upper", 5.5),))], id="tight-lacing"),
        pytest.param(
            lambda: [
                WALK_3_MIN,
                *shifted(tuple((p, 1.7) for p in ("ball_medial", "ball_center", "ball_lateral"))),
            ],
            id="overload",
        ),
    ],
)
def test_real_conditions_after_a_warm_up_walk_are_still_caught(bouts: Case) -> None:
    alerts = alerts_of(bouts())
    assert len({a.kind for a in alerts}) == 1 and len(alerts) == 2  # both feet, one kind
    assert all(300.0 < a.t_s <= 330.0 for a in alerts)


def test_a_runner_who_starts_overloaded_is_caught_by_the_absolute_level() -> None:
    overloaded = tuple((p, 1.7) for p in ("ball_medial", "ball_center", "ball_lateral"))
    alerts = alerts_of([Bout("run", 120.0, 3.0, overloaded)])
    assert kinds(alerts) == [("forefoot_overload", "left"), ("forefoot_overload", "right")]
    assert all(a.t_s <= 30.0 for a in alerts)


def test_a_slow_rise_that_holds_for_minutes_is_still_caught() -> None:
    # 1.35x at the same pace (peaks ~420 kPa, under 450): the rise of a long run.
    risen = tuple((p, 1.35) for p in ("ball_medial", "ball_center", "ball_lateral"))
    alerts = alerts_of(shifted(risen, minutes=6.0))
    assert kinds(alerts) == [("forefoot_overload", "left"), ("forefoot_overload", "right")]
    assert all(120.0 + 240.0 < a.t_s <= 120.0 + 240.0 + 30.0 for a in alerts)


def test_config_fields_of_the_bout_logic_are_positive() -> None:
    with pytest.raises(Exception, match="baseline_settle_s"):
        dataclasses.replace(RiskConfig(), baseline_settle_s=0.0)


@pytest.mark.parametrize(
    ("kind", "activity"),
    [
        ("calf_raises", "standing"),
        ("elliptical", "cyclic_unrelieved"),
        ("stairs", "cyclic_unrelieved"),
    ],
)
def test_the_session_summary_agrees_with_the_rules_on_drills_and_machines(
    kind: str, activity: str
) -> None:
    t_s, pressure = session([Bout(kind, 60.0)])
    windows = classify_activity(session_chunks(t_s, pressure, "left"))
    assert {w.activity for w in windows} == {activity}


def test_a_baseline_starts_over_per_bout_and_a_refresh_only_lowers_it() -> None:
    baseline = Baseline(windows_needed=3, refresh_windows=4)
    values = np.array([10.0, 10, 10, 12, 12, 12, 12, 20, 20, 20, 5, 5, 5])
    steady = np.ones(len(values), dtype=bool)
    one_bout = Bouts(np.full(len(values), 2, np.int8), np.ones(len(values), np.int64), steady)
    out = baseline.resolve(values, steady, one_bout)
    assert np.isnan(out[:3]).all() and (out[3:] == 10).all()  # 20s refresh: not taken up
    assert baseline.value == 10.0
    later = np.full(7, 5.0)
    baseline.resolve(later, np.ones(7, dtype=bool), Bouts(*_one_bout(7)))
    assert baseline.value == 5.0  # a lower steady level replaces it
    new_bout = Bouts(np.full(2, 1, np.int8), np.full(2, 2, np.int64), np.ones(2, dtype=bool))
    assert np.isnan(baseline.resolve(np.array([7.0, 7.0]), np.ones(2, dtype=bool), new_bout)).all()


def _one_bout(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(n, 2, np.int8), np.ones(n, np.int64), np.ones(n, dtype=bool)


def test_bouts_change_on_a_held_activity_change_or_a_long_pause_only() -> None:
    config = RiskConfig()
    tracker = BoutTracker(config)
    # 60 s running, 6 s walking (a blip), 60 s running, 20 s walking, 400 s stopped, running.
    plan = [(2, 60), (1, 6), (2, 60), (1, 20), (0, 400), (2, 40)]
    codes = np.concatenate([np.full(round(s / config.window_s), c) for c, s in plan])
    bouts = _label(tracker, codes, config)
    first = bouts.bout[: (60 + 6 + 60) // 2]
    assert len(set(first.tolist())) == 1  # the short walk did not split the run
    assert len(set(bouts.bout.tolist())) == 3  # the 20 s walk and the long stop did
    assert not bouts.steady[:15].any() and bouts.steady[16:30].all()  # settles after 30 s


def _label(tracker: BoutTracker, codes: np.ndarray, config: RiskConfig) -> Bouts:
    """Bouts of windows whose activity is `codes` (0 not stepping, 1 walking, 2 running)."""
    n = len(codes)
    duty = np.where(codes == 1, 0.6, 0.35)
    batch = WindowBatch(
        foot="left",
        t_start_s=np.arange(n) * config.window_s,
        t_end_s=(np.arange(n) + 1) * config.window_s,
        pad_ids=(),
        table=pad_statistics(np.zeros((0, n, 2)), 1000.0, -20.0, 1500.0),
        gait=GaitWindows(relief=np.ones(n), duty=duty),
    )
    return tracker.label(batch, codes > 0)


def test_an_overload_of_a_runner_whose_centre_share_is_high_is_still_caught() -> None:
    # Centre share ~0.55 from the start: between the hotspot's hold (0.52) and raise (0.58)
    # levels and no rise, so not a hotspot; then every pad x1.7 (the centre past 600 kPa).
    usual = {"ball_medial": 0.81, "ball_center": 1.16, "ball_lateral": 0.78}
    before = tuple(usual.items())
    after = tuple((pad, 1.7 * scale) for pad, scale in usual.items())
    alerts = alerts_of([Bout("run", 120.0, 3.0, before), Bout("run", 120.0, 3.0, after)])
    assert kinds(alerts) == [("forefoot_overload", "left"), ("forefoot_overload", "right")]


def test_a_tempo_run_after_the_warm_up_is_effort_even_past_a_baseline_refresh() -> None:
    # 20 min at 4.5 m/s after 10 min at 2.6: the baseline is refreshed (downward) during the
    # tempo; load and effort are refreshed together, so the tempo stays normal.
    alerts = alerts_of([Bout("run", 600.0, 2.6), Bout("run", 1200.0, 4.5)])
    assert alerts == []
