"""Activity windows: running, walking, standing, unrelieved cyclic loading, unknown."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from gait_signals import Walk, chunks_of, walk

from numbguard.analysis.activity import ActivityClassifier, ActivityWindow, classify_activity
from numbguard.errors import InputError
from numbguard.types import PressureChunk
from numbguard_lab.validation.physionet import read_gaitndd
from tests.realdata import REALDATA as SHARED_REALDATA

REALDATA = SHARED_REALDATA


def activities(w: Walk, sizes: list[int] | int = 100, **options: float) -> list[str]:
    classifier = ActivityClassifier("left", **options)
    windows: list[ActivityWindow] = []
    for chunk in chunks_of(w, "left", sizes):
        windows += classifier.update(chunk)
    return [window.activity for window in windows + classifier.finish()]


def steady(level_kpa: float, seconds: float = 30.0, sway_kpa: float = 5.0) -> Walk:
    t_s = np.arange(round(seconds * 100)) / 100
    rng = np.random.default_rng(0)
    sway = sway_kpa * np.sin(2 * np.pi * 0.3 * t_s) + rng.normal(0, 1, len(t_s))
    pressure = {
        "heel": np.maximum(level_kpa + sway, 0),
        "ball_center": np.maximum(level_kpa - sway, 0),
        "lace_upper": np.full(len(t_s), 15.0),
    }
    return Walk(t_s, pressure, [], 100.0)


def test_walking_and_running_are_told_apart() -> None:
    assert set(activities(walk(30.0, stride_s=1.1, contact_s=0.7))) == {"walking"}
    assert set(activities(walk(30.0, stride_s=0.72, contact_s=0.25))) == {"running"}


def test_standing_and_no_load() -> None:
    assert set(activities(steady(120.0))) == {"standing"}
    assert set(activities(steady(2.0, sway_kpa=1.0))) == {"unknown"}


def test_forefoot_that_never_unloads_is_cyclic_unrelieved() -> None:
    elliptical = walk(30.0, stride_s=1.0, contact_s=0.8, forefoot_floor_kpa=60.0)
    assert set(activities(elliptical)) == {"cyclic_unrelieved"}
    # Forefoot pads only: the rule reads the forefoot sum.
    only = Walk(
        elliptical.t_s, {p: v for p, v in elliptical.pressure_kpa.items() if p != "heel"}, [], 100.0
    )
    assert set(activities(only)) == {"cyclic_unrelieved"}


def test_windows_cover_the_stream_and_ignore_chunking() -> None:
    w = walk(33.0, seed=4)
    windows = classify_activity(chunks_of(w, "left", 37))
    assert [round(x.t_start_s, 2) for x in windows] == [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
    assert windows[-1].t_end_s == pytest.approx(32.99)  # a last window of 3 s
    assert activities(w, 1) == activities(w, 10_000)
    assert 0.5 < windows[2].duty_factor < 0.75


def test_missing_data_is_unknown() -> None:
    w = walk(10.0)
    gone = {pad: np.where(w.t_s < 5.0, np.nan, v) for pad, v in w.pressure_kpa.items()}
    assert activities(Walk(w.t_s, gone, [], 100.0)) == ["unknown", "walking"]


def test_bad_input() -> None:
    chunk = PressureChunk("left", np.zeros(1), {"lace_upper": np.zeros(1)}, 100.0)
    with pytest.raises(InputError, match="no plantar pad"):
        ActivityClassifier("left").update(chunk)
    with pytest.raises(InputError, match="wrong foot"):
        ActivityClassifier("right").update(chunk)


@pytest.mark.usefixtures("realdata")  # fails without the data
def test_recorded_walks_are_walking() -> None:
    for header in sorted((REALDATA / "gaitndd" / "dev").glob("*.hea")):
        name = header.stem
        windows = classify_activity(read_gaitndd(header.with_suffix("")))
        counts = Counter(w.activity for w in windows)
        # Each walk starts and some end standing; the rest is walking.
        assert counts["walking"] >= 0.85 * len(windows), (name, counts)
        assert counts["cyclic_unrelieved"] == 0 and counts["running"] <= 2, (name, counts)
