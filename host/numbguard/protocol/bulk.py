"""Decoding many DATA frames at once into numpy arrays, for replaying a recording in bulk.

`decode_data_frames` takes a list of whole frames and decodes every well-formed DATA frame
in a few numpy passes per frame length (header, 12-bit unpacking; the CRC per frame in C),
where `decode_frame` costs tens of microseconds per frame. It accepts exactly what
`decode_frame` accepts as a DATA frame: anything else (other kinds, or a frame failing any
check) is left in `others` for `decode_frame`, which decodes it or says why not, as the
live decoder does.
"""

from __future__ import annotations

from binascii import crc_hqx
from dataclasses import dataclass
from itertools import repeat
from typing import Final

import numpy as np
import numpy.typing as npt

from numbguard.protocol.codec import status_page_bytes
from numbguard.protocol.constants import (
    ALL_PADS_MASK,
    CRC_BYTES,
    DATA_SAMPLES_OFFSET,
    HEADER_BYTES,
    KIND_DATA,
    KIND_STATUS,
    MAX_FRAME_BYTES,
    MIN_FRAME_BYTES,
    PROTOCOL_VERSION,
    RATE_MAX_HZ,
    RATE_MIN_HZ,
)
from numbguard.protocol.crc import CRC_INIT
from numbguard.protocol.packing import packed_bytes, value_count

IntArray = npt.NDArray[np.int64]
U16Array = npt.NDArray[np.uint16]

# Time and rate (4 bytes) and at least one 12-bit value (2 bytes), as `decode_frame` demands.
_MIN_DATA_BYTES: Final = DATA_SAMPLES_OFFSET + packed_bytes(1) + CRC_BYTES


_STATUS_FRAME_BYTES: Final = {
    page: HEADER_BYTES + 1 + size + CRC_BYTES
    for page in range(256)
    if (size := status_page_bytes(page)) is not None
}


def decodable_status_page(frame: bytes) -> int | None:
    """The page number of a status frame that `decode_frame` decodes, without building it
    (checks: length, CRC, version, kind, a known page of its length); None otherwise."""
    if len(frame) < MIN_FRAME_BYTES or frame[1] >> 6 != KIND_STATUS:
        return None
    page = frame[HEADER_BYTES]
    if (
        _STATUS_FRAME_BYTES.get(page) != len(frame)
        or frame[0] != PROTOCOL_VERSION
        or crc_hqx(frame[: len(frame) - CRC_BYTES], CRC_INIT) != frame[-2] | frame[-1] << 8
    ):
        return None
    return int(page)


def unpack12_rows(packed: npt.NDArray[np.uint8], n_values: int) -> U16Array:
    """The 12-bit values of every row of an (n, bytes) array, as `packing.unpack12` per row."""
    n = packed.shape[0]
    width = packed.shape[1] + (-packed.shape[1] % 3)
    raw = np.zeros((n, width), dtype=np.uint16)
    raw[:, : packed.shape[1]] = packed
    triples = raw.reshape(n, -1, 3)
    values = np.empty((n, triples.shape[1], 2), dtype=np.uint16)
    values[:, :, 0] = triples[:, :, 0] | ((triples[:, :, 1] & 0x0F) << 8)
    values[:, :, 1] = (triples[:, :, 1] >> 4) | (triples[:, :, 2] << 4)
    return values.reshape(n, -1)[:, :n_values]


@dataclass(frozen=True)
class DataFrames:
    """DATA frames of one length and pad mask: `positions[i]` is frame i's place in the input."""

    positions: IntArray
    foot_bit: IntArray  # 0 left, 1 right
    insole_tag: IntArray
    seq: IntArray
    pad_mask: int
    t_first_us: IntArray  # the low 24 bits of the device clock
    rate_hz: IntArray
    samples: U16Array  # (frames, sets, pads) ADC counts

    @property
    def n_sets(self) -> int:
        return int(self.samples.shape[1])


@dataclass(frozen=True)
class BulkDecoded:
    groups: list[DataFrames]
    others: list[int]  # positions of frames for `decode_frame`: other kinds, or faulty


def decode_data_frames(frames: list[bytes]) -> BulkDecoded:
    """Every well-formed DATA frame of `frames` decoded in bulk; the rest left in `others`."""
    lengths = np.fromiter(map(len, frames), dtype=np.int64, count=len(frames))
    joined = b"".join(frames)
    starts = np.cumsum(lengths) - lengths  # of each frame in `joined`
    flat = np.frombuffer(joined, dtype=np.uint8)
    kind = np.full(len(frames), -1, dtype=np.int64)
    long_enough = lengths >= 2
    kind[long_enough] = flat[starts[long_enough] + 1] >> 6
    data = (lengths >= _MIN_DATA_BYTES) & (lengths <= MAX_FRAME_BYTES) & (kind == KIND_DATA)
    others: list[int] = np.flatnonzero(~data).tolist()
    groups: list[DataFrames] = []
    view = memoryview(joined)
    data_lengths, first = np.unique(lengths[data], return_index=True)
    for length in data_lengths[np.argsort(first)].tolist():  # in order of first appearance
        positions = np.flatnonzero(data & (lengths == length))
        chosen = positions.tolist()
        rows = np.frombuffer(b"".join(map(frames.__getitem__, chosen)), dtype=np.uint8)
        rows = rows.reshape(-1, length)
        # One C call per frame (binascii) is faster than a numpy pass per byte column.
        at = starts[positions]
        bodies = map(view.__getitem__, map(slice, at.tolist(), (at + length - CRC_BYTES).tolist()))
        crc_computed = np.fromiter(
            map(crc_hqx, bodies, repeat(CRC_INIT)), dtype=np.uint32, count=len(positions)
        )
        group, rejected = _decode_group(rows, positions, crc_computed)
        groups += group
        others += rejected
    others.sort()
    return BulkDecoded(groups, others)


def _decode_group(
    rows: npt.NDArray[np.uint8], positions: IntArray, crc_computed: npt.NDArray[np.uint32]
) -> tuple[list[DataFrames], list[int]]:
    length = rows.shape[1]
    body_end = length - CRC_BYTES
    crc_sent = rows[:, body_end].astype(np.uint32) | (rows[:, body_end + 1].astype(np.uint32) << 8)
    rate = rows[:, HEADER_BYTES + 3].astype(np.int64)
    pad_mask = rows[:, 1].astype(np.int64) & ALL_PADS_MASK
    good = (
        (crc_computed == crc_sent)
        & (rows[:, 0] == PROTOCOL_VERSION)
        & (pad_mask != 0)
        & (rate >= RATE_MIN_HZ)
        & (rate <= RATE_MAX_HZ)
    )
    n_packed = body_end - DATA_SAMPLES_OFFSET
    groups: list[DataFrames] = []
    if n_packed % 3 == 1:  # an impossible packed length: `decode_frame` says so per frame
        return groups, sorted(int(p) for p in positions)
    n_values = value_count(n_packed)
    rejected = [int(p) for p in positions[~good]]
    for mask in np.unique(pad_mask[good]):
        n_pads = int(mask).bit_count()
        chosen = good & (pad_mask == mask)
        if n_values % n_pads:
            rejected += [int(p) for p in positions[chosen]]
            continue
        if n_packed % 3 == 2:
            # An odd last value keeps two bytes; the upper nibble of the second must be 0.
            nibble_ok = (rows[:, body_end - 1] >> 4) == 0
            rejected += [int(p) for p in positions[chosen & ~nibble_ok]]
            chosen &= nibble_ok
        if not chosen.any():
            continue
        part = rows[chosen]
        values = unpack12_rows(part[:, DATA_SAMPLES_OFFSET:body_end], n_values)
        groups.append(
            DataFrames(
                positions=positions[chosen],
                foot_bit=(part[:, 2] >> 7).astype(np.int64),
                insole_tag=(part[:, 2] & 0x7F).astype(np.int64),
                seq=part[:, 3].astype(np.int64) | (part[:, 4].astype(np.int64) << 8),
                pad_mask=int(mask),
                t_first_us=part[:, 5].astype(np.int64)
                | (part[:, 6].astype(np.int64) << 8)
                | (part[:, 7].astype(np.int64) << 16),
                rate_hz=part[:, 8].astype(np.int64),
                samples=values.reshape(len(part), -1, n_pads),
            )
        )
    return groups, rejected
