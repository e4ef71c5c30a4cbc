"""The session analyzer: chunk-size independence, feet in any order, the exact JSON shape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from numbguard.analysis.pipeline import SessionAnalyzer, SessionResult, StreamingMedian
from numbguard.errors import InputError
from numbguard.pads import PAD_IDS
from numbguard.simulate import SessionSimulator, build_scenario
from numbguard.types import PressureChunk


def analyse(name: str, chunk_s: float, order: str = "interleaved") -> SessionResult:
    simulator = SessionSimulator(build_scenario(name, 180.0), seed=3)
    analyzer = SessionAnalyzer()
    if order == "interleaved":
        chunks = list(simulator.chunks(chunk_s))
    else:  # one whole foot, then the other
        chunks = [*simulator.foot_chunks("right", chunk_s), *simulator.foot_chunks("left", chunk_s)]
    for chunk in chunks:
        analyzer.feed(chunk)
    return analyzer.finish()


@pytest.mark.parametrize(
    "name", ["tight_lacing", "forefoot_overload", "sensor_fault_implausible", "crossing_stops"]
)
def test_same_alerts_from_tenth_of_a_second_and_minute_chunks(name: str) -> None:
    small = analyse(name, 0.1)
    large = analyse(name, 60.0)
    assert small.alerts == large.alerts
    if name != "crossing_stops":
        assert small.alerts  # the comparison is about real alerts, not two empty lists


def test_same_result_whatever_order_the_feet_come_in() -> None:
    for name in ("forefoot_overload", "asymmetry"):
        interleaved = analyse(name, 2.0)
        foot_by_foot = analyse(name, 7.0, order="foot_by_foot")
        assert interleaved.alerts
        assert interleaved.to_json() == foot_by_foot.to_json()


def test_streamed_alerts_are_the_final_alerts() -> None:
    simulator = SessionSimulator(build_scenario("tight_lacing_both", 120.0), seed=1)
    analyzer = SessionAnalyzer()
    streamed = [alert for chunk in simulator.chunks(1.0) for alert in analyzer.feed(chunk)]
    assert streamed  # raised while the data streams, not only at the end
    assert sorted(streamed, key=lambda a: (a.t_s, a.foot)) == list(analyzer.finish().alerts)


def test_json_has_the_exact_shape_of_the_issue() -> None:
    result = json.loads(json.dumps(analyse("tight_lacing", 5.0).to_json()))
    assert list(result) == ["duration_s", "sample_rate_hz", "cadence_spm", "feet", "alerts"]
    assert result["duration_s"] == 180.0
    assert result["sample_rate_hz"] == 100.0
    assert 165 <= result["cadence_spm"] <= 175
    assert list(result["feet"]) == ["left", "right"]
    for foot in result["feet"].values():
        assert {"pads", "contacts", "stride_s_median", "contact_s_median"} <= set(foot)
        assert foot["activity_s"]["running"] > 170
        assert foot["cannot_assess"] == []
        assert foot["pads"] == list(PAD_IDS)
        assert all(len(c) == 2 and c[0] < c[1] for c in foot["contacts"])
        assert 0.68 <= foot["stride_s_median"] <= 0.73
        assert foot["contact_s_median"] < 0.3
    (alert,) = result["alerts"]
    assert set(alert) == {
        "t_s",
        "foot",
        "kind",
        "severity",
        "pads",
        "message",
        "suggestions",
        "evidence",
    }
    assert alert["foot"] == "left" and alert["kind"] == "tight_lacing"
    assert alert["severity"] in ("info", "warning", "alert")
    assert alert["pads"] == ["lace_upper"]


def test_time_per_activity_shows_the_stops() -> None:
    feet = analyse("crossing_stops", 10.0).to_json()["feet"]
    for foot in feet.values():
        activity = foot["activity_s"]
        assert activity["standing"] > 30 and activity["running"] > 100
        assert sum(activity.values()) == pytest.approx(180.0, abs=5.0)


def test_feeding_after_finish_is_an_error() -> None:
    analyzer = SessionAnalyzer()
    analyzer.finish()
    t = np.arange(10) / 100.0
    with pytest.raises(InputError, match="already finished"):
        analyzer.feed(PressureChunk("left", t, {"heel": t}, 100.0))


def test_feet_with_different_sample_rates_are_an_error() -> None:
    analyzer = SessionAnalyzer()
    t = np.arange(10) / 100.0
    analyzer.feed(PressureChunk("left", t, {"heel": t}, 100.0))
    with pytest.raises(InputError, match="different sample rates"):
        analyzer.feed(PressureChunk("right", t, {"heel": t}, 50.0))


def test_an_empty_session_has_an_empty_result() -> None:
    result = SessionAnalyzer().finish().to_json()
    assert result == {
        "duration_s": 0.0,
        "sample_rate_hz": None,
        "cadence_spm": None,
        "feet": {},
        "alerts": [],
    }


def test_streaming_median_matches_numpy() -> None:
    values = np.random.default_rng(0).uniform(0.2, 1.5, 1001)
    median = StreamingMedian(5.0, 0.001)
    for value in values:
        median.add(float(value))
    assert median.median() == pytest.approx(float(np.median(values)), abs=0.001)
    even = StreamingMedian(5.0, 0.001)
    for value in (0.5, 0.7):
        even.add(value)
    assert even.median() == pytest.approx(0.6)
