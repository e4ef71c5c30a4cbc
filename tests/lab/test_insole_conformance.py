"""One conformance suite for the two insoles the host talks to: the firmware (firmware/main.py
under the MicroPython unix port, over its serial line) and the pure-Python emulated insole
behind `sim://` (host/numbguard/transports/emulated_insole.py).

Every case runs against both and expects the same: the reply's result code and data for each
control opcode with good and bad arguments, damaged and mis-sized control frames, the status
pages GET_STATUS sends, STOP and START, and RESEND of held and of never-sent frames. A change
of the firmware's control handling that the emulator does not follow fails here.

Not held to each other (each has its own tests): the firmware's byte-sized ring against the
emulator's frame count (when a frame is evicted), resets and power states (the emulator has
none), and BLE (the emulator is reached only through `sim://`).
"""

from __future__ import annotations

import os
import select
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from numbguard.protocol.cobs import encode_serial
from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import (
    OP_GET_CAL,
    OP_GET_STATUS,
    OP_IDENTIFY,
    OP_RESEND,
    OP_SET_CAL,
    OP_SET_NAME,
    OP_SET_OVERSAMPLE,
    OP_SET_PADS,
    OP_SET_RATE,
    OP_START,
    OP_STOP,
    OP_TARE,
    OP_TIME_SYNC,
    RESULT_BAD_CRC,
    RESULT_BAD_LENGTH,
    RESULT_NOT_HELD,
    RESULT_OK,
    RESULT_OUT_OF_RANGE,
    RESULT_UNKNOWN_OPCODE,
)
from numbguard.protocol.control import make_control
from numbguard.protocol.crc import crc16_ccitt_false
from numbguard.protocol.decoder import SerialFrameDecoder
from numbguard.protocol.frames import Control, DataFrame, Frame, Reply, StatusFrame
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard_lab.firmware_runner import FirmwareProcess, InsoleSpec

INSOLE_ID = 0x5EED0042
POLL_STEP_S = 0.02  # the emulator is polled this often, on its own clock


class Insole(Protocol):
    """What the suite needs of an insole: send a control frame's bytes, take what came."""

    def send(self, raw: bytes) -> None: ...

    def take(self, wait_s: float) -> list[tuple[Frame, bytes]]: ...


class EmulatedInsole:
    """The emulator on a clock of its own: waiting advances it, no real time passes."""

    def __init__(self) -> None:
        self.emulator = InsoleEmulator(foot="left", insole_id=INSOLE_ID)
        self.now_s = 0.0
        self.out: list[bytes] = [o.frame for o in self.emulator.poll(self.now_s)]

    def send(self, raw: bytes) -> None:
        self.out += [o.frame for o in self.emulator.handle_control(raw, self.now_s)]

    def take(self, wait_s: float) -> list[tuple[Frame, bytes]]:
        end_s = self.now_s + wait_s
        while self.now_s < end_s:
            self.now_s = min(end_s, self.now_s + POLL_STEP_S)
            self.out += [o.frame for o in self.emulator.poll(self.now_s)]
        taken, self.out = self.out, []
        return [(decode_frame(raw), raw) for raw in taken]


class FirmwareInsole:
    """firmware/main.py under MicroPython, reached over its serial line (stdin and stdout)."""

    def __init__(self, firmware: FirmwareProcess) -> None:
        self.firmware = firmware
        self.decoder = SerialFrameDecoder()

    def send(self, raw: bytes) -> None:
        process = self.firmware.process
        assert process is not None and process.stdin is not None
        process.stdin.write(encode_serial(raw))

    def take(self, wait_s: float) -> list[tuple[Frame, bytes]]:
        process = self.firmware.process
        assert process is not None and process.stdout is not None
        fd = process.stdout.fileno()
        taken: list[tuple[Frame, bytes]] = []
        end_s = time.monotonic() + wait_s
        while (left_s := end_s - time.monotonic()) > 0:
            if select.select([fd], [], [], left_s)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                taken += [(d.frame, d.raw) for d in self.decoder.feed_raw(chunk)]
        return taken


@pytest.fixture(params=["firmware", "emulator"])
def insole(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Insole]:
    if request.param == "emulator":
        yield EmulatedInsole()
        return
    micropython: str = request.getfixturevalue("micropython_bin")
    spec = InsoleSpec("left", INSOLE_ID)
    with FirmwareProcess(spec, tmp_path / "flash", micropython=micropython) as firmware:
        dut = FirmwareInsole(firmware)
        dut.take(0.5)  # booted: streaming
        yield dut


def _with_crc(payload: bytes) -> bytes:
    return payload + struct.pack("<H", crc16_ccitt_false(payload))


def _ask(insole: Insole, raw: bytes, request_id: int, wait_s: float = 0.6) -> list[Frame]:
    """Send `raw`; the frames that followed it, from its reply on (data frames left out)."""
    insole.send(raw)
    frames = [frame for frame, _ in insole.take(wait_s) if not isinstance(frame, DataFrame)]
    for index, frame in enumerate(frames):
        if isinstance(frame, Reply) and frame.seq == request_id:
            return frames[index:]
    return []


def _reply(insole: Insole, control: Control) -> Reply:
    frames = _ask(insole, encode_frame(control), control.seq)
    assert frames, f"no reply to {control}"
    reply = frames[0]
    assert isinstance(reply, Reply) and reply.opcode == control.opcode
    return reply


# (opcode, arguments, expected result): arguments out of range are sent as the bytes a host
# without the host's own checks would send (`Control` is packed without range checks).
CASES: list[tuple[int, dict[str, int | float | str], int]] = [
    (OP_SET_RATE, {"rate_hz": 50}, RESULT_OK),
    (OP_SET_RATE, {"rate_hz": 5}, RESULT_OUT_OF_RANGE),
    (OP_SET_RATE, {"rate_hz": 250}, RESULT_OUT_OF_RANGE),
    (OP_SET_OVERSAMPLE, {"oversample": 4}, RESULT_OK),
    (OP_SET_OVERSAMPLE, {"oversample": 0}, RESULT_OUT_OF_RANGE),
    (OP_SET_PADS, {"pad_mask": 0b000111}, RESULT_OK),
    (OP_SET_PADS, {"pad_mask": 0}, RESULT_OUT_OF_RANGE),
    (OP_IDENTIFY, {"seconds": 2}, RESULT_OK),
    (OP_IDENTIFY, {"seconds": 0}, RESULT_OUT_OF_RANGE),
    (OP_IDENTIFY, {"seconds": 31}, RESULT_OUT_OF_RANGE),
    (OP_SET_NAME, {"name": "Track shoes"}, RESULT_OK),
    (OP_TARE, {"pad_mask": 0}, RESULT_OK),
    (OP_SET_CAL, {"pad_bit": 2, "gain": 0.5, "exponent": 1.25}, RESULT_OK),
    (OP_SET_CAL, {"pad_bit": 6, "gain": 0.5, "exponent": 1.25}, RESULT_OUT_OF_RANGE),
    (OP_SET_CAL, {"pad_bit": 1, "gain": 0.5, "exponent": 9.0}, RESULT_OUT_OF_RANGE),
    (OP_GET_CAL, {"pad_bit": 6}, RESULT_OUT_OF_RANGE),
]


@pytest.mark.parametrize(("opcode", "args", "result"), CASES)
def test_each_control_gets_the_same_result(
    insole: Insole, opcode: int, args: dict[str, int | float | str], result: int
) -> None:
    reply = _reply(insole, Control(seq=77, opcode=opcode, args=args))
    assert (reply.seq, reply.result) == (77, result), reply


def test_time_sync_echoes_the_token_with_the_insole_clock(insole: Insole) -> None:
    first = _reply(insole, make_control(OP_TIME_SYNC, 10, host_token=0xDEADBEEF))
    second = _reply(insole, make_control(OP_TIME_SYNC, 11, host_token=7))
    assert first.result == second.result == RESULT_OK
    assert first.data["host_token"] == 0xDEADBEEF and second.data["host_token"] == 7
    elapsed_us = int(second.data["device_time_us"]) - int(first.data["device_time_us"])
    assert 0 < elapsed_us < 5_000_000  # the insole's own clock, in microseconds


def test_a_calibration_set_is_read_back_as_set(insole: Insole) -> None:
    assert _reply(insole, make_control(OP_SET_CAL, 1, pad_bit=3, gain=0.25, exponent=1.5)).ok
    reply = _reply(insole, make_control(OP_GET_CAL, 2, pad_bit=3))
    assert reply.result == RESULT_OK
    assert reply.data == {"pad_bit": 3, "gain": 0.25, "exponent": 1.5}
    untouched = _reply(insole, make_control(OP_GET_CAL, 3, pad_bit=0))
    assert untouched.data == {"pad_bit": 0, "gain": 1.0, "exponent": 1.0}


def test_a_name_with_a_control_character_is_refused(insole: Insole) -> None:
    good = encode_frame(make_control(OP_SET_NAME, 21, name="Runner"))
    payload = bytearray(good[:-2])
    payload[payload.index(b"u")] = 0x01  # "R\x01nner": not printable ASCII
    frames = _ask(insole, _with_crc(bytes(payload)), 21)
    assert frames and isinstance(frames[0], Reply)
    assert frames[0].result == RESULT_OUT_OF_RANGE


def test_get_status_sends_its_reply_then_every_page(insole: Insole) -> None:
    frames = _ask(insole, encode_frame(make_control(OP_GET_STATUS, 30)), 30, wait_s=0.3)
    reply, pages = frames[0], frames[1:6]
    assert isinstance(reply, Reply) and reply.result == RESULT_OK
    assert all(isinstance(page, StatusFrame) for page in pages)
    assert [page.page for page in pages if isinstance(page, StatusFrame)] == [0, 1, 2, 3, 4]


def test_stop_ends_the_data_and_start_brings_it_back(insole: Insole) -> None:
    assert _reply(insole, make_control(OP_STOP, 40)).ok
    insole.take(0.3)  # a frame already on its way may still come
    stopped = [f for f, _ in insole.take(0.6) if isinstance(f, DataFrame)]
    assert stopped == []
    assert _reply(insole, make_control(OP_START, 41)).ok
    assert [f for f, _ in insole.take(0.6) if isinstance(f, DataFrame)]


def test_resend_sends_the_same_bytes_again_and_not_held_for_frames_never_sent(
    insole: Insole,
) -> None:
    sent = {f.seq: raw for f, raw in insole.take(0.6) if isinstance(f, DataFrame)}
    assert len(sent) >= 2
    first_seq, last_seq = sorted(sent)[0], sorted(sent)[1]
    insole.send(encode_frame(make_control(OP_RESEND, 50, first_seq=first_seq, last_seq=last_seq)))
    after = insole.take(0.6)
    replies = [f for f, _ in after if isinstance(f, Reply) and f.seq == 50]
    assert len(replies) == 1 and replies[0].result == RESULT_OK
    assert replies[0].data["frames_queued"] == 2
    assert int(replies[0].data["oldest_seq_held"]) <= first_seq
    again = [raw for f, raw in after if isinstance(f, DataFrame) and f.seq in sent]
    assert again == [sent[first_seq], sent[last_seq]]

    future = (max(sent) + 5000) % 65536
    reply = _reply(insole, make_control(OP_RESEND, 51, first_seq=future, last_seq=future))
    assert reply.result == RESULT_NOT_HELD and reply.data["frames_queued"] == 0


def test_damaged_and_mis_sized_controls_get_the_same_answers(insole: Insole) -> None:
    raw = bytearray(encode_frame(make_control(OP_TIME_SYNC, 300, host_token=1)))
    raw[-1] ^= 0xFF  # the CRC no longer matches
    frames = _ask(insole, bytes(raw), 300)
    assert frames and isinstance(frames[0], Reply) and frames[0].result == RESULT_BAD_CRC

    insole.send(bytes(raw[:4]))  # too short to carry a request id: no reply at all
    assert [f for f, _ in insole.take(0.4) if isinstance(f, Reply)] == []

    short = encode_frame(make_control(OP_TIME_SYNC, 301, host_token=1))[:-2]
    frames = _ask(insole, _with_crc(short[:-1]), 301)  # a 3-byte token
    assert frames and isinstance(frames[0], Reply) and frames[0].result == RESULT_BAD_LENGTH

    unknown = bytearray(encode_frame(make_control(OP_STOP, 302))[:-2])
    unknown[5] = 0x7E  # an opcode no insole knows
    frames = _ask(insole, _with_crc(bytes(unknown)), 302)
    assert frames and isinstance(frames[0], Reply)
    assert frames[0].result == RESULT_UNKNOWN_OPCODE
