"""12-bit packing against the rule in docs/protocol.md, and the frame sizing rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import PROPERTY_SETTINGS

from numbguard.errors import InputError
from numbguard.protocol.packing import (
    max_frame_bytes,
    pack12,
    packed_bytes,
    sets_per_frame,
    unpack12,
    value_count,
)


def pack12_by_the_rule(values: list[int]) -> bytes:
    out = bytearray()
    for i in range(0, len(values) - 1, 2):
        v0, v1 = values[i], values[i + 1]
        out += bytes([v0 & 0xFF, (v0 >> 8) | ((v1 & 0x0F) << 4), v1 >> 4])
    if len(values) % 2:
        out += bytes([values[-1] & 0xFF, values[-1] >> 8])
    return bytes(out)


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(st.lists(st.integers(0, 4095), max_size=160))
def test_pack_matches_the_rule_and_unpacks(values: list[int]) -> None:
    packed = pack12(values)
    assert packed == pack12_by_the_rule(values)
    assert len(packed) == packed_bytes(len(values))
    assert unpack12(packed).tolist() == values


def test_pack_by_hand() -> None:
    assert pack12([0xABC, 0x123]) == bytes([0xBC, 0x3A, 0x12])
    assert pack12([0xABC]) == bytes([0xBC, 0x0A])
    assert unpack12(bytes([0xBC, 0x3A, 0x12, 0xFF, 0x0F])).tolist() == [0xABC, 0x123, 0xFFF]


@pytest.mark.parametrize("values", [[4096], [-1], [0, 70000]])
def test_pack_refuses_values_beyond_12_bits(values: list[int]) -> None:
    with pytest.raises(InputError, match="12-bit"):
        pack12(values)


def test_value_counts_and_impossible_lengths() -> None:
    assert [value_count(n) for n in (0, 2, 3, 5, 6, 9, 225)] == [0, 1, 2, 3, 4, 6, 150]
    for n_bytes in (1, 4, 7, 226):
        with pytest.raises(InputError, match="impossible packed sample length"):
            value_count(n_bytes)


def test_unpacked_array_is_uint16() -> None:
    assert unpack12(pack12(np.array([1, 2, 3]))).dtype == np.uint16


@pytest.mark.parametrize(
    ("mtu", "n_pads", "rate_hz", "sets"),
    [
        (23, 6, 100, 1),  # the document: one six-pad set at the default MTU
        (247, 6, 100, 25),  # 25 sets: 225 sample bytes in a 236-byte frame
        (247, 6, 200, 25),  # size-bound
        (247, 6, 25, 6),  # span-bound: 250 ms at 25 Hz
        (247, 1, 200, 50),  # span-bound at one pad
        (23, 1, 100, 6),
        (23, 5, 100, 1),
        (185, 4, 100, 25),
        (517, 6, 200, 25),  # MTUs above 247 still give frames of at most 244 bytes
    ],
)
def test_sets_per_frame(mtu: int, n_pads: int, rate_hz: int, sets: int) -> None:
    assert sets_per_frame(mtu, n_pads, rate_hz) == sets
    frame_bytes = 11 + packed_bytes(sets * n_pads)
    assert frame_bytes <= max_frame_bytes(mtu)


def test_sizing_refuses_impossible_links() -> None:
    with pytest.raises(InputError, match="MTU"):
        sets_per_frame(22, 6, 100)
    with pytest.raises(InputError, match="pad count"):
        sets_per_frame(23, 7, 100)
