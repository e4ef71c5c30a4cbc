"""COBS (consistent overhead byte stuffing): the serial framing, so 0x00 can end every frame."""

from __future__ import annotations

from numbguard.protocol.errors import FrameError

DELIMITER = b"\x00"


def cobs_max_encoded_bytes(n_bytes: int) -> int:
    """The longest COBS encoding of `n_bytes` bytes (one code byte per started 254-byte run)."""
    return n_bytes + n_bytes // 254 + 1


def cobs_encode(data: bytes | bytearray | memoryview) -> bytes:
    """COBS-encode `data`; the result holds no 0x00 (append `DELIMITER` to send it)."""
    out = bytearray()
    for run in bytes(data).split(b"\x00"):
        # Each zero-free run becomes blocks of at most 254 bytes behind a code byte.
        while len(run) >= 254:
            out.append(0xFF)
            out += run[:254]
            run = run[254:]
        out.append(len(run) + 1)
        out += run
    return bytes(out)


def cobs_decode(encoded: bytes | bytearray | memoryview) -> bytes:
    """Undo `cobs_encode`; a 0x00 inside or a block that overruns raises `FrameError`."""
    data = bytes(encoded)
    out = bytearray()
    index, end = 0, len(data)
    while index < end:
        code = data[index]
        block_end = index + code
        if code == 0 or block_end > end:
            raise FrameError(
                "bad_cobs",
                "not valid COBS",
                expected="code bytes 1-255 whose blocks fit the frame",
                got=f"code {code} at byte {index} of {end}",
            )
        block = data[index + 1 : block_end]
        if 0 in block:
            raise FrameError(
                "bad_cobs",
                "not valid COBS",
                expected="no 0x00 inside a frame",
                got=f"0x00 at byte {index + 1 + block.index(0)}",
            )
        out += block
        index = block_end
        if code != 0xFF and index < end:
            out.append(0)
    return bytes(out)


def encode_serial(frame: bytes | bytearray | memoryview) -> bytes:
    """One frame as it travels on USB serial: COBS, then the delimiter."""
    return cobs_encode(frame) + DELIMITER
