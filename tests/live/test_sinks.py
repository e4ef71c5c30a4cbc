"""The session sink interface: what every sink hears, in which order, and that the pipeline
does not depend on who listens."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from numbguard.analysis.pipeline import SessionResult, alert_to_json
from numbguard.live.json_events import STATE_EVENT_PERIOD_S, EventStream
from numbguard.live.recording_sink import RecordingSink
from numbguard.live.sink import ChunkListener, FrameNews, InsoleSeen, SessionSink
from numbguard.live.state import PEAK_HOLD_S, LiveState
from numbguard.protocol.frames import DataFrame
from numbguard.recording import Channel, RecordingReader, RecordingWriter, RecordType
from numbguard.recording.reader import FrameRecord, JsonRecord
from numbguard.session.live import run_session
from numbguard.session.runner import SessionRunner
from numbguard.transports import open_transport
from numbguard.types import Alert, PressureChunk, StepMetrics

URL = "sim://tight_lacing?speed=max&duration_s=60&loss=0.05&seed=4"


class Journal(SessionSink):
    """Writes down every piece of news, in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, Any]] = []

    def insole(self, seen: InsoleSeen) -> None:
        self.heard.append(("insole", seen))

    def frame(self, news: FrameNews) -> None:
        self.heard.append(("frame", news))

    def note(self, record: dict[str, Any]) -> None:
        self.heard.append(("note", record))

    def chunk(self, chunk: PressureChunk, steps: Sequence[StepMetrics]) -> None:
        self.heard.append(("chunk", (chunk, list(steps))))

    def alert(self, alert: Alert) -> None:
        self.heard.append(("alert", alert))

    def finish(self, result: SessionResult) -> None:
        self.heard.append(("finish", result))


def _run(sinks: Sequence[SessionSink]) -> SessionResult:
    return asyncio.run(run_session(open_transport(URL), SessionRunner(sinks=sinks)))


def test_every_sink_hears_the_news_in_order() -> None:
    journal = Journal()
    result = _run([journal])
    kinds = [kind for kind, _ in journal.heard]
    assert kinds[-1] == "finish" and kinds.count("finish") == 1
    assert journal.heard[-1][1] is result
    # Each foot's insole is told before its first frame, once.
    seen = [news for kind, news in journal.heard if kind == "insole"]
    assert sorted(s.foot for s in seen) == ["left", "right"]
    for insole in seen:
        first_frame = next(
            i for i, (kind, news) in enumerate(journal.heard)
            if kind == "frame" and news.foot == insole.foot
        )  # fmt: skip
        assert journal.heard.index(("insole", insole)) < first_frame
    # Chunks and alerts come after a frame (the one that released them), never before any.
    assert kinds.index("frame") < kinds.index("chunk")
    alerts = [a for kind, a in journal.heard if kind == "alert"]
    assert [alert_to_json(a) for a in alerts] == [alert_to_json(a) for a in result.alerts]
    assert any(a.kind == "tight_lacing" for a in alerts)
    # 5% of notifications lost: some frames come back late, and at the end none is missing.
    frames = [news for kind, news in journal.heard if kind == "frame"]
    assert sum(news.recovered for news in frames) > 0
    last = {news.foot: news for news in frames if isinstance(news.frame, DataFrame)}
    assert all(news.missing == 0 for news in last.values())
    notes = [record["event"] for kind, record in journal.heard if kind == "note"]
    assert notes.count("identity") >= 2
    # The steps told with the chunks are the session's steps.
    told = sum(len(steps) for kind, (_, steps) in
               ((k, v) for k, v in journal.heard if k == "chunk"))  # fmt: skip
    assert 0 < told <= sum(foot.to_json()["steps"] for foot in result.feet.values())


def test_the_pipeline_gives_the_same_result_whoever_listens(tmp_path: Path) -> None:
    alone = _run([])
    chunks: list[PressureChunk] = []
    with RecordingWriter(tmp_path / "s.ngrec", {"source": URL}) as recorder:
        state = LiveState()
        listened = _run([RecordingSink(recorder, Channel.SIM), state, ChunkListener(chunks.append)])
    assert listened.to_json() == alone.to_json()
    assert chunks and {c.foot for c in chunks} == {"left", "right"}


def test_the_recording_sink_writes_insoles_frames_notes_and_alerts(tmp_path: Path) -> None:
    path = tmp_path / "s.ngrec"
    journal = Journal()
    with RecordingWriter(path, {"source": URL}) as recorder:
        result = _run([RecordingSink(recorder, Channel.SERIAL), journal])
    records = list(RecordingReader(path).records())

    def json_values(kind: RecordType) -> list[dict[str, Any]]:
        return [r.value for r in records if isinstance(r, JsonRecord) and r.type == kind]

    insoles = json_values(RecordType.INSOLE)
    assert sorted(i["foot"] for i in insoles) == ["left", "right"]
    assert all("calibration" in i for i in insoles)
    frames = [r for r in records if isinstance(r, FrameRecord)]
    told = [news for kind, news in journal.heard if kind == "frame"]
    assert [f.data for f in frames] == [news.raw for news in told]
    assert {f.channel for f in frames} == {Channel.SERIAL}
    assert [f.t_rx_s for f in frames] == pytest.approx([news.t_s for news in told], abs=1e-6)
    alerts = json_values(RecordType.ALERT)
    assert alerts == [alert_to_json(a) for a in result.alerts]
    events = [event["event"] for event in json_values(RecordType.EVENT)]
    assert events.count("identity") >= 2


def test_the_live_state_holds_each_pads_peak_for_a_second() -> None:
    state = LiveState()
    t_s = np.arange(0, 0.1, 0.01)
    state.chunk(PressureChunk("left", t_s, {"met1": np.full(10, 300.0)}, 100.0), [])
    state.chunk(PressureChunk("left", t_s + 0.5, {"met1": np.full(10, 100.0)}, 100.0), [])
    assert state.feet["left"].pressure_kpa["met1"] == 300.0  # still within the hold
    later = t_s + 0.5 + PEAK_HOLD_S + 0.2
    state.chunk(PressureChunk("left", later, {"met1": np.full(10, 120.0)}, 100.0), [])
    assert state.feet["left"].pressure_kpa["met1"] == 120.0
    state.chunk(PressureChunk("left", later + 0.1, {"met1": np.full(10, np.nan)}, 100.0), [])
    assert state.feet["left"].pressure_kpa["met1"] == 120.0  # a blank chunk keeps the peak


def test_an_alert_is_in_the_state_event_of_the_next_frame() -> None:
    """State events come once a second, but the one after an alert comes with the next
    frame: the page's "alerts now" shows it a frame later, not up to a second."""
    events: list[tuple[str, float, dict[str, Any]]] = []

    class Collector:
        def emit(self, event: str, t_s: float, **fields: Any) -> None:
            events.append((event, t_s, fields))

    state = LiveState()
    sinks: list[SessionSink] = [state, EventStream(Collector(), state)]
    journal = Journal()
    _run([journal])
    frames = [news for kind, news in journal.heard if kind == "frame"]
    lacing = next(a for kind, a in journal.heard if kind == "alert" and a.kind == "tight_lacing")
    told = False
    for news in frames:
        if told:
            for sink in sinks:
                sink.frame(news)
            break
        for sink in sinks:
            sink.frame(news)
        if news.t_s >= lacing.t_s:
            for sink in sinks:
                sink.alert(lacing)
            told = True
    states = [(t_s, fields) for event, t_s, fields in events if event == "state"]
    t_s, last = states[-1]
    assert t_s - states[-2][0] < STATE_EVENT_PERIOD_S
    assert [a["kind"] for a in last["alerts"]] == ["tight_lacing"]
