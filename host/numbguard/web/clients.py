"""What one connected page has yet to be sent, bounded however slow the phone is.

A `state` event replaces the one not yet sent (only the newest picture matters); other events
(alerts, the summary) wait in order in a short queue whose oldest entry goes when it is full.
So a page that stops reading costs the host at most one state and `max_events` messages.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

MAX_PENDING_EVENTS: Final = 64  # alerts come seconds apart; 64 is minutes of a stalled page


class ClientQueue:
    def __init__(self, max_events: int = MAX_PENDING_EVENTS) -> None:
        self._state: str | None = None
        self._events: deque[str] = deque(maxlen=max_events)
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped_states = 0
        self.dropped_events = 0

    def put_state(self, message: str) -> None:
        if self._state is not None:
            self.dropped_states += 1
        self._state = message
        self._ready.set()

    def put_event(self, message: str) -> None:
        if len(self._events) == self._events.maxlen:
            self.dropped_events += 1
        self._events.append(message)
        self._ready.set()

    def close(self) -> None:
        """The server is stopping: `get` returns None once the queue is empty."""
        self._closed = True
        self._ready.set()

    def pending(self) -> int:
        return len(self._events) + (self._state is not None)

    async def get(self) -> str | None:
        """The next message to send (events before the state), or None after `close`."""
        while True:
            if self._events:
                return self._events.popleft()
            if self._state is not None:
                message, self._state = self._state, None
                return message
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
