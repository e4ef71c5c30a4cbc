"""The wire protocol (docs/protocol.md), host side: frames, their codec, link decoders, streams.

- `frames`: one immutable class per frame kind; `codec`: `encode_frame` / `decode_frame`;
- `control`: checked control builders (`make_control`) and argument layouts;
- `decoder`: `SerialFrameDecoder` (COBS over USB serial) and `NotificationDecoder` (BLE);
- `stream`: per-insole reassembly: 64-bit sequence and time, gaps, resends, resets;
- `counters`: running totals of the status pages' wrapping counters.
"""

from numbguard.protocol.cobs import cobs_decode, cobs_encode, encode_serial
from numbguard.protocol.codec import decode_frame, encode_control, encode_frame
from numbguard.protocol.control import make_control
from numbguard.protocol.counters import CounterTotals
from numbguard.protocol.decoder import (
    Decoded,
    NotificationDecoder,
    Rejection,
    SerialFrameDecoder,
)
from numbguard.protocol.errors import REJECT_REASONS, FrameError
from numbguard.protocol.frames import (
    Control,
    DataFrame,
    Frame,
    Reply,
    StatusClock,
    StatusCounters,
    StatusFrame,
    StatusIdentity,
    StatusPage,
    StatusTare,
    StatusTiming,
    frame_fields,
)
from numbguard.protocol.stream import Gap, InsoleStream, StreamFrame

__all__ = [
    "REJECT_REASONS",
    "Control",
    "CounterTotals",
    "DataFrame",
    "Decoded",
    "Frame",
    "FrameError",
    "Gap",
    "InsoleStream",
    "NotificationDecoder",
    "Rejection",
    "Reply",
    "SerialFrameDecoder",
    "StatusClock",
    "StatusCounters",
    "StatusFrame",
    "StatusIdentity",
    "StatusPage",
    "StatusTare",
    "StatusTiming",
    "StreamFrame",
    "cobs_decode",
    "cobs_encode",
    "decode_frame",
    "encode_control",
    "encode_frame",
    "encode_serial",
    "frame_fields",
    "make_control",
]
