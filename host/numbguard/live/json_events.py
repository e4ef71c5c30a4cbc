"""`--json`: the session's events as JSON lines on a stream, for other programs."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, TextIO

from numbguard.analysis.pipeline import alert_to_json
from numbguard.analysis.types import Alert


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class JsonEventSink:
    """Writes one JSON object per line: `{"event": name, "t_s": ..., ...}`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout

    def emit(self, event: str, t_s: float, **fields: Any) -> None:
        record = {"event": event, "t_s": round(t_s, 3), **_finite(fields)}
        self._stream.write(json.dumps(record, sort_keys=True) + "\n")
        self._stream.flush()

    def alert(self, alert: Alert) -> None:
        fields = alert_to_json(alert)
        t_s = float(fields.pop("t_s"))
        self.emit("alert", t_s, **fields)
