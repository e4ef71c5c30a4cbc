"""The one transport interface: frames in as events, control frames out with their replies.

Every transport (ble, serial, replay, sim) is an async context manager. Entering it opens the
links; iterating it yields a `FrameEvent` per frame received, in arrival order, until the
transport is closed (iteration ends) or a link fails for good (`DeviceError`). `control()`
sends a control frame to one insole and awaits the reply with the same request id, retrying on
timeout.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self, cast

from numbguard.errors import DeviceNotFound, DeviceTimeout
from numbguard.pads import Foot
from numbguard.protocol.codec import encode_frame
from numbguard.protocol.control import make_control
from numbguard.protocol.frames import ArgValue, Frame, Reply

logger = logging.getLogger(__name__)

DEFAULT_REPLY_TIMEOUT_S: Final = 1.0
DEFAULT_CONTROL_ATTEMPTS: Final = 3


@dataclass(frozen=True)
class InsoleIdentity:
    """Who sent a frame. `insole_id` and `boot_id` are known once status page 0 arrived."""

    link: str  # where the insole is reached: a BLE address or a serial port path
    foot: Foot
    insole_tag: int  # low 7 bits of the insole id, from every frame header
    insole_id: int | None = None
    boot_id: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class FrameEvent:
    """One frame received from an insole.

    `raw` is the frame's exact bytes (one notification on BLE, one COBS-decoded frame on
    serial), so a recording can replay it through the same decoder. `late` marks a data frame
    that arrived after a later one: a frame recovered by RESEND, not a lost one.
    """

    insole: InsoleIdentity
    frame: Frame
    raw: bytes
    received_s: float  # host time.monotonic() when the bytes arrived
    late: bool = False

    @property
    def foot(self) -> Foot:
        return self.insole.foot


class _EndOfEvents:
    """Queued when the transport closes, so an iterator blocked on the queue wakes up."""


_END: Final = _EndOfEvents()


class RequestTracker:
    """Request ids for control frames and the futures that wait for their replies."""

    def __init__(self) -> None:
        self._next_id = itertools.count(1)
        self._waiting: dict[tuple[str, int], asyncio.Future[Reply]] = {}

    def new_request_id(self) -> int:
        return next(self._next_id) & 0xFFFF

    def expect(self, link: str, request_id: int) -> asyncio.Future[Reply]:
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[(link, request_id)] = future
        return future

    def forget(self, link: str, request_id: int) -> None:
        self._waiting.pop((link, request_id), None)

    def resolve(self, link: str, reply: Reply) -> bool:
        """Hand a reply to its waiter; False if nobody waits for it (late or unknown)."""
        future = self._waiting.pop((link, reply.seq), None)
        if future is None or future.done():
            return False
        future.set_result(reply)
        return True

    def fail_link(self, link: str, error: BaseException) -> None:
        for key in [key for key in self._waiting if key[0] == link]:
            future = self._waiting.pop(key)
            if not future.done():
                future.set_exception(error)


class Transport(abc.ABC):
    """Base of every transport. Subclasses implement `_open`, `_close` and `_send`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requests = RequestTracker()
        self._events: asyncio.Queue[FrameEvent | _EndOfEvents | BaseException] = asyncio.Queue()
        self._failure: BaseException | None = None
        self._closed = False
        self.control_retries = 0  # control frames sent again after a reply timed out

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        logger.info("%s: opening", self.url)
        await self._open()
        for insole in self.insoles:
            logger.info("%s: %s insole %s at %s, boot %s", self.url, insole.foot,
                        insole.insole_id, insole.link, insole.boot_id)  # fmt: skip
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._close()
        logger.info("%s: closed (%d control frames sent again)", self.url, self.control_retries)
        self._events.put_nowait(_END)

    @abc.abstractmethod
    async def _open(self) -> None:
        """Open every link; raise `DeviceError` if an insole cannot be reached."""

    @abc.abstractmethod
    async def _close(self) -> None:
        """Close every link; must not raise."""

    @abc.abstractmethod
    async def _send(self, link: str, frame: bytes) -> None:
        """Send one encoded frame to the insole at `link`."""

    @property
    @abc.abstractmethod
    def insoles(self) -> tuple[InsoleIdentity, ...]:
        """The insoles this transport talks to, as far as they are known now."""

    # -- events ------------------------------------------------------------------------------

    def _emit(self, event: FrameEvent) -> None:
        self._events.put_nowait(event)

    def _fail(self, error: BaseException) -> None:
        """A link failed for good: wake the consumer with the error."""
        if self._failure is None:
            # At info: the error itself reaches the user (the CLI prints it once).
            logger.info("%s: ends: %s", self.url, error)
            self._failure = error
            self._events.put_nowait(error)

    async def next_event(self, timeout_s: float | None = None) -> FrameEvent | None:
        """The next event; None once the transport is closed. Raises `DeviceError` on failure."""
        if self._failure is not None and self._events.empty():
            raise self._failure
        try:
            item = await asyncio.wait_for(self._events.get(), timeout_s)
        except TimeoutError:
            assert timeout_s is not None  # without a timeout, wait_for does not time out
            raise DeviceTimeout(self.url, "frame", timeout_s) from None
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, _EndOfEvents):
            self._events.put_nowait(_END)  # stay at the end for further callers
            return None
        return item

    async def __aiter__(self) -> AsyncIterator[FrameEvent]:
        while (event := await self.next_event()) is not None:
            yield event

    # -- control -----------------------------------------------------------------------------

    def link_for(self, foot: Foot) -> str:
        for insole in self.insoles:
            if insole.foot == foot:
                return insole.link
        known = ", ".join(f"{i.foot} at {i.link}" for i in self.insoles) or "none"
        raise DeviceNotFound(f"{foot} insole on {self.url}", None, f"connected: {known}")

    async def control(
        self,
        link: str,
        opcode: int,
        *,
        timeout_s: float = DEFAULT_REPLY_TIMEOUT_S,
        attempts: int = DEFAULT_CONTROL_ATTEMPTS,
        **args: ArgValue,
    ) -> Reply:
        """Send a control frame to the insole at `link`; return its reply.

        A retry reuses the request id, so a reply to an earlier attempt that arrives late
        still counts. Raises `DeviceError` after `attempts` timeouts or when the link fails.
        """
        request_id = self.requests.new_request_id()
        # Each link is one insole, so the header's default target (tag 0) is right.
        frame = encode_frame(make_control(opcode, request_id, **cast(dict[str, Any], args)))
        future = self.requests.expect(link, request_id)
        try:
            for attempt in range(attempts):
                if attempt:
                    self.control_retries += 1
                await self._send(link, frame)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), timeout_s)
                except TimeoutError:
                    continue
            raise DeviceTimeout(
                link,
                f"reply to control opcode {opcode} (request {request_id})",
                timeout_s,
                attempts=attempts,
            )
        finally:
            self.requests.forget(link, request_id)
