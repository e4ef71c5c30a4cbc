"""The CPython insole emulator obeys docs/protocol.md, and the lab's checks catch what they must."""

from __future__ import annotations

import dataclasses

import numpy as np

from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import (
    OP_GET_STATUS,
    OP_RESEND,
    OP_SET_RATE,
    OP_STOP,
    OP_TIME_SYNC,
    RESULT_BAD_CRC,
    RESULT_NOT_HELD,
    RESULT_OK,
    RESULT_OUT_OF_RANGE,
)
from numbguard.protocol.control import make_control
from numbguard.protocol.frames import (
    Control,
    DataFrame,
    Frame,
    Reply,
    StatusClock,
    StatusIdentity,
)
from numbguard.transports.emulated_insole import InsoleEmulator, sample_set
from numbguard_lab.checks import altered, missing_or_doubled


def _frames(raw: list[bytes]) -> list[Frame]:
    return [decode_frame(r) for r in raw]


def _control(emulator: InsoleEmulator, now_s: float, frame: Control) -> list[Frame]:
    return _frames([o.frame for o in emulator.handle_control(encode_frame(frame), now_s)])


def test_data_frames_fill_the_mtu_cap_at_250_ms_and_carry_the_trace() -> None:
    emulator = InsoleEmulator(foot="right", insole_id=0xABCDEF12, clock_offset_us=0)
    out = emulator.poll(0.0, 20) + emulator.poll(0.5, 20)  # MTU 23: one set a frame
    data = [f for f in _frames([o.frame for o in out]) if isinstance(f, DataFrame)]
    assert len(data) == 51 and all(f.n_sets == 1 for f in data)
    assert missing_or_doubled(data) == ([], []) and altered(data) == []
    big = InsoleEmulator(foot="left", insole_id=1)
    frames = _frames([o.frame for o in big.poll(0.0) + big.poll(1.0) if o.channel == "data"])
    assert [f.n_sets for f in frames if isinstance(f, DataFrame)] == [25, 25, 25, 25]
    assert emulator.advertised_name == "NGR-EF12" and big.advertised_name == "NGL-0001"


def test_status_pages_come_once_a_second_in_turn() -> None:
    emulator = InsoleEmulator(foot="left", insole_id=7, boot_id=99)
    pages = []
    for tick in range(6):
        pages += [o for o in emulator.poll(tick * 1.0) if o.channel == "status"]
    decoded = _frames([o.frame for o in pages])
    assert [type(f).__name__ for f in decoded[:2]] == ["StatusIdentity", "StatusClock"]
    assert len(decoded) == 6
    identity = decoded[0]
    assert isinstance(identity, StatusIdentity) and identity.boot_id == 99
    clock = decoded[1]
    assert isinstance(clock, StatusClock) and clock.device_time_us == 1_000_000


def test_controls_get_one_reply_each_with_the_request_id() -> None:
    emulator = InsoleEmulator(foot="left", insole_id=7)
    emulator.poll(0.0)
    (sync,) = _control(emulator, 2.5, make_control(OP_TIME_SYNC, 10, host_token=0xDEADBEEF))
    assert isinstance(sync, Reply) and sync.seq == 10 and sync.result == RESULT_OK
    assert sync.data == {"host_token": 0xDEADBEEF, "device_time_us": 2_500_000}
    bad_rate = Control(seq=11, opcode=OP_SET_RATE, args={"rate_hz": 5})  # skips host checks
    (refused,) = _control(emulator, 2.5, bad_rate)
    assert isinstance(refused, Reply) and refused.result == RESULT_OUT_OF_RANGE
    status = _control(emulator, 2.5, make_control(OP_GET_STATUS, 12))
    assert isinstance(status[0], Reply) and len(status) == 6
    stopped, *flushed = _control(emulator, 2.5, make_control(OP_STOP, 13))
    assert stopped.seq == 13 and not emulator.streaming
    assert all(isinstance(frame, DataFrame) for frame in flushed)  # the frame being built
    assert [o for o in emulator.poll(3.0) if o.channel == "data"] == []


def test_a_damaged_control_gets_bad_crc_and_a_cut_one_no_reply() -> None:
    emulator = InsoleEmulator(foot="left", insole_id=7)
    raw = bytearray(encode_frame(make_control(OP_TIME_SYNC, 300, host_token=1)))
    raw[-1] ^= 0xFF
    (reply,) = _frames([o.frame for o in emulator.handle_control(bytes(raw), 0.0)])
    assert isinstance(reply, Reply) and reply.seq == 300 and reply.result == RESULT_BAD_CRC
    assert emulator.handle_control(bytes(raw[:4]), 0.0) == []


def test_resend_returns_the_same_bytes_and_not_held_once_evicted() -> None:
    emulator = InsoleEmulator(foot="left", insole_id=7, ring_frames=10)
    sent = [o for o in emulator.poll(0.0, 20) + emulator.poll(0.3, 20) if o.channel == "data"]
    assert len(sent) == 31
    out = emulator.handle_control(encode_frame(make_control(OP_RESEND, 5, first_seq=25,
                                                            last_seq=27)), 0.3)  # fmt: skip
    reply = decode_frame(out[0].frame)
    assert isinstance(reply, Reply) and reply.data == {"frames_queued": 3, "oldest_seq_held": 21}
    assert [o.frame for o in out[1:]] == [o.frame for o in sent[25:28]]
    gone = emulator.handle_control(
        encode_frame(make_control(OP_RESEND, 6, first_seq=0, last_seq=3)), 0.3
    )
    (not_held,) = _frames([o.frame for o in gone])
    assert isinstance(not_held, Reply) and not_held.result == RESULT_NOT_HELD


def test_the_checks_find_missing_doubled_and_altered_frames() -> None:
    emulator = InsoleEmulator(foot="left", insole_id=7)
    raw = [o.frame for o in emulator.poll(0.0, 20) + emulator.poll(0.1, 20) if o.channel == "data"]
    frames = [f for f in _frames(raw) if isinstance(f, DataFrame)]
    assert missing_or_doubled(frames) == ([], []) and altered(frames) == []
    assert missing_or_doubled(frames[:3] + frames[4:] + frames[5:6]) == ([3], [5])
    samples = np.array(frames[2].samples)
    samples[0, 0] += 1
    assert altered([dataclasses.replace(frames[2], samples=samples)]) == [2]
    assert sample_set(0, 100, 0b000001) == [sample_set(0, 100, 0x3F)[0]]
