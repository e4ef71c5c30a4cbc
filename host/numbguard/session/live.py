"""Running a session from a transport: every event into the runner, whose sinks (the
recording, the live state and view, the sound, the event stream) take it from there."""

from __future__ import annotations

import logging

from numbguard.analysis.pipeline import SessionResult
from numbguard.session.runner import SessionRunner
from numbguard.transports.base import Transport

logger = logging.getLogger(__name__)


async def run_session(
    transport: Transport, runner: SessionRunner, *, duration_s: float | None = None
) -> SessionResult:
    """Feed every event of `transport` to `runner` until the transport ends or `duration_s`
    of session time has passed; returns the session's result (the runner's sinks have heard
    `finish` by then)."""
    logger.info("session from %s starts (session time limit: %s s)", transport.url, duration_s)
    async with transport:
        while (event := await transport.next_event()) is not None:
            runner.on_event(event)
            if duration_s is not None and event.received_s - runner.session_start_s >= duration_s:
                break
    result = runner.finish()
    logger.info("session from %s stops after %.1f s: %d steps, %d alerts", transport.url,
                result.duration_s, sum(foot.to_json()["steps"] for foot in result.feet.values()),
                len(result.alerts))  # fmt: skip
    return result
