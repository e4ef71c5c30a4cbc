"""The session's event stream: `--json` lines for other programs, and the fan-out that sends
the same events to every consumer (the JSON writer, the web page), so there is one pipeline.

Every event is `{"event": name, "t_s": session seconds, ...fields}`; the fields are JSON-safe
(NaN becomes null) before any sink sees them. docs/web.md lists the events and their fields.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Final, Protocol, TextIO

from numbguard.analysis.pipeline import SessionResult, alert_to_json
from numbguard.live.sink import FrameNews, SessionSink
from numbguard.live.state import LiveState
from numbguard.types import Alert

STATE_EVENT_PERIOD_S: Final = 1.0  # session time between `state` events


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class EventSink(Protocol):
    """Anything that takes the session's events."""

    def emit(self, event: str, t_s: float, **fields: Any) -> None: ...


def emit_alert(sink: EventSink, alert: Alert) -> None:
    """An alert as an `alert` event: the fields `analyze --json` gives each alert."""
    fields = alert_to_json(alert)
    t_s = float(fields.pop("t_s"))
    sink.emit("alert", t_s, **fields)


class JsonEventSink:
    """Writes one JSON object per line: `{"event": name, "t_s": ..., ...}`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout

    def emit(self, event: str, t_s: float, **fields: Any) -> None:
        record = {"event": event, "t_s": round(t_s, 3), **_finite(fields)}
        self._stream.write(json.dumps(record, sort_keys=True) + "\n")
        self._stream.flush()


class EventFanout:
    """One event stream to several sinks, cleaned once (NaN to null) for all of them."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: str, t_s: float, **fields: Any) -> None:
        clean = _finite(fields)
        for sink in self.sinks:
            sink.emit(event, t_s, **clean)


class EventStream(SessionSink):
    """The session as events into `events`: a `state` event (what `state` shows) each
    `STATE_EVENT_PERIOD_S` of session time and at the frame after an alert, an `alert` event
    per alert, a `summary` at the end. Sits after `state` among the runner's sinks."""

    def __init__(
        self, events: EventSink, state: LiveState, period_s: float = STATE_EVENT_PERIOD_S
    ) -> None:
        self.events = events
        self.state = state
        self.period_s = period_s
        self._next_state_s = 0.0

    def frame(self, news: FrameNews) -> None:
        if news.t_s >= self._next_state_s:
            self._next_state_s = news.t_s + self.period_s
            emit_state(self.events, self.state, news.t_s)

    def alert(self, alert: Alert) -> None:
        emit_alert(self.events, alert)
        # The state that shows it goes out with the next frame, not up to a period later:
        # a frame's news comes before the alerts it leads to.
        self._next_state_s = -math.inf

    def finish(self, result: SessionResult) -> None:
        self.events.emit("summary", result.duration_s, result=result.to_json())


def emit_state(sink: EventSink, state: LiveState, t_s: float) -> None:
    """What a live display needs: cadence, the current alerts with their top suggestion, and
    per foot seen its link state, battery, pad pressures, contact time, faults and frames."""
    sink.emit(
        "state",
        t_s,
        cadence_spm=state.cadence_spm,
        alerts=[
            {
                "t_s": round(alert.t_s, 3),
                "foot": alert.foot,
                "kind": alert.kind,
                "severity": alert.severity,
                "pads": list(alert.pads),
                "message": alert.message,
                "suggestion": alert.suggestions[0] if alert.suggestions else None,
            }
            for alert in sorted(state.active_alerts.values(), key=lambda a: (a.t_s, a.foot))
        ],
        feet={
            foot: {
                "connected": foot_state.connected,
                "link": foot_state.link,
                "battery_pct": foot_state.battery_pct,
                "pads": list(foot_state.pads),
                "pressure_kpa": {pad: round(v, 1) for pad, v in foot_state.pressure_kpa.items()},
                "contact_s": (
                    None if foot_state.contact_s is None else round(foot_state.contact_s, 3)
                ),
                "faults": list(foot_state.faults),
                "frames_received": foot_state.frames_received,
                "frames_missing": foot_state.frames_missing,
                "frames_recovered": foot_state.frames_recovered,
                "previous_reset": foot_state.previous_reset,
            }
            for foot, foot_state in state.feet.items()
            if foot_state.last_frame_s is not None  # seen once: shown, connected or not
        },
    )
