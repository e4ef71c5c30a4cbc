"""`InsoleLink` on its own: plain callables for `send` and `emit`, the CPython insole emulator
answering what is sent, and the test choosing which of its frames reach the link and when.
No transport, no radio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from numbguard.errors import DeviceTimeout, LinkLost
from numbguard.protocol.codec import decode_frame, encode_frame
from numbguard.protocol.constants import OP_TIME_SYNC, RESULT_OK
from numbguard.protocol.decoder import Decoded
from numbguard.protocol.frames import Control, DataFrame, Reply
from numbguard.transports.emulated_insole import InsoleEmulator
from numbguard.transports.events import FrameEvent
from numbguard.transports.link import InsoleLink

ADDRESS = "test:left"
INSOLE_ID = 0x5A1E0042


class Bench:
    """One link and the emulated insole behind it. `send` hands each control frame to the
    insole; its answers are kept in `answers` (and delivered at once if `auto`)."""

    def __init__(self, *, auto: bool = True) -> None:
        self.insole = InsoleEmulator(foot="left", insole_id=INSOLE_ID, boot_id=7)
        self.auto = auto
        self.now_s = 0.0
        self.sent: list[bytes] = []
        self.answers: list[bytes] = []
        self.events: list[FrameEvent] = []
        self.on_send: Callable[[int], None] | None = None  # called with the send's index
        self.link = InsoleLink(ADDRESS, send=self.send, emit=self.events.append, name="NGL-0042")

    async def send(self, frame: bytes) -> None:
        self.sent.append(frame)
        answers = [out.frame for out in self.insole.handle_control(frame, self.now_s)]
        self.answers.extend(answers)
        if self.auto:
            for raw in answers:
                asyncio.get_running_loop().call_soon(self.deliver, raw)
        if self.on_send is not None:
            self.on_send(len(self.sent) - 1)

    def deliver(self, raw: bytes) -> None:
        self.link.on_frame(Decoded(decode_frame(raw), raw), self.now_s)

    def request_id(self, index: int) -> int:
        control = decode_frame(self.sent[index])
        assert isinstance(control, Control)
        return control.seq

    async def until_sent(self, count: int) -> None:
        async with asyncio.timeout(5.0):
            while len(self.sent) < count:
                await asyncio.sleep(0.001)


def reply_frame(seq: int, host_token: int = 1) -> bytes:
    """A TIME_SYNC reply from the bench's insole for request `seq`."""
    reply = Reply(
        foot="left", insole_tag=INSOLE_ID & 0x7F, seq=seq, pad_mask=0x3F,
        opcode=OP_TIME_SYNC, result=RESULT_OK,
        data={"host_token": host_token, "device_time_us": 1234},
    )  # fmt: skip
    return encode_frame(reply)


async def test_a_reply_resolves_the_waiting_control_and_is_emitted() -> None:
    bench = Bench()
    reply = await bench.link.control(OP_TIME_SYNC, host_token=4242)
    assert reply.seq == bench.request_id(0)
    assert reply.result == RESULT_OK and reply.data["host_token"] == 4242
    assert bench.link.control_retries == 0
    (event,) = bench.events
    assert event.frame == reply and not event.late
    assert (event.insole.link, event.insole.foot, event.insole.name) == (
        ADDRESS, "left", "NGL-0042",
    )  # fmt: skip


async def test_a_retry_reuses_the_request_id_and_a_late_reply_to_the_first_attempt_counts() -> None:
    bench = Bench(auto=False)

    def on_send(index: int) -> None:
        if index == 1:  # the retry is out: now the first attempt's answer arrives
            asyncio.get_running_loop().call_soon(bench.deliver, bench.answers[0])

    bench.on_send = on_send
    reply = await bench.link.control(OP_TIME_SYNC, timeout_s=0.05, attempts=3, host_token=9)
    assert len(bench.sent) == 2
    assert bench.sent[0] == bench.sent[1]  # the same frame: the same request id
    assert reply.seq == bench.request_id(0) and reply.data["host_token"] == 9
    assert bench.link.control_retries == 1


async def test_no_reply_in_any_attempt_is_a_timeout_and_the_request_is_forgotten() -> None:
    bench = Bench(auto=False)
    with pytest.raises(DeviceTimeout) as raised:
        await bench.link.control(OP_TIME_SYNC, timeout_s=0.01, attempts=2, host_token=1)
    assert raised.value.attempts == 2 and len(bench.sent) == 2
    assert bench.link.control_retries == 1
    # The next request has a new id: the old one's reply, arriving now, answers nothing.
    waiting = asyncio.create_task(
        bench.link.control(OP_TIME_SYNC, timeout_s=5.0, attempts=1, host_token=2)
    )
    await bench.until_sent(3)
    assert bench.request_id(2) != bench.request_id(0)
    bench.deliver(bench.answers[0])
    await asyncio.sleep(0.01)
    assert not waiting.done()
    bench.deliver(bench.answers[2])
    assert (await waiting).data["host_token"] == 2


async def test_a_lost_link_fails_the_waiting_request_with_its_error() -> None:
    bench = Bench(auto=False)
    waiting = asyncio.create_task(
        bench.link.control(OP_TIME_SYNC, timeout_s=5.0, attempts=1, host_token=1)
    )
    await bench.until_sent(1)
    error = LinkLost(ADDRESS, detail="reconnecting")
    bench.link.lost(error)
    with pytest.raises(LinkLost) as raised:
        await waiting
    assert raised.value is error
    # The link itself goes on: the next request is answered as usual.
    bench.auto = True
    assert (await bench.link.control(OP_TIME_SYNC, host_token=3)).data["host_token"] == 3


async def test_a_reply_for_an_unknown_request_id_is_ignored() -> None:
    bench = Bench(auto=False)
    waiting = asyncio.create_task(
        bench.link.control(OP_TIME_SYNC, timeout_s=5.0, attempts=1, host_token=5)
    )
    await bench.until_sent(1)
    stranger = (bench.request_id(0) + 100) & 0xFFFF
    bench.deliver(reply_frame(stranger, host_token=66))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    bench.deliver(bench.answers[0])
    reply = await waiting
    assert reply.seq == bench.request_id(0) and reply.data["host_token"] == 5
    # Both replies still reach the consumer: what came on the link is emitted.
    assert [event.frame.seq for event in bench.events] == [stranger, reply.seq]


async def test_data_frames_are_emitted_once_each_and_a_duplicate_is_not() -> None:
    bench = Bench()
    sent: list[bytes] = []
    for step in range(1, 21):  # 1 s of frames
        bench.now_s = step * 0.05
        sent.extend(out.frame for out in bench.insole.poll(bench.now_s) if out.channel == "data")
    assert len(sent) >= 3
    try:
        for raw in [*sent[:2], sent[1], *sent[2:]]:  # the second frame arrives twice
            bench.deliver(raw)
        async with asyncio.timeout(5.0):
            while not bench.link.caught_up:
                await asyncio.sleep(0.01)
    finally:
        bench.link.cancel()
    data = [event.frame for event in bench.events if isinstance(event.frame, DataFrame)]
    expected = [decode_frame(raw) for raw in sent]
    assert data == expected
    assert not any(event.late for event in bench.events)
    assert bench.link.frames_received == len(sent) + 1 + (len(bench.events) - len(data))
