"""CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR."""

from __future__ import annotations

import binascii

CRC_INIT = 0xFFFF


def crc16_ccitt_false(data: bytes | bytearray | memoryview) -> int:
    """The frame CRC of `data` (check value: b"123456789" gives 0x29B1)."""
    # crc_hqx is the same polynomial without reflection, run in C; the initial value makes
    # it CCITT-FALSE.
    return binascii.crc_hqx(data, CRC_INIT)
