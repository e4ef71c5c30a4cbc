"""`replay://FILE`: a recording's frames as they were received, at real time, N x, or at once.

Frames keep their recorded receive times, so a session runner fed from here gives the live
session's alerts whatever the pace. A replay cannot take control frames.

URL: ``replay://session.ngrec?speed=10`` (speed 1 = as recorded, `max` = as fast as possible).
"""

from __future__ import annotations

import asyncio
import math
import time
from urllib.parse import parse_qs, unquote, urlsplit

from numbguard.errors import BadUrl, DeviceRefused
from numbguard.recording import RecordingReader
from numbguard.transports.base import InsoleIdentity, Transport
from numbguard.transports.link import InsoleLink
from numbguard.transports.recorded_events import ReplayStats, replay_events


class ReplayTransport(Transport):
    def __init__(self, url: str, path: str, *, speed: float = 1.0) -> None:
        super().__init__(url)
        self.path = path
        self.speed = speed
        self.reader = RecordingReader(path)  # checks the file at once: a clear error, early
        self.stats = ReplayStats()
        self._insoles: dict[str, InsoleIdentity] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def insoles(self) -> tuple[InsoleIdentity, ...]:
        return tuple(self._insoles.values())

    async def _open(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _link(self, address: str) -> InsoleLink:
        raise self._no_control(address)

    async def _send(self, link: str, frame: bytes) -> None:
        raise self._no_control(link)

    def _no_control(self, link: str) -> DeviceRefused:
        return DeviceRefused(link, "control", f"{self.url} is a replay: it takes no control frames")

    async def _run(self) -> None:
        start_wall_s = time.monotonic()
        for count, event in enumerate(replay_events(self.reader, self.stats)):
            self._insoles.setdefault(event.insole.link, event.insole)
            if math.isfinite(self.speed):
                delay_s = event.received_s / self.speed - (time.monotonic() - start_wall_s)
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
            elif count % 256 == 0:
                await asyncio.sleep(0)  # let the consumer keep up
            self.emit(event)
        await self.close()


def from_url(url: str, *, speed: float | None = None) -> ReplayTransport:
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise BadUrl(
            "replay needs a file", expected="replay://PATH[?speed=N|max]", got=repr(url), url=url
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if speed is None:
        text = query.get("speed", "1")
        try:
            speed = math.inf if text == "max" else float(text)
        except ValueError:
            raise BadUrl(
                "bad replay speed", expected="a number > 0 or 'max'", got=repr(text), url=url
            ) from None
    if not speed > 0:
        raise BadUrl("bad replay speed", expected="a number > 0 or 'max'", got=str(speed), url=url)
    return ReplayTransport(url, path, speed=speed)
