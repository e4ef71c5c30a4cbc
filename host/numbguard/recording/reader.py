"""Reading a recording: every whole record, then where and why it stopped if it is damaged."""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

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

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

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
        as `records()` does.

        The records are found in one pass over their headers; checksums, FRAME prefixes and
        payloads are then taken for all of them at once, and the damage is the first record
        that fails any check, in the order `records()` checks them."""
        import numpy as np  # here: commands' --help import the reader, and must stay light

        self.damage = None
        self.ended_cleanly = False
        data = self.path.read_bytes()
        starts, types, lengths, cut = _record_headers(data, len(MAGIC))
        header_size, prefix_size = RECORD_HEADER.size, FRAME_PREFIX.size
        start_at = np.array(starts, dtype=np.int64)
        stop_at = start_at + header_size + np.array(lengths, dtype=np.int64)  # where CRCs are
        stops: list[int] = stop_at.tolist()
        view = memoryview(data)
        computed = list(map(zlib.crc32, map(view.__getitem__, map(slice, starts, stops))))
        raw = np.frombuffer(data, dtype=np.uint8)
        stored = _gather(raw, stop_at, "<u4").astype(np.int64)
        # Every damage found by array checks, as (record, reason); the first one wins.
        found: list[tuple[int, Damage]] = []
        if cut is not None:
            found.append((len(starts), cut))
        bad_crc = np.flatnonzero(stored != np.array(computed, dtype=np.int64))
        if len(bad_crc):
            k = int(bad_crc[0])
            found.append((k, Damage(starts[k], "record checksum does not match")))
        type_codes = np.array(types, dtype=np.int64)
        frame = (type_codes == RecordType.FRAME) & (stop_at - start_at - header_size >= prefix_size)
        prefix_at = start_at[frame] + header_size
        frame_records = np.flatnonzero(frame)
        channels = raw[prefix_at + 1]
        bad_channel = np.flatnonzero(~np.isin(channels, [int(c) for c in Channel]))
        if len(bad_channel):
            k = int(frame_records[bad_channel[0]])
            try:
                Channel(int(channels[bad_channel[0]]))
            except ValueError as error:  # the message `_parse` gives
                found.append((k, Damage(starts[k], f"record does not parse: {error}")))
        limit, damage = min(found, key=lambda item: item[0]) if found else (len(starts), None)
        # The other records are few (JSON): parsed one by one, up to the first damage.
        scan = RecordScan()
        frames_before = np.cumsum(frame) - frame  # FRAME records before each record
        for k in np.flatnonzero(~frame[:limit]).tolist():
            start = starts[k] + header_size
            try:
                record = _parse(types[k], data[start : stops[k]])
            except (ValueError, UnicodeDecodeError) as error:
                limit, damage = k, Damage(starts[k], f"record does not parse: {error}")
                break
            if k > 0:  # the SESSION record, read in __init__
                assert isinstance(record, JsonRecord)
                if record.type == RecordType.END:
                    self.ended_cleanly = True
                scan.json.append((int(frames_before[k]) - int(frame[0]), record))
        self.damage = damage
        kept = (frame_records >= 1) & (frame_records < limit)
        at = prefix_at[kept]
        scan.frames = list(
            map(
                data.__getitem__,
                map(slice, (at + prefix_size).tolist(), stop_at[frame_records[kept]].tolist()),
            )
        )
        scan.insole_index = raw[at].tolist()
        scan.channel = raw[at + 1].tolist()
        scan.t_rx_s = _gather(raw, at + 2, "<f8").tolist()
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


def _record_headers(
    data: bytes, offset: int
) -> tuple[list[int], list[int], list[int], Damage | None]:
    """Where each whole record of `data` starts from `offset`, its type and payload length,
    and the damage that ended the walk (a cut or an impossible length), if any."""
    starts: list[int] = []
    types: list[int] = []
    lengths: list[int] = []
    header_size, crc_size = RECORD_HEADER.size, RECORD_CRC.size
    unpack_header, end = RECORD_HEADER.unpack_from, len(data)
    while offset < end:
        if end - offset < header_size:
            return starts, types, lengths, Damage(offset, "cut inside a record header")
        type_code, length = unpack_header(data, offset)
        if length > MAX_PAYLOAD_BYTES:
            reason = f"record length {length} above the limit {MAX_PAYLOAD_BYTES}"
            return starts, types, lengths, Damage(offset, reason)
        stop = offset + header_size + length + crc_size
        if stop > end:
            return (
                starts,
                types,
                lengths,
                Damage(offset, "cut inside a record (the file ends early)"),
            )
        starts.append(offset)
        types.append(type_code)
        lengths.append(length)
        offset = stop
    return starts, types, lengths, None


def _gather(raw: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], dtype: str) -> npt.NDArray[Any]:
    """The values of `dtype` (little-endian) stored at byte offsets `at` of `raw`."""
    import numpy as np

    size = np.dtype(dtype).itemsize
    values: npt.NDArray[Any] = raw[at[:, None] + np.arange(size)].view(dtype).reshape(len(at))
    return values


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
