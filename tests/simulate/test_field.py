"""The field simulator: each field scenario shows what its label says, on a physical model."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from numbguard.analysis.suggestions import FAULT_ADVICE, SUGGESTIONS
from numbguard.errors import InputError
from numbguard.pads import FOREFOOT_PADS, PAD_IDS, Foot
from numbguard.simulate import physical
from numbguard.simulate.field import (
    FIELD_NAMES,
    FIELD_SCENARIOS,
    STEPPING,
    FieldScenario,
    Stretch,
    build_field_scenario,
)
from numbguard.simulate.field_simulator import FieldFootRenderer, FieldSimulator
from numbguard.simulate.scenarios import RISK_PATTERNS
from numbguard.simulate.sensor_chain import FULL_SCALE_KPA
from numbguard.types import FloatArray, PressureChunk

PLANTAR = ("heel", *FOREFOOT_PADS)


@cache
def reading(name: str, foot: Foot, seed: int = 0) -> PressureChunk:
    return FieldSimulator(build_field_scenario(name), seed=seed).foot(foot)


@cache
def renderer(name: str, foot: Foot) -> FieldFootRenderer:
    return FieldSimulator(build_field_scenario(name)).renderer(foot)


def stretch(name: str, activity: str, nth: int = 0) -> Stretch:
    return [s for s in build_field_scenario(name).stretches if s.activity == activity][nth]


def between(chunk: PressureChunk, start_s: float, end_s: float) -> dict[str, FloatArray]:
    inside = (chunk.t_s >= start_s) & (chunk.t_s < end_s)
    return {pad: values[inside] for pad, values in chunk.pressure_kpa.items()}


def step_peaks(name: str, foot: Foot, pad: str, start_s: float, end_s: float) -> FloatArray:
    """The pad's reading at its highest in each contact from `start_s` to `end_s`."""
    chunk = reading(name, foot)
    peaks = []
    for c in renderer(name, foot).contacts():
        if start_s <= c.t_on_s < end_s:
            inside = (chunk.t_s >= c.t_on_s) & (chunk.t_s < c.t_on_s + c.contact_s)
            peaks.append(chunk.pressure_kpa[pad][inside].max())
    return np.array(peaks)


def swing(
    chunk: PressureChunk,
    start_s: float,
    end_s: float,
    quiet_pads: tuple[str, ...] = ("heel", "ball_center", "ball_lateral"),
) -> dict[str, FloatArray]:
    """Samples where the `quiet_pads` (the foot but the pad under test) read about 0."""
    part = between(chunk, start_s, end_s)
    quiet = np.all([part[p] < 5.0 for p in quiet_pads], axis=0)
    return {pad: values[quiet] for pad, values in part.items()}


# --- the set and its labels ---


def test_the_field_set_has_the_labelled_conditions_and_normal_sessions() -> None:
    assert 12 <= len(FIELD_NAMES) <= 14
    normal = {n for n, s in FIELD_SCENARIOS.items() if s.normal}
    assert normal == {
        "walk_then_run",
        "intervals",
        "calf_raises_then_run",
        "hills",
        "long_run_drift",
    }
    kinds = {label.kind for s in FIELD_SCENARIOS.values() for label in s.labels}
    assert kinds == {
        "unrelieved_pressure",
        "tight_lacing",
        "metatarsal_hotspot",
        "asymmetry",
        "sensor_fault",
    }
    for scenario in FIELD_SCENARIOS.values():
        assert scenario.duration_s >= 600.0, scenario.name  # several minutes
        assert scenario.stretches[0].start_s == 0.0
        assert scenario.stretches[-1].end_s == scenario.duration_s
        for a, b in zip(scenario.stretches, scenario.stretches[1:], strict=False):
            assert a.end_s == b.start_s, scenario.name
        for label in scenario.labels:
            assert label.kind in (*RISK_PATTERNS, "asymmetry")
            assert 120.0 <= label.onset_s < label.end_s <= scenario.duration_s
            assert label.end_s - label.onset_s >= 300.0  # long enough to show
            # The advice is one of the product's suggestions for that kind.
            offered = SUGGESTIONS[label.kind]
            if label.kind == "sensor_fault":
                offered += tuple(a for advice in FAULT_ADVICE.values() for a in advice)
            assert label.advice in offered, (scenario.name, label.advice)


def test_unknown_field_scenario_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown field scenario"):
        build_field_scenario("marathon")
    with pytest.raises(InputError, match="sample rate"):
        FieldSimulator(build_field_scenario("hills"), sample_rate_hz=1.0)


def test_same_seed_same_data_whatever_the_chunk_size() -> None:
    simulator = FieldSimulator(build_field_scenario("loose_wire"), seed=3)
    a = list(simulator.foot_chunks("right", 0.37))
    b = list(simulator.foot_chunks("right", 60.0))
    for pad in PAD_IDS:
        joined_a = np.concatenate([c.pressure_kpa[pad] for c in a])
        joined_b = np.concatenate([c.pressure_kpa[pad] for c in b])
        assert np.array_equal(joined_a, joined_b)
    other = FieldSimulator(build_field_scenario("loose_wire"), seed=4).foot("right")
    assert not np.array_equal(
        other.pressure_kpa["heel"], simulator.foot("right").pressure_kpa["heel"]
    )
    chunks = list(simulator.chunks(30.0))
    assert [c.foot for c in chunks[:2]] == ["left", "right"]
    assert np.array_equal(chunks[0].t_s, chunks[1].t_s)


# --- the physical model ---


def test_peaks_cadence_and_contact_time_follow_speed() -> None:
    slow, fast = physical.running_peaks_kpa(3.0), physical.running_peaks_kpa(4.5)
    # The transducer relation: 634 -> 731 kPa under the 2nd metatarsal head, heel 304 -> 427.
    assert fast["ball_center"] / slow["ball_center"] == pytest.approx(731 / 634)
    assert fast["heel"] / slow["heel"] == pytest.approx(427 / 304)
    assert 270 <= slow["ball_center"] <= 340  # the in-shoe level of the brief, 313 +/- 69
    assert physical.running_cadence_spm(4.5) > physical.running_cadence_spm(3.0) >= 150
    assert physical.running_contact_s(4.5) < physical.running_contact_s(3.0) < 0.3


def test_intervals_show_the_effort_in_the_data() -> None:
    easy, hard = stretch("intervals", "running", 0), stretch("intervals", "running", 1)
    assert (easy.speed_m_s, hard.speed_m_s) == (2.6, 4.5)
    contacts = list(renderer("intervals", "left").contacts())

    def during(s: Stretch) -> list[physical.Contact]:
        return [c for c in contacts if s.start_s + 10 <= c.t_on_s < s.end_s]

    for s in (easy, hard):
        assert len(during(s)) > 0
    stride = {
        s.speed_m_s: float(np.median(np.diff([c.t_on_s for c in during(s)]))) for s in (easy, hard)
    }
    assert 120 / stride[4.5] > 120 / stride[2.6] + 8  # cadence rises with speed
    contact = {s.speed_m_s: np.median([c.contact_s for c in during(s)]) for s in (easy, hard)}
    assert contact[4.5] < 0.8 * contact[2.6]
    easy_peaks = step_peaks("intervals", "left", "ball_center", easy.start_s + 60, easy.end_s)
    hard_peaks = step_peaks("intervals", "left", "ball_center", hard.start_s + 10, hard.end_s)
    assert 1.1 < np.median(hard_peaks) / np.median(easy_peaks) < 1.3


def test_a_running_contact_rolls_over_from_heel_to_the_medial_ball() -> None:
    chunk = reading("hills", "left")
    first = next(iter(renderer("hills", "left").contacts()))
    inside = (chunk.t_s >= first.t_on_s) & (chunk.t_s < first.t_on_s + first.contact_s)
    peak_at = {
        pad: chunk.t_s[inside][np.argmax(chunk.pressure_kpa[pad][inside])] for pad in PLANTAR
    }
    assert (
        peak_at["heel"] < peak_at["ball_lateral"] < peak_at["ball_center"] < peak_at["ball_medial"]
    )
    # ...and every pad unloads in swing.
    after = (chunk.t_s > first.t_on_s + first.contact_s + 0.05) & (chunk.t_s < first.t_on_s + 0.6)
    for pad in PLANTAR:
        assert chunk.pressure_kpa[pad][after].max() < 8.0


def test_hills_move_load_between_heel_and_forefoot() -> None:
    flat, up, down = (stretch("hills", "running", i) for i in range(3))
    assert (up.grade_pct, down.grade_pct) == (6, -6)

    def med(pad: str, s: Stretch) -> float:
        return float(np.median(step_peaks("hills", "right", pad, s.start_s + 20, s.end_s)))

    assert med("heel", up) < 0.8 * med("heel", flat)
    assert med("heel", down) > 1.2 * med("heel", flat)
    assert med("ball_center", up) > med("ball_center", flat) * 0.95  # slower, but on the toes


def test_calf_raises_and_weight_shifts_have_no_steps_and_no_swing() -> None:
    name = "calf_raises_then_run"
    raises, shifts = stretch(name, "calf_raises"), stretch(name, "weight_shifts")
    contacts = list(renderer(name, "left").contacts())
    run = stretch(name, "running")
    for s in (raises, shifts):
        assert not [c for c in contacts if s.start_s - 1 <= c.t_on_s < s.end_s]
    assert [c for c in contacts if c.t_on_s >= run.start_s]
    for foot in ("left", "right"):
        part = between(reading(name, foot), raises.start_s, raises.end_s)
        forefoot = part["ball_center"]
        assert forefoot.min() > 27.0  # never unloads...
        assert np.ptp(forefoot) > 50.0  # ...but swings with each raise
        assert part["heel"].min() < 10.0 < part["heel"].max()  # up on the toes
        plantar = sum(part[p] for p in PLANTAR)
        assert plantar.min() > 60.0  # no swing: the foot never leaves the ground
        shift = between(reading(name, foot), shifts.start_s, shifts.end_s)
        plantar = sum(shift[p] for p in PLANTAR)
        assert plantar.min() > 15.0 and plantar.max() > 4 * plantar.min()
    lift_count = np.sum(np.diff((physical.calf_raise_lift(np.arange(40, 70, 0.01), 40, 30) > 0.5)
                                .astype(int)) == 1)  # fmt: skip
    assert lift_count == 15


@pytest.mark.parametrize("name", ["elliptical", "stair_machine"])
def test_on_the_machines_the_forefoot_cycles_and_never_unloads(name: str) -> None:
    (label, other) = build_field_scenario(name).labels
    assert label.kind == "unrelieved_pressure" and {label.foot, other.foot} == {"left", "right"}
    for foot in ("left", "right"):
        part = between(reading(name, foot), label.onset_s + 2, label.end_s)
        busiest = max(FOREFOOT_PADS, key=lambda p: float(np.median(part[p])))
        assert part[busiest].min() > 27.0
        assert np.ptp(part[busiest]) > 50.0
        before = between(reading(name, foot), 20, label.onset_s - 2)
        assert before["ball_center"].min() < 5.0  # walking or running before: it unloads


def test_tight_lacing_after_the_warm_up_raises_static_lace_pressure_on_that_foot() -> None:
    name = "tight_lacing_after_warmup"
    (label,) = build_field_scenario(name).labels
    assert (label.kind, label.foot) == ("tight_lacing", "left")
    left, right = reading(name, "left"), reading(name, "right")
    for pad in ("lace_lower", "lace_upper"):
        assert np.percentile(between(left, 60, 290)[pad], 10) < 8.0
        assert np.percentile(between(left, label.onset_s + 5, label.end_s)[pad], 10) > 12.0
        assert np.percentile(between(right, label.onset_s + 5, label.end_s)[pad], 10) < 8.0


def forefoot_shares(name: str, foot: Foot, start_s: float, end_s: float) -> dict[str, float]:
    medians = {
        p: float(np.median(step_peaks(name, foot, p, start_s, end_s))) for p in FOREFOOT_PADS
    }
    total = sum(medians.values())
    return {p: v / total for p, v in medians.items()}


def test_medial_shift_moves_the_left_forefoot_load_onto_the_medial_ball() -> None:
    (label,) = build_field_scenario("medial_hotspot_shift").labels
    before = forefoot_shares("medial_hotspot_shift", "left", 60, label.onset_s)
    after = forefoot_shares("medial_hotspot_shift", "left", label.onset_s + 30, label.end_s)
    assert max(before, key=before.__getitem__) == "ball_center"
    assert after["ball_medial"] > 0.55 and after["ball_medial"] > before["ball_medial"] + 0.2
    right = forefoot_shares("medial_hotspot_shift", "right", label.onset_s + 30, label.end_s)
    assert max(right, key=right.__getitem__) == "ball_center"


def test_lateral_ball_load_peaks_over_450_kpa_and_presses_through_swing() -> None:
    name = "lateral_ball_load"
    (label,) = build_field_scenario(name).labels
    peaks = step_peaks(name, "right", "ball_lateral", label.onset_s + 30, label.end_s)
    assert np.median(peaks) > 450.0
    shares = forefoot_shares(name, "right", label.onset_s + 30, label.end_s)
    assert shares["ball_lateral"] > 0.5
    quiet = swing(reading(name, "right"), label.onset_s + 30, label.end_s, ("heel", "ball_center"))
    assert len(quiet["ball_lateral"]) > 1000
    assert np.median(quiet["ball_lateral"]) > 12.0  # the toe box keeps pressing
    assert np.median(quiet["ball_medial"]) < 6.0


def test_the_limping_heavy_runner_loads_the_right_foot_far_more() -> None:
    name = "limping_heavy_runner"
    (label,) = build_field_scenario(name).labels
    assert (label.kind, label.foot) == ("asymmetry", "right")
    right = step_peaks(name, "right", "ball_center", label.onset_s + 20, label.end_s)
    left = step_peaks(name, "left", "ball_center", label.onset_s + 20, label.end_s)
    assert np.median(right) > 400.0  # a heavy runner
    assert np.median(right) / np.median(left) > 1.6
    early_r = step_peaks(name, "right", "ball_center", 60, label.onset_s)
    early_l = step_peaks(name, "left", "ball_center", 60, label.onset_s)
    assert 0.85 < np.median(early_r) / np.median(early_l) < 1.15  # even before the limp


# --- the sensor chain and the faults ---


def test_the_long_run_drifts_up_with_warm_up_creep_and_fatigue() -> None:
    name = "long_run_drift"
    early = step_peaks(name, "left", "ball_center", 30, 150)
    late = step_peaks(name, "left", "ball_center", 1650, 1800)
    assert 1.08 < np.median(late) / np.median(early) < 1.3
    contacts = list(renderer(name, "left").contacts())
    first = np.median([c.contact_s for c in contacts if c.t_on_s < 150])
    last = np.median([c.contact_s for c in contacts if c.t_on_s > 1650])
    assert last > first * 1.01  # contacts lengthen with fatigue


def test_the_sensor_chain_has_gain_spread_warm_up_creep_and_hysteresis() -> None:
    from numbguard.simulate import sensor_chain as chain

    fs = 100.0
    t = np.arange(0, 1200, 1 / fs)
    rng = np.random.default_rng(0)
    sensors = [chain.draw_sensor(rng, lace=False) for _ in range(50)]
    gains = np.array([s.gain for s in sensors])
    assert 0.02 < gains.std() < 0.06 and gains.min() >= 0.9 and gains.max() <= 1.1
    # A steady 200 kPa read by a pad with no offset: up with warm-up and creep.
    sensor = chain.PadSensor(1.0, 0.08, 0.03, 0.0, 0.0)
    steady = chain.sense(np.full(len(t), 200.0), t, sensor, rng, fs)
    assert steady[0] == pytest.approx(200.0, abs=0.5)
    assert 1.08 < steady[-1] / steady[0] < 1.2
    # Hysteresis: at the same load, the unloading side reads higher than the loading side.
    bump = 300.0 * np.sin(np.pi * np.clip(t[:100] / 0.5, 0, 1)) ** 2
    read = chain.hysteresis(bump, fs)
    up, down = np.argmin(np.abs(bump[:25] - 150)), 25 + np.argmin(np.abs(bump[25:50] - 150))
    assert read[up] == pytest.approx(bump[up])
    assert 0.05 * 300 < read[down] - bump[down] <= 0.1 * 300 + 1e-9


def test_sweat_leak_reads_580_to_800_kpa_through_swing_on_its_pad() -> None:
    (label,) = build_field_scenario("sweat_leak").labels
    assert (label.kind, label.foot) == ("sensor_fault", "right")
    chunk = reading("sweat_leak", "right")
    leak = swing(chunk, label.onset_s + 10, label.end_s)
    assert len(leak["ball_medial"]) > 1000
    assert leak["ball_medial"].min() > 570 and leak["ball_medial"].max() < 820
    before = swing(chunk, 60, label.onset_s)
    assert np.median(before["ball_medial"]) < 5.0
    other = swing(reading("sweat_leak", "left"), label.onset_s + 10, label.end_s)
    assert np.median(other["ball_medial"]) < 5.0


def test_loose_wire_drops_out_in_stance_and_bounces_to_full_scale() -> None:
    (label,) = build_field_scenario("loose_wire").labels
    chunk = reading("loose_wire", "right")
    p = {pad: np.asarray(v) for pad, v in between(chunk, label.onset_s, label.end_s).items()}
    pad = p["ball_center"]
    # Zero inside stance: the pad reads 0 while its neighbours carry the step.
    dropouts = (pad == 0.0) & (p["ball_medial"] > 100) & (p["ball_lateral"] > 80)
    assert dropouts.sum() > 50
    spikes = pad >= FULL_SCALE_KPA
    assert spikes.sum() > 20
    jumps = np.diff(pad)
    assert jumps.max() > 500.0  # > 50 kPa/ms: faster than any foot loads
    before = between(chunk, 20, label.onset_s)
    assert before["ball_center"].max() < 700.0
    assert np.diff(before["ball_center"]).max() < 150.0


def test_lace_pad_flat_is_live_then_exactly_zero() -> None:
    (label,) = build_field_scenario("lace_pad_flat").labels
    chunk = reading("lace_pad_flat", "left")
    before = between(chunk, 10, label.onset_s)["lace_upper"]
    after = between(chunk, label.onset_s, label.end_s)["lace_upper"]
    assert np.percentile(before, 10) > 2.0 and np.ptp(before) > 5.0
    assert np.all(after == 0.0)
    assert np.percentile(between(chunk, label.onset_s, label.end_s)["lace_lower"], 10) > 2.0


def test_normal_sessions_have_no_fault_signatures() -> None:
    for name, scenario in FIELD_SCENARIOS.items():
        if not scenario.normal:
            continue
        for foot in ("left", "right"):
            p = reading(name, foot).pressure_kpa
            for pad in PAD_IDS:
                assert p[pad].max() < 700.0, (name, pad)  # no leak, no bounce
                assert np.percentile(p[pad], 99) > 2.0, (name, pad)  # every pad is live


def test_every_scenario_starts_moving_and_only_stepping_stretches_have_contacts() -> None:
    scenario: FieldScenario
    for scenario in FIELD_SCENARIOS.values():
        contacts = list(renderer(scenario.name, "left").contacts())
        assert len(contacts) > 100, scenario.name
        for c in contacts[:: max(1, len(contacts) // 50)]:
            s = next(s for s in scenario.stretches if s.start_s <= c.t_on_s < s.end_s)
            assert s.activity in STEPPING, scenario.name
