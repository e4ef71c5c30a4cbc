"""A virtual insole peripheral on the virtual radio: the GATT table of docs/protocol.md.

The frames come from an `InsoleEmulator`; this module is only the radio side: advertising
(flags, the 128-bit service UUID and the ``NGL-xxxx``/``NGR-xxxx`` name, inside the 31-byte
advertisement because bumble 0.0.236 repeats it as the scan response), the data, control and
status characteristics, Device Information and Battery services, one frame per notification
at the connection's MTU, and scripted faults (lost notifications, a dropped link).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from typing import Final

from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from numbguard.protocol.constants import (
    ATT_OVERHEAD_BYTES,
    CONTROL_UUID,
    DATA_UUID,
    KIND_STATUS,
    MAX_FRAME_BYTES,
    SERVICE_UUID,
    STATUS_UUID,
)
from numbguard.transports.emulated_insole import InsoleEmulator, Outgoing
from numbguard_lab.bumble_backend import VirtualRadio

# How often the peripheral asks the emulator for due frames; well under one sample period.
TICK_S: Final = 0.004
# Fast advertising, so a central that scans finds the insole within tens of milliseconds.
ADVERTISING_INTERVAL_MS: Final = 20
_LE_GENERAL_DISCOVERABLE_NO_BR_EDR: Final = 0x06
_REMOTE_USER_TERMINATED: Final = 0x13


@dataclass
class LinkFaults:
    """Faults the virtual radio injects on this insole's link, scriptable per run."""

    notify_loss: float = 0.0  # share of data notifications silently lost on the air, 0-1
    seed: int = 0


def advertising_data(name: str) -> bytes:
    """Flags, the service UUID and the name: 3 + 18 + 10 = 31 bytes for ``NGL-xxxx``."""
    data = bytes(
        AdvertisingData(
            [
                (AdvertisingData.FLAGS, bytes([_LE_GENERAL_DISCOVERABLE_NO_BR_EDR])),
                (
                    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                    bytes(UUID(SERVICE_UUID)),
                ),
                (AdvertisingData.COMPLETE_LOCAL_NAME, name.encode("ascii")),
            ]
        )
    )
    if len(data) > 31:
        raise ValueError(f"advertising data for {name!r} is {len(data)} bytes; at most 31 fit")
    return data


class VirtualInsoleBle:
    """One insole as a bumble peripheral. `start()` advertises and streams; `stop()` ends it."""

    def __init__(
        self,
        radio: VirtualRadio,
        emulator: InsoleEmulator,
        *,
        faults: LinkFaults | None = None,
        advertised_name: str | None = None,
    ) -> None:
        self.emulator = emulator
        self.faults = faults or LinkFaults()
        self.name = advertised_name or emulator.advertised_name
        self.device: Device = radio.new_device(self.name)
        self.address = str(self.device.random_address)
        self._random = random.Random(self.faults.seed)
        self._controls: asyncio.Queue[bytes] = asyncio.Queue()
        self._connection: Connection | None = None
        self._advertising_allowed = True
        self._task: asyncio.Task[None] | None = None
        self._advertise_task: asyncio.Task[None] | None = None
        self.latest_status = b""
        self.notifications_sent = 0
        self.notifications_lost = 0
        self.connections = 0
        self._build_gatt()
        self.device.on(Device.EVENT_CONNECTION, self._on_connection)

    def _build_gatt(self) -> None:
        properties = gatt.Characteristic.Properties
        self.data_characteristic: gatt.Characteristic[bytes] = gatt.Characteristic(
            DATA_UUID, properties.NOTIFY, gatt.Characteristic.READABLE, b""
        )
        self.control_characteristic: gatt.Characteristic[bytes] = gatt.Characteristic(
            CONTROL_UUID,
            properties.WRITE | properties.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_control_write),
        )
        self.status_characteristic: gatt.Characteristic[bytes] = gatt.Characteristic(
            STATUS_UUID,
            properties.READ | properties.NOTIFY,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=self._on_status_read),
        )
        service = gatt.Service(
            SERVICE_UUID,
            [self.data_characteristic, self.control_characteristic, self.status_characteristic],
        )
        emulator = self.emulator
        self.device.add_services(
            [
                service,
                DeviceInformationService(
                    manufacturer_name="numbguard",
                    model_number="insole-v1",
                    serial_number=f"{emulator.insole_id:08x}",
                    firmware_revision=emulator.firmware_version,
                ),
                BatteryService(lambda _connection: emulator.battery_pct),
            ]
        )

    # -- bumble callbacks ----------------------------------------------------------------

    def _on_control_write(self, _connection: Connection, value: bytes) -> None:
        # Handled in the streaming task so replies and data keep one order on the air.
        self._controls.put_nowait(bytes(value))

    def _on_status_read(self, _connection: Connection) -> bytes:
        return self.latest_status

    def _on_connection(self, connection: Connection) -> None:
        self._connection = connection
        self.connections += 1
        self.emulator.host_connected = True
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self.emulator.host_connected = False
        if self._advertising_allowed:
            self._advertise_task = asyncio.get_running_loop().create_task(self._advertise())

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.device.power_on()
        await self._advertise()
        self._task = asyncio.get_running_loop().create_task(self._stream())

    async def stop(self) -> None:
        self._advertising_allowed = False
        if self._advertise_task is not None:
            # Let it finish: cancelling a bumble task inside an HCI command leaves the host
            # stack waiting for a response it can no longer take.
            with contextlib.suppress(Exception):
                await self._advertise_task
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.disconnect()
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()

    async def _advertise(self) -> None:
        if self.device.is_advertising or not self._advertising_allowed:
            return
        await self.device.start_advertising(
            advertising_data=advertising_data(self.name),
            auto_restart=False,
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    async def drop_link(self, down_s: float) -> None:
        """Cut the link as a radio fade would, stay out of reach for `down_s`, then come back."""
        self._advertising_allowed = False
        if self._connection is not None:
            await self._connection.disconnect(_REMOTE_USER_TERMINATED)
        if self.device.is_advertising:
            await self.device.stop_advertising()
        await asyncio.sleep(down_s)
        self._advertising_allowed = True
        await self._advertise()

    # -- streaming -----------------------------------------------------------------------

    def _max_frame_bytes(self) -> int:
        if self._connection is None:
            return MAX_FRAME_BYTES
        return min(MAX_FRAME_BYTES, self._connection.att_mtu - ATT_OVERHEAD_BYTES)

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            outgoing: list[Outgoing] = []
            while not self._controls.empty():
                raw = self._controls.get_nowait()
                outgoing += self.emulator.handle_control(raw, loop.time(), self._max_frame_bytes())
            outgoing += self.emulator.poll(loop.time(), self._max_frame_bytes())
            for item in outgoing:
                await self._send(item)
            await asyncio.sleep(TICK_S)

    async def _send(self, item: Outgoing) -> None:
        if item.channel == "status":
            if item.frame[1] >> 6 == KIND_STATUS:  # replies share the channel, not the value
                self.latest_status = item.frame
            characteristic = self.status_characteristic
        else:
            characteristic = self.data_characteristic
            if self.faults.notify_loss and self._random.random() < self.faults.notify_loss:
                self.notifications_lost += 1
                return
        connection = self._connection
        if connection is None:
            return  # nobody to hear it; the ring keeps data frames for a RESEND
        await self.device.notify_subscriber(connection, characteristic, item.frame)
        self.notifications_sent += 1
