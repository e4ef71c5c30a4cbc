"""Each risk rule on hand-made pad signals: raises when it should, stays quiet when not."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numbguard.analysis.pipeline import SessionAnalyzer
from numbguard.analysis.risk import FootRiskEngine, RiskConfig, is_clearing
from numbguard.analysis.risk.asymmetry import MAX_WAITING, BilateralAsymmetry
from numbguard.analysis.risk.windows import FootWindower
from numbguard.errors import InputError
from numbguard.types import Alert, FloatArray, PressureChunk

RATE_HZ = 100.0
STRIDE_S = 0.7  # 171 steps/min
CONTACT_S = 0.25


def stance(t: FloatArray, start_frac: float = 0.1) -> FloatArray:
    """1 in mid-contact, 0 in swing: a sin^2 bump per stride."""
    u = (np.mod(t, STRIDE_S) / CONTACT_S - start_frac) / (1 - start_frac)
    return np.where((u >= 0) & (u <= 1), np.sin(np.pi * np.clip(u, 0, 1)) ** 2, 0.0)


Signal = Callable[[FloatArray], FloatArray]


def run_signals(**overrides: Signal) -> dict[str, Signal]:
    """A normal run (peaks like the brief's 313 kPa), with some pads replaced."""
    pads: dict[str, Signal] = {
        "heel": lambda t: 170 * stance(t, 0.0),
        "ball_medial": lambda t: 210 * stance(t),
        "ball_center": lambda t: 310 * stance(t),
        "ball_lateral": lambda t: 160 * stance(t),
        "lace_lower": lambda t: 3 + 7 * stance(t, 0.0),
        "lace_upper": lambda t: 4.5 + 11 * stance(t, 0.0),
    }
    pads.update(overrides)
    return pads


def analyse(
    signals: dict[str, Signal],
    duration_s: float = 180.0,
    config: RiskConfig | None = None,
    chunk_s: float = 5.0,
    seed: int = 0,
) -> list[Alert]:
    rng = np.random.default_rng(seed)
    engine = FootRiskEngine("left", config)
    alerts: list[Alert] = []
    n = round(chunk_s * RATE_HZ)
    total = round(duration_s * RATE_HZ)
    for start in range(0, total, n):
        t = np.arange(start, min(start + n, total)) / RATE_HZ
        pressure = {
            pad: np.maximum(make(t) + np.abs(rng.normal(0, 0.3, len(t))), 0.0)
            for pad, make in signals.items()
        }
        alerts += engine.feed(PressureChunk("left", t, pressure, RATE_HZ))
    return alerts + engine.finish()


def raised(alerts: list[Alert], kind: str | None = None) -> list[Alert]:
    return [a for a in alerts if not is_clearing(a) and (kind is None or a.kind == kind)]


def step_at(onset_s: float, before: Signal, after: Signal) -> Signal:
    return lambda t: np.where(t < onset_s, before(t), after(t))


def test_a_normal_run_raises_nothing() -> None:
    assert analyse(run_signals()) == []


def test_tight_lacing_raises_within_30_s_of_onset_on_the_tight_pad() -> None:
    tight = step_at(90.0, lambda t: 4.5 + 11 * stance(t, 0), lambda t: 24 + 12 * stance(t, 0))
    alerts = raised(analyse(run_signals(lace_upper=tight)))
    assert [(a.kind, a.pads, a.severity) for a in alerts] == [
        ("tight_lacing", ("lace_upper",), "warning")
    ]
    assert 90.0 < alerts[0].t_s <= 120.0
    assert alerts[0].evidence["lace_static_kpa"] == pytest.approx(24.0, abs=1.0)
    assert alerts[0].evidence["baseline_static_kpa"] == pytest.approx(4.5, abs=1.0)
    assert alerts[0].suggestions[0] == "Loosen the laces over the pressure point."


def test_tight_lacing_rise_over_the_runners_baseline_counts_below_the_absolute_level() -> None:
    # 13 kPa is under the 15 kPa raise level but 8.5 kPa over this runner's 4.5 kPa.
    risen = step_at(90.0, lambda t: 4.5 + 0 * t, lambda t: 13 + 0 * t)
    assert raised(analyse(run_signals(lace_upper=risen)), "tight_lacing")
    # The same 13 kPa from the start is this runner's normal: no alert.
    assert not raised(analyse(run_signals(lace_upper=lambda t: 13 + 0 * t)), "tight_lacing")


def test_severe_static_lace_pressure_escalates_to_alert() -> None:
    alerts = raised(analyse(run_signals(lace_upper=lambda t: 30 + 0 * t), duration_s=60))
    assert [a.severity for a in alerts] == ["alert"]


def test_hysteresis_keeps_an_alert_between_the_levels_and_recovery_clears_it() -> None:
    def lace(t: FloatArray) -> FloatArray:
        # tight, then between hold (11) and raise (15) levels, then loose
        return np.select([t < 60, t < 120], [20 + 0 * t, 13 + 0 * t], 4 + 0 * t)

    alerts = analyse(run_signals(lace_upper=lace), duration_s=200)
    assert [(a.kind, is_clearing(a)) for a in alerts] == [
        ("tight_lacing", False),
        ("tight_lacing", True),
    ]
    cleared = alerts[1]
    assert 120 + 30 <= cleared.t_s <= 120 + 30 + 4
    assert cleared.severity == "info" and cleared.suggestions == ()


def test_rate_limit_does_not_repeat_a_kind_within_five_minutes() -> None:
    def lace(t: FloatArray) -> FloatArray:
        on = np.mod(t, 80.0) < 40.0  # 40 s tight, 40 s loose, over and over
        return np.where(on, 20.0, 4.0)

    alerts = analyse(run_signals(lace_upper=lace), duration_s=400)
    raises = raised(alerts, "tight_lacing")
    assert len(raises) == 2  # at ~12 s and again only once 300 s have passed
    assert raises[1].t_s - raises[0].t_s >= 300


def forefoot_scaled(onset_s: float, factor: float) -> dict[str, Signal]:
    """Every forefoot pad's peak times `factor` from `onset_s` (the load pattern unchanged)."""
    peaks = {"ball_medial": 210.0, "ball_center": 310.0, "ball_lateral": 160.0}

    def scaled(peak: float) -> Signal:
        return lambda t: np.where(t < onset_s, 1.0, factor) * peak * stance(t)

    return {pad: scaled(peak) for pad, peak in peaks.items()}


def test_forefoot_overload_absolute_and_relative() -> None:
    alerts = raised(analyse(run_signals(**forefoot_scaled(90.0, 1.7))))
    assert [(a.kind, a.pads) for a in alerts] == [("forefoot_overload", ("ball_center",))]
    assert 90 < alerts[0].t_s <= 120
    # 1.39 x 310 = 430 kPa is under the 450 kPa level, but a rise over this runner's own peak
    # (at the same effort): it counts once it has held for forefoot_rise_sustain_s (240 s).
    risen = raised(analyse(run_signals(**forefoot_scaled(90.0, 1.39)), 400.0), "forefoot_overload")
    assert len(risen) == 1 and 90 + 240 < risen[0].t_s <= 90 + 240 + 30
    assert not raised(analyse(run_signals(**forefoot_scaled(90.0, 1.39))), "forefoot_overload")
    # The same 430 kPa from the first step is this runner's normal.
    assert not raised(analyse(run_signals(**forefoot_scaled(0.0, 1.39))))


def test_forefoot_peaks_while_standing_are_not_assessed() -> None:
    static = dict.fromkeys(("ball_medial", "ball_center", "ball_lateral"), lambda t: 500 + 0 * t)
    assert not raised(analyse(run_signals(**static), duration_s=90), "forefoot_overload")


def test_metatarsal_hotspot_from_load_share() -> None:
    shift = {
        "ball_medial": step_at(90.0, lambda t: 210 * stance(t), lambda t: 90 * stance(t)),
        "ball_center": step_at(90.0, lambda t: 310 * stance(t), lambda t: 130 * stance(t)),
        "ball_lateral": step_at(90.0, lambda t: 160 * stance(t), lambda t: 380 * stance(t)),
    }
    alerts = raised(analyse(run_signals(**shift)))
    assert [(a.kind, a.pads) for a in alerts] == [("metatarsal_hotspot", ("ball_lateral",))]
    assert alerts[0].evidence["top_share"] >= 0.58
    assert not any("diagnos" in s.lower() for s in alerts[0].suggestions)


def test_metatarsal_hotspot_from_pressure_persisting_in_swing() -> None:
    swing = step_at(90.0, lambda t: 160 * stance(t), lambda t: 15 + 160 * stance(t))
    alerts = raised(analyse(run_signals(ball_lateral=swing)))
    assert [(a.kind, a.pads) for a in alerts] == [("metatarsal_hotspot", ("ball_lateral",))]
    assert alerts[0].evidence["swing_kpa"] >= 12


def cycling(level_kpa: float, swing_kpa: float, hz: float) -> dict[str, Signal]:
    """Every forefoot pad between `level_kpa` and `level_kpa + swing_kpa` at `hz`."""

    def wave(t: FloatArray) -> FloatArray:
        return level_kpa + swing_kpa * (0.5 - 0.5 * np.cos(2 * np.pi * hz * t))

    return dict.fromkeys(("ball_medial", "ball_center", "ball_lateral"), wave)


@pytest.mark.parametrize("hz", [0.6, 1.0, 1.5])
def test_unrelieved_pressure_cycles_without_unloading(hz: float) -> None:
    alerts = raised(analyse(run_signals(**cycling(40, 90, hz)), duration_s=60))
    assert [a.kind for a in alerts] == ["unrelieved_pressure"]
    assert alerts[0].t_s <= 30


def test_slow_weight_shifts_while_standing_are_not_unrelieved_pressure() -> None:
    # Rocking from heel to forefoot every 5 s: large swings, but no stepping cycle.
    shifting = cycling(40, 80, 0.2)
    heel = lambda t: 120 - 0.5 * shifting["ball_center"](t)  # noqa: E731
    assert raised(analyse(run_signals(**shifting, heel=heel), duration_s=120)) == []


def test_standing_still_is_not_unrelieved_pressure() -> None:
    standing = {pad: lambda t: 60 + 5 * np.sin(0.4 * np.pi * t) for pad in ("ball_center",)}
    quiet = {pad: lambda t: 30 + 0 * t for pad in ("ball_medial", "ball_lateral", "heel")}
    assert raised(analyse(run_signals(**standing, **quiet), duration_s=120)) == []


@pytest.mark.parametrize(
    ("pad", "signal", "fault"),
    [
        ("ball_center", lambda t: np.where(t < 60, 310 * stance(t), 1000.0), "shorted"),
        ("lace_upper", lambda t: np.where(t < 60, 4.5 + 11 * stance(t, 0), 1000.0), "shorted"),
        (
            "ball_lateral",
            lambda t: np.where((t > 60) & (np.mod(t, 0.37) < 0.02), 2500.0, 160 * stance(t)),
            "implausible",
        ),
    ],
)
def test_a_faulty_pad_raises_sensor_fault_and_nothing_else(
    pad: str, signal: Signal, fault: str
) -> None:
    alerts = analyse(run_signals(**{pad: signal}), duration_s=150)
    assert [(a.kind, a.pads) for a in raised(alerts)] == [("sensor_fault", (pad,))]
    assert raised(alerts)[0].evidence[f"{pad}_fault"] == fault


def analyse_flat(pad: str, value_kpa: float) -> list[Alert]:
    engine = FootRiskEngine("left")
    alerts: list[Alert] = []
    for start in range(0, 150 * 100, 500):
        t = np.arange(start, start + 500) / RATE_HZ
        pressure = {p: make(t) for p, make in run_signals().items()}
        pressure[pad] = np.where(t < 60, pressure[pad], value_kpa)
        alerts += engine.feed(PressureChunk("left", t, pressure, RATE_HZ))
    return alerts + engine.finish()


@pytest.mark.parametrize(
    ("pad", "value_kpa", "fault"),
    [("ball_center", 0.0, "open"), ("lace_lower", 42.0, "stuck"), ("heel", 55.0, "stuck")],
)
def test_a_pad_that_reads_flat_is_a_fault(pad: str, value_kpa: float, fault: str) -> None:
    alerts = analyse_flat(pad, value_kpa)
    assert [(a.kind, a.pads) for a in raised(alerts)] == [("sensor_fault", (pad,))]
    assert 60 < alerts[0].t_s <= 90
    assert alerts[0].evidence[f"{pad}_fault"] == fault


def test_a_flat_lace_reading_while_standing_still_is_not_a_fault() -> None:
    still = {pad: (lambda t: 40 + 0 * t) for pad in ("heel", "ball_medial", "ball_center")}
    engine = FootRiskEngine("left")
    t = np.arange(0, 60 * 100) / RATE_HZ
    pressure = {pad: make(t) for pad, make in still.items()}
    pressure["lace_upper"] = np.full(len(t), 8.0)  # no noise at all
    alerts = engine.feed(PressureChunk("left", t, pressure, RATE_HZ)) + engine.finish()
    assert alerts == []


def test_an_unloaded_lace_pad_reading_zero_is_not_a_fault() -> None:
    # Zero from the first sample: loose laces, never seen live (a live pad going flat to zero
    # mid-run is a fault: tests/analysis/test_risk_faults.py).
    assert analyse(run_signals(lace_upper=lambda t: 0 * t)) == []


def test_lost_packets_pause_the_rules_without_alerts() -> None:
    def lossy(make: Signal) -> Signal:
        return lambda t: np.where(np.mod(t, 10.0) < 7.0, np.nan, make(t))

    signals = {pad: lossy(make) for pad, make in run_signals().items()}
    assert analyse(signals) == []


def test_missing_pads_say_what_cannot_be_assessed() -> None:
    engine = FootRiskEngine("left")
    t = np.arange(0, 300) / RATE_HZ
    engine.feed(PressureChunk("left", t, {"ball_center": 300 * stance(t)}, RATE_HZ))
    assert engine.cannot_assess == ["tight_lacing", "metatarsal_hotspot"]


def test_chunks_must_go_forward_in_time() -> None:
    engine = FootRiskEngine("left")
    t = np.arange(0, 100) / RATE_HZ
    engine.feed(PressureChunk("left", t, {"ball_center": 0 * t}, RATE_HZ))
    with pytest.raises(InputError, match="back in time"):
        engine.feed(PressureChunk("left", t, {"ball_center": 0 * t}, RATE_HZ))


def test_chunk_pads_must_not_change() -> None:
    engine = FootRiskEngine("left")
    t = np.arange(0, 100) / RATE_HZ
    engine.feed(PressureChunk("left", t, {"ball_center": 0 * t}, RATE_HZ))
    with pytest.raises(InputError, match="pads changed"):
        engine.feed(PressureChunk("left", t + 1, {"heel": 0 * t}, RATE_HZ))


def test_config_rejects_nonsense() -> None:
    with pytest.raises(InputError, match="persist_s"):
        RiskConfig(persist_s=-1.0)
    with pytest.raises(InputError, match="at least one window"):
        RiskConfig(window_s=5.0, persist_s=2.0)


def analyse_pair(
    left: dict[str, Signal], right: dict[str, Signal], duration_s: float
) -> list[Alert]:
    """Both feet through the session analyzer (the asymmetry rule pairs them)."""
    analyzer = SessionAnalyzer()
    alerts: list[Alert] = []
    for start in range(0, round(duration_s * RATE_HZ), 500):
        t = np.arange(start, start + 500) / RATE_HZ
        for foot, signals in (("left", left), ("right", right)):
            pressure = {pad: make(t) for pad, make in signals.items()}
            alerts += analyzer.feed(PressureChunk(foot, t, pressure, RATE_HZ))
    return list(analyzer.finish().alerts)


def test_asymmetry_names_the_heavier_foot() -> None:
    favoured = run_signals(**forefoot_scaled(90.0, 0.5))  # the left foot is spared from 90 s
    alerts = raised(analyse_pair(favoured, run_signals(), 180.0))
    assert [(a.kind, a.foot) for a in alerts] == [("asymmetry", "right")]
    assert 90 < alerts[0].t_s <= 120
    assert alerts[0].evidence["asymmetry_index"] >= 0.45


def test_asymmetry_from_overload_is_left_to_forefoot_overload() -> None:
    overloaded = run_signals(**forefoot_scaled(90.0, 1.7))
    alerts = raised(analyse_pair(run_signals(), overloaded, 180.0))
    assert [(a.kind, a.foot) for a in alerts] == [("forefoot_overload", "right")]


def test_a_faulty_pad_on_one_foot_is_not_asymmetry() -> None:
    def open_center(t: FloatArray) -> FloatArray:
        return np.where(t < 60, 310 * stance(t), 0.0)

    alerts = raised(analyse_pair(run_signals(ball_center=open_center), run_signals(), 180.0))
    assert [(a.kind, a.foot) for a in alerts] == [("sensor_fault", "left")]


def test_dose_escalates_a_warning_to_an_alert() -> None:
    config = RiskConfig(lace_dose_alert_kpa_min=10.0)  # 20 kPa reaches 10 kPa·min in 30 s
    alerts = raised(analyse(run_signals(lace_upper=lambda t: 20 + 0 * t), 90, config))
    assert [a.severity for a in alerts] == ["warning", "alert"]
    assert alerts[1].evidence["dose_kpa_min"] >= 10.0
    assert alerts[1].t_s - alerts[0].t_s <= 20


def test_a_window_ends_after_its_last_sample_even_across_a_jump_in_time() -> None:
    windower = FootWindower("left", 2.0, saturation_kpa=1000.0, min_kpa=-20.0, max_kpa=1500.0)
    t = np.concatenate([np.arange(150) / RATE_HZ, 100.0 + np.arange(60) / RATE_HZ])
    batch = windower.feed(PressureChunk("left", t, {"heel": np.ones(len(t))}, RATE_HZ))
    assert batch is not None and len(batch) == 1
    assert batch.t_start_s[0] == 0.0
    assert batch.t_end_s[0] == pytest.approx(100.5)
    assert windower.flush() is None  # 10 samples left: less than half a window


def test_one_insole_alone_keeps_the_pairing_memory_bounded() -> None:
    pairing = BilateralAsymmetry(RiskConfig())
    engine = FootRiskEngine("left")
    engine.window_listener = pairing
    t = np.arange(0, 4000 * 2 * 100) / RATE_HZ  # 4000 windows of the left foot only
    pressure = {pad: make(t) for pad, make in run_signals().items()}
    for start in range(0, len(t), 60_000):
        stop = start + 60_000
        chunk = PressureChunk(
            "left", t[start:stop], {p: v[start:stop] for p, v in pressure.items()}, RATE_HZ
        )
        assert engine.feed(chunk) == []
    assert pairing.waiting("left") == MAX_WAITING


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=2999), max_size=12))
def test_window_statistics_do_not_depend_on_where_chunks_are_cut(cuts: list[int]) -> None:
    rng = np.random.default_rng(5)
    t = np.arange(3000) / RATE_HZ
    pressure = {"ball_center": 310 * stance(t) + rng.normal(0, 1, 3000), "lace_upper": 5 + 0 * t}
    pressure["ball_center"][rng.random(3000) < 0.05] = np.nan

    def windows(bounds: list[int]) -> dict[str, list[tuple[float, ...]]]:
        windower = FootWindower("left", 2.0, saturation_kpa=1e3, min_kpa=-20.0, max_kpa=1.5e3)
        rows: dict[str, list[tuple[float, ...]]] = {pad: [] for pad in pressure}
        edges = [0, *sorted(set(bounds)), 3000]
        for start, stop in itertools.pairwise(edges):
            chunk = PressureChunk(
                "left", t[start:stop], {p: v[start:stop] for p, v in pressure.items()}, RATE_HZ
            )
            batch = windower.feed(chunk)
            if batch is not None:
                for pad, stats in batch.pads.items():
                    rows[pad] += zip(
                        batch.t_end_s, stats.mean_kpa, stats.p10_kpa, stats.max_kpa, strict=True
                    )
        return rows

    assert windows(cuts) == windows([])
