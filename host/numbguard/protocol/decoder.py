"""Incremental frame decoders for the two links; they never raise on bad bytes.

`SerialFrameDecoder.feed(chunk)` takes USB-serial bytes in any cuts (COBS frames, each ended
by 0x00); `NotificationDecoder.feed(notification)` takes one BLE notification. Both return the
frames decoded so far and record every rejected frame with its reason in `rejections` (the
latest `keep_rejections`) and `reject_counts` (all of them), so a link's health is visible.
"""

from __future__ import annotations

import abc
from collections import Counter, deque
from dataclasses import dataclass
from typing import Final, NamedTuple

from numbguard.errors import InputError
from numbguard.protocol.cobs import cobs_decode, cobs_max_encoded_bytes
from numbguard.protocol.codec import decode_frame
from numbguard.protocol.constants import MAX_FRAME_BYTES
from numbguard.protocol.errors import FrameError
from numbguard.protocol.frames import Frame

MAX_ENCODED_FRAME_BYTES: Final = cobs_max_encoded_bytes(MAX_FRAME_BYTES)
DEFAULT_KEEP_REJECTIONS: Final = 256


@dataclass(frozen=True)
class Rejection:
    """One rejected frame: why, and the bytes that were dropped (at most one frame's worth)."""

    reason: str
    message: str
    raw: bytes
    offset: int  # serial: stream offset of its first byte; BLE: index of the notification


class Decoded(NamedTuple):
    """A decoded frame with its exact bytes (after COBS on serial), e.g. for a recording."""

    frame: Frame
    raw: bytes


class _RejectingDecoder(abc.ABC):
    def __init__(self, *, keep_rejections: int = DEFAULT_KEEP_REJECTIONS) -> None:
        self.rejections: deque[Rejection] = deque(maxlen=keep_rejections)
        self.reject_counts: Counter[str] = Counter()
        self.frames_decoded = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.reject_counts.values())

    def _reject(self, reason: str, message: str, raw: bytes, offset: int) -> None:
        self.reject_counts[reason] += 1
        self.rejections.append(Rejection(reason, message, raw[:MAX_ENCODED_FRAME_BYTES], offset))

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """The frames completed by `data`, in order."""
        return [decoded.frame for decoded in self.feed_raw(data)]

    @abc.abstractmethod
    def feed_raw(self, data: bytes | bytearray | memoryview) -> list[Decoded]:
        """Like `feed`, with each frame's bytes."""

    def _decode(self, raw: bytes, offset: int, out: list[Decoded]) -> None:
        try:
            out.append(Decoded(decode_frame(raw), raw))
        except FrameError as error:
            self._reject(error.reason, str(error), raw, offset)
        else:
            self.frames_decoded += 1


class NotificationDecoder(_RejectingDecoder):
    """Decodes BLE notifications: one frame each."""

    def __init__(self, *, keep_rejections: int = DEFAULT_KEEP_REJECTIONS) -> None:
        super().__init__(keep_rejections=keep_rejections)
        self.notifications = 0

    def feed_raw(self, data: bytes | bytearray | memoryview) -> list[Decoded]:
        out: list[Decoded] = []
        self._decode(bytes(data), self.notifications, out)
        self.notifications += 1
        return out


class SerialFrameDecoder(_RejectingDecoder):
    """Reassembles COBS frames from a serial byte stream, in whatever pieces it arrives.

    Limits: a frame's encoding may not exceed `MAX_ENCODED_FRAME_BYTES`; past that, its bytes
    are dropped (reason ``too_long``) up to the next delimiter, so memory stays bounded and
    the decoder resynchronises on the frame after. Back-to-back delimiters (an idle line or a
    sender flushing) carry nothing and are only counted in `empty_frames`. Bytes left without
    a delimiter wait for the next `feed`; `flush()` rejects them as ``truncated``.
    """

    def __init__(self, *, keep_rejections: int = DEFAULT_KEEP_REJECTIONS) -> None:
        super().__init__(keep_rejections=keep_rejections)
        self._buffer = bytearray()
        self._buffer_offset = 0  # stream offset of the buffer's first byte
        self._discarding = False  # inside a too-long frame: drop up to the next delimiter
        self.bytes_fed = 0
        self.bytes_discarded = 0
        self.empty_frames = 0

    @property
    def pending_bytes(self) -> int:
        return len(self._buffer)

    def feed_raw(self, data: bytes | bytearray | memoryview) -> list[Decoded]:
        chunk = bytes(data)
        out: list[Decoded] = []
        start = 0
        while True:
            end = chunk.find(0, start)
            self._take(chunk, start, len(chunk) if end < 0 else end)
            if end < 0:
                break
            self._end_frame(out)
            start = end + 1
        self.bytes_fed += len(chunk)
        return out

    def flush(self) -> None:
        """End of stream (port closed): a frame still waiting for its delimiter was cut."""
        if self._buffer:
            self._reject(
                "truncated",
                "serial stream ended inside a frame (no delimiter)",
                bytes(self._buffer),
                self._buffer_offset,
            )
            self._clear()
        self._discarding = False

    def _take(self, chunk: bytes, start: int, end: int) -> None:
        if self._discarding:
            self.bytes_discarded += end - start
            return
        if not self._buffer:
            self._buffer_offset = self.bytes_fed + start
        self._buffer += chunk[start:end]
        if len(self._buffer) > MAX_ENCODED_FRAME_BYTES:
            self._reject(
                "too_long",
                f"serial frame longer than {MAX_ENCODED_FRAME_BYTES} encoded bytes",
                bytes(self._buffer),
                self._buffer_offset,
            )
            self.bytes_discarded += len(self._buffer)
            self._clear()
            self._discarding = True

    def _end_frame(self, out: list[Decoded]) -> None:
        if self._discarding:
            self._discarding = False
            return
        if not self._buffer:
            self.empty_frames += 1
            return
        encoded = bytes(self._buffer)
        offset = self._buffer_offset
        self._clear()
        try:
            raw = cobs_decode(encoded)
        except InputError as error:
            self._reject("bad_cobs", str(error), encoded, offset)
            return
        self._decode(raw, offset, out)

    def _clear(self) -> None:
        self._buffer = bytearray()
