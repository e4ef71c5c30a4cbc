"""The sim and replay transports through the session runner: same alerts at any pace."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from numbguard.errors import InputError
from numbguard.live.json_events import EventSink, EventStream
from numbguard.live.recording_sink import RecordingSink
from numbguard.live.state import LiveState
from numbguard.recording import Channel, RecordingWriter
from numbguard.session.live import run_session
from numbguard.session.runner import SessionRunner
from numbguard.transports import open_transport


def _run(url: str, recorder: RecordingWriter | None = None) -> SessionRunner:
    sinks = [] if recorder is None else [RecordingSink(recorder, Channel.SIM)]
    runner = SessionRunner(sinks=sinks)
    asyncio.run(run_session(open_transport(url), runner))
    return runner


def test_simulated_insoles_lose_packets_and_get_every_sample_back() -> None:
    runner = _run("sim://normal_run?speed=max&duration_s=40&loss=0.1&seed=3")
    for track in runner.tracks.values():
        assert track.stream.stats.late > 0  # packets were lost and resent
        assert track.assembler.stats.samples_missing == 0
        # 40 s at 100 Hz; only the insole's last, unfinished frame (25 sets) is never sent.
        assert track.assembler.stats.samples_released >= 4000 - 25
    assert runner.finish().alerts == ()  # a normal run raises nothing


def test_simulated_tight_lacing_is_flagged_on_the_left_foot() -> None:
    result = _run("sim://tight_lacing?speed=max&duration_s=120").finish()
    kinds = {(alert.foot, alert.kind) for alert in result.alerts}
    assert ("left", "tight_lacing") in kinds


def test_replay_gives_the_live_alerts_at_any_speed(tmp_path: Path) -> None:
    path = tmp_path / "sim.ngrec"
    with RecordingWriter(path, {"source": "sim"}) as recorder:
        live = _run("sim://tight_lacing?speed=max&duration_s=90&loss=0.05", recorder).finish()
    fast = _run(f"replay://{path}?speed=max").finish()
    paced = _run(f"replay://{path}?speed=400").finish()
    expected = json.dumps(live.to_json(), sort_keys=True)
    assert json.dumps(fast.to_json(), sort_keys=True) == expected
    assert json.dumps(paced.to_json(), sort_keys=True) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sim://no_such_scenario", "unknown simulated scenario"),
        ("sim://normal_run?speed=fast", "bad sim:// option value"),
        ("sim://normal_run?loss=1.5", "out of range"),
        ("sim://normal_run?colour=red", "unknown sim:// option"),
        ("replay://", "replay needs a file"),
        ("carrier-pigeon://left", "not a transport URL"),
    ],
)
def test_bad_urls_say_what_was_expected(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        open_transport(url)
    assert "expected" in str(raised.value)


def _event_runner(events: EventSink) -> SessionRunner:
    """A runner whose news reaches `events` as the live commands send it: state events of
    the live state, alerts, the summary."""
    state = LiveState()
    return SessionRunner(sinks=[state, EventStream(events, state)])


def test_state_events_carry_what_a_live_display_shows() -> None:
    events: list[tuple[str, float, dict[str, Any]]] = []

    class Collector:
        def emit(self, event: str, t_s: float, **fields: Any) -> None:
            events.append((event, t_s, fields))

    url = "sim://tight_lacing?speed=max&duration_s=80"
    asyncio.run(run_session(open_transport(url), _event_runner(Collector())))
    states = [fields for event, _, fields in events if event == "state"]
    last = states[-1]
    assert last["cadence_spm"] > 120
    for foot in ("left", "right"):
        shown = last["feet"][foot]
        assert shown["connected"] and shown["link"] == f"sim:{foot}"
        assert shown["battery_pct"] is not None and 0.1 < shown["contact_s"] < 0.5
        assert set(shown["pressure_kpa"]) == set(shown["pads"]) and shown["faults"] == []
    lacing = [a for a in last["alerts"] if a["kind"] == "tight_lacing"]
    assert lacing and lacing[0]["foot"] == "left" and lacing[0]["suggestion"].startswith("Loosen")
    raised = [fields for event, _, fields in events if event == "alert"]
    assert any(a["kind"] == "tight_lacing" for a in raised)
    assert events[-1][0] == "summary"


def test_a_foot_whose_frames_stop_is_shown_as_not_connected(tmp_path: Path) -> None:
    """The right insole goes silent at 30 s while the left streams on: the state events show
    it connected, then not connected from about 2 s after its last frame."""
    from numbguard.recording import RecordingReader, RecordType
    from numbguard.recording.reader import FrameRecord, JsonRecord

    full = tmp_path / "both.ngrec"
    with RecordingWriter(full, {"source": "sim"}) as recorder:
        _run("sim://normal_run?speed=max&duration_s=45", recorder)
    cut = tmp_path / "right_stops.ngrec"
    right_index = None
    with RecordingWriter(cut, {"source": "sim"}) as writer:
        for record in RecordingReader(full).records():
            if isinstance(record, JsonRecord) and record.type == RecordType.INSOLE:
                writer.add_insole(record.value)
                if record.value.get("foot") == "right":
                    right_index = int(record.value["index"])
            elif isinstance(record, FrameRecord):
                if record.insole_index == right_index and record.t_rx_s > 30.0:
                    continue
                writer.write_frame(record.insole_index, record.channel, record.t_rx_s, record.data)
    assert right_index is not None

    events: list[tuple[float, dict[str, Any]]] = []

    class Collector:
        def emit(self, event: str, t_s: float, **fields: Any) -> None:
            if event == "state":
                events.append((t_s, fields))

    asyncio.run(
        run_session(open_transport(f"replay://{cut}?speed=max"), _event_runner(Collector()))
    )
    # A foot is listed from its first frame on (the first state event may come before it).
    right = [(t_s, fields["feet"]["right"]["connected"]) for t_s, fields in events if t_s > 1]
    assert len(right) > 40
    assert all(connected for t_s, connected in right if t_s < 30.0)
    assert all(not connected for t_s, connected in right if t_s > 32.5)
    assert all(fields["feet"]["left"]["connected"] for t_s, fields in events if t_s > 1)
