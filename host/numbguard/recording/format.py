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
from collections.abc import Mapping
from typing import Any, Final

from numbguard.errors import BadValue

MAGIC: Final = b"NGREC\x01\r\n"
FORMAT_VERSION: Final = 1

RECORD_HEADER = struct.Struct("<BI")
RECORD_CRC = struct.Struct("<I")
FRAME_PREFIX = struct.Struct("<BBd")  # insole index, channel, receive time in seconds

# No record is this large; a length above it is damage, not a reason to allocate gigabytes.
MAX_PAYLOAD_BYTES: Final = 1 << 20


class RecordType(enum.IntEnum):
    SESSION = 1  # JSON: format, numbguard version, created time, source, tags (optional)
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


# What a runner may tag a session with (`numbguard run --shoe ... --lacing ... --note ...`).
# Kept in the SESSION record under "tags"; a recording without them (older versions) has none.
TAG_NAMES: Final = ("shoe", "lacing", "note")
# A tag is a short label or note, not a document: longer values are refused.
MAX_TAG_CHARS: Final = 500


def checked_tags(tags: Mapping[str, Any], *, where: str = "") -> dict[str, str]:
    """`tags` as a session's tag dict: only `TAG_NAMES`, string values, empty ones dropped.

    An unknown name, a value that is not a string or one over `MAX_TAG_CHARS` raises
    `InputError`.
    """
    checked: dict[str, str] = {}
    for name, value in tags.items():
        if name not in TAG_NAMES:
            raise BadValue(
                "unknown session tag",
                expected="one of " + ", ".join(TAG_NAMES),
                got=repr(name),
                where=where,
                name="tags",
            )
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_TAG_CHARS:
            raise BadValue(
                f"bad {name} tag",
                expected=f"text of at most {MAX_TAG_CHARS} characters",
                got=repr(value)[:80],
                where=where,
                name=name,
            )
        if value.strip():
            checked[name] = value.strip()
    return checked


def session_tags(session: Mapping[str, Any], *, where: str = "") -> dict[str, str]:
    """The tags of a SESSION record's JSON object; none in a recording made without them."""
    tags = session.get("tags", {})
    if not isinstance(tags, Mapping):
        raise BadValue(
            "bad tags in the session record",
            expected="a JSON object",
            got=repr(tags)[:80],
            where=where,
            name="tags",
        )
    return checked_tags(tags, where=where)
