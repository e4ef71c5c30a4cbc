"""12-bit sample packing (two values in three bytes) and how many sample sets fit a frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from numbguard.errors import BadValue
from numbguard.protocol.constants import (
    ATT_OVERHEAD_BYTES,
    DATA_OVERHEAD_BYTES,
    DEFAULT_MTU,
    MAX_FRAME_BYTES,
    MAX_FRAME_SPAN_MS,
    MAX_VALUE,
    PAD_COUNT,
)
from numbguard.protocol.errors import FrameError

U16Array = npt.NDArray[np.uint16]


def packed_bytes(n_values: int) -> int:
    """Bytes that `n_values` 12-bit values take on the wire."""
    return (3 * n_values + 1) // 2


def value_count(n_bytes: int) -> int:
    """How many 12-bit values `n_bytes` packed bytes hold; a length no count packs to raises."""
    if n_bytes < 0 or n_bytes % 3 == 1:
        raise FrameError(
            "bad_length",
            "impossible packed sample length",
            expected="a byte count that is not 1 more than a multiple of 3",
            got=str(n_bytes),
        )
    return 2 * (n_bytes // 3) + (n_bytes % 3) // 2


def pack12(values: Sequence[int] | npt.NDArray[np.integer]) -> bytes:
    """Pack 12-bit values in pairs: b0 = v0 & 0xFF, b1 = v0 >> 8 | (v1 & 0xF) << 4, b2 = v1 >> 4."""
    flat = np.asarray(values).reshape(-1)
    if flat.size and (int(flat.min()) < 0 or int(flat.max()) > MAX_VALUE):
        raise BadValue(
            "sample value out of the 12-bit range",
            expected=f"0-{MAX_VALUE}",
            got=f"{int(flat.min())}-{int(flat.max())}",
            name="samples",
        )
    n_values = flat.size
    pairs = np.zeros((n_values + 1) // 2 * 2, dtype=np.uint16)
    pairs[:n_values] = flat
    first, second = pairs[0::2], pairs[1::2]
    out = np.empty((pairs.size // 2, 3), dtype=np.uint8)
    out[:, 0] = first & 0xFF
    out[:, 1] = (first >> 8) | ((second & 0x0F) << 4)
    out[:, 2] = second >> 4
    # An odd last value keeps only its two bytes (the third would be zero).
    return out.tobytes()[: packed_bytes(n_values)]


def unpack12(data: bytes | bytearray | memoryview) -> U16Array:
    """All values packed in `data`, in order, as a uint16 array (see `pack12`)."""
    n_values = value_count(len(data))
    raw = np.frombuffer(bytes(data) + b"\x00" * (-len(data) % 3), dtype=np.uint8)
    triples = raw.reshape(-1, 3).astype(np.uint16)
    values = np.empty((triples.shape[0], 2), dtype=np.uint16)
    np.bitwise_or(triples[:, 0], (triples[:, 1] & 0x0F) << 8, out=values[:, 0])
    np.bitwise_or(triples[:, 1] >> 4, triples[:, 2] << 4, out=values[:, 1])
    return values.reshape(-1)[:n_values]


def max_frame_bytes(mtu: int) -> int:
    """The longest frame one notification carries at ATT MTU `mtu`."""
    if mtu < DEFAULT_MTU:
        raise BadValue(
            "ATT MTU below the BLE minimum", expected=f">= {DEFAULT_MTU}", got=str(mtu), name="mtu"
        )
    return min(mtu - ATT_OVERHEAD_BYTES, MAX_FRAME_BYTES)


def sets_per_frame(mtu: int, n_pads: int, rate_hz: int) -> int:
    """Sample sets per data frame under the firmware's rule.

    As many sets as fit `MTU - 3` bytes (and `MAX_FRAME_BYTES`), but no more than
    `MAX_FRAME_SPAN_MS` of samples, so the host hears from the insole at least 4 times a second.
    """
    if not 1 <= n_pads <= PAD_COUNT:
        raise BadValue(
            "pad count out of range", expected=f"1-{PAD_COUNT}", got=str(n_pads), name="n_pads"
        )
    sample_bytes = max_frame_bytes(mtu) - DATA_OVERHEAD_BYTES
    by_size = (2 * sample_bytes // 3) // n_pads
    by_span = max(1, rate_hz * MAX_FRAME_SPAN_MS // 1000)
    return min(by_size, by_span)
