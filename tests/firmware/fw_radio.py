"""The central's side of the firmware tests on the real BLE stack.

The insole is `firmware/main.py` under ``micropython-nimble`` (MicroPython's NimBLE `bluetooth`)
in a `FirmwareBleLab`; the central is the lab radio's bumble `Device`, pairing as a host OS
does (`central_pairing_config`). `Central` discovers the GATT table, subscribes and keeps every
notification in one list in the order the air delivered them, so a test can say what came
before and after a step. `SerialWatch` reads the frames the insole writes on its USB serial
line meanwhile (status pages and data while no trusted central is connected, replies to
control frames sent over serial) and sends control frames there, as a developer with a cable
would. `until` waits for a condition, generously: the tests never time anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, TypeVar

from bumble.att import ATT_Error
from bumble.controller import Connection as ControllerConnection
from bumble.controller import Controller
from bumble.core import UUID
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy
from bumble.hci import Address
from bumble.keys import MemoryKeyStore

from numbguard.pads import Foot
from numbguard.protocol import (
    DataFrame,
    Frame,
    Reply,
    SerialFrameDecoder,
    decode_frame,
    encode_frame,
    encode_serial,
    make_control,
)
from numbguard.protocol.constants import (
    CONTROL_UUID,
    DATA_UUID,
    OP_GET_STATUS,
    OP_RESEND,
    SEQ_MODULO,
    STATUS_UUID,
)
from numbguard.protocol.frames import Control, StatusCounters, StatusFrame
from numbguard_lab.ble_lab import FirmwareBleLab
from numbguard_lab.bumble_backend import central_pairing_config

WAIT_S: Final = 30.0  # the longest wait for anything: a loaded 2-core machine is slow
_POLL_S: Final = 0.02
_ASK_AGAIN_S: Final = 0.1
_ATT_INSUFFICIENT_RESOURCES: Final = 0x11  # between two GET_STATUS asking the insole how far it got

T = TypeVar("T")


async def until(condition: Callable[[], T | None], what: str, timeout_s: float = WAIT_S) -> T:
    """The first true value of `condition()`, polled; fails saying what never happened."""
    deadline_s = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline_s:
            raise AssertionError(f"waited {timeout_s} s for {what}")
        await asyncio.sleep(_POLL_S)


async def refusal(step: Awaitable[object]) -> int:
    """The ATT error code `step` is refused with (0: not refused)."""
    try:
        await step
    except ATT_Error as error:
        return int(error.error_code)
    return 0


@contextlib.contextmanager
def insole_unheard(lab: FirmwareBleLab, foot: Foot = "left") -> Iterator[None]:
    """Back-pressure: nothing the insole sends gets through (its packets lost on the air),
    while the central's still reach it, as on an asymmetric link. Its controller completes
    none of the packets NimBLE gave it, so NimBLE's buffers fill and `gatts_notify` raises
    ENOMEM; the central's writes arrive all the same. Afterwards what waited goes out.

    `RadioLink.stall` stops both directions; this keeps the central's."""
    assert lab.radio is not None
    link = lab.radio.link
    insole = lab.radios[foot].controller
    assert insole is not None
    both_ways = link.moving

    def moving(controller: Controller, connection: ControllerConnection) -> bool:
        return controller is not insole and both_ways(controller, connection)

    link.moving = moving  # type: ignore[method-assign]
    try:
        yield
    finally:
        del link.moving
        link.stall(insole, False)  # connection events for what waited


def insole_address(lab: FirmwareBleLab, foot: Foot = "left") -> Address:
    return Address(lab.radios[foot].address, Address.PUBLIC_DEVICE_ADDRESS)


async def connect(lab: FirmwareBleLab, foot: Foot = "left") -> Connection:
    """The lab's central connects to the insole once it is heard advertising."""
    assert lab.radio is not None
    address = insole_address(lab, foot)
    await lab.radio.wait_for_advertiser(address, WAIT_S)
    return await lab.radio.central.connect(address, timeout=WAIT_S)


async def second_central(
    lab: FirmwareBleLab, name: str, foot: Foot = "left", device: Device | None = None
) -> Connection:
    """Another central (a watch: its own bumble device and controller on the lab's radio,
    pairing as the host does) connects to the insole once it hears it advertise; `device`:
    the same one again (its keys kept)."""
    assert lab.radio is not None
    if device is None:
        device = lab.radio.new_device(name, central=True)
        device.keystore = MemoryKeyStore()
        device.pairing_config_factory = central_pairing_config
        await device.power_on()
    address = insole_address(lab, foot)
    heard: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_advertisement(advertisement: Advertisement) -> None:
        if advertisement.address == address and not heard.done():
            heard.set_result(None)

    device.on(Device.EVENT_ADVERTISEMENT, on_advertisement)
    await device.start_scanning(filter_duplicates=False)
    try:
        await asyncio.wait_for(heard, WAIT_S)
    except TimeoutError:
        raise AssertionError(f"{name}: the insole not heard advertising in {WAIT_S} s") from None
    finally:
        device.remove_listener(Device.EVENT_ADVERTISEMENT, on_advertisement)
        await device.stop_scanning()
    return await device.connect(address, timeout=WAIT_S)


@dataclass
class Heard:
    """One notification: on the data or the status characteristic, its value decoded."""

    on: str  # "data" or "status"
    value: bytes
    frame: Frame


@dataclass
class Central:
    """A GATT client on one connection; `heard` may be shared with the next connection's."""

    connection: Connection
    heard: list[Heard] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.peer = Peer(self.connection)
        self.services: dict[str, list[tuple[str, int]]] = {}

    async def discover(self) -> dict[str, list[tuple[str, int]]]:
        """Service UUID -> [(characteristic UUID, properties on air)], as discovered."""
        for service in await self.peer.discover_services():
            chars = await service.discover_characteristics()
            self.services[_uuid_text(service.uuid)] = [
                (_uuid_text(c.uuid), int(c.properties)) for c in chars
            ]
        return self.services

    def characteristic(self, uuid: str | int) -> CharacteristicProxy[bytes]:
        wanted = UUID.from_16_bits(uuid) if isinstance(uuid, int) else UUID(uuid)
        found = self.peer.get_characteristics_by_uuid(wanted)
        assert found, f"no characteristic {uuid} discovered"
        return found[0]

    async def subscribe(self) -> None:
        """Notifications of data and status into `heard` (writes both CCCDs)."""
        for uuid, on in ((DATA_UUID, "data"), (STATUS_UUID, "status")):
            characteristic = self.characteristic(uuid)
            await characteristic.discover_descriptors()
            await self.peer.subscribe(characteristic, self._keeper(on))

    def _keeper(self, on: str) -> Callable[[bytes], None]:
        def keep(value: bytes) -> None:
            value = bytes(value)
            self.heard.append(Heard(on, value, decode_frame(value)))  # checks the CRC

        return keep

    async def write_control(self, control: Control, *, response: bool) -> None:
        """Write a control frame. NimBLE answers a write with Insufficient Resources while its
        buffers are full of notifications (a resend burst): tried again, as the host does."""
        characteristic = self.characteristic(CONTROL_UUID)
        deadline_s = time.monotonic() + WAIT_S
        while True:
            try:
                await self.peer.write_value(
                    characteristic, encode_frame(control), with_response=response
                )
                return
            except ATT_Error as error:
                if error.error_code != _ATT_INSUFFICIENT_RESOURCES:
                    raise
                if time.monotonic() > deadline_s:
                    raise AssertionError(f"NimBLE out of buffers for {WAIT_S} s") from error
            await asyncio.sleep(_ASK_AGAIN_S)

    async def get_status(self, request_id: int) -> dict[type[StatusFrame], StatusFrame]:
        """GET_STATUS (a write with response): the five pages after its reply, by class."""
        start = len(self.heard)
        await self.write_control(make_control(OP_GET_STATUS, request_id), response=True)

        def pages() -> dict[type[StatusFrame], StatusFrame] | None:
            at = self.reply(request_id, start)
            if at is None:
                return None
            after = [h.frame for h in self.status(at + 1)[:5]]
            found = {type(f): f for f in after if isinstance(f, StatusFrame)}
            return found if len(found) == 5 else None

        return await until(pages, f"the reply to GET_STATUS {request_id} and its pages")

    async def resend(self, request_id: int, first_seq: int, last_seq: int) -> Reply:
        """RESEND, and wait until the insole's counters say it sent every frame it queued; they
        are then in `heard` unless they were lost, since notifications keep their order and the
        counters come after them. GET_STATUS uses the request ids after `request_id`."""
        counters = (await self.get_status(request_id + 1))[StatusCounters]
        assert isinstance(counters, StatusCounters)
        start = len(self.heard)
        control = make_control(OP_RESEND, request_id, first_seq=first_seq, last_seq=last_seq)
        await self.write_control(control, response=True)
        at = await until(lambda: self.reply(request_id, start), f"the reply to RESEND {request_id}")
        reply = self.heard[at].frame
        assert isinstance(reply, Reply)
        queued = int(reply.data.get("frames_queued", 0))
        for attempt in range(2, int(WAIT_S / _ASK_AGAIN_S)):
            now = (await self.get_status(request_id + attempt))[StatusCounters]
            assert isinstance(now, StatusCounters)
            if (now.frames_resent - counters.frames_resent) % SEQ_MODULO >= queued:
                return reply
            await asyncio.sleep(_ASK_AGAIN_S)
        raise AssertionError(f"the insole did not send the {queued} frames of RESEND {request_id}")

    def data(self, start: int = 0, end: int | None = None) -> list[Heard]:
        return [h for h in self.heard[start:end] if h.on == "data"]

    def status(self, start: int = 0, end: int | None = None) -> list[Heard]:
        return [h for h in self.heard[start:end] if h.on == "status"]

    def reply(self, request_id: int, start: int = 0) -> int | None:
        """Where in `heard` the reply to `request_id` is (after `start`), if it came."""
        for i in range(start, len(self.heard)):
            frame = self.heard[i].frame
            if isinstance(frame, Reply) and frame.seq == request_id:
                return i
        return None


def _uuid_text(uuid: UUID) -> str:
    return uuid.to_hex_str("-").lower()


def data_seqs(heard: list[Heard]) -> list[int]:
    return [h.frame.seq for h in heard if isinstance(h.frame, DataFrame)]


class SerialWatch:
    """The insole's USB serial line in the lab: what it wrote lately, and control frames in.

    The lab keeps the last few KiB the firmware wrote (`FirmwareBleLab.serial_tail`), so what
    a test waits for must stay true once it happened (a sequence number reached, a reply that
    came after nothing else is written).
    """

    def __init__(self, lab: FirmwareBleLab, foot: Foot = "left") -> None:
        self.lab = lab
        self.foot = foot

    def frames(self) -> list[Frame]:
        decoder = SerialFrameDecoder()
        tail = self.lab.serial_tail.get(self.foot, b"")
        return [d.frame for d in decoder.feed_raw(tail) if d.frame is not None]

    def last_data_seq(self) -> int:
        """The newest data frame's sequence number on the line, -1 if none."""
        return max((f.seq for f in self.frames() if isinstance(f, DataFrame)), default=-1)

    def send(self, control: Control) -> None:
        process = self.lab.firmware[self.foot].process
        assert process is not None and process.stdin is not None
        process.stdin.write(encode_serial(encode_frame(control)))

    def answer(self, request_id: int) -> list[Frame] | None:
        """The reply to `request_id` and every frame after it on the line, once it came."""
        frames = self.frames()
        for i, frame in enumerate(frames):
            if isinstance(frame, Reply) and frame.seq == request_id:
                return frames[i:]
        return None

    async def get_status(self, request_id: int) -> dict[type[StatusFrame], StatusFrame]:
        """GET_STATUS over serial: the five pages that follow its reply, by class."""
        self.send(make_control(OP_GET_STATUS, request_id))

        def pages() -> dict[type[StatusFrame], StatusFrame] | None:
            after = self.answer(request_id)
            if after is None:
                return None
            found = {type(f): f for f in after[1:6] if isinstance(f, StatusFrame)}
            return found if len(found) == 5 else None

        return await until(pages, f"the serial reply to GET_STATUS {request_id} and its pages")
