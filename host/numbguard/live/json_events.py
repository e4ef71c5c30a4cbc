"""The session's event stream: `--json` lines for other programs, and the fan-out that sends
the same events to every consumer (the JSON writer, the web page), so there is one pipeline.

Every event is `{"event": name, "t_s": session seconds, ...fields}`; the fields are JSON-safe
(NaN becomes null) before any sink sees them. docs/web.md lists the events and their fields.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Protocol, TextIO

from numbguard.analysis.pipeline import alert_to_json
from numbguard.types import Alert


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

    def alert(self, alert: Alert) -> None:
        emit_alert(self, alert)


class EventFanout:
    """One event stream to several sinks, cleaned once (NaN to null) for all of them."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: str, t_s: float, **fields: Any) -> None:
        clean = _finite(fields)
        for sink in self.sinks:
            sink.emit(event, t_s, **clean)
