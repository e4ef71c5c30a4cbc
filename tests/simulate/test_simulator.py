"""The scenario simulator: realistic numbers, labels, determinism, chunk-size independence."""

from __future__ import annotations

import numpy as np
import pytest

from numbguard.errors import InputError
from numbguard.pads import PAD_IDS, Foot
from numbguard.simulate import (
    NO_ALERT_SCENARIOS,
    SCENARIO_NAMES,
    SessionSimulator,
    build_scenario,
)
from numbguard.simulate.generator import FULL_SCALE_KPA
from numbguard.types import FloatArray, PressureChunk


def whole_foot(
    name: str,
    foot: Foot = "left",
    chunk_s: float = 10.0,
    seed: int = 0,
    duration_s: float = 120.0,
) -> PressureChunk:
    simulator = SessionSimulator(build_scenario(name, duration_s), seed=seed)
    chunks = list(simulator.foot_chunks(foot, chunk_s))
    return PressureChunk(
        chunks[0].foot,
        np.concatenate([c.t_s for c in chunks]),
        {
            pad: np.concatenate([c.pressure_kpa[pad] for c in chunks])
            for pad in chunks[0].pressure_kpa
        },
        chunks[0].sample_rate_hz,
    )


def contacts(load_kpa: FloatArray, t_s: FloatArray, level_kpa: float) -> list[tuple[float, float]]:
    """(on, off) times of the runs where the load exceeds `level_kpa`."""
    above = np.nan_to_num(load_kpa) > level_kpa
    on = np.flatnonzero(~above[:-1] & above[1:]) + 1
    off = np.flatnonzero(above[:-1] & ~above[1:]) + 1
    off = off[off > on[0]]
    n = min(len(on), len(off))
    return list(zip(t_s[on[:n]].tolist(), t_s[off[:n]].tolist(), strict=True))


def test_a_run_has_the_cadence_contact_time_and_forefoot_peaks_of_the_brief() -> None:
    foot = whole_foot("normal_run")
    p = foot.pressure_kpa
    plantar = p["heel"] + p["ball_medial"] + p["ball_center"] + p["ball_lateral"]
    runs = contacts(plantar, foot.t_s, 5.0)
    onsets = np.array([on for on, _ in runs])
    stride_s = float(np.median(np.diff(onsets)))
    assert 150 <= 120.0 / stride_s <= 180  # steps per minute, both feet
    contact_s = float(np.median([off - on for on, off in runs]))
    assert 0.15 < contact_s < 0.3
    peaks = [p["ball_center"][(foot.t_s >= on) & (foot.t_s < off)].max() for on, off in runs]
    assert 270 <= np.median(peaks) <= 340  # 313 +/- 69 kPa
    assert np.median(p["ball_center"]) < 2  # the forefoot unloads in swing
    assert 2 < np.median(p["lace_upper"]) < 8  # a little static lace pressure


def test_walking_is_slower_with_longer_contacts() -> None:
    foot = whole_foot("walking")
    p = foot.pressure_kpa
    runs = contacts(p["heel"] + p["ball_center"], foot.t_s, 5.0)
    stride_s = float(np.median(np.diff([on for on, _ in runs])))
    assert 100 <= 120.0 / stride_s <= 120
    assert 0.5 < float(np.median([off - on for on, off in runs])) < 0.75


def test_tight_lacing_raises_static_lace_pressure_from_its_onset_on_its_foot_only() -> None:
    scenario = build_scenario("tight_lacing", 120.0)
    (label,) = scenario.labels
    assert (label.kind, label.foot) == ("tight_lacing", "left")
    assert 30 < label.onset_s < 60 and label.end_s == 120.0
    left, right = whole_foot("tight_lacing", "left"), whole_foot("tight_lacing", "right")
    before = left.t_s < label.onset_s
    assert np.percentile(left.pressure_kpa["lace_upper"][before], 10) < 6
    assert np.percentile(left.pressure_kpa["lace_upper"][~before], 10) > 20
    assert np.percentile(right.pressure_kpa["lace_upper"][~before], 10) < 6


def test_elliptical_forefoot_never_unloads() -> None:
    foot = whole_foot("unrelieved_pressure")
    (label, _) = build_scenario("unrelieved_pressure", 120.0).labels
    during = foot.t_s >= label.onset_s + 1
    assert foot.pressure_kpa["ball_center"][during].min() > 27
    assert np.ptp(foot.pressure_kpa["ball_center"][during]) > 50


@pytest.mark.parametrize(
    ("name", "pad", "check"),
    [
        ("sensor_fault_open", "ball_center", lambda v: np.all(v == 0.0)),
        ("sensor_fault_shorted", "lace_upper", lambda v: np.all(v == FULL_SCALE_KPA)),
        ("sensor_fault_implausible", "ball_lateral", lambda v: (v > 1500).any() and (v < 0).any()),
    ],
)
def test_sensor_faults_hit_the_labelled_pad(name: str, pad: str, check: object) -> None:
    (label,) = build_scenario(name, 120.0).labels
    foot = whole_foot(name, label.foot)
    values = foot.pressure_kpa[pad][foot.t_s >= label.onset_s]
    assert callable(check) and check(values)


def test_packet_loss_drops_runs_of_samples_on_every_pad() -> None:
    foot = whole_foot("packet_loss", duration_s=300.0)
    lost = np.isnan(foot.pressure_kpa["heel"])
    assert 0.02 < lost.mean() < 0.06
    for values in foot.pressure_kpa.values():
        assert np.array_equal(np.isnan(values), lost)
    assert np.sum(np.diff(lost.astype(int)) == 1) < lost.sum() / 3  # runs, not single samples


def test_an_insole_without_heel_has_no_heel_column() -> None:
    assert "heel" not in whole_foot("normal_run_no_heel").pressure_kpa
    assert tuple(whole_foot("normal_run").pressure_kpa) == PAD_IDS


def test_same_seed_same_data_whatever_the_chunk_size() -> None:
    a = whole_foot("crossing_stops", chunk_s=0.13, seed=4)
    b = whole_foot("crossing_stops", chunk_s=60.0, seed=4)
    assert np.array_equal(a.t_s, b.t_s)
    for pad in a.pressure_kpa:
        assert np.array_equal(a.pressure_kpa[pad], b.pressure_kpa[pad], equal_nan=True)
    c = whole_foot("crossing_stops", seed=5)
    assert not np.array_equal(a.pressure_kpa["ball_center"], c.pressure_kpa["ball_center"])


def test_chunks_alternate_feet_over_the_same_times() -> None:
    chunks = list(SessionSimulator(build_scenario("walking", 30.0)).chunks(4.0))
    assert [c.foot for c in chunks[:4]] == ["left", "right", "left", "right"]
    assert np.array_equal(chunks[0].t_s, chunks[1].t_s)
    assert sum(len(c.t_s) for c in chunks) == 2 * 3000


def test_every_scenario_is_labelled_except_the_quiet_ones() -> None:
    for name in SCENARIO_NAMES:
        scenario = build_scenario(name, 200.0)
        assert bool(scenario.labels) == (name not in NO_ALERT_SCENARIOS), name
        for label in scenario.labels:
            assert 0 <= label.onset_s < label.end_s <= 200.0


def test_bad_scenario_requests_are_input_errors() -> None:
    with pytest.raises(InputError, match="unknown scenario"):
        build_scenario("marathon")
    with pytest.raises(InputError, match="at least 30 s"):
        build_scenario("normal_run", 5.0)
    with pytest.raises(InputError, match="sample rate"):
        SessionSimulator(build_scenario("normal_run"), sample_rate_hz=0.0)
