"""Running a session from a transport: events into the runner, the live view, sound, and the
event stream (`--json`, the web page)."""

from __future__ import annotations

import logging
import time
from typing import Final

from numbguard.analysis.pipeline import SessionResult
from numbguard.live.json_events import EventSink, emit_alert
from numbguard.live.sound import AlertSound
from numbguard.live.view import LiveView
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import Transport
from numbguard.types import Alert

logger = logging.getLogger(__name__)

VIEW_PERIOD_S: Final = 0.25  # wall time between redraws of the live view
STATE_EVENT_PERIOD_S: Final = 1.0  # session time between `state` events


class SessionSinks:
    """Where a running session's news goes: the live view, the alert sound, the event stream
    (one `EventSink`; an `EventFanout` when JSON lines and the web page both listen)."""

    def __init__(
        self,
        *,
        view: LiveView | None = None,
        sound: AlertSound | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.view = view
        self.sound = sound
        self.events = events

    def alert(self, alert: Alert) -> None:
        if self.sound is not None:
            self.sound.announce(alert)
        if self.events is not None:
            emit_alert(self.events, alert)


async def run_session(
    transport: Transport,
    runner: SessionRunner,
    sinks: SessionSinks,
    *,
    duration_s: float | None = None,
) -> SessionResult:
    """Feed every event of `transport` to `runner` until the transport ends or `duration_s`
    of session time has passed; returns the session's result. The runner's `on_alert` should
    be `sinks.alert`."""
    last_view_s = 0.0
    next_state_s = 0.0
    logger.info("session from %s starts (session time limit: %s s)", transport.url, duration_s)
    async with transport:
        while (event := await transport.next_event()) is not None:
            runner.on_event(event)
            session_s = event.received_s - runner.session_start_s
            runner.state.mark_silent_links(session_s)
            if sinks.events is not None and session_s >= next_state_s:
                next_state_s = session_s + STATE_EVENT_PERIOD_S
                _state_event(runner, sinks.events, session_s)
            if sinks.view is not None and time.monotonic() - last_view_s >= VIEW_PERIOD_S:
                last_view_s = time.monotonic()
                sinks.view.update(runner.state)
            if duration_s is not None and session_s >= duration_s:
                break
    result = runner.finish()
    logger.info("session from %s stops after %.1f s: %d steps, %d alerts", transport.url,
                result.duration_s, sum(foot.to_json()["steps"] for foot in result.feet.values()),
                len(result.alerts))  # fmt: skip
    if sinks.view is not None:
        sinks.view.update(runner.state)
    if sinks.events is not None:
        sinks.events.emit("summary", result.duration_s, result=result.to_json())
    return result


def _state_event(runner: SessionRunner, sink: EventSink, t_s: float) -> None:
    """What a live display needs: cadence, the current alerts with their top suggestion, and
    per foot seen its link state, battery, pad pressures, contact time, faults and frames."""
    state = runner.state
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
