"""Encode any frame to its bytes and decode one frame (one BLE notification) back.

`decode_frame` checks, in order: length limits, CRC, version, then the body of the kind. Any
failure raises `FrameError`, an `InputError` whose `reason` is one of `REJECT_REASONS`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final, TypedDict

import numpy as np

from numbguard.errors import BadValue
from numbguard.pads import FOOT_IDS, Foot
from numbguard.protocol.constants import (
    ALL_PADS_MASK,
    CRC_BYTES,
    DATA_SAMPLES_OFFSET,
    HEADER_BYTES,
    KIND_CONTROL,
    KIND_DATA,
    KIND_NAMES,
    KIND_REPLY,
    KIND_STATUS,
    MAX_FRAME_BYTES,
    MIN_FRAME_BYTES,
    PAD_COUNT,
    PROTOCOL_VERSION,
    RATE_MAX_HZ,
    RATE_MIN_HZ,
    SEQ_MODULO,
    T_FIRST_MODULO,
)
from numbguard.protocol.control import (
    CONTROL_OPCODES,
    pack_control_args,
    pack_reply_data,
    unpack_control_args,
    unpack_reply_data,
)
from numbguard.protocol.crc import crc16_ccitt_false
from numbguard.protocol.errors import FrameError
from numbguard.protocol.frames import (
    STATUS_PAGE_CLASSES,
    Control,
    DataFrame,
    Frame,
    FrameHeader,
    InsoleFrame,
    Reply,
    StatusClock,
    StatusCounters,
    StatusFrame,
    StatusIdentity,
    StatusPage,
    StatusTare,
    StatusTiming,
)
from numbguard.protocol.packing import pack12, packed_bytes, unpack12

# Body layouts of the status pages after the page byte, in field order of the classes.
STATUS_LAYOUTS: Final[dict[type[StatusFrame], tuple[str, tuple[str, ...]]]] = {
    StatusIdentity: (
        "IHBBBBB",
        ("insole_id", "boot_id", "fw_major", "fw_minor", "fw_patch", "rate_hz", "flags"),
    ),
    StatusClock: (
        "IHBHB",
        ("device_time_us", "battery_mv", "battery_pct", "last_data_seq", "oversample"),
    ),
    StatusCounters: (
        "6H",
        (
            "frames_sent",
            "frames_resent",
            "frames_dropped",
            "notify_retries",
            "ring_frames",
            "ring_span_ds",
        ),
    ),
    StatusTiming: (
        "3H4B",
        (
            "jitter_mean_us",
            "jitter_max_us",
            "late_samples",
            "fault_open_mask",
            "fault_short_mask",
            "reset_reason",
            "reset_error",
        ),
    ),
}
_TARE_BYTES: Final = packed_bytes(PAD_COUNT)


# --- encoding ---------------------------------------------------------------------------


def _header(frame: FrameHeader, pad_mask: int) -> bytes:
    if frame.foot not in FOOT_IDS:
        raise BadValue(
            "unknown foot", expected="'left' or 'right'", got=repr(frame.foot), name="foot"
        )
    for name, value, top in (
        ("insole_tag", frame.insole_tag, 0x7F),
        ("seq", frame.seq, SEQ_MODULO - 1),
        ("pad_mask", pad_mask, ALL_PADS_MASK),
    ):
        if not 0 <= value <= top:
            raise BadValue(
                f"header field {name} out of range", expected=f"0-{top}", got=str(value), name=name
            )
    foot_tag = (FOOT_IDS.index(frame.foot) << 7) | frame.insole_tag
    return struct.pack("<BBBH", PROTOCOL_VERSION, frame.kind << 6 | pad_mask, foot_tag, frame.seq)


def _data_body(frame: DataFrame) -> bytes:
    n_pads = bin(frame.pad_mask).count("1")
    if frame.pad_mask == 0:
        raise BadValue(
            "data frame without pads", expected="a pad mask 1-63", got="0", name="pad_mask"
        )
    if frame.samples.ndim != 2 or frame.samples.shape[0] < 1 or frame.samples.shape[1] != n_pads:
        raise BadValue(
            "samples do not match the pad mask",
            expected=f"an array of shape (n_sets >= 1, {n_pads})",
            got=f"shape {frame.samples.shape}",
            name="samples",
        )
    if not RATE_MIN_HZ <= frame.rate_hz <= RATE_MAX_HZ:
        raise BadValue(
            "sample rate out of range",
            expected=f"{RATE_MIN_HZ}-{RATE_MAX_HZ} Hz",
            got=str(frame.rate_hz),
            name="rate_hz",
        )
    if not 0 <= frame.t_first_us < T_FIRST_MODULO:
        raise BadValue(
            "t_first_us out of range",
            expected="the low 24 bits of the clock",
            got=str(frame.t_first_us),
            name="t_first_us",
        )
    t = frame.t_first_us
    return struct.pack("<HBB", t & 0xFFFF, t >> 16, frame.rate_hz) + pack12(frame.samples)


def _status_body(frame: StatusFrame) -> bytes:
    if isinstance(frame, StatusTare):
        if len(frame.tare_offsets) != PAD_COUNT:
            raise BadValue(
                "tare page needs one offset per pad bit",
                expected=str(PAD_COUNT),
                got=str(len(frame.tare_offsets)),
                name="tare_offsets",
            )
        return bytes([frame.page]) + pack12(list(frame.tare_offsets))
    fmt, names = STATUS_LAYOUTS[type(frame)]
    try:
        return bytes([frame.page]) + struct.pack("<" + fmt, *(getattr(frame, n) for n in names))
    except struct.error as error:
        raise BadValue(
            f"status page {frame.page} field does not fit",
            got=str(error),
            name=f"status page {frame.page}",
        ) from None


def _body(frame: Frame) -> bytes:
    if isinstance(frame, DataFrame):
        return _data_body(frame)
    if isinstance(frame, StatusFrame):
        return _status_body(frame)
    if isinstance(frame, Reply):
        if not (0 <= frame.opcode <= 0xFF and 0 <= frame.result <= 0xFF):
            raise BadValue(
                "reply opcode or result out of range",
                expected="0-255",
                got=f"{frame.opcode}, {frame.result}",
                name="opcode, result",
            )
        return bytes([frame.opcode, frame.result]) + pack_reply_data(frame.opcode, frame.data)
    return bytes([frame.opcode]) + pack_control_args(frame.opcode, frame.args)


def encode_frame(frame: Frame, *, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """The bytes of `frame`, CRC included; a frame longer than `max_bytes` raises."""
    pad_mask = frame.pad_mask if isinstance(frame, InsoleFrame) else 0
    return _with_crc(_header(frame, pad_mask) + _body(frame), frame.kind, max_bytes)


def _with_crc(payload: bytes, kind: int, max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    out = payload + struct.pack("<H", crc16_ccitt_false(payload))
    limit = min(max_bytes, MAX_FRAME_BYTES)
    if len(out) > limit:
        raise BadValue(
            f"{KIND_NAMES[kind]} frame too long",
            expected=f"<= {limit} bytes",
            got=f"{len(out)} bytes",
            name="frame",
        )
    return out


def encode_control(
    request_id: int,
    opcode: int,
    args: bytes = b"",
    *,
    foot: Foot = "left",
    insole_tag: int = 0,
) -> bytes:
    """A control frame from already packed argument bytes (no range or length checks).

    Transports use this to send what a caller built; `make_control` + `encode_frame` is the
    checked way, and this one also lets tests send malformed arguments on purpose.
    """
    head = Control(foot=foot, insole_tag=insole_tag, seq=request_id, opcode=opcode)
    if not 0 <= opcode <= 0xFF:
        raise BadValue(
            "control opcode out of range", expected="0-255", got=str(opcode), name="opcode"
        )
    return _with_crc(_header(head, 0) + bytes([opcode]) + bytes(args), KIND_CONTROL)


# --- decoding ---------------------------------------------------------------------------


class _Head(TypedDict):
    foot: Foot
    insole_tag: int
    seq: int


def _decode_data(head: _Head, pad_mask: int, body: bytes) -> DataFrame:
    # Time and rate (4 bytes), then at least one value (2 bytes).
    min_body = DATA_SAMPLES_OFFSET - HEADER_BYTES + packed_bytes(1)
    if len(body) < min_body:
        raise FrameError(
            "truncated",
            "data frame without samples",
            expected=f">= {min_body} body bytes",
            got=f"{len(body)}",
        )
    if pad_mask == 0:
        raise FrameError("bad_value", "data frame without pads", expected="pad mask 1-63", got="0")
    t_low, t_high, rate_hz = struct.unpack_from("<HBB", body)
    if not RATE_MIN_HZ <= rate_hz <= RATE_MAX_HZ:
        raise FrameError(
            "bad_value",
            "sample rate out of range",
            expected=f"{RATE_MIN_HZ}-{RATE_MAX_HZ}",
            got=str(rate_hz),
        )
    packed = body[DATA_SAMPLES_OFFSET - HEADER_BYTES :]
    n_pads = bin(pad_mask).count("1")
    if len(packed) % 3 == 1:
        raise FrameError(
            "bad_length",
            "impossible packed sample length",
            expected="not 1 more than a multiple of 3",
            got=str(len(packed)),
        )
    values = unpack12(packed)
    if len(values) % n_pads:
        raise FrameError(
            "bad_length",
            "sample count is not whole sets",
            expected=f"a multiple of {n_pads} values",
            got=str(len(values)),
        )
    if len(packed) % 3 == 2 and packed[-1] >> 4:
        raise FrameError(
            "bad_value",
            "odd last sample has its upper nibble set",
            expected="0x0_",
            got=f"0x{packed[-1]:02x}",
        )
    return DataFrame(
        **head,
        pad_mask=pad_mask,
        t_first_us=t_low | t_high << 16,
        rate_hz=rate_hz,
        samples=values.reshape(-1, n_pads),
    )


def status_page_bytes(page: int) -> int | None:
    """Bytes after the page number of status page `page` (None: no such page)."""
    cls = STATUS_PAGE_CLASSES.get(page)
    if cls is None:
        return None
    if cls is StatusTare:
        return _TARE_BYTES
    return struct.calcsize("<" + STATUS_LAYOUTS[cls][0])


def _decode_status(head: _Head, pad_mask: int, body: bytes) -> StatusPage:
    if not body:
        raise FrameError(
            "truncated", "status frame without a page number", expected=">= 1 body byte", got="0"
        )
    cls = STATUS_PAGE_CLASSES.get(body[0])
    if cls is None:
        raise FrameError(
            "unknown_page",
            "unknown status page",
            expected=f"0-{len(STATUS_PAGE_CLASSES) - 1}",
            got=str(body[0]),
        )
    page = body[1:]
    if cls is StatusTare:
        size = _TARE_BYTES
    else:
        fmt, names = STATUS_LAYOUTS[cls]
        size = struct.calcsize("<" + fmt)
    if len(page) != size:
        raise FrameError(
            "truncated" if len(page) < size else "bad_length",
            f"status page {body[0]} has the wrong length",
            expected=f"{size} bytes",
            got=f"{len(page)} bytes",
        )
    if cls is StatusTare:
        offsets = tuple(int(v) for v in unpack12(page))
        return StatusTare(**head, pad_mask=pad_mask, tare_offsets=offsets)
    values = dict(zip(names, struct.unpack("<" + fmt, page), strict=True))
    return cls(**head, pad_mask=pad_mask, **values)


def _decode_reply(head: _Head, pad_mask: int, body: bytes) -> Reply:
    if len(body) < 2:
        raise FrameError(
            "truncated",
            "reply without opcode and result",
            expected=">= 2 body bytes",
            got=str(len(body)),
        )
    data = unpack_reply_data(body[0], body[2:])
    return Reply(
        **head,
        pad_mask=pad_mask,
        opcode=body[0],
        result=body[1],
        data=data,
    )


def _decode_control(head: _Head, pad_mask: int, body: bytes) -> Control:
    if not body:
        raise FrameError(
            "truncated", "control frame without an opcode", expected=">= 1 body byte", got="0"
        )
    if pad_mask:
        raise FrameError(
            "bad_value", "control frame with a pad mask", expected="0", got=str(pad_mask)
        )
    if body[0] not in CONTROL_OPCODES:
        raise FrameError(
            "unknown_opcode",
            "unknown control opcode",
            expected="an opcode of docs/protocol.md",
            got=str(body[0]),
        )
    args = unpack_control_args(body[0], body[1:])
    return Control(**head, opcode=body[0], args=args)


_Decoder = Callable[[_Head, int, bytes], Frame]
_DECODERS: Final[dict[int, _Decoder]] = {
    KIND_DATA: _decode_data,
    KIND_STATUS: _decode_status,
    KIND_REPLY: _decode_reply,
    KIND_CONTROL: _decode_control,
}


def decode_frame(data: bytes | bytearray | memoryview) -> Frame:
    """Decode one whole frame (one BLE notification, or one serial frame after COBS)."""
    raw = bytes(data)
    if not raw:
        raise FrameError("empty", "empty frame", expected=f">= {MIN_FRAME_BYTES} bytes", got="0")
    if len(raw) < MIN_FRAME_BYTES:
        raise FrameError(
            "truncated",
            "frame shorter than header and CRC",
            expected=f">= {MIN_FRAME_BYTES} bytes",
            got=f"{len(raw)} bytes",
        )
    if len(raw) > MAX_FRAME_BYTES:
        raise FrameError(
            "too_long",
            "frame longer than the protocol allows",
            expected=f"<= {MAX_FRAME_BYTES} bytes",
            got=f"{len(raw)} bytes",
        )
    body_end = len(raw) - CRC_BYTES
    (crc_sent,) = struct.unpack_from("<H", raw, body_end)
    crc_computed = crc16_ccitt_false(raw[:body_end])
    if crc_sent != crc_computed:
        raise FrameError(
            "bad_crc", "CRC mismatch", expected=f"0x{crc_computed:04x}", got=f"0x{crc_sent:04x}"
        )
    if raw[0] != PROTOCOL_VERSION:
        raise FrameError(
            "unknown_version",
            "unknown protocol version",
            expected=str(PROTOCOL_VERSION),
            got=str(raw[0]),
        )
    kind, pad_mask = raw[1] >> 6, raw[1] & ALL_PADS_MASK
    head: _Head = {
        "foot": FOOT_IDS[raw[2] >> 7],
        "insole_tag": raw[2] & 0x7F,
        "seq": raw[3] | raw[4] << 8,
    }
    return _DECODERS[kind](head, pad_mask, raw[HEADER_BYTES:body_end])


def packed_sample_bytes(frame: DataFrame) -> int:
    """Bytes the frame's samples take on the wire."""
    return packed_bytes(int(np.prod(frame.samples.shape)))
