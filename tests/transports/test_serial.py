"""The serial transport end to end: the host's pyserial on a pty, a protocol-speaking peer on
the other side (the CPython insole emulator in its own process)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from numbguard.errors import (
    BadUrl,
    DeviceError,
    DeviceNotFound,
    DeviceTimeout,
    InputError,
    LinkLost,
)
from numbguard.protocol.constants import OP_GET_STATUS, OP_IDENTIFY, OP_TIME_SYNC, RESULT_OK
from numbguard.protocol.frames import DataFrame, Reply, StatusIdentity
from numbguard.transports import open_transport
from numbguard.transports.base import FrameEvent
from numbguard.transports.link import IDENTIFY_TIMEOUT_S
from numbguard.transports.serial import SerialTransport
from numbguard_lab import MICROPYTHON_SIM_DIR
from numbguard_lab.checks import altered, missing_or_doubled
from numbguard_lab.pty_peer import LineNoise, PtyPeer, emulator_argv
from tests.required_tools import require_tool

INSOLE_ID = 0x5EED0042


def data_frames(events: list[FrameEvent]) -> list[DataFrame]:
    return [event.frame for event in events if isinstance(event.frame, DataFrame)]


def assert_whole(frames: list[DataFrame]) -> None:
    """Every frame from the first received to the last, once each, with the samples taken."""
    assert frames, "no data frames arrived"
    assert missing_or_doubled(frames) == ([], [])
    assert altered(frames) == []


async def _run_until_peer_exits(transport: SerialTransport) -> tuple[list[FrameEvent], DeviceError]:
    events: list[FrameEvent] = []
    with pytest.raises(DeviceError) as raised:
        async for event in transport:
            events.append(event)
    return events, raised.value


async def test_whole_run_arrives_in_order_and_the_end_of_the_line_is_a_device_error() -> None:
    argv = emulator_argv("--foot", "right", "--insole-id", hex(INSOLE_ID), "--duration-s", "1.5")
    with PtyPeer(argv) as peer:
        async with open_transport(f"serial://{peer.path}", time_sync_period_s=0.2) as transport:
            assert isinstance(transport, SerialTransport)
            (insole,) = transport.insoles
            assert (insole.foot, insole.insole_id, insole.link) == ("right", INSOLE_ID, peer.path)
            reply = await transport.control(peer.path, OP_TIME_SYNC, host_token=1234)
            assert reply.result == RESULT_OK and reply.data["host_token"] == 1234
            events, error = await _run_until_peer_exits(transport)
            assert peer.path in str(error)
        assert peer.wait(5) == 0, peer.stderr_text
    frames = data_frames(events)
    assert len(frames) >= 4  # 1.5 s at 100 Hz, 25 sets a frame
    assert_whole(frames)
    assert not any(event.late for event in events)
    assert any(isinstance(event.frame, StatusIdentity) for event in events)
    assert all(event.insole.insole_id == INSOLE_ID for event in events[-3:])
    # The transport's own periodic time sync, replies recorded as events for protocol.time_sync.
    syncs = [e for e in events if isinstance(e.frame, Reply) and e.frame.opcode == OP_TIME_SYNC]
    assert len(syncs) >= 3


async def test_garbage_on_the_line_is_dropped_and_no_valid_frame_is_lost() -> None:
    noise = LineNoise(every_s=0.02, seed=7)
    with PtyPeer(emulator_argv("--duration-s", "1.5"), noise=noise) as peer:
        async with open_transport(f"serial://{peer.path}") as transport:
            assert isinstance(transport, SerialTransport)
            events, _ = await _run_until_peer_exits(transport)
            decoder = transport.decoders[peer.path]
    # A burst goes in after a frame at most every 20 ms: about one per frame at 25 sets a frame.
    assert peer.relay is not None and peer.relay.bursts >= 5
    assert decoder.rejected_total >= 5, decoder.reject_counts  # the garbage reached the decoder
    assert_whole(data_frames(events))
    status = [e for e in events if not isinstance(e.frame, Reply)]
    assert status


async def test_frames_corrupted_on_the_line_come_back_by_resend_marked_late() -> None:
    noise = LineNoise(corrupt_every_s=0.05, until_s=1.0, seed=3)
    argv = emulator_argv("--duration-s", "2.5", "--max-frame-bytes", "20")  # 100 frames/s
    with PtyPeer(argv, noise=noise) as peer:
        async with open_transport(f"serial://{peer.path}") as transport:
            assert isinstance(transport, SerialTransport)
            events, _ = await _run_until_peer_exits(transport)
            rejected = transport.decoders[peer.path].reject_counts
    assert peer.relay is not None and peer.relay.corrupted >= 10
    assert sum(rejected.values()) >= 10, rejected
    assert_whole(data_frames(events))
    # Most corrupted frames are data frames (100 a second against one status page): each
    # comes back once, late; a corrupted status page or reply is not resent.
    late = [event.frame.seq for event in events if event.late]
    assert late and len(late) == len(set(late))


async def test_a_lost_control_frame_is_sent_again_and_answered_once() -> None:
    # The peer ignores the first GET_STATUS (sent while opening) and the first IDENTIFY.
    argv = emulator_argv(
        "--duration-s", "3", "--drop-first", str(OP_GET_STATUS), "--drop-first", str(OP_IDENTIFY)
    )
    with PtyPeer(argv) as peer:
        async with open_transport(f"serial://{peer.path}") as transport:
            (insole,) = transport.insoles  # identified all the same: it asked again
            assert insole.insole_id is not None
            retries_before = transport.control_retries
            reply = await transport.control(peer.path, OP_IDENTIFY, seconds=2, timeout_s=0.5)
            assert reply.ok and reply.opcode == OP_IDENTIFY
            # Same request id sent twice, one reply.
            assert transport.control_retries == retries_before + 1
            await transport.close()
            queued = [event async for event in transport]  # what came before the close, then end
            assert all(event.insole.link == peer.path for event in queued)
            assert await transport.next_event() is None


async def test_control_after_the_peer_is_gone_raises_device_error() -> None:
    with PtyPeer(emulator_argv("--duration-s", "0.6")) as peer:
        async with open_transport(f"serial://{peer.path}") as transport:
            await _run_until_peer_exits(transport)
            with pytest.raises(DeviceError):
                await transport.control(peer.path, OP_IDENTIFY, seconds=1, timeout_s=0.2)


async def test_a_port_that_does_not_exist_is_a_device_not_found_naming_it() -> None:
    with pytest.raises(DeviceNotFound, match="/dev/numbguard-no-such-port") as raised:
        async with open_transport("serial:///dev/numbguard-no-such-port"):
            pass
    assert raised.value.name_or_address == "/dev/numbguard-no-such-port"
    assert raised.value.scanned_s is None  # a path, not a scan


async def test_a_port_that_never_answers_is_a_timeout_naming_what_it_waited_for() -> None:
    # pyserial's loop:// echoes the host's own control frames: no insole answers.
    with pytest.raises(DeviceTimeout) as raised:
        async with open_transport("serial://loop://"):
            pass
    assert raised.value.device == "loop://"
    assert raised.value.operation == "identity page"
    assert raised.value.timeout_s == IDENTIFY_TIMEOUT_S


@pytest.mark.parametrize(
    "url", ["serial://", "serial:///dev/ttyUSB0?baud=fast", "serial:///dev/ttyUSB0?parity=E"]
)
def test_bad_serial_urls_say_what_was_expected(url: str) -> None:
    with pytest.raises(BadUrl, match="expected") as raised:
        open_transport(url)
    assert raised.value.url == url


@pytest.mark.parametrize("url", ["/dev/ttyUSB0", "usb://x", "bluetooth://", ""])
def test_an_unknown_url_lists_every_form(url: str) -> None:
    with pytest.raises(InputError) as raised:
        open_transport(url)
    assert "serial:///dev/ttyUSB0" in str(raised.value) and "ble://" in str(raised.value)


# -- the real firmware, under the MicroPython unix port, on the far end of the pty ------------

REPO = Path(__file__).resolve().parents[2]


def _firmware_peer(workdir: Path, noise: LineNoise | None = None) -> PtyPeer:
    binary = require_tool("micropython", "the firmware end to end over serial")
    micropypath = f"{MICROPYTHON_SIM_DIR}:{REPO / 'firmware'}:.frozen"
    return PtyPeer(
        [binary, str(REPO / "firmware" / "main.py")],
        env=dict(os.environ, MICROPYPATH=micropypath), cwd=str(workdir), noise=noise,
    )  # fmt: skip


async def _stream_then_unplug(
    peer: PtyPeer, frames_wanted: int
) -> tuple[list[FrameEvent], SerialTransport]:
    async with open_transport(f"serial://{peer.path}") as transport:
        assert isinstance(transport, SerialTransport)
        (insole,) = transport.insoles
        assert insole.insole_id is not None and insole.boot_id is not None
        reply = await transport.control(peer.path, OP_TIME_SYNC, host_token=77)
        assert reply.ok and reply.data["host_token"] == 77
        events: list[FrameEvent] = []
        while len(data_frames(events)) < frames_wanted:
            event = await transport.next_event(timeout_s=5)
            assert event is not None
            events.append(event)
        peer.stop()  # the board is unplugged
        with pytest.raises(LinkLost, match="link lost") as raised:
            while await transport.next_event(timeout_s=5):
                pass
        assert raised.value.device == peer.path and raised.value.after_s is None
    return events, transport


@pytest.mark.micropython
async def test_the_real_firmware_streams_whole_over_the_pty(tmp_path: Path) -> None:
    with _firmware_peer(tmp_path) as peer:
        events, _ = await _stream_then_unplug(peer, 120)
    frames = data_frames(events)
    assert missing_or_doubled(frames) == ([], [])
    assert all(frame.foot == "left" and frame.rate_hz == 100 for frame in frames)
    assert any(isinstance(event.frame, StatusIdentity) for event in events)


@pytest.mark.micropython
async def test_the_real_firmware_through_line_noise_loses_no_frame(tmp_path: Path) -> None:
    with _firmware_peer(tmp_path, LineNoise(every_s=0.01, seed=11)) as peer:
        events, transport = await _stream_then_unplug(peer, 150)
    assert peer.relay is not None and peer.relay.bursts >= 20
    assert transport.decoders[peer.path].rejected_total >= 20
    assert missing_or_doubled(data_frames(events)) == ([], [])
