"""The serial decoder: COBS framing, any cut of the byte stream, hard limits, named rejections."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import PROPERTY_SETTINGS

from numbguard.errors import InputError
from numbguard.protocol import (
    DataFrame,
    NotificationDecoder,
    Reply,
    SerialFrameDecoder,
    StatusClock,
    cobs_decode,
    cobs_encode,
    encode_frame,
    encode_serial,
    make_control,
)
from numbguard.protocol.constants import OP_START, OP_TIME_SYNC
from numbguard.protocol.decoder import MAX_ENCODED_FRAME_BYTES


def sample_frames() -> list[DataFrame | StatusClock | Reply]:
    rng = np.random.default_rng(7)
    frames: list[DataFrame | StatusClock | Reply] = [
        DataFrame(seq=seq, pad_mask=0x3F, t_first_us=seq * 250_000 % (1 << 24), rate_hz=100,
                  samples=rng.integers(0, 4096, size=(n_sets, 6)))
        for seq, n_sets in enumerate([25, 1, 13, 25, 2])
    ]  # fmt: skip
    frames.append(StatusClock(pad_mask=0x3F, seq=3, device_time_us=0, battery_mv=3900,
                              battery_pct=80, last_data_seq=4, oversample=1))  # fmt: skip
    frames.append(Reply(pad_mask=0x3F, seq=12, opcode=OP_START, result=0))
    return frames


def stream_of(frames: list[DataFrame | StatusClock | Reply]) -> bytes:
    return b"".join(encode_serial(encode_frame(frame)) for frame in frames)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x01\x02", bytes(range(1, 256)), bytes(300), b"\x00" * 3 + b"\xff" * 600,
     bytes(range(256)) * 2, b"\x07" * 253 + b"\x00\x01", b"\x07" * 254 + b"\x00\x01",
     b"\x07" * 254, b"\x07" * 255 + b"\x00"],
)  # fmt: skip
def test_cobs_round_trip_and_no_zero_inside(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert cobs_decode(encoded) == data


@settings(PROPERTY_SETTINGS, max_examples=200)
@given(st.lists(st.sampled_from([b"\x00", b"\x01", b"\x07" * 253, b"\x07" * 254]), max_size=6))
def test_cobs_round_trips_runs_around_a_block(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert cobs_decode(cobs_encode(data)) == data


def test_cobs_known_vectors() -> None:
    # From the COBS paper / Wikipedia examples.
    assert cobs_encode(b"\x00") == b"\x01\x01"
    assert cobs_encode(b"\x00\x00") == b"\x01\x01\x01"
    assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    assert cobs_encode(b"\x11\x00\x00\x00") == b"\x02\x11\x01\x01\x01"


@pytest.mark.parametrize("encoded", [b"\x05\x01\x02", b"\x02\x00", b"\x00"])
def test_cobs_rejects_overruns_and_zeros(encoded: bytes) -> None:
    with pytest.raises(InputError, match="not valid COBS"):
        cobs_decode(encoded)


@pytest.mark.parametrize("cut", ["whole", "batched", "byte_by_byte"])
def test_same_frames_whatever_the_cut(cut: str) -> None:
    frames = sample_frames()
    stream = stream_of(frames)
    decoder = SerialFrameDecoder()
    if cut == "whole":
        got = decoder.feed(stream)
    elif cut == "batched":
        got = []
        for start in range(0, len(stream), 37):
            got += decoder.feed(stream[start : start + 37])
    else:
        got = [frame for i in range(len(stream)) for frame in decoder.feed(stream[i : i + 1])]
    assert got == frames
    assert decoder.rejected_total == 0 and decoder.pending_bytes == 0
    assert decoder.frames_decoded == len(frames) and decoder.bytes_fed == len(stream)


def test_feed_raw_gives_each_frames_bytes() -> None:
    frames = sample_frames()
    decoded = SerialFrameDecoder().feed_raw(stream_of(frames))
    assert [d.raw for d in decoded] == [encode_frame(f) for f in frames]


def test_garbage_then_delimiter_costs_one_rejection_and_no_frame() -> None:
    frames = sample_frames()
    decoder = SerialFrameDecoder()
    got = decoder.feed(b"\x07garbage\x00" + stream_of(frames))
    assert got == frames
    assert decoder.reject_counts == {"bad_cobs": 1}
    (rejection,) = decoder.rejections
    assert rejection.reason == "bad_cobs" and rejection.offset == 0
    assert rejection.raw == b"\x07garbage"


def test_cut_frame_is_rejected_and_the_next_one_decoded() -> None:
    frames = sample_frames()
    whole = encode_serial(encode_frame(frames[0]))
    decoder = SerialFrameDecoder()
    # The frame is cut short, then its sender restarts: the next delimiter ends the stub.
    got = decoder.feed(whole[:100] + b"\x00" + stream_of(frames[1:]))
    assert got == frames[1:]
    assert sum(decoder.reject_counts.values()) == 1
    assert decoder.reject_counts.keys() <= {"bad_cobs", "bad_crc", "truncated", "bad_length"}


def test_too_long_is_dropped_to_the_next_delimiter_with_bounded_memory() -> None:
    frames = sample_frames()
    decoder = SerialFrameDecoder()
    got = decoder.feed(b"\x01" * 5000)
    assert got == [] and decoder.pending_bytes == 0
    assert decoder.reject_counts == {"too_long": 1}
    got = decoder.feed(b"\x01" * 100 + b"\x00" + stream_of(frames))
    assert got == frames
    assert decoder.reject_counts == {"too_long": 1}
    assert decoder.bytes_discarded == 5100
    assert len(decoder.rejections[0].raw) <= MAX_ENCODED_FRAME_BYTES


def test_longest_legal_frame_fits_the_limit() -> None:
    frame = sample_frames()[0]
    assert len(encode_serial(encode_frame(frame))) - 1 <= MAX_ENCODED_FRAME_BYTES
    assert MAX_ENCODED_FRAME_BYTES == 245


def test_zero_length_frames_are_counted_not_rejected() -> None:
    frames = sample_frames()
    decoder = SerialFrameDecoder()
    got = decoder.feed(b"\x00\x00" + stream_of(frames[:2]) + b"\x00")
    assert got == frames[:2]
    assert decoder.empty_frames == 3 and decoder.rejected_total == 0


def test_missing_delimiter_waits_then_flush_rejects_as_truncated() -> None:
    frames = sample_frames()
    decoder = SerialFrameDecoder()
    stream = stream_of(frames)
    assert decoder.feed(stream[:-1]) == frames[:-1]
    assert decoder.pending_bytes > 0
    decoder.flush()
    assert decoder.reject_counts == {"truncated": 1} and decoder.pending_bytes == 0
    assert decoder.feed(stream) == frames  # carries on after a reopen


def test_rejections_keep_the_latest_and_count_all() -> None:
    decoder = SerialFrameDecoder(keep_rejections=4)
    decoder.feed(b"\x05\x00" * 10)
    assert decoder.reject_counts == {"bad_cobs": 10}
    assert len(decoder.rejections) == 4
    assert [r.offset for r in decoder.rejections] == [12, 14, 16, 18]


def test_notification_decoder_one_frame_each() -> None:
    frames = sample_frames()
    decoder = NotificationDecoder()
    got = [f for frame in frames for f in decoder.feed(encode_frame(frame))]
    assert got == frames
    assert decoder.feed(encode_frame(frames[0])[:-1]) == []
    assert decoder.feed(b"") == []
    control = encode_frame(make_control(OP_TIME_SYNC, 3, host_token=1))
    assert len(decoder.feed(control)) == 1
    assert decoder.reject_counts == {"bad_crc": 1, "empty": 1}
    assert [r.offset for r in decoder.rejections] == [len(frames), len(frames) + 1]
