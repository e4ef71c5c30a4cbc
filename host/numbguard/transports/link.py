"""One insole's link, whatever carries it: frames in, identity, replies, gaps and resends.

Every transport with insoles behind it (serial, BLE, sim) hands each decoded frame to
`InsoleLink.on_frame`. It resolves replies to waiting control requests, learns the insole's
identity from status page 0, feeds data frames to the stream reassembler (which says whether
a frame is late, i.e. recovered, and which sequence numbers are missing), asks the insole to
RESEND the missing ones, and emits a `FrameEvent` per frame as the stream places it (a
duplicate is not emitted).

The link knows its transport only as two callables: `send` (one encoded frame out to this
insole) and `emit` (one event to the consumer). It owns its control requests: their ids, the
futures that wait for replies, retries, and failing them all when the transport says the link
is lost (`lost`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final, cast

from numbguard.errors import DeviceError, DeviceTimeout
from numbguard.protocol.codec import encode_frame
from numbguard.protocol.constants import (
    OP_GET_STATUS,
    OP_RESEND,
    OP_TIME_SYNC,
    RESULT_NOT_HELD,
    RESULT_OK,
    SEQ_MODULO,
)
from numbguard.protocol.control import make_control
from numbguard.protocol.decoder import Decoded
from numbguard.protocol.frames import (
    ArgValue,
    DataFrame,
    Frame,
    Reply,
    StatusFrame,
    StatusIdentity,
)
from numbguard.protocol.stream import (
    MAX_EVIDENCE_FRAMES,
    MAX_WAITING_FRAMES,
    InsoleStream,
    StreamFrame,
)
from numbguard.protocol.time_sync import token_from_host_time
from numbguard.transports.events import FrameEvent, InsoleIdentity

DEFAULT_REPLY_TIMEOUT_S: Final = 1.0
DEFAULT_CONTROL_ATTEMPTS: Final = 3
IDENTIFY_TIMEOUT_S: Final = 3.0
# TIME_SYNC round trips this often keep the drift estimate of protocol.time_sync fed.
DEFAULT_TIME_SYNC_PERIOD_S: Final = 10.0
IDENTIFY_RETRY_S: Final = 0.3
# Resend requests are batched: a burst of lost notifications becomes one RESEND.
RESEND_DELAY_S: Final = 0.05
# Frames still missing this long after their request are asked for again.
RESEND_RETRY_S: Final = 0.5
MAX_RESENDS_IN_FLIGHT: Final = 4
MAX_HELD_FRAMES: Final = MAX_WAITING_FRAMES + MAX_EVIDENCE_FRAMES
# Frames from before the first one heard are asked for this many times, this far apart.
logger = logging.getLogger(__name__)

HISTORY_ATTEMPTS: Final = 3
HISTORY_WAIT_S: Final = 0.3


class InsoleLink:
    """The host's side of one insole link. `link` names it (port path or BLE address).

    `send` carries one encoded frame to this insole (raising `DeviceError` if it cannot);
    `emit` hands one event to whoever consumes the transport.
    """

    def __init__(
        self,
        link: str,
        *,
        send: Callable[[bytes], Awaitable[None]],
        emit: Callable[[FrameEvent], None],
        name: str | None = None,
    ) -> None:
        self.link = link
        self._send = send
        self._emit_event = emit
        self.name = name
        self.identity: InsoleIdentity | None = None
        self.stream = InsoleStream()
        self.frames_received = 0
        self.resend_requests = 0
        self.att_mtu: int | None = None  # BLE only: the negotiated ATT MTU
        self._identified = asyncio.Event()
        # Data frames the stream holds back (after a reconnection, or as evidence of a reset),
        # with their bytes and arrival time, until it places them.
        self._held: deque[tuple[DataFrame, bytes, float]] = deque(maxlen=MAX_HELD_FRAMES)
        self._resend_task: asyncio.Task[None] | None = None
        self._history_task: asyncio.Task[None] | None = None
        self._in_flight = asyncio.Semaphore(MAX_RESENDS_IN_FLIGHT)
        self._request_ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Reply]] = {}  # request id -> its reply
        self.control_retries = 0  # control frames sent again after a reply timed out

    @property
    def fetching_history(self) -> bool:
        """True while the frames from before the first one heard are still being asked for."""
        return self._history_task is not None and not self._history_task.done()

    @property
    def caught_up(self) -> bool:
        """Nothing missing and no history still on the way: every frame the insole could
        send has arrived or been given up."""
        return self.stream.missing() == 0 and not self.fetching_history

    # -- frames in -------------------------------------------------------------------------

    def on_frame(self, decoded: Decoded, received_s: float) -> None:
        frame = decoded.frame
        self.frames_received += 1
        identity = self.identity
        if identity is None or (identity.foot, identity.insole_tag) != (
            frame.foot,
            frame.insole_tag,
        ):
            self.identity = InsoleIdentity(
                link=self.link, foot=frame.foot, insole_tag=frame.insole_tag, name=self.name
            )
        if isinstance(frame, DataFrame):
            if self._history_task is None:
                self._history_task = asyncio.get_running_loop().create_task(
                    self._ask_history(frame.seq)
                )
            self._place(self.stream.place(frame), frame, decoded.raw, received_s)
            if self.stream.missing():
                self._schedule_resend()
            return
        if isinstance(frame, Reply):
            self._resolve(frame)
        self._emit(frame, decoded.raw, received_s, late=False)
        if isinstance(frame, StatusFrame):
            if isinstance(frame, StatusIdentity):
                self._learn_identity(frame)
            self._place(self.stream.on_status(frame), None, b"", received_s)
            # Page 1 names the newest frame sent: frames lost at the end of a stream (before a
            # STOP, or during a link drop) show up only here, with no newer frame to tell.
            if self.stream.missing():
                self._schedule_resend()

    def _place(
        self, placed: list[StreamFrame], frame: DataFrame | None, raw: bytes, received_s: float
    ) -> None:
        """Emit the frames the stream placed; keep `frame` if the stream held it back."""
        for item in placed:
            if item.frame is frame:
                self._emit(item.frame, raw, received_s, late=item.late)
                frame = None
                continue
            for index, (held, held_raw, held_s) in enumerate(self._held):
                if held is item.frame:
                    del self._held[index]
                    self._emit(held, held_raw, held_s, late=item.late)
                    break
        if frame is not None:
            self._held.append((frame, raw, received_s))  # held, or a duplicate that ages out

    def _emit(self, frame: Frame, raw: bytes, received_s: float, *, late: bool) -> None:
        assert self.identity is not None
        self._emit_event(FrameEvent(self.identity, frame, raw, received_s, late))

    def _learn_identity(self, page: StatusIdentity) -> None:
        assert self.identity is not None
        self.identity = replace(self.identity, insole_id=page.insole_id, boot_id=page.boot_id)
        self._identified.set()

    # -- requests out ----------------------------------------------------------------------

    async def control(
        self,
        opcode: int,
        *,
        timeout_s: float = DEFAULT_REPLY_TIMEOUT_S,
        attempts: int = DEFAULT_CONTROL_ATTEMPTS,
        **args: ArgValue,
    ) -> Reply:
        """Send a control frame to this insole; return its reply.

        A retry reuses the request id, so a reply to an earlier attempt that arrives late
        still counts. Raises `DeviceTimeout` after `attempts` timeouts, and the `send` error
        or the one given to `lost` when the link fails.
        """
        request_id = next(self._request_ids) & 0xFFFF
        # Each link is one insole, so the header's default target (tag 0) is right.
        frame = encode_frame(make_control(opcode, request_id, **cast(dict[str, Any], args)))
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            for attempt in range(attempts):
                if attempt:
                    self.control_retries += 1
                await self._send(frame)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), timeout_s)
                except TimeoutError:
                    continue
            raise DeviceTimeout(
                self.link,
                f"reply to control opcode {opcode} (request {request_id})",
                timeout_s,
                attempts=attempts,
            )
        finally:
            if self._waiting.get(request_id) is future:
                del self._waiting[request_id]

    def _resolve(self, reply: Reply) -> bool:
        """Hand a reply to its waiter; False if nobody waits for it (late or unknown)."""
        future = self._waiting.pop(reply.seq, None)
        if future is None or future.done():
            return False
        future.set_result(reply)
        return True

    def lost(self, error: BaseException) -> None:
        """The link went away: every request waiting for a reply fails with `error`."""
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)

    def reconnected(self) -> None:
        """The link is back: hold data until page 0 says whether the insole restarted."""
        self.stream.hold_until_identity()
        self._identified.clear()

    async def identify(self, timeout_s: float = IDENTIFY_TIMEOUT_S) -> InsoleIdentity:
        """Ask for every status page until page 0 comes: the insole's id and boot id.

        GET_STATUS is sent again every `IDENTIFY_RETRY_S`: the page itself can be lost, and
        data waits for it after a reconnection (the insole's ring does not wait).
        """
        self._identified.clear()
        deadline_s = time.monotonic() + timeout_s
        problem = "no page 0"
        while not self._identified.is_set():
            left_s = deadline_s - time.monotonic()
            if left_s <= 0:
                # Do not keep data waiting for a page that does not come.
                self._place(self.stream.release_waiting(), None, b"", 0.0)
                raise DeviceTimeout(self.link, "identity page", timeout_s, detail=problem)
            try:
                await self.control(
                    OP_GET_STATUS, timeout_s=min(left_s, IDENTIFY_RETRY_S), attempts=1
                )
                await asyncio.wait_for(self._identified.wait(), min(left_s, IDENTIFY_RETRY_S))
            except TimeoutError:
                problem = "GET_STATUS answered, page 0 lost"
            except DeviceError as error:
                problem = str(error)
                await asyncio.sleep(min(max(0.0, left_s), IDENTIFY_RETRY_S / 5))
        assert self.identity is not None
        return self.identity

    async def time_sync(self) -> Reply:
        """One TIME_SYNC round trip; the token is the host send time (see protocol.time_sync)."""
        return await self.control(OP_TIME_SYNC, host_token=token_from_host_time(time.monotonic()))

    def _schedule_resend(self) -> None:
        if self._resend_task is None or self._resend_task.done():
            self._resend_task = asyncio.get_running_loop().create_task(self._resend_missing())

    async def _resend_missing(self) -> None:
        """Ask for missing frames until none is missing: new gaps at once (after a short
        pause, so a burst of losses becomes one range), and every `RESEND_RETRY_S` all that
        are still missing again (a lost resend, a request sent while the link was down)."""
        asked_all_s = time.monotonic()
        while self.stream.missing():
            await asyncio.sleep(RESEND_DELAY_S)
            again = time.monotonic() - asked_all_s >= RESEND_RETRY_S
            if again:
                asked_all_s = time.monotonic()
            ranges = self.stream.resend_ranges(again=again)
            # Several requests in flight: one round trip at a time falls behind a fast lossy
            # link, and the insole's ring would overwrite frames before they are asked for.
            answered = await asyncio.gather(*(self._request_range(*r) for r in ranges))
            if not all(answered):
                return  # link down: the next frame after reconnecting starts asking again

    async def _request_range(self, first_seq: int, last_seq: int) -> bool:
        """One RESEND; False if the link is down."""
        async with self._in_flight:
            self.resend_requests += 1
            try:
                reply = await self.control(OP_RESEND, first_seq=first_seq, last_seq=last_seq)
            except DeviceError:
                return False
        if reply.result == RESULT_NOT_HELD:
            self.stream.give_up(first_seq, last_seq)
        elif reply.result == RESULT_OK:
            self.stream.resend_refused_before(int(reply.data["oldest_seq_held"]))
        return True

    async def settle(self) -> None:
        """Wait until the resend requested so far has been answered (simulated links use
        this so their virtual clock does not run ahead of the host's requests)."""
        if self._resend_task is not None and not self._resend_task.done():
            await asyncio.shield(self._resend_task)

    async def _ask_history(self, first_seq: int) -> None:
        """Fetch what the insole still holds from before the first frame heard, so the session
        starts with every sample the insole took since it booted (up to its ring's length).

        A RESEND of the one frame before asks for it and learns from the reply where the
        insole's ring starts; then the frames in between are asked for. While they keep
        coming (a real radio carries a few frames per connection event, so 30 s of small
        frames take seconds) the host waits; once a wait brings none, it asks again for those
        still absent (lost on the air), until `HISTORY_ATTEMPTS` requests in a row bring
        nothing: an insole may hold frames it cannot send on this link (built for a larger
        MTU), and those are not asked for forever."""
        before = (first_seq - 1) % SEQ_MODULO
        try:
            reply = await self.control(OP_RESEND, first_seq=before, last_seq=before)
            held = (first_seq - int(reply.data.get("oldest_seq_held", first_seq))) % SEQ_MODULO
            logger.debug("%s: first frame heard %d, the insole holds %d before it",
                         self.link, first_seq, held)  # fmt: skip
            fruitless = 0  # requests in a row after which not one more frame came
            absent_asked: int | None = None  # frames absent when last asked for
            absent_before: int | None = None
            while True:
                ranges = self.stream.history_ranges(held)
                if not ranges:
                    return
                absent = sum((last - first) % SEQ_MODULO + 1 for first, last in ranges)
                if absent_before is None or absent == absent_before:  # nothing on the way
                    fruitless = fruitless + 1 if absent == absent_asked else 0
                    if fruitless >= HISTORY_ATTEMPTS:
                        return
                    logger.debug("%s: asking for %d frames of history", self.link, absent)
                    absent_asked = absent
                    await asyncio.gather(*(self._request_range(*r) for r in ranges))
                absent_before = absent
                await asyncio.sleep(HISTORY_WAIT_S)
        except DeviceError:
            return

    def cancel(self) -> None:
        if self._history_task is not None:
            self._history_task.cancel()
        if self._resend_task is not None:
            self._resend_task.cancel()
