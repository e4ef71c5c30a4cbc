"""Reading a recording: every whole record, then where and why it stopped if it is damaged."""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from numbguard.errors import BadFile, UnreadableFile
from numbguard.recording.format import (
    FORMAT_VERSION,
    FRAME_PREFIX,
    MAGIC,
    MAX_PAYLOAD_BYTES,
    RECORD_CRC,
    RECORD_HEADER,
    Channel,
    RecordType,
    session_tags,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameRecord:
    insole_index: int
    channel: Channel
    t_rx_s: float
    data: bytes


@dataclass(frozen=True)
class JsonRecord:
    type: RecordType
    value: dict[str, Any]


Record = FrameRecord | JsonRecord


@dataclass
class RecordScan:
    """A whole recording in arrays, for bulk replay: the FRAME records' fields and payloads,
    and the JSON records with `order`, the number of FRAME records that came before each."""

    frames: list[bytes] = field(default_factory=list)
    insole_index: list[int] = field(default_factory=list)
    channel: list[int] = field(default_factory=list)
    t_rx_s: list[float] = field(default_factory=list)
    json: list[tuple[int, JsonRecord]] = field(default_factory=list)


@dataclass(frozen=True)
class Damage:
    """Where a recording stopped being readable: byte offset of the bad record and why."""

    offset: int
    reason: str

    def __str__(self) -> str:
        return f"recording damaged at byte {self.offset}: {self.reason}"


class RecordingReader:
    """Iterate the records of a recording file.

    Opening checks the magic and reads the SESSION record (a `BadFile` if either is wrong:
    that is not a recording; `UnreadableFile` if it cannot be opened). `records()` yields
    everything that follows; if it meets damage it stops and leaves it in `damage`.
    `ended_cleanly` says whether an END record came.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.damage: Damage | None = None
        self.ended_cleanly = False
        try:
            file = self.path.open("rb")
        except OSError as error:
            raise UnreadableFile(self.path, str(error), expected="a readable recording") from None
        with file:
            magic = file.read(len(MAGIC))
            if magic != MAGIC:
                raise BadFile(
                    "not a numbguard recording",
                    path=self.path,
                    expected=f"the magic bytes {MAGIC!r}",
                    got=repr(magic),
                )
            first = next(self._iter_records(file), None)
        if not isinstance(first, JsonRecord) or first.type != RecordType.SESSION:
            raise BadFile(
                "recording has no session record",
                path=self.path,
                expected="a SESSION record first",
                got=str(self.damage) if self.damage else repr(first),
            )
        self.session: dict[str, Any] = first.value
        version = self.session.get("format")
        if version != FORMAT_VERSION:
            raise BadFile(
                "unsupported recording format",
                path=self.path,
                expected=f"format {FORMAT_VERSION}",
                got=f"format {version!r}",
            )

    @property
    def tags(self) -> dict[str, str]:
        """The session's tags as recorded (shoe, lacing, note); {} in an untagged recording."""
        return session_tags(self.session, where=str(self.path))

    def records(self) -> Iterator[Record]:
        """Every record after the SESSION record, in file order, up to the end or damage."""
        self.damage = None
        self.ended_cleanly = False
        with self.path.open("rb") as file:
            file.seek(len(MAGIC))
            records = self._iter_records(file)
            next(records, None)  # the SESSION record, read in __init__
            for record in records:
                if isinstance(record, JsonRecord) and record.type == RecordType.END:
                    self.ended_cleanly = True
                yield record
        if self.damage is not None:
            logger.info("%s: %s; read up to there", self.path, self.damage)

    def scan(self) -> RecordScan:
        """Every record after the SESSION record at once, from the file read whole: what
        `records()` yields, without an object per frame. Sets `damage` and `ended_cleanly`
        as `records()` does."""
        self.damage = None
        self.ended_cleanly = False
        data = self.path.read_bytes()
        scan = RecordScan()
        frames, indexes, channels, times = scan.frames, scan.insole_index, scan.channel, scan.t_rx_s
        channel_codes = {int(c) for c in Channel}
        header_size, crc_size, prefix_size = RECORD_HEADER.size, RECORD_CRC.size, FRAME_PREFIX.size
        unpack_header, unpack_crc = RECORD_HEADER.unpack_from, RECORD_CRC.unpack_from
        unpack_prefix, crc32 = FRAME_PREFIX.unpack_from, zlib.crc32
        view = memoryview(data)
        offset, end, first = len(MAGIC), len(data), True
        while offset < end:
            if end - offset < header_size:
                self.damage = Damage(offset, "cut inside a record header")
                break
            type_code, length = unpack_header(data, offset)
            if length > MAX_PAYLOAD_BYTES:
                self.damage = Damage(
                    offset, f"record length {length} above the limit {MAX_PAYLOAD_BYTES}"
                )
                break
            stop = offset + header_size + length
            if stop + crc_size > end:
                self.damage = Damage(offset, "cut inside a record (the file ends early)")
                break
            if unpack_crc(data, stop)[0] != crc32(view[offset:stop]):
                self.damage = Damage(offset, "record checksum does not match")
                break
            start = offset + header_size
            try:
                if type_code == RecordType.FRAME and length >= prefix_size:
                    insole_index, channel, t_rx_s = unpack_prefix(data, start)
                    if channel not in channel_codes:
                        Channel(channel)  # the ValueError `_parse` gives
                    if not first:
                        frames.append(data[start + prefix_size : stop])
                        indexes.append(insole_index)
                        channels.append(channel)
                        times.append(t_rx_s)
                else:
                    record = _parse(type_code, data[start:stop])
                    if not first:
                        assert isinstance(record, JsonRecord)
                        if record.type == RecordType.END:
                            self.ended_cleanly = True
                        scan.json.append((len(frames), record))
            except (ValueError, UnicodeDecodeError) as error:
                self.damage = Damage(offset, f"record does not parse: {error}")
                break
            first = False
            offset = stop + crc_size
        return scan

    def _iter_records(self, file: BinaryIO) -> Iterator[Record]:
        while True:
            offset = file.tell()
            header = file.read(RECORD_HEADER.size)
            if not header:
                return
            if len(header) < RECORD_HEADER.size:
                self.damage = Damage(offset, "cut inside a record header")
                return
            type_code, length = RECORD_HEADER.unpack(header)
            if length > MAX_PAYLOAD_BYTES:
                self.damage = Damage(
                    offset, f"record length {length} above the limit {MAX_PAYLOAD_BYTES}"
                )
                return
            body = file.read(length + RECORD_CRC.size)
            if len(body) < length + RECORD_CRC.size:
                self.damage = Damage(offset, "cut inside a record (the file ends early)")
                return
            payload = body[:length]
            (crc,) = RECORD_CRC.unpack(body[length:])
            if crc != zlib.crc32(payload, zlib.crc32(header)):
                self.damage = Damage(offset, "record checksum does not match")
                return
            try:
                yield _parse(type_code, payload)
            except (ValueError, UnicodeDecodeError) as error:
                self.damage = Damage(offset, f"record does not parse: {error}")
                return


def _parse(type_code: int, payload: bytes) -> Record:
    record_type = RecordType(type_code)  # ValueError for an unknown type
    if record_type == RecordType.FRAME:
        if len(payload) < FRAME_PREFIX.size:
            raise ValueError(f"frame record of {len(payload)} bytes is shorter than its prefix")
        insole_index, channel, t_rx_s = FRAME_PREFIX.unpack_from(payload)
        return FrameRecord(insole_index, Channel(channel), t_rx_s, payload[FRAME_PREFIX.size :])
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return JsonRecord(record_type, value)
