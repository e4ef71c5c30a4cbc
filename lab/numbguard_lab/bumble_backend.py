"""A bleak backend over bumble: the host's real `BleakScanner`/`BleakClient` on a virtual radio.

`VirtualRadio` owns a bumble `LocalLink` with one virtual controller per device: the host's
central and any number of virtual peripherals (`new_device`). `BumbleBleakScanner` and
`BumbleBleakClient` are the backend classes bleak 3 accepts with ``backend=``; the radio reaches
them as the extra keyword argument ``bumble_radio`` (see `VirtualRadio.bleak_backend`). ATT is
real: MTU exchange, discovery, subscriptions, notifications cut at MTU - 3, write types and
disconnect reasons all come from bumble's host stack, not from this module.

`BumbleBleakClient` secures links the way bleak on BlueZ does, no kinder:

- it pairs only when asked (``pair=True`` or `pair()`); with a stored bond for the peer it
  encrypts on connecting, as bluetoothd connects a paired LE device at medium security
  (``device_connect_le`` in BlueZ's src/device.c);
- a write *with* response or a read that gets Insufficient Authentication or Encryption raises
  the link's security (encrypt from the bond, else pair) and is sent once more, as BlueZ's
  ATT layer does (src/shared/att.c, ``handle_error_rsp``); a write *without* response that
  fails a security check is simply dropped by the peripheral, and nothing is said;
- `mtu_size` reads 23 until `_acquire_mtu()` (bleak's BlueZ backend learns the MTU only by
  acquiring a characteristic), although the exchange itself happened on connecting.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDBusError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, gatt_client, hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.keys import MemoryKeyStore
from bumble.pairing import PairingConfig
from bumble.transport.common import AsyncPipeSink

from numbguard.transports.ble import BleakBackend
from numbguard_lab.radio_link import RadioLink, RadioTiming, TimedController

# The MTU the central asks for right after connecting, as BlueZ does on its own.
DEFAULT_CENTRAL_MTU = 247
_SECURITY_ERRORS = (
    att.ATT_INSUFFICIENT_AUTHENTICATION_ERROR,
    att.ATT_INSUFFICIENT_ENCRYPTION_ERROR,
)
# bluetoothd words these three "Not paired" (src/gatt-client.c create_gatt_dbus_error).
_NOT_PAIRED_ERRORS = (*_SECURITY_ERRORS, att.ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE_ERROR)

_PROPERTY_NAMES: tuple[tuple[int, str], ...] = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)


class CentralController(TimedController):
    """A virtual controller whose LE Create Connection Cancel works as the spec says.

    bumble 0.0.236's controller answers the cancel but keeps the connection pending and
    reports nothing, so a timed-out connect waits forever and the next one is refused (and
    the old one completes later, unasked, when the peer advertises again). Here the cancel
    drops the pending connection and reports it failed with Unknown Connection Identifier
    (Vol 4, Part E, 7.8.13), which ends bumble's `connect()` with a timeout.
    """

    def on_hci_le_create_connection_cancel_command(
        self, _command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        self.pending_le_connection = None
        failed = hci.HCI_LE_Connection_Complete_Event(
            status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
            connection_handle=0,
            role=hci.Role.CENTRAL,
            peer_address_type=pending.peer_address.address_type,
            peer_address=pending.peer_address,
            connection_interval=0,
            peripheral_latency=0,
            supervision_timeout=0,
            central_clock_accuracy=0,
        )
        # After the command's own Command Complete, as a real controller orders them.
        asyncio.get_running_loop().call_soon(self.send_hci_packet, failed)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


def bleak_uuid(uuid: UUID) -> str:
    """A bumble UUID in bleak's form: lower-case 128-bit text."""
    return normalize_uuid_str(uuid.to_hex_str("-"))


def _describe(error: BaseException) -> str:
    """A connection or setup error's text, for errors that are not ATT replies."""
    if isinstance(error, att.ATT_Error):
        return f"ATT error {error.error_code:#04x} ({error.error_name})"
    return repr(error)


def _as_bluez_gatt_error(address: str, what: str, error: Exception) -> BleakError:
    """What bleak 3.1 on BlueZ raises when a read or write fails: for an ATT error reply,
    bluetoothd's D-Bus error as bleak turns it back (`bleak.backends.bluezdbus.utils.
    assert_gatt_reply`; BlueZ src/gatt-client.c `create_gatt_dbus_error`), with no address
    in it; anything else as a plain BleakError."""
    if isinstance(error, att.ATT_Error):
        if error.error_code in _NOT_PAIRED_ERRORS:
            return BleakDBusError("org.bluez.Error.NotPermitted", ["Not paired"])
        return BleakGATTProtocolError(error.error_code)
    return BleakError(f"{address}: {what} failed: {error!r}")


def central_pairing_config(_connection: Connection) -> PairingConfig:
    """What a host OS pairs with: LE Secure Connections, Just Works, bonding. A random identity
    address, or bumble 0.0.236 files the bond under a public one and NimBLE's re-encryption
    finds no key (PIN_OR_KEY_MISSING)."""
    return PairingConfig(
        sc=True, mitm=False, bonding=True,
        identity_address_type=PairingConfig.AddressType.RANDOM,
    )  # fmt: skip


class VirtualRadio:
    """One virtual Bluetooth LE radio space: a `LocalLink` and the devices on it.

    `central` is the host's side. `central_mtu` is the ATT MTU the client asks for on
    connecting (23 = keep the default and do no exchange).
    """

    def __init__(
        self,
        *,
        central_mtu: int = DEFAULT_CENTRAL_MTU,
        timing: RadioTiming | None = None,
        time_scale: int = 1,
    ) -> None:
        self.link = RadioLink(timing, time_scale=time_scale)
        self.central_mtu = central_mtu
        self._addresses = itertools.count(1)
        # Pairings the central completed, by peer address (a bonded reconnect adds none).
        self.pairings: collections.Counter[str] = collections.Counter()
        self.central = self.new_device("numbguard-host", central=True)
        self.central.keystore = MemoryKeyStore()
        self.central.pairing_config_factory = central_pairing_config
        self._central_on = False
        # A central connects to one peer at a time (one pending LE create-connection).
        self.connect_lock = asyncio.Lock()
        self._scan_lock = asyncio.Lock()
        self._scan_users = 0
        # Addresses seen while scanning, so a client built from a plain address string knows
        # the address type and the advertised name.
        self.seen: dict[str, tuple[Address, str | None]] = {}

    def new_device(self, name: str, *, central: bool = False) -> Device:
        """A device with its own virtual controller and a fresh random static address."""
        number = next(self._addresses)
        text = f"C0:00:00:00:{number >> 8 & 0xFF:02X}:{number & 0xFF:02X}"
        controller_class = CentralController if central else TimedController
        controller = controller_class(name, link=self.link, public_address=text)
        return Device(
            name=name,
            address=Address(text, Address.RANDOM_DEVICE_ADDRESS),
            host=Host(controller, AsyncPipeSink(controller)),
        )

    async def start_scanning(self) -> None:
        """Scan on the central; scans by several users share one bumble scan."""
        async with self._scan_lock:
            await self.power_on_central()
            if self._scan_users == 0:
                await self.central.start_scanning(filter_duplicates=False)
            self._scan_users += 1

    async def stop_scanning(self) -> None:
        async with self._scan_lock:
            self._scan_users -= 1
            if self._scan_users == 0:
                await self.central.stop_scanning()

    async def wait_for_advertiser(self, address: Address, timeout_s: float) -> None:
        """Return once `address` advertises; `BleakError` after `timeout_s`.

        A bumble central asked to connect to a silent address waits forever (its virtual
        controller never reports the cancelled connection), so connect only to a peer heard.
        """
        heard: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_advertisement(advertisement: Advertisement) -> None:
            if advertisement.address == address and not heard.done():
                heard.set_result(None)

        self.central.on(Device.EVENT_ADVERTISEMENT, on_advertisement)
        await self.start_scanning()
        try:
            await asyncio.wait_for(heard, timeout_s)
        except TimeoutError:
            raise BleakError(f"{address}: not advertising (waited {timeout_s} s)") from None
        finally:
            self.central.remove_listener(Device.EVENT_ADVERTISEMENT, on_advertisement)
            await self.stop_scanning()

    async def power_on_central(self) -> None:
        if not self._central_on:
            await self.central.power_on()
            self._central_on = True

    def bleak_backend(self) -> BleakBackend:
        """The backend classes and keyword arguments for `BleakScanner`/`BleakClient`."""
        return BleakBackend(
            scanner=BumbleBleakScanner,
            client=BumbleBleakClient,
            kwargs={"bumble_radio": self},
        )


def _radio_from(kwargs: dict[str, Any]) -> VirtualRadio:
    radio = kwargs.get("bumble_radio")
    if not isinstance(radio, VirtualRadio):
        raise BleakError(
            f"the bumble backend needs bumble_radio=VirtualRadio(...); got {type(radio).__name__}"
        )
    return radio


def advertisement_data(advertisement: Advertisement) -> AdvertisementData:
    """bleak's `AdvertisementData` from a bumble advertising report."""
    data = advertisement.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    service_uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    ):
        for uuids in data.get_all(kind):
            for uuid in uuids:
                text = bleak_uuid(uuid)
                # bumble 0.0.236 repeats the advertisement as the scan response.
                if text not in service_uuids:
                    service_uuids.append(text)
    manufacturer: dict[int, bytes] = {}
    for company_id, payload in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA):
        manufacturer[int(company_id)] = bytes(payload)
    tx_power = data.get(AdvertisingData.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=name if isinstance(name, str) else None,
        manufacturer_data=manufacturer,
        service_data={},
        service_uuids=service_uuids,
        tx_power=tx_power if isinstance(tx_power, int) else None,
        rssi=int(advertisement.rssi),
        platform_data=(advertisement,),
    )


class BumbleBleakScanner(BaseBleakScanner):
    """Scans on the radio's central and reports advertisements the way bleak backends do."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",  # the virtual controller always scans actively
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio = _radio_from(kwargs)
        self._scanning = False

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = advertisement_data(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        # bleak names devices by the bare address; bumble's str() appends "/P" to public ones.
        address = advertisement.address.to_string(with_type_qualifier=False)
        self._radio.seen[address] = (advertisement.address, adv.local_name)
        device = self.create_or_update_device(
            address, address, adv.local_name, advertisement.address, adv
        )
        self.call_detection_callbacks(device, adv)

    async def start(self) -> None:
        await self._radio.power_on_central()
        self.seen_devices = {}
        self._radio.central.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._radio.start_scanning()
        self._scanning = True

    async def stop(self) -> None:
        if not self._scanning:
            return
        self._scanning = False
        self._radio.central.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._radio.stop_scanning()


def _properties(flags: int) -> list[Any]:
    return [name for bit, name in _PROPERTY_NAMES if flags & bit]


class BumbleBleakClient(BaseBleakClient):
    """A GATT client on the radio's central, driven through bleak's `BleakClient`."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None,
        timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._radio = _radio_from(kwargs)
        details = (
            address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        )
        seen = self._radio.seen.get(self.address)
        if isinstance(details, Address):
            self._peer_address = details
        elif seen is not None:
            self._peer_address = seen[0]
        else:
            self._peer_address = Address(self.address, Address.RANDOM_DEVICE_ADDRESS)
        self._name = seen[1] if seen is not None and seen[1] else self.address
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._closing = False
        self._mtu_acquired = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def mtu_size(self) -> int:
        if self._connection is None or not self._mtu_acquired:
            return 23
        return int(self._connection.att_mtu)

    async def _acquire_mtu(self) -> None:
        """As bleak's BlueZ client: learn the MTU the link already exchanged."""
        if self._connection is None:
            raise BleakError(f"{self.address}: not connected")
        self._mtu_acquired = True

    async def _bonded(self) -> bool:
        keystore = self._radio.central.keystore
        return keystore is not None and await keystore.get(str(self._peer_address)) is not None

    async def _raise_security(self) -> None:
        """Encrypt from the stored bond, or pair when there is none (BlueZ's agent answers
        Just Works on its own)."""
        connection = self._connection
        if connection is None:
            raise BleakError(f"{self.address}: not connected")
        if connection.is_encrypted:
            raise BleakError(f"{self.address}: refused although the link is encrypted")
        if await self._bonded():
            await connection.encrypt()
        else:
            await connection.pair()

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"{self.address}: not connected")
        return self._peer

    def _on_pairing(self, _keys: Any) -> None:
        self._radio.pairings[self._peer_address.to_string(with_type_qualifier=False)] += 1

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        self.services = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        radio = self._radio
        await radio.power_on_central()
        self._closing = False
        self._mtu_acquired = False
        try:
            async with radio.connect_lock:
                await radio.wait_for_advertiser(self._peer_address, self._timeout)
                connection = await radio.central.connect(
                    self._peer_address, timeout=self._timeout
                )
        except BleakError:
            raise
        except Exception as error:
            raise BleakError(f"{self.address}: connection failed: {_describe(error)}") from error
        self._connection = connection
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        connection.on(Connection.EVENT_PAIRING, self._on_pairing)
        peer = Peer(connection)
        self._peer = peer
        step = "setup after connecting"
        try:
            if radio.central_mtu > 23:
                await peer.request_mtu(radio.central_mtu)
            if pair:
                step = "pairing"
                await connection.pair()
            elif await self._bonded():
                step = "encryption with the stored bond"
                await connection.encrypt()
            step = "service discovery"
            self.services = await self._discover(peer)
        except Exception as error:
            await self.disconnect()
            raise BleakError(f"{self.address}: {step} failed: {_describe(error)}") from error

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            for characteristic in await service.discover_characteristics():
                bleak_char = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    bleak_uuid(characteristic.uuid),
                    _properties(int(characteristic.properties)),
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in await characteristic.discover_descriptors():
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor, descriptor.handle, bleak_uuid(descriptor.type), bleak_char
                        )
                    )
        return collection

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._closing = True
        # The link may already be gone; either way it is down afterwards.
        with contextlib.suppress(Exception):
            await connection.disconnect()
        self._connection = None
        self._peer = None
        self.services = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """As bleak on BlueZ: nothing if already bonded; a failure as bluetoothd's D-Bus error
        (src/device.c new_authentication_return): Canceled when the peer dropped the link
        (the firmware refusing outside its pairing window), else Failed."""
        connection = self._connection
        if connection is None:
            raise BleakError(f"{self.address}: not connected")
        if await self._bonded():
            return
        try:
            await connection.pair()
        except Exception as error:
            if self._connection is None:
                raise BleakDBusError(
                    "org.bluez.Error.AuthenticationCanceled", ["Authentication Canceled"]
                ) from error
            raise BleakDBusError(
                "org.bluez.Error.AuthenticationFailed", ["Authentication Failed"]
            ) from error

    async def unpair(self) -> None:
        keystore = self._radio.central.keystore
        if keystore is not None:
            await keystore.delete(str(self._peer_address))
        await self.disconnect()

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return await self._read(characteristic.obj)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return await self._read(descriptor.obj)

    async def _read(self, proxy: gatt_client.AttributeProxy[bytes]) -> bytearray:
        peer = self._require_peer()
        try:
            try:
                return bytearray(await peer.read_value(proxy))
            except att.ATT_Error as error:
                if error.error_code not in _SECURITY_ERRORS:
                    raise
                await self._raise_security()
                return bytearray(await peer.read_value(proxy))
        except Exception as error:
            what = f"read of handle {proxy.handle}"
            raise _as_bluez_gatt_error(self.address, what, error) from error

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        await self._write(characteristic.obj, data, response)

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        await self._write(descriptor.obj, data, True)

    async def _write(
        self, proxy: gatt_client.AttributeProxy[bytes], data: SizedBuffer, response: bool
    ) -> None:
        peer = self._require_peer()
        try:
            try:
                await peer.write_value(proxy, bytes(data), with_response=response)
            except att.ATT_Error as error:
                if not response or error.error_code not in _SECURITY_ERRORS:
                    raise
                await self._raise_security()
                await peer.write_value(proxy, bytes(data), with_response=True)
        except Exception as error:
            what = f"write to handle {proxy.handle}"
            raise _as_bluez_gatt_error(self.address, what, error) from error

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require_peer()

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        try:
            await peer.subscribe(characteristic.obj, deliver)
        except Exception as error:
            raise BleakError(f"{self.address}: subscribe failed: {_describe(error)}") from error

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require_peer()
        await peer.unsubscribe(characteristic.obj)
