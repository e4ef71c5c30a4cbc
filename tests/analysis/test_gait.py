"""The streaming contact detector and its step metrics, on synthetic signals with known contacts."""

from __future__ import annotations

import numpy as np
import pytest
from gait_signals import Walk, chunks_of, walk

from numbguard.analysis.gait import ContactDetector, GaitTracker, contact_of, detect_steps
from numbguard.errors import InputError
from numbguard.types import PressureChunk, StepMetrics

FOREFOOT = ("ball_medial", "ball_center", "ball_lateral")


def run(
    w: Walk, sizes: list[int] | int = 100, pads: tuple[str, ...] | None = None, **options: float
) -> list[StepMetrics]:
    detector = ContactDetector("left", **options)
    steps: list[StepMetrics] = []
    for chunk in chunks_of(w, "left", sizes, pads):
        steps += detector.update(chunk)
    return steps + detector.finish()


def test_heel_and_forefoot_contacts_match_the_truth() -> None:
    w = walk(40.0)
    steps = run(w)
    assert len(steps) == len(w.contacts)
    onsets = np.array([s.t_on_s for s in steps])
    offs = np.array([s.t_off_s for s in steps])
    true = np.array(w.contacts)
    # The onset is backdated to the first touch and the end carried to the last: within one
    # sample of the true start and end.
    assert np.max(np.abs(onsets - true[:, 0])) <= 0.02
    assert np.max(np.abs(offs - true[:, 1])) <= 0.01
    strides = [s.stride_s for s in steps[1:]]
    assert steps[0].stride_s is None
    assert all(stride is not None and abs(stride - 1.1) < 0.01 for stride in strides)


def test_forefoot_only_finds_every_step_later_with_the_same_stride() -> None:
    w = walk(40.0)
    steps = run(w, pads=(*FOREFOOT, "lace_lower"))
    assert len(steps) == len(w.contacts)
    delays = np.array([s.t_on_s - c[0] for s, c in zip(steps, w.contacts, strict=True)])
    # The forefoot loads at 30% of the contact (0.21 s): onsets come later, never earlier.
    assert np.all(delays > 0.15) and np.all(delays < 0.3)
    assert all(abs((s.stride_s or 0) - 1.1) < 0.01 for s in steps[1:])
    assert all(s.forefoot_share is None for s in steps)


@pytest.mark.parametrize(
    ("stride_s", "contact_s"),
    [(0.72, 0.25), (0.64, 0.2), (0.6, 0.2)],  # easy run, 190 and 200 steps/min
)
def test_running_contacts_are_found(stride_s: float, contact_s: float) -> None:
    w = walk(60.0, stride_s=stride_s, contact_s=contact_s, seed=11)
    for pads in (None, (*FOREFOOT, "lace_upper")):
        steps = run(w, pads=pads)
        assert len(steps) == len(w.contacts)
        strides = np.array([s.stride_s for s in steps[1:]])
        assert np.allclose(strides, stride_s, atol=0.011)
    steps = run(w)
    contacts = np.array([s.contact_s for s in steps])
    assert np.all(np.abs(contacts - contact_s) <= 0.01)


def test_a_sensor_slow_to_recover_after_toe_off_does_not_stretch_the_contact() -> None:
    # After each toe-off the forefoot reads 50 kPa for 0.3 s (8% of the 600 kPa peak, under
    # the off level), as a force-sensitive resistor creeping back: the contact ends at
    # toe-off, not when the reading gets back to zero.
    w = walk(40.0)
    center = w.pressure_kpa["ball_center"].copy()
    for _, off in w.contacts:
        center[(w.t_s > off) & (w.t_s <= off + 0.3)] += 50.0
    crept = Walk(w.t_s, {**w.pressure_kpa, "ball_center": center}, w.contacts, w.sample_rate_hz)
    steps = run(crept)
    assert len(steps) == len(w.contacts)
    offs = np.array([s.t_off_s for s in steps])
    assert np.max(np.abs(offs - np.array(w.contacts)[:, 1])) <= 0.02


@pytest.mark.parametrize("sizes", [1, 7, 100, 3000, [1, 250, 13, 64]])
def test_output_does_not_depend_on_chunking(sizes: list[int] | int) -> None:
    w = walk(30.0, seed=3)
    assert run(w, sizes) == run(w, 10_000)


def test_step_metrics_measure_the_signal() -> None:
    w = walk(20.0, noise_kpa=0.0, forefoot_floor_kpa=0.0)
    steps = run(w)
    step = steps[5]
    assert step.peak_kpa["heel"] == pytest.approx(250.0, rel=0.01)
    assert step.peak_kpa["ball_center"] == pytest.approx(300.0, rel=0.01)
    # A half-sine of peak P over L seconds integrates to 2PL/pi.
    assert step.pti_kpa_s["heel"] == pytest.approx(2 * 250 * 0.315 / np.pi, rel=0.05)
    assert step.pti_kpa_s["ball_center"] == pytest.approx(2 * 300 * 0.49 / np.pi, rel=0.05)
    forefoot = sum(step.pti_kpa_s[p] for p in FOREFOOT)
    assert step.forefoot_share == pytest.approx(forefoot / (forefoot + step.pti_kpa_s["heel"]))
    assert step.medial_lateral_index == pytest.approx((180 - 120) / (180 + 120), abs=0.01)
    # Laces: constant in swing, raised in stance.
    assert step.dorsal_swing_kpa == pytest.approx(
        {"lace_lower": 15.0, "lace_upper": 25.0}, rel=0.01
    )
    assert step.dorsal_stance_kpa["lace_upper"] > 25.0 * 1.2
    assert step.forefoot_swing_kpa == pytest.approx(dict.fromkeys(FOREFOOT, 0.0), abs=0.5)
    assert contact_of(step).t_on_s == step.t_on_s
    assert steps[0].dorsal_swing_kpa == {}  # no swing before the first contact


def test_forefoot_pressure_left_in_swing_is_reported() -> None:
    w = walk(20.0, forefoot_floor_kpa=40.0)
    steps = run(w)
    assert len(steps) == len(w.contacts)
    assert all(
        s.forefoot_swing_kpa["ball_center"] == pytest.approx(40.0, abs=2.0) for s in steps[1:]
    )


def test_short_gaps_are_bridged_and_long_gaps_cut_the_stride_chain() -> None:
    w = walk(30.0, seed=5)
    short = {pad: v.copy() for pad, v in w.pressure_kpa.items()}
    for pad in short:
        short[pad][800:810] = np.nan  # 0.1 s lost inside a contact
        short[pad][1500:1503] = np.nan
    steps = run(Walk(w.t_s, short, w.contacts, 100.0))
    assert len(steps) == len(w.contacts)

    long_gap = {pad: v.copy() for pad, v in w.pressure_kpa.items()}
    for pad in long_gap:
        long_gap[pad][1000:1100] = np.nan  # 1 s lost
    steps = run(Walk(w.t_s, long_gap, w.contacts, 100.0))
    onsets = [s.t_on_s for s in steps]
    assert not any(9.9 < t < 11.0 for t in onsets)  # no contact across the gap
    after = next(s for s in steps if s.t_on_s > 11.0)
    assert after.stride_s is None  # the stride over the gap is unknown
    assert len(steps) >= len(w.contacts) - 2


def test_a_jump_in_time_is_a_gap() -> None:
    w = walk(30.0, seed=6)
    keep = np.ones(len(w.t_s), dtype=bool)
    keep[1000:1100] = False
    cut = Walk(w.t_s[keep], {p: v[keep] for p, v in w.pressure_kpa.items()}, w.contacts, 100.0)
    steps = run(cut)
    assert not any(9.9 < s.t_on_s < 11.0 for s in steps)
    assert next(s for s in steps if s.t_on_s > 11.0).stride_s is None


def test_implausible_readings_do_not_make_or_split_contacts() -> None:
    w = walk(30.0, seed=12)
    pressure = {pad: v.copy() for pad, v in w.pressure_kpa.items()}
    rng = np.random.default_rng(3)
    glitches = rng.choice(len(w.t_s), 60, replace=False)
    pressure["ball_lateral"][glitches] = rng.choice([-45.0, 2100.0, 1700.0], 60)
    steps = run(Walk(w.t_s, pressure, w.contacts, 100.0))
    assert len(steps) == len(w.contacts)
    assert max(s.peak_kpa["ball_lateral"] for s in steps) < 200.0


def test_one_missing_pad_does_not_lose_steps() -> None:
    w = walk(30.0, seed=7)
    pressure = dict(w.pressure_kpa)
    pressure["ball_lateral"] = np.full(len(w.t_s), np.nan)
    steps = run(Walk(w.t_s, pressure, w.contacts, 100.0))
    assert len(steps) == len(w.contacts)
    assert "ball_lateral" not in steps[3].peak_kpa
    assert steps[3].medial_lateral_index is None


def test_standing_and_noise_give_no_steps() -> None:
    rng = np.random.default_rng(2)
    n = 6000
    t_s = np.arange(n) / 100.0
    standing = {"heel": 150 + rng.normal(0, 3, n), "ball_center": 100 + rng.normal(0, 3, n)}
    assert run(Walk(t_s, standing, [], 100.0)) == []
    unloaded = {"heel": np.abs(rng.normal(0, 2, n)), "ball_center": np.abs(rng.normal(0, 2, n))}
    assert run(Walk(t_s, unloaded, [], 100.0)) == []


def test_a_pause_restarts_the_stride_chain() -> None:
    first = walk(20.0, seed=8)
    n_pause = 1000
    pressure = {
        pad: np.concatenate((v, np.zeros(n_pause), v)) for pad, v in first.pressure_kpa.items()
    }
    t_s = np.arange(len(pressure["heel"])) / 100.0
    steps = run(Walk(t_s, pressure, [], 100.0))
    assert len(steps) == 2 * len(first.contacts)
    resumed = steps[len(first.contacts)]
    assert resumed.t_on_s > 30.0 and resumed.stride_s is None


def test_brief_spikes_and_dips_do_not_make_steps() -> None:
    w = walk(30.0, seed=9)
    pressure = {pad: v.copy() for pad, v in w.pressure_kpa.items()}
    pressure["heel"][1530:1534] += 300.0  # 40 ms spike in swing: shorter than a contact
    for pad in ("heel", *FOREFOOT):  # 50 ms dip inside the contact at 5.5 s: not a swing
        pressure[pad][5 * 110 + 80 : 5 * 110 + 85] = 0.0
    steps = run(Walk(w.t_s, pressure, w.contacts, 100.0))
    assert len(steps) == len(w.contacts)


def test_memory_stays_bounded_on_a_long_stream() -> None:
    w = walk(120.0)
    detector = ContactDetector("left")
    for chunk in chunks_of(w, "left", 100):
        detector.update(chunk)
    sizes = (len(detector._hist_t), detector._hist_p.shape[1], detector._pending_n)
    assert sizes[0] <= detector._history_n and sizes[1] <= detector._history_n
    assert sizes[2] < 100
    assert detector.n_steps_ >= len(w.contacts) - 2


def test_two_feet_are_tracked_separately() -> None:
    left = walk(20.0, seed=1)
    right = walk(20.0, seed=2, first_on_s=1.05)
    chunks = [
        c
        for pair in zip(chunks_of(left, "left", 50), chunks_of(right, "right", 50), strict=True)
        for c in pair
    ]
    steps = detect_steps(chunks)
    assert {s.foot for s in steps} == {"left", "right"}
    assert sum(s.foot == "right" for s in steps) == len(right.contacts)
    tracker = GaitTracker(min_contact_s=0.2)
    assert tracker.update(chunks[0]) == []
    assert tracker.detectors_["left"].min_contact_s == 0.2


def _chunk(t_s: list[float], **pads: list[float]) -> PressureChunk:
    return PressureChunk("left", np.array(t_s), {p: np.array(v) for p, v in pads.items()}, 100.0)


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InputError, match="no plantar pad"):
        ContactDetector("left").update(_chunk([0.0], lace_upper=[1.0]))
    with pytest.raises(InputError, match="wrong foot"):
        ContactDetector("right").update(_chunk([0.0], heel=[1.0]))
    detector = ContactDetector("left")
    detector.update(_chunk([0.0, 0.01], heel=[1.0, 2.0]))
    with pytest.raises(InputError, match="time does not increase"):
        detector.update(_chunk([0.005], heel=[1.0]))
    with pytest.raises(InputError, match="pads changed"):
        detector.update(_chunk([0.02], heel=[1.0], ball_center=[3.0]))
    with pytest.raises(InputError, match="unknown pad"):
        detector.update(_chunk([0.02], toe=[1.0]))
    with pytest.raises(InputError, match="length differs"):
        detector.update(_chunk([0.02, 0.03], heel=[1.0]))
    with pytest.raises(InputError, match="thresholds"):
        ContactDetector("left", on_fraction=0.1, off_fraction=0.2)
    with pytest.raises(InputError, match="min_swing_s"):
        ContactDetector("left", min_swing_s=-1.0)
