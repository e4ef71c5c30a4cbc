"""The real firmware's radio on the virtual BLE link: a bumble peripheral driven over a socket.

The firmware runs under MicroPython with ``NUMBGUARD_BLE_BRIDGE=host:port`` in its
environment; its simulated ``bluetooth`` module then forwards the GATT table, characteristic
values, advertising and notifications here (``tests/firmware/sim/socket_radio.py``), and this
bridge raises the central's actions back as the ESP32 port's IRQs: connect, MTU exchanged,
control writes, disconnect. Everything in between is bumble's host stack on the
`VirtualRadio`: ATT MTU exchange, subscriptions (CCCDs), notifications cut at MTU - 3, write
types, encryption and bonding (SMP), disconnect reasons.

Back-pressure: notifications wait in the bridge's send queue (`send_queue_frames` deep) until
the link has taken them; the firmware gets a credit per notification sent, and its
``gatts_notify`` raises ENOMEM while the queue is full, as NimBLE does when its buffers are.

Security, as the firmware's GATT flags ask: a characteristic flagged for encrypted reads or
writes needs an encrypted link for them and for its CCCD (so an unpaired central can neither
send control nor subscribe to session data). The first central to pair is bonded; once bonded
the insole refuses new pairings (SMP "pairing not supported"), and the bonded central
re-encrypts from its stored key without pairing again.

Faults (`BridgeFaults`), timed from the first connection: data notifications lost on the air,
link drops (the insole out of reach for a while), radio stalls (nothing leaves the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Final

from bumble import gatt
from bumble.att import Attribute
from bumble.core import UUID
from bumble.device import Connection, Device
from bumble.keys import MemoryKeyStore
from bumble.pairing import PairingConfig, PairingDelegate

from numbguard.errors import DeviceError, InputError
from numbguard.lab.bumble_backend import VirtualRadio
from numbguard.protocol.constants import DATA_UUID

# The wire to tests/firmware/sim/socket_radio.py: <length u16><type u8><body>.
MSG_REGISTER: Final = 1
MSG_VALUE: Final = 2
MSG_ADVERTISE: Final = 3
MSG_NOTIFY: Final = 4
MSG_CONNECT: Final = 16
MSG_DISCONNECT: Final = 17
MSG_MTU: Final = 18
MSG_WRITE: Final = 19
MSG_CREDIT: Final = 20
MSG_WINDOW: Final = 21
_NO_ADVERTISING: Final = 0xFFFFFFFF

ENV_VARIABLE: Final = "NUMBGUARD_BLE_BRIDGE"
# NimBLE on the ESP32 holds about this many outgoing notifications before ENOMEM.
DEFAULT_SEND_QUEUE_FRAMES: Final = 8
ADVERTISING_INTERVAL_MS: Final = 20  # fast, so scans in tests find the insole at once
_REMOTE_USER_TERMINATED: Final = 0x13

# MicroPython's bluetooth flags (the low byte is the GATT properties byte).
FLAG_READ: Final = 0x0002
FLAG_WRITE_NO_RESPONSE: Final = 0x0004
FLAG_WRITE: Final = 0x0008
FLAG_NOTIFY: Final = 0x0010
FLAG_INDICATE: Final = 0x0020
FLAG_READ_ENCRYPTED: Final = 0x0200
FLAG_READ_AUTHENTICATED: Final = 0x0400
FLAG_WRITE_ENCRYPTED: Final = 0x1000
FLAG_WRITE_AUTHENTICATED: Final = 0x2000
_READ_SECURE: Final = FLAG_READ_ENCRYPTED | FLAG_READ_AUTHENTICATED
_WRITE_SECURE: Final = FLAG_WRITE_ENCRYPTED | FLAG_WRITE_AUTHENTICATED
_CCCD_UUID: Final = gatt.GATT_CLIENT_CHARACTERISTIC_CONFIGURATION_DESCRIPTOR


@dataclass(frozen=True)
class BridgeFaults:
    """Faults on one insole's radio, in insole seconds from its first connection.

    `notify_loss`: share (0-1) of data notifications lost on the air (status and replies are
    not touched, so control keeps working). `link_drops`: (at_s, down_s): the link is cut and
    the insole stays out of reach for down_s. `stalls`: (at_s, for_s): nothing leaves the send
    queue, so the firmware meets ENOMEM back-pressure.
    """

    notify_loss: float = 0.0
    link_drops: tuple[tuple[float, float], ...] = ()
    stalls: tuple[tuple[float, float], ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.notify_loss < 1.0:
            raise InputError("bad notification loss", expected="a share from 0 to below 1",
                             got=repr(self.notify_loss))  # fmt: skip
        for kind, spans in (("link drop", self.link_drops), ("stall", self.stalls)):
            for at_s, for_s in spans:
                if at_s < 0 or for_s <= 0:
                    raise InputError(f"bad {kind}", expected="(at_s >= 0, for_s > 0)",
                                     got=repr((at_s, for_s)))  # fmt: skip


@dataclass
class BridgeCounters:
    """What happened on this insole's radio."""

    notifications_received: int = 0  # handed over by the firmware
    notifications_sent: int = 0  # given to the link
    notifications_lost: int = 0  # lost by the notify_loss fault
    notifications_stale: int = 0  # for a link already gone
    # Data notifications on the first link before the central subscribed: nobody hears them
    # (the firmware streams from boot and sends at once on connecting).
    data_unheard_first_link: int = 0
    connections: int = 0
    link_drops: int = 0
    pairings: int = 0
    pairings_refused: int = 0
    # From the insole being in reach again after a link drop to the central's reconnection.
    reconnected_after_s: list[float] = field(default_factory=list)
    back_in_reach_at_s: list[float] = field(default_factory=list)  # time.monotonic()


def _uuid(value: int | str) -> UUID:
    return UUID.from_16_bits(value) if isinstance(value, int) else UUID(value)


class _BondOnce(PairingDelegate):
    """Just Works for the first central; once the insole is bonded, new pairings are refused."""

    def __init__(self, bridge: FirmwareBleBridge) -> None:
        super().__init__()
        self._bridge = bridge

    async def accept(self) -> bool:
        if self._bridge.counters.pairings:
            self._bridge.counters.pairings_refused += 1
            return False
        return True


class FirmwareBleBridge:
    """One firmware process's radio: `start()`, then run the firmware with `env`."""

    def __init__(
        self,
        radio: VirtualRadio,
        label: str,
        *,
        faults: BridgeFaults | None = None,
        send_queue_frames: int = DEFAULT_SEND_QUEUE_FRAMES,
        time_scale: int = 1,
    ) -> None:
        """`time_scale`: how much faster than the wall clock the insole's clock runs; fault
        times are insole seconds."""
        if send_queue_frames < 1:
            raise InputError("bad send queue", expected=">= 1 notification",
                             got=str(send_queue_frames))  # fmt: skip
        if time_scale < 1:
            raise InputError("bad time scale", expected=">= 1", got=str(time_scale))
        self.radio = radio
        self.label = label
        self.faults = faults or BridgeFaults()
        self.send_queue_frames = send_queue_frames
        self.time_scale = time_scale
        self.counters = BridgeCounters()
        self.device: Device = radio.new_device(label)
        self.device.keystore = MemoryKeyStore()
        self.device.pairing_config_factory = self._pairing_config
        self.address = str(self.device.random_address)
        self._random = random.Random(self.faults.seed)
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._characteristics: dict[int, gatt.Characteristic[bytes]] = {}  # firmware handle ->
        self._data_handle: int | None = None
        self._values: dict[int, bytes] = {}
        self._adv_data: bytes | None = None  # what the firmware advertises, None when it stops
        self._reachable = True  # False while a link drop keeps the insole out of reach
        self._moving = asyncio.Event()
        self._moving.set()  # cleared while the radio stalls
        self._queue: asyncio.Queue[tuple[int, int, bytes]] = asyncio.Queue()
        self.connection: Connection | None = None
        self._first_connection_s: float | None = None
        self._back_in_reach_s: float | None = None  # after a link drop, until reconnected
        self.registered = asyncio.Event()
        self.firmware_gone = asyncio.Event()
        self.mtu_history: list[int] = []
        self.errors: list[Exception] = []  # notifications bumble did not take, and why
        self.calmed = False

    # -- set-up ----------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The environment the firmware process needs to reach this bridge."""
        if self._server is None:
            raise DeviceError(f"{self.label}: bridge not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return {ENV_VARIABLE: f"{host}:{port}"}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._tasks.append(asyncio.get_running_loop().create_task(self._send_forever()))

    async def wait_ready(self, timeout_s: float) -> None:
        """Until the firmware registered its GATT table and advertises."""
        try:
            await asyncio.wait_for(self.registered.wait(), timeout_s)
        except TimeoutError:
            raise DeviceError(
                f"{self.label}: the firmware did not register its GATT table in {timeout_s} s"
            ) from None

    async def stop(self) -> None:
        self._reachable = False
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect(_REMOTE_USER_TERMINATED)
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        writer = self._writer
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def _pairing_config(self, _connection: Connection) -> PairingConfig:
        return PairingConfig(
            sc=True, mitm=False, bonding=True, delegate=_BondOnce(self),
            identity_address_type=PairingConfig.AddressType.RANDOM,
        )  # fmt: skip

    # -- the firmware's side -----------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:  # one firmware per bridge; a restarted one takes over
            self._writer.close()
        self._writer = writer
        self._send(MSG_WINDOW, struct.pack("<H", self.send_queue_frames))
        try:
            while True:
                header = await reader.readexactly(3)
                length, kind = struct.unpack("<HB", header)
                body = await reader.readexactly(length - 1)
                await self._on_message(kind, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            if self._writer is writer:
                self._writer = None
                self.firmware_gone.set()
                await self._radio_off()

    async def _radio_off(self) -> None:
        """The firmware process ended (a reset, a crash): its radio went with it, so the link
        drops and advertising stops until a new boot asks again."""
        self._adv_data = None
        with contextlib.suppress(Exception):
            if self.connection is not None:
                await self.connection.disconnect(_REMOTE_USER_TERMINATED)
            await self._advertise()

    def _send(self, kind: int, body: bytes) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(struct.pack("<HB", len(body) + 1, kind) + body)

    async def _on_message(self, kind: int, body: bytes) -> None:
        if kind == MSG_REGISTER:
            await self._register(json.loads(body))
        elif kind == MSG_VALUE:
            (handle,) = struct.unpack_from("<H", body)
            self._values[handle] = bytes(body[2:])
        elif kind == MSG_ADVERTISE:
            (interval_us,) = struct.unpack_from("<I", body)
            self._adv_data = None if interval_us == _NO_ADVERTISING else bytes(body[4:])
            await self._advertise()
        elif kind == MSG_NOTIFY:
            conn, handle = struct.unpack_from("<HH", body)
            self.counters.notifications_received += 1
            self._queue.put_nowait((conn, handle, bytes(body[4:])))
        else:
            raise DeviceError(f"{self.label}: unknown message {kind} from the firmware")

    async def _register(self, table: list[Any]) -> None:
        if self.registered.is_set():
            return  # a restarted firmware registers the same table again
        services = []
        properties = gatt.Characteristic.Properties
        data_uuid = _uuid(DATA_UUID)
        for service_uuid, chars in table:
            characteristics: list[gatt.Characteristic[bytes]] = []
            for char_uuid, flags, handle in chars:
                permissions = Attribute.Permissions(0)
                if flags & FLAG_READ:
                    permissions |= Attribute.READABLE
                if flags & _READ_SECURE:
                    permissions |= Attribute.READ_REQUIRES_ENCRYPTION
                if flags & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE):
                    permissions |= Attribute.WRITEABLE
                if flags & _WRITE_SECURE:
                    permissions |= Attribute.WRITE_REQUIRES_ENCRYPTION
                characteristic: gatt.Characteristic[bytes] = gatt.Characteristic(
                    _uuid(char_uuid), properties(flags & 0xFF), permissions,
                    gatt.CharacteristicValue(read=self._reader_for(handle),
                                             write=self._writer_for(handle)),
                )  # fmt: skip
                self._characteristics[handle] = characteristic
                if characteristic.uuid == data_uuid:
                    self._data_handle = handle
                characteristics.append(characteristic)
            services.append(gatt.Service(_uuid(service_uuid), characteristics))
        self.device.add_services(services)
        self._protect_cccds(table)
        await self.device.power_on()
        self.registered.set()
        await self._advertise()

    def _protect_cccds(self, table: list[Any]) -> None:
        """bumble adds CCCDs open to all: give them the characteristic's security."""
        attributes = self.device.gatt_server.attributes
        for _, chars in table:
            for _, flags, handle in chars:
                if not flags & (_READ_SECURE | _WRITE_SECURE):
                    continue
                characteristic = self._characteristics[handle]
                for attribute in attributes:
                    if (
                        attribute.type == _CCCD_UUID
                        and characteristic.handle
                        < attribute.handle
                        <= characteristic.end_group_handle
                    ):
                        attribute.permissions |= (
                            Attribute.READ_REQUIRES_ENCRYPTION | Attribute.WRITE_REQUIRES_ENCRYPTION
                        )

    def _reader_for(self, handle: int) -> Any:
        def read(_connection: Connection) -> bytes:
            return self._values.get(handle, b"")

        return read

    def _writer_for(self, handle: int) -> Any:
        def write(connection: Connection, value: bytes) -> None:
            # bumble checked permissions (encryption) before calling this.
            self._send(MSG_WRITE, struct.pack("<HH", connection.handle, handle) + bytes(value))

        return write

    # -- the central's side ------------------------------------------------------------------

    async def _advertise(self) -> None:
        device = self.device
        wanted = (
            self._adv_data is not None and self._reachable and self.connection is None
            and self.registered.is_set()
        )  # fmt: skip
        if wanted and not device.is_advertising:
            assert self._adv_data is not None
            await device.start_advertising(
                advertising_data=self._adv_data,
                auto_restart=False,
                advertising_interval_min=ADVERTISING_INTERVAL_MS,
                advertising_interval_max=ADVERTISING_INTERVAL_MS,
            )
        elif not wanted and device.is_advertising:
            await device.stop_advertising()

    def _on_connection(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        self.connection = connection
        self.counters.connections += 1
        if self._first_connection_s is None:
            self._first_connection_s = loop.time()
            self._tasks.append(loop.create_task(self._run_faults()))
        if self._back_in_reach_s is not None:
            self.counters.reconnected_after_s.append(loop.time() - self._back_in_reach_s)
            self._back_in_reach_s = None
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        connection.on(Connection.EVENT_CONNECTION_ATT_MTU_UPDATE, self._on_mtu)
        connection.on(Connection.EVENT_PAIRING, self._on_pairing)
        self._send(MSG_CONNECT, struct.pack("<H", connection.handle)
                   + bytes(connection.peer_address)[:6])  # fmt: skip

    def _on_mtu(self) -> None:
        connection = self.connection
        if connection is not None:
            self.mtu_history.append(connection.att_mtu)
            self._send(MSG_MTU, struct.pack("<HH", connection.handle, connection.att_mtu))

    def _on_pairing(self, _keys: Any) -> None:
        self.counters.pairings += 1

    def _on_disconnection(self, _reason: int) -> None:
        connection = self.connection
        if connection is None:
            return
        self.connection = None
        # What waits in the queue went with the link; the firmware's ring still has it.
        while not self._queue.empty():
            self._queue.get_nowait()
            self.counters.notifications_stale += 1
        self._send(MSG_DISCONNECT, struct.pack("<H", connection.handle)
                   + bytes(connection.peer_address)[:6])  # fmt: skip
        # The firmware re-advertises on its own (MSG_ADVERTISE) when it sees the disconnect.

    async def _send_forever(self) -> None:
        while True:
            conn, handle, value = await self._queue.get()
            await self._moving.wait()
            connection = self.connection
            if connection is None or connection.handle != conn:
                self.counters.notifications_stale += 1  # no credit: the firmware reset its count
                continue
            characteristic = self._characteristics.get(handle)
            if characteristic is None:
                raise DeviceError(f"{self.label}: notification on unknown handle {handle}")
            lost = (
                handle == self._data_handle and self.faults.notify_loss > 0 and not self.calmed
                and self._random.random() < self.faults.notify_loss
            )  # fmt: skip
            first_link = self.counters.connections == 1
            if first_link and handle == self._data_handle:
                self.counters.data_unheard_first_link += not self._subscribed(
                    connection, characteristic
                )
            if lost:
                self.counters.notifications_lost += 1
            else:
                try:
                    await self.device.notify_subscriber(connection, characteristic, value)
                    # Credit only once the link took it: the send queue's real depth.
                    with contextlib.suppress(ValueError):  # nothing queued: not subscribed
                        await connection.drain()
                except Exception as error:  # the link went meanwhile, or bumble refused it
                    self.errors.append(error)
                else:
                    self.counters.notifications_sent += 1
            if self.connection is connection:
                self._send(MSG_CREDIT, struct.pack("<H", 1))

    def _subscribed(self, connection: Connection, characteristic: gatt.Characteristic[bytes]
                    ) -> bool:  # fmt: skip
        cccd = self.device.gatt_server.subscribers.get(connection, {}).get(characteristic.handle)
        return cccd is not None and len(cccd) == 2 and bool(cccd[0] & 0x01)

    # -- faults ------------------------------------------------------------------------------

    async def _run_faults(self) -> None:
        scale = self.time_scale
        events: list[tuple[float, str, float]] = [
            (at_s / scale, "drop", for_s / scale) for at_s, for_s in self.faults.link_drops
        ] + [(at_s / scale, "stall", for_s / scale) for at_s, for_s in self.faults.stalls]
        start_s = asyncio.get_running_loop().time()
        tasks = []
        for at_s, kind, for_s in sorted(events):
            delay_s = start_s + at_s - asyncio.get_running_loop().time()
            await asyncio.sleep(max(0.0, delay_s))
            fault = self.drop_link(for_s) if kind == "drop" else self.stall(for_s)
            tasks.append(asyncio.get_running_loop().create_task(fault))
        for task in tasks:
            await task

    async def drop_link(self, down_s: float) -> None:
        """Cut the link as a radio fade would; the insole is out of reach for `down_s`."""
        self._reachable = False
        self.counters.link_drops += 1
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect(_REMOTE_USER_TERMINATED)
        await self._advertise()
        await asyncio.sleep(down_s)
        self._reachable = True
        self._back_in_reach_s = asyncio.get_running_loop().time()
        self.counters.back_in_reach_at_s.append(time.monotonic())
        await self._advertise()

    def calm(self) -> None:
        """No more lost notifications from now on (the end of a run: the host asks again for
        a lost frame only when a newer one arrives, and after the last one none does)."""
        self.calmed = True

    async def stall(self, for_s: float) -> None:
        """Nothing leaves the send queue for `for_s` (wall seconds): the firmware sees ENOMEM."""
        self._moving.clear()
        await asyncio.sleep(for_s)
        self._moving.set()
