"""The live view shows pads, gait, link health and alerts; sound and JSON sinks behave."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from rich.console import Console

from numbguard.errors import InputError
from numbguard.live.json_events import EventFanout, JsonEventSink, emit_alert
from numbguard.live.sound import AlertSound
from numbguard.live.state import LiveState
from numbguard.live.view import render
from numbguard.types import Alert

LACING = Alert(
    t_s=75.2,
    foot="left",
    kind="tight_lacing",
    severity="alert",
    pads=("lace_upper",),
    message="Sustained pressure under the upper laces",
    suggestions=("Loosen the laces over the pressure point", "Check the tongue lies flat"),
    evidence={"lace_upper_swing_kpa": 31.5},
)


def _screen(state: LiveState) -> str:
    console = Console(record=True, width=140, force_terminal=False)
    console.print(render(state))
    return console.export_text()


def test_view_shows_pressures_gait_links_and_the_alert_with_its_top_suggestion() -> None:
    state = LiveState(t_s=75.9, cadence_spm=168.0)
    left = state.feet["left"]
    left.connected, left.link, left.battery_pct = True, "ble NGL-1a2b", 81
    left.pads = ("ball_center", "lace_upper")
    left.pressure_kpa = {"ball_center": 312.0, "lace_upper": 31.5}
    left.contact_s = 0.241
    left.frames_received, left.frames_missing, left.frames_recovered = 900, 2, 14
    state.apply_alert(LACING)
    screen = _screen(state)
    assert "01:15" in screen
    assert "168 steps/min" in screen
    assert "312 kPa" in screen and "32 kPa" in screen
    assert "ble NGL-1a2b" in screen and "81%" in screen and "241 ms" in screen
    assert "missing 2" in screen and "recovered 14" in screen
    assert "left tight_lacing" in screen
    assert "Loosen the laces over the pressure point" in screen
    assert "Check the tongue" not in screen  # only the top suggestion
    assert "not connected" in screen  # the right insole


def test_info_alert_clears_the_active_one() -> None:
    state = LiveState()
    state.apply_alert(LACING)
    cleared = Alert(
        80.0, "left", "tight_lacing", "info", ("lace_upper",), "Lace pressure back to normal", ()
    )
    state.apply_alert(cleared)
    assert state.active_alerts == {}
    assert "no alerts" in _screen(state)


def test_bell_rings_for_warnings_not_for_clearing() -> None:
    stream = io.StringIO()
    sound = AlertSound("bell", stream=stream)
    sound.announce(LACING)
    sound.announce(Alert(80.0, "left", "tight_lacing", "info", (), "cleared", ()))
    assert stream.getvalue() == "\a"


@pytest.mark.skipif(shutil.which("espeak-ng") is not None, reason="espeak-ng is installed here")
def test_speak_without_espeak_says_what_is_missing() -> None:
    with pytest.raises(InputError, match="espeak-ng"):
        AlertSound("speak")


def test_json_events_are_one_object_per_line_without_nan() -> None:
    stream = io.StringIO()
    sink = JsonEventSink(stream)
    sink.emit("step", 1.23456, foot="right", peak_kpa={"heel": float("nan"), "ball_center": 300.0})
    emit_alert(sink, LACING)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0] == {
        "event": "step",
        "t_s": 1.235,
        "foot": "right",
        "peak_kpa": {"heel": None, "ball_center": 300.0},
    }
    assert lines[1]["event"] == "alert" and lines[1]["kind"] == "tight_lacing"
    assert lines[1]["suggestions"][0].startswith("Loosen")


def test_the_fanout_gives_every_sink_the_same_clean_events() -> None:
    streams = io.StringIO(), io.StringIO()
    seen: list[tuple[str, float, dict[str, object]]] = []

    class Collector:
        def emit(self, event: str, t_s: float, **fields: object) -> None:
            seen.append((event, t_s, fields))

    fanout = EventFanout(JsonEventSink(streams[0]), Collector(), JsonEventSink(streams[1]))
    fanout.emit("state", 2.0, cadence_spm=float("nan"), feet={"left": {"heel": float("inf")}})
    emit_alert(fanout, LACING)
    assert streams[0].getvalue() == streams[1].getvalue()
    assert seen[0] == ("state", 2.0, {"cadence_spm": None, "feet": {"left": {"heel": None}}})
    assert seen[1][0] == "alert" and seen[1][1] == 75.2
    assert seen[1][2]["suggestions"] == list(LACING.suggestions)
