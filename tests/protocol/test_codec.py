"""Frames of every kind survive encode -> decode, and every malformed frame is named for why."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import PROPERTY_SETTINGS, controls, data_frames, replies, status_frames

from numbguard.errors import InputError
from numbguard.protocol import (
    DataFrame,
    Frame,
    FrameError,
    Reply,
    StatusClock,
    StatusTare,
    decode_frame,
    encode_control,
    encode_frame,
    make_control,
)
from numbguard.protocol.constants import (
    DATA_OVERHEAD_BYTES,
    MAX_FRAME_BYTES,
    OP_GET_CAL,
    OP_RESEND,
    OP_SET_NAME,
    OP_SET_RATE,
    OP_START,
    OP_TIME_SYNC,
    RESULT_OK,
)
from numbguard.protocol.crc import crc16_ccitt_false

FRAME_EXAMPLES = 150


def with_crc(payload: bytes) -> bytes:
    return payload + struct.pack("<H", crc16_ccitt_false(payload))


def six_pad_frame(n_sets: int = 1, seq: int = 0) -> DataFrame:
    samples = (np.arange(n_sets * 6).reshape(n_sets, 6) * 97) % 4096
    return DataFrame(foot="right", insole_tag=0x55, seq=seq, pad_mask=0x3F,
                     t_first_us=0x123456, rate_hz=100, samples=samples)  # fmt: skip


def reason_of(raw: bytes) -> str:
    with pytest.raises(FrameError) as caught:
        decode_frame(raw)
    assert isinstance(caught.value, InputError)
    return caught.value.reason


def test_crc_is_ccitt_false() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(b"") == 0xFFFF


@pytest.mark.parametrize("kind", [data_frames, status_frames, replies, controls])
@settings(PROPERTY_SETTINGS, max_examples=FRAME_EXAMPLES)
@given(data=st.data())
def test_every_kind_round_trips(
    kind: Callable[[], st.SearchStrategy[Frame]], data: st.DataObject
) -> None:
    frame = data.draw(kind())
    raw = encode_frame(frame)
    assert len(raw) <= MAX_FRAME_BYTES
    assert decode_frame(raw) == frame
    assert encode_frame(decode_frame(raw)) == raw


def test_header_layout_by_hand() -> None:
    raw = encode_frame(six_pad_frame(seq=0xBEEF))
    assert raw[0] == 1  # version
    assert raw[1] == (0 << 6) | 0x3F  # kind data, six pads
    assert raw[2] == 0x80 | 0x55  # right foot, tag
    assert raw[3:5] == b"\xef\xbe"
    assert raw[5:8] == b"\x56\x34\x12"  # t_first_us, 24 bits little-endian
    assert raw[8] == 100
    assert len(raw) == DATA_OVERHEAD_BYTES + 9


def test_data_frame_sizes_match_the_document() -> None:
    assert len(encode_frame(six_pad_frame(1))) == 20  # fits MTU 23
    assert len(encode_frame(six_pad_frame(25))) == 236  # fits MTU 247
    with pytest.raises(InputError, match="too long"):
        encode_frame(six_pad_frame(26))
    with pytest.raises(InputError, match="too long"):
        encode_frame(six_pad_frame(2), max_bytes=20)


def test_samples_are_read_only_and_shaped() -> None:
    frame = decode_frame(encode_frame(six_pad_frame(3)))
    assert isinstance(frame, DataFrame)
    assert frame.samples.shape == (3, 6) and frame.samples.dtype == np.uint16
    assert frame.n_sets == 3 and frame.span_us == pytest.approx(30_000)
    with pytest.raises(ValueError):
        frame.samples[0, 0] = 1


@pytest.mark.parametrize("samples", [[[4096]], [[-1]], [[70000]], [[1.5]]])
def test_samples_must_be_12_bit_counts(samples: list[list[float]]) -> None:
    with pytest.raises(InputError, match="12-bit ADC counts"):
        DataFrame(pad_mask=1, t_first_us=0, rate_hz=100, samples=samples)


def test_odd_value_count_frame() -> None:
    # Three pads, one set: three values, the last packed alone in two bytes.
    frame = DataFrame(pad_mask=0b10101, t_first_us=5, rate_hz=50, samples=[[4095, 1, 2048]])
    raw = encode_frame(frame)
    assert len(raw) == DATA_OVERHEAD_BYTES + 5
    assert decode_frame(raw) == frame


def test_reply_and_control_data_by_name() -> None:
    reply = Reply(pad_mask=0x3F, seq=9, opcode=OP_TIME_SYNC, result=RESULT_OK,
                  data={"host_token": 7, "device_time_us": 2**32 - 1})  # fmt: skip
    assert decode_frame(encode_frame(reply)) == reply
    control = make_control(OP_RESEND, 41, first_seq=65530, last_seq=3)
    raw = encode_frame(control)
    assert raw[5] == OP_RESEND and raw[6:10] == struct.pack("<HH", 65530, 3)
    assert decode_frame(raw) == control
    assert encode_control(41, OP_RESEND, struct.pack("<HH", 65530, 3)) == raw


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"\x01\x00\x00", "truncated"),
        (with_crc(b"\x01\x00\x00\x00\x00"), "truncated"),  # data frame without a body
        (bytes(MAX_FRAME_BYTES + 1), "too_long"),
        (with_crc(b"\x02\xc0\x00\x01\x00\x01"), "unknown_version"),
        (with_crc(b"\x01\xc0\x00\x01\x00\x63"), "unknown_opcode"),
        (with_crc(b"\x01\xc0\x00\x01\x00\x03"), "bad_length"),  # SET_RATE without its byte
        (with_crc(b"\x01\xc1\x00\x01\x00\x01"), "bad_value"),  # control with a pad mask
        (with_crc(b"\x01\x40\x00\x01\x00\x07"), "unknown_page"),
        (with_crc(b"\x01\x40\x00\x01\x00\x01\x00"), "truncated"),  # page 1 cut short
        (with_crc(b"\x01\x40\x00\x01\x00" + bytes(18)), "bad_length"),  # page 0 too long
        (with_crc(b"\x01\x80\x00\x01\x00\x01"), "truncated"),  # reply without result
        (with_crc(b"\x01\x80\x00\x01\x00\x05\x00\x01"), "bad_length"),  # 1 byte of TIME_SYNC
        (with_crc(b"\x01\x3f\x00\x01\x00\x00\x00\x00\x64" + bytes(4)), "bad_length"),
        (with_crc(b"\x01\x3f\x00\x01\x00\x00\x00\x00\x64" + bytes(3)), "bad_length"),  # 2 of 6
        (with_crc(b"\x01\x3f\x00\x01\x00\x00\x00\x00\x05" + bytes(9)), "bad_value"),  # 5 Hz
        (with_crc(b"\x01\x00\x00\x01\x00\x00\x00\x00\x64" + bytes(9)), "bad_value"),  # no pads
        (with_crc(b"\x01\x01\x00\x01\x00\x00\x00\x00\x64\x00\x10"), "bad_value"),  # nibble
        (with_crc(b"\x01\xc0\x00\x01\x00\x0a\xff"), "bad_value"),  # name not ASCII
        (with_crc(b"\x01\xc0\x00\x01\x00\x0a" + b"x" * 12), "bad_length"),  # name too long
        (
            with_crc(b"\x01\xc0\x00\x01\x00\x0b\x01" + struct.pack("<ff", 1, math.inf)),
            "bad_value",
        ),  # SET_CAL exponent infinite
        (
            with_crc(b"\x01\x80\x00\x01\x00\x0c\x00\x01" + struct.pack("<ff", math.nan, 1)),
            "bad_value",
        ),  # GET_CAL reply with a NaN gain
    ],
)
def test_malformed_frames_are_named(raw: bytes, reason: str) -> None:
    assert reason_of(raw) == reason


def test_raw_control_encoder_keeps_the_limits() -> None:
    with pytest.raises(InputError, match="control frame too long"):
        encode_control(1, OP_SET_NAME, b"x" * 300)
    with pytest.raises(InputError, match="opcode out of range"):
        encode_control(1, 256)
    # Malformed on purpose: the checked builder would refuse this rate, the raw one sends it.
    assert reason_of(encode_control(1, OP_SET_RATE, b"\x05\x06")) == "bad_length"


def test_any_flipped_bit_is_caught_by_the_crc() -> None:
    raw = encode_frame(six_pad_frame(25))
    for bit in range(0, len(raw) * 8, 7):
        mutated = bytearray(raw)
        mutated[bit // 8] ^= 1 << (bit % 8)
        assert reason_of(bytes(mutated)) == "bad_crc"


def test_error_messages_say_what_was_expected_and_what_came() -> None:
    with pytest.raises(FrameError, match=r"expected 1; got 2"):
        decode_frame(with_crc(b"\x02\xc0\x00\x01\x00\x01"))
    with pytest.raises(InputError, match=r"expected an integer 25-200; got 300"):
        make_control(OP_SET_RATE, 1, rate_hz=300)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: DataFrame(pad_mask=0x3F, t_first_us=0, rate_hz=100, samples=[[1, 2, 3]]),
         "do not match the pad mask"),
        (lambda: DataFrame(pad_mask=1, t_first_us=0, rate_hz=100, samples=[[4096]]),
         "12-bit"),
        (lambda: DataFrame(pad_mask=1, t_first_us=1 << 24, rate_hz=100, samples=[[1]]),
         "t_first_us"),
        (lambda: DataFrame(pad_mask=1, t_first_us=0, rate_hz=10, samples=[[1]]), "rate"),
        (lambda: DataFrame(pad_mask=1, seq=70000, t_first_us=0, rate_hz=100, samples=[[1]]),
         "seq"),
        (lambda: StatusClock(pad_mask=1, device_time_us=-1, battery_mv=0, battery_pct=0,
                             last_data_seq=0, oversample=1), "does not fit"),
        (lambda: StatusTare(pad_mask=1, tare_offsets=(1, 2)), "one offset per pad"),
        (lambda: Reply(pad_mask=1, opcode=OP_START, result=0, data={"x": 1}), "no data"),
    ],
)  # fmt: skip
def test_encoder_refuses_bad_fields(build: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        encode_frame(build())  # type: ignore[operator]


@pytest.mark.parametrize(
    ("opcode", "args", "match"),
    [
        (OP_SET_RATE, {"rate_hz": 24}, "out of range"),
        (OP_SET_RATE, {}, "wrong arguments"),
        (OP_SET_NAME, {"name": ""}, "length"),
        (OP_SET_NAME, {"name": "twelve chars"}, "length"),
        (OP_SET_NAME, {"name": "tab\there"}, "printable"),
        (OP_GET_CAL, {"pad_bit": 6}, "out of range"),
        (0x63, {}, "unknown control opcode"),
    ],
)
def test_make_control_checks_arguments(opcode: int, args: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        make_control(opcode, 1, **args)  # type: ignore[arg-type]
