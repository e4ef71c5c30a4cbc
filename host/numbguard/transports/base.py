"""The one transport interface: frames in as events, control frames out with their replies.

Every transport (ble, serial, replay, sim) is an async context manager. Entering it opens the
links; iterating it yields a `FrameEvent` per frame received, in arrival order, until the
transport is closed (iteration ends) or a link fails for good (`DeviceError`). `control()`
sends a control frame to one insole and awaits the reply with the same request id, retrying on
timeout: the transport finds the insole's `InsoleLink`, which owns its requests.

A transport makes its links with `_new_link`, which gives each one a `send` bound to its
address and `emit` for its events; the link never sees the transport itself.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType, TracebackType
from typing import Final, Self

from numbguard.errors import DeviceNotFound, DeviceTimeout
from numbguard.pads import Foot
from numbguard.protocol.frames import ArgValue, Reply

# Re-exported: callers have always found the event types here.
from numbguard.transports.events import FrameEvent as FrameEvent
from numbguard.transports.events import InsoleIdentity as InsoleIdentity
from numbguard.transports.link import (
    DEFAULT_CONTROL_ATTEMPTS,
    DEFAULT_REPLY_TIMEOUT_S,
    InsoleLink,
)

logger = logging.getLogger(__name__)


class _EndOfEvents:
    """Queued when the transport closes, so an iterator blocked on the queue wakes up."""


_END: Final = _EndOfEvents()


class Transport(abc.ABC):
    """Base of every transport. Subclasses implement `_open`, `_close` and `_send`, and make
    their insoles' links with `_new_link`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._events: asyncio.Queue[FrameEvent | _EndOfEvents | BaseException] = asyncio.Queue()
        self._failure: BaseException | None = None
        self._closed = False
        self._insole_links: dict[str, InsoleLink] = {}

    @property
    def links(self) -> Mapping[str, InsoleLink]:
        """Each insole's link by address (port path, BLE address, sim:FOOT)."""
        return MappingProxyType(self._insole_links)

    @property
    def control_retries(self) -> int:
        """Control frames sent again after a reply timed out, over every link."""
        return sum(link.control_retries for link in self._insole_links.values())

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

    # -- links and events --------------------------------------------------------------------

    def _new_link(self, address: str, *, name: str | None = None) -> InsoleLink:
        """The link to the insole at `address`, kept for `control` and `links`: it sends
        through `_send` and emits its events to this transport's consumer."""
        link = InsoleLink(
            address, send=functools.partial(self._send, address), emit=self.emit, name=name
        )
        self._insole_links[address] = link
        return link

    def _link(self, address: str) -> InsoleLink:
        link = self._insole_links.get(address)
        if link is None:
            known = ", ".join(self._insole_links) or "none"
            raise DeviceNotFound(address, None, f"no insole of {self.url} there (links: {known})")
        return link

    def emit(self, event: FrameEvent) -> None:
        """Queue one event for the consumer (the links call this; so does a replay)."""
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
        return await self._link(link).control(
            opcode, timeout_s=timeout_s, attempts=attempts, **args
        )
