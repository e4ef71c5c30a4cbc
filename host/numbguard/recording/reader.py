"""Reading a recording: every whole record, then where and why it stopped if it is damaged."""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
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
