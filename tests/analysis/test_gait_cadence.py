"""Cadence (steps per minute, both feet) from the contact detector's steps."""

from __future__ import annotations

import pytest
from gait_signals import chunks_of, walk

from numbguard.analysis.cadence import CadenceTracker, cadence_from_strides, session_cadence_spm
from numbguard.analysis.gait import GaitTracker, detect_steps
from numbguard.errors import InputError
from numbguard.pads import Foot
from numbguard.types import StepMetrics
from numbguard_lab.validation.physionet import read_gaitndd, read_gaitndd_events
from tests.realdata import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA


def step(t_on_s: float, stride_s: float | None, foot: Foot = "left") -> StepMetrics:
    return StepMetrics(foot, t_on_s, t_on_s + 0.3, 0.3, stride_s, {}, {}, None, None, {}, {}, {})


def test_cadence_is_two_steps_per_stride() -> None:
    assert cadence_from_strides([0.75, 0.75, 0.8]) == pytest.approx(160.0)
    assert cadence_from_strides([]) is None


def test_tracker_follows_a_change_of_pace_and_a_stop() -> None:
    tracker = CadenceTracker(window_s=10.0)
    walking = [step(t, 1.2) for t in (1.2, 2.4, 3.6, 4.8, 6.0)]
    assert tracker.update(walking[:2]) is None  # too few strides yet
    assert tracker.update(walking[2:]) == pytest.approx(100.0)
    running = [step(6.0 + 0.75 * i, 0.75) for i in range(1, 30)]
    assert tracker.update(running) == pytest.approx(160.0)
    assert tracker.update([], now_s=100.0) is None  # stopped: no recent strides


def test_one_foot_is_enough_and_first_steps_have_no_stride() -> None:
    tracker = CadenceTracker(window_s=30.0, min_strides=2)
    assert tracker.update([step(0.5, None), step(1.0, None, "right")]) is None
    assert tracker.update([step(1.6, 1.1), step(2.7, 1.1)]) == pytest.approx(120 / 1.1)
    with pytest.raises(InputError, match="cadence window"):
        CadenceTracker(window_s=0)


def test_cadence_of_a_synthetic_two_foot_walk() -> None:
    left = walk(40.0, stride_s=1.0, seed=1)
    right = walk(40.0, stride_s=1.0, first_on_s=1.0, seed=2)
    gait = GaitTracker()
    tracker = CadenceTracker()
    for a, b in zip(chunks_of(left, "left", 100), chunks_of(right, "right", 100), strict=True):
        steps = gait.update(a) + gait.update(b)
        tracker.update(steps, now_s=float(a.t_s[-1]))
    assert tracker.cadence_spm_ == pytest.approx(120.0, rel=0.01)


@pytest.mark.usefixtures("realdata")  # fails without the data
def test_cadence_of_a_recorded_walk_matches_its_strides() -> None:
    record = REALDATA / "gaitndd" / "dev" / "control1"
    events = read_gaitndd_events(record)
    expected = cadence_from_strides(events.left_stride_s.tolist() + events.right_stride_s.tolist())
    assert expected is not None
    assert session_cadence_spm(detect_steps(read_gaitndd(record))) == pytest.approx(
        expected, rel=0.01
    )
