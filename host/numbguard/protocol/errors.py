"""The error a frame that cannot be decoded raises, and the reasons it names."""

from __future__ import annotations

from typing import Final

from numbguard.errors import InputError

REJECT_REASONS: Final = (
    "empty",  # a notification of no bytes
    "truncated",  # shorter than the kind needs, or a serial stream cut before its delimiter
    "too_long",  # over MAX_FRAME_BYTES (or its COBS encoding)
    "bad_cobs",  # serial framing that is not valid COBS
    "bad_crc",
    "unknown_version",
    "bad_length",  # a body whose length does not fit its kind, page or opcode
    "bad_value",  # a field outside its documented range
    "unknown_page",
    "unknown_opcode",
)


class FrameError(InputError):
    """A frame that cannot be decoded; `reason` names why (one of `REJECT_REASONS`)."""

    def __init__(self, reason: str, message: str, *, expected: str = "", got: str = "") -> None:
        super().__init__(message, expected=expected, got=got, where=f"frame ({reason})")
        self.reason = reason
