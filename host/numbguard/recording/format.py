"""The numbguard recording format, version 1 (documented in docs/recording-format.md).

A recording is the exact bytes received from each insole, with their receive times, plus the
session's context (insole identities, firmware versions, calibration) and the alerts raised,
so that a replay goes through the same decoder and gives the same alerts.

Layout: an 8-byte magic, then records. Each record is
``u8 type | u32 payload_len | payload | u32 crc32(type, payload_len, payload)``, little-endian.
A record is either whole and checked or it is damage: a reader stops at the first damaged
record and says where (byte offset) and why.
"""

from __future__ import annotations

import enum
import struct
from typing import Final

MAGIC: Final = b"NGREC\x01\r\n"
FORMAT_VERSION: Final = 1

RECORD_HEADER = struct.Struct("<BI")
RECORD_CRC = struct.Struct("<I")
FRAME_PREFIX = struct.Struct("<BBd")  # insole index, channel, receive time in seconds

# No record is this large; a length above it is damage, not a reason to allocate gigabytes.
MAX_PAYLOAD_BYTES: Final = 1 << 20


class RecordType(enum.IntEnum):
    SESSION = 1  # JSON: format, numbguard version, created time, source
    INSOLE = 2  # JSON: index, insole id, foot, name, firmware version, calibration
    FRAME = 3  # u8 insole index, u8 channel, f64 receive time (s since session start), bytes
    ALERT = 4  # JSON: one alert as in `numbguard analyze --json`
    EVENT = 5  # JSON: connection changes, gaps, resend requests, notes
    END = 6  # JSON: why and when the session ended


class Channel(enum.IntEnum):
    """The link a FRAME record's bytes came over. Every FRAME record holds one whole frame
    (a BLE notification, or a COBS-decoded serial frame), so replay decodes each alike."""

    BLE = 0
    SERIAL = 1
    SIM = 2  # a simulated insole, no link
