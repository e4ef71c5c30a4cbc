"""Property tests: no bytes make the decoders raise, every rejection is counted with a reason,
and a valid frame that follows garbage is never lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import PROPERTY_SETTINGS, any_frames

from numbguard.errors import NumbguardError
from numbguard.protocol import (
    REJECT_REASONS,
    Frame,
    FrameError,
    NotificationDecoder,
    SerialFrameDecoder,
    decode_frame,
    encode_frame,
    encode_serial,
)
from numbguard.protocol.crc import crc16_ccitt_false

EXAMPLES = 120


def feed_in_pieces(decoder: SerialFrameDecoder, stream: bytes, cuts: list[int]) -> list[Frame]:
    frames: list[Frame] = []
    start = 0
    for cut in sorted(c % (len(stream) + 1) for c in cuts):
        frames += decoder.feed(stream[start:cut])
        start = max(start, cut)
    return frames + decoder.feed(stream[start:])


def segments(stream: bytes) -> int:
    """Non-empty runs between delimiters: each must end as a frame or a rejection."""
    return sum(1 for run in stream.split(b"\x00") if run)


@settings(PROPERTY_SETTINGS, max_examples=EXAMPLES)
@given(st.binary(max_size=2000), st.lists(st.integers(0, 4000), max_size=8))
def test_arbitrary_bytes_never_raise_and_every_frame_is_accounted(
    stream: bytes, cuts: list[int]
) -> None:
    decoder = SerialFrameDecoder()
    frames = feed_in_pieces(decoder, stream, cuts)
    decoder.flush()
    assert len(frames) + decoder.rejected_total == segments(stream)
    assert set(decoder.reject_counts) <= set(REJECT_REASONS)
    assert all(r.message and r.reason in REJECT_REASONS for r in decoder.rejections)


@settings(PROPERTY_SETTINGS, max_examples=EXAMPLES)
@given(st.binary(max_size=300))
def test_decode_frame_raises_only_frame_errors(raw: bytes) -> None:
    try:
        decode_frame(raw)
    except FrameError as error:
        assert isinstance(error, NumbguardError) and error.reason in REJECT_REASONS
    notifications = NotificationDecoder()
    notifications.feed(raw)
    assert notifications.frames_decoded + notifications.rejected_total == 1


@settings(PROPERTY_SETTINGS, max_examples=EXAMPLES)
@given(
    st.binary(max_size=600),
    st.lists(any_frames, min_size=1, max_size=6),
    st.lists(st.integers(0, 6000), max_size=6),
)
def test_valid_frames_after_garbage_are_never_lost(
    garbage: bytes, frames: list[Frame], cuts: list[int]
) -> None:
    # Garbage ends where the line's next delimiter is (a cut frame's, or the sender's).
    stream = garbage + b"\x00" + b"".join(encode_serial(encode_frame(f)) for f in frames)
    decoder = SerialFrameDecoder()
    got = feed_in_pieces(decoder, stream, cuts)
    assert got[len(got) - len(frames) :] == frames
    assert len(got) + decoder.rejected_total == segments(stream)


@settings(PROPERTY_SETTINGS, max_examples=EXAMPLES)
@given(
    st.lists(any_frames, min_size=2, max_size=8),
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), min_size=1, max_size=6),
    st.lists(st.integers(0, 5000), max_size=4),
)
def test_mutated_streams_lose_only_the_touched_frames(
    frames: list[Frame], mutations: list[tuple[int, int]], cuts: list[int]
) -> None:
    encoded = [encode_serial(encode_frame(f)) for f in frames]
    stream = bytearray(b"".join(encoded))
    touched: set[int] = set()
    for position, value in mutations:
        index = position % len(stream)
        stream[index] = value
        touched.add(index)
    decoder = SerialFrameDecoder()
    got = feed_in_pieces(decoder, bytes(stream), cuts)
    decoder.flush()
    # A frame whose bytes and whose predecessor's delimiter are untouched must come through.
    start = 0
    intact: list[Frame] = []
    for frame, chunk in zip(frames, encoded, strict=True):
        span = set(range(max(0, start - 1), start + len(chunk)))
        if not span & touched:
            intact.append(frame)
        start += len(chunk)
    remaining = iter(got)
    assert all(any(frame == g for g in remaining) for frame in intact)  # in order, none lost
    assert len(got) + decoder.rejected_total == segments(bytes(stream))


@settings(PROPERTY_SETTINGS, max_examples=300)
@given(
    st.integers(0, 3),
    st.integers(0, 0x3F),
    st.integers(0, 0xFF),
    st.binary(min_size=2, max_size=2),
    st.one_of(
        st.binary(max_size=237),
        st.tuples(st.integers(0, 16), st.binary(max_size=12)).map(lambda t: bytes([t[0]]) + t[1]),
    ),
)
def test_frames_with_a_good_crc_and_any_body_decode_exactly_or_are_named(
    kind: int, pad_mask: int, foot_tag: int, seq: bytes, body: bytes
) -> None:
    # Past the CRC check every kind's body parser sees arbitrary bytes: it must either name
    # the fault or give a frame that encodes back to the very same bytes.
    payload = bytes([1, kind << 6 | pad_mask, foot_tag]) + seq + body
    raw = payload + crc16_ccitt_false(payload).to_bytes(2, "little")
    try:
        frame = decode_frame(raw)
    except FrameError as error:
        assert error.reason in REJECT_REASONS
    else:
        assert encode_frame(frame) == raw
