"""A small model of bluetoothd on D-Bus: what bleak's BlueZ backend talks to, one insole.

This machine has no Bluetooth, so bluetoothd cannot run; the host's BlueZ-only code (acquiring
the MTU, pairing, removing a bond, writes with response and the errors BlueZ sends back) would
otherwise only ever meet bumble. This model owns ``org.bluez`` on a private system-type bus
(`private_system_bus`) and exports, with the object paths and property types bluetoothd uses:

- ``/`` org.freedesktop.DBus.ObjectManager (dbus_fast answers GetManagedObjects and emits
  InterfacesAdded / InterfacesRemoved as objects are exported and unexported);
- ``/org/bluez/hci0`` org.bluez.Adapter1 (BlueZ doc/org.bluez.Adapter.rst);
- ``/org/bluez/hci0/dev_XX_XX_XX_XX_XX_XX`` org.bluez.Device1 (doc/org.bluez.Device.rst);
- below it the numbguard service, org.bluez.GattService1 (doc/org.bluez.GattService.rst), and
  its DATA, CONTROL and STATUS characteristics, org.bluez.GattCharacteristic1
  (doc/org.bluez.GattCharacteristic.rst), at ``serviceXXXX/charYYYY`` paths: bleak reads the
  handles from the last 4 hex digits and the device path by cutting 21 characters off.

There is no radio and no insole behind it: methods change properties and emit
PropertiesChanged the way bluetoothd does, log every call (`BluezModel.calls`), and fail when a
test queues an error (`BluezModel.fail`). `att_error` words errors exactly as bluetoothd does
(src/gatt-client.c create_gatt_dbus_error, src/error.c, src/device.c
new_authentication_return; unchanged since 2014).
"""

# No `from __future__ import annotations`: dbus_fast reads the D-Bus signatures from the
# annotations, and would take a postponed "None" for a signature.
import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pytest
from dbus_fast import BusType, DBusError, RequestNameReply, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
)
from dbus_fast.constants import PropertyAccess
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

from numbguard.protocol.constants import CONTROL_UUID, DATA_UUID, SERVICE_UUID, STATUS_UUID
from numbguard.transports.emulated_insole import InsoleEmulator

DBusStrings = Annotated[list[str], DBusSignature("as")]
DBusFdAndMtu = Annotated[list[Any], DBusSignature("hq")]

ADAPTER_PATH = "/org/bluez/hci0"
ADAPTER_ADDRESS = "00:1A:7D:DA:71:13"
DEFAULT_MTU = 23  # ATT's default, before the exchange
ADVERTISING_INTERVAL_S = 0.1  # the firmware's advertising interval (firmware/ble.py)
ERROR = "org.bluez.Error"

# A system bus like the distribution's, but anyone may own any name (bluetoothd's policy file,
# /usr/share/dbus-1/system.d/bluetooth.conf, lets only root own org.bluez).
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
    <allow own="*"/><allow user="*"/>
  </policy>
</busconfig>
"""


@contextlib.contextmanager
def private_system_bus(workdir: Path) -> Iterator[str]:
    """A dbus-daemon of type system on a socket in `workdir`; yields its address.

    Fails (does not skip) without dbus-daemon: CI installs it (.ci/run) and must run these.
    """
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.fail(
            "dbus-daemon is missing: install it (apt install dbus-daemon); .ci/run does, "
            "and the BlueZ boundary tests need it",
            pytrace=False,
        )
    config = workdir / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=workdir / "bus"))
    with subprocess.Popen(
        [daemon, f"--config-file={config}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            address = process.stdout.readline().strip()  # printed once it listens
            assert address.startswith("unix:"), address
            yield address
        finally:
            process.terminate()
            process.wait(10)


# -- errors, as bluetoothd words them --------------------------------------------------------

ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INSUFFICIENT_AUTHENTICATION = 0x05
ATT_REQUEST_NOT_SUPPORTED = 0x06
ATT_INSUFFICIENT_AUTHORIZATION = 0x08
ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE = 0x0C
ATT_INSUFFICIENT_ENCRYPTION = 0x0F
ATT_INSUFFICIENT_RESOURCES = 0x11  # NimBLE's answer while its buffers are full


def att_error(code: int) -> DBusError:
    """The D-Bus error bluetoothd replies to ReadValue / WriteValue / StartNotify when the
    peripheral answers with ATT error `code` (src/gatt-client.c create_gatt_dbus_error)."""
    if code == ATT_READ_NOT_PERMITTED:
        return DBusError(f"{ERROR}.NotPermitted", "Read not permitted")
    if code == ATT_WRITE_NOT_PERMITTED:
        return DBusError(f"{ERROR}.NotPermitted", "Write not permitted")
    if code in (
        ATT_INSUFFICIENT_AUTHENTICATION,
        ATT_INSUFFICIENT_ENCRYPTION,
        ATT_INSUFFICIENT_ENCRYPTION_KEY_SIZE,
    ):
        return DBusError(f"{ERROR}.NotPermitted", "Not paired")
    if code == ATT_INSUFFICIENT_AUTHORIZATION:
        return DBusError(f"{ERROR}.NotAuthorized", "Operation Not Authorized")  # src/error.c
    if code == ATT_REQUEST_NOT_SUPPORTED:
        return DBusError(f"{ERROR}.NotSupported", "Operation is not supported")  # src/error.c
    return DBusError(f"{ERROR}.Failed", f"Operation failed with ATT error: {code:#04x}")


# Device1.Pair failing (src/device.c new_authentication_return, by the kernel's mgmt status).
PAIR_ERRORS: dict[str, DBusError] = {
    "failed": DBusError(f"{ERROR}.AuthenticationFailed", "Authentication Failed"),
    "rejected": DBusError(f"{ERROR}.AuthenticationRejected", "Authentication Rejected"),
    "canceled": DBusError(f"{ERROR}.AuthenticationCanceled", "Authentication Canceled"),
    "timeout": DBusError(f"{ERROR}.AuthenticationTimeout", "Authentication Timeout"),
}


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One method call bleak made: interface (without ``org.bluez.``), member, object path and
    its arguments."""

    interface: str
    member: str
    path: str
    args: tuple[Any, ...] = ()


def _device_path(address: str) -> str:
    return f"{ADAPTER_PATH}/dev_{address.upper().replace(':', '_')}"


class Adapter1(ServiceInterface):
    """org.bluez.Adapter1: the methods bleak's scanner and unpair call, and the properties
    its manager reads (Roles must offer "central", Powered must be true)."""

    def __init__(self, model: "BluezModel") -> None:
        super().__init__("org.bluez.Adapter1")
        self._model = model
        self.discovering = False
        self.discovery_filter: dict[str, Any] = {}

    @dbus_property(PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return ADAPTER_ADDRESS

    @dbus_property(PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return "model"

    @dbus_property(PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return "model"

    @dbus_property(PropertyAccess.READ)
    def Powered(self) -> DBusBool:
        return True

    @dbus_property(PropertyAccess.READ)
    def Discovering(self) -> DBusBool:
        return self.discovering

    @dbus_property(PropertyAccess.READ)
    def Roles(self) -> DBusStrings:
        return ["central", "peripheral"]

    @dbus_property(PropertyAccess.READ)
    def UUIDs(self) -> DBusStrings:
        return []

    @dbus_method()
    def SetDiscoveryFilter(self, properties: DBusDict) -> None:
        self._model.log("Adapter1", "SetDiscoveryFilter", ADAPTER_PATH, properties)
        self.discovery_filter = {key: value.value for key, value in properties.items()}

    @dbus_method()
    def GetDiscoveryFilters(self) -> DBusStrings:
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable"]

    @dbus_method()
    def StartDiscovery(self) -> None:
        self._model.log("Adapter1", "StartDiscovery", ADAPTER_PATH)
        self.discovering = True
        self.emit_properties_changed({"Discovering": True})
        # The insole advertises all the time: events come from after this reply on.
        self._model.start_hearing()

    @dbus_method()
    def StopDiscovery(self) -> None:
        self._model.log("Adapter1", "StopDiscovery", ADAPTER_PATH)
        if not self.discovering:
            raise DBusError(f"{ERROR}.Failed", "No discovery started")
        self.discovering = False
        self.emit_properties_changed({"Discovering": False})

    @dbus_method()
    def RemoveDevice(self, device: DBusObjectPath) -> None:
        """Drops the device object and its bond (bluetoothd: device_remove with bonding)."""
        self._model.log("Adapter1", "RemoveDevice", ADAPTER_PATH, device)
        if device != self._model.device_path or not self._model.device_exported:
            raise DBusError(f"{ERROR}.DoesNotExist", "Does Not Exist")
        self._model.remove_device()


class Device1(ServiceInterface):
    """org.bluez.Device1 of the one insole."""

    def __init__(self, model: "BluezModel", address: str, name: str) -> None:
        super().__init__("org.bluez.Device1")
        self._model = model
        self.address = address
        self.device_name = name  # not `name`: ServiceInterface keeps the interface name there
        self.paired = False
        self.trusted = False
        self.connected = False
        self.services_resolved = False
        self.rssi = -60

    @dbus_property(PropertyAccess.READ)
    def Adapter(self) -> DBusObjectPath:
        return ADAPTER_PATH

    @dbus_property(PropertyAccess.READ)
    def Address(self) -> DBusStr:
        return self.address

    @dbus_property(PropertyAccess.READ)
    def AddressType(self) -> DBusStr:
        return "public"

    @dbus_property(PropertyAccess.READ)
    def Name(self) -> DBusStr:
        return self.device_name

    @dbus_property(PropertyAccess.READ)
    def Alias(self) -> DBusStr:
        return self.device_name

    @dbus_property(PropertyAccess.READ)
    def Paired(self) -> DBusBool:
        return self.paired

    @dbus_property(PropertyAccess.READ)
    def Bonded(self) -> DBusBool:
        return self.paired

    @dbus_property()
    def Trusted(self) -> DBusBool:
        return self.trusted

    @Trusted.setter
    def Trusted(self, value: DBusBool) -> None:
        self._model.log("Device1", "Set Trusted", self._model.device_path, value)
        self.trusted = value
        self.emit_properties_changed({"Trusted": value})

    @dbus_property(PropertyAccess.READ)
    def Connected(self) -> DBusBool:
        return self.connected

    @dbus_property(PropertyAccess.READ)
    def ServicesResolved(self) -> DBusBool:
        return self.services_resolved

    @dbus_property(PropertyAccess.READ)
    def UUIDs(self) -> DBusStrings:
        return [SERVICE_UUID]  # advertised, then the resolved services: the same here

    @dbus_property(PropertyAccess.READ)
    def RSSI(self) -> DBusInt16:
        return self.rssi

    @dbus_method()
    def Connect(self) -> None:
        self._model.log("Device1", "Connect", self._model.device_path)
        self._model.take_failure("Connect")
        self._model.connect_device()

    @dbus_method()
    def Disconnect(self) -> None:
        self._model.log("Device1", "Disconnect", self._model.device_path)
        self._model.disconnect_device()

    @dbus_method()
    def Pair(self) -> None:
        """Connects first if need be, as bluetoothd does; then bonds (Paired and Bonded)."""
        self._model.log("Device1", "Pair", self._model.device_path)
        if self.paired:
            raise DBusError(f"{ERROR}.AlreadyExists", "Already Exists")  # src/error.c
        if not self.connected:
            self._model.connect_device()
        self._model.take_failure("Pair")
        self.paired = True
        if self._model.insole_bond is not None:
            self._model.insole_bond = True  # its pairing window was open
        self.emit_properties_changed({"Paired": True, "Bonded": True})


class GattService1(ServiceInterface):
    """org.bluez.GattService1: the numbguard service."""

    def __init__(self, device_path: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._device_path = device_path

    @dbus_property(PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return SERVICE_UUID

    @dbus_property(PropertyAccess.READ)
    def Device(self) -> DBusObjectPath:
        return self._device_path

    @dbus_property(PropertyAccess.READ)
    def Primary(self) -> DBusBool:
        return True


class GattCharacteristic1(ServiceInterface):
    """org.bluez.GattCharacteristic1. WriteValue with type "command" (without response)
    never fails: bluetoothd reports nothing back for it."""

    def __init__(self, model: "BluezModel", path: str, uuid: str, flags: list[str]) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._model = model
        self.path = path
        self.uuid = uuid
        self.flags = flags
        self.value = b""
        self.notifying = False
        self.written: list[tuple[bytes, str]] = []  # (value, write type) that went through

    def _check(self, member: str) -> None:
        self._model.log("GattCharacteristic1", member, self.path)
        if not self._model.device.connected:
            raise DBusError(f"{ERROR}.Failed", "Not connected")  # src/gatt-client.c
        self._model.take_failure(f"{member} {self.uuid}")

    @dbus_property(PropertyAccess.READ)
    def UUID(self) -> DBusStr:
        return self.uuid

    @dbus_property(PropertyAccess.READ)
    def Service(self) -> DBusObjectPath:
        return self.path.rsplit("/", 1)[0]

    @dbus_property(PropertyAccess.READ)
    def Flags(self) -> DBusStrings:
        return self.flags

    @dbus_property(PropertyAccess.READ)
    def Value(self) -> DBusBytes:
        return self.value

    @dbus_property(PropertyAccess.READ)
    def Notifying(self) -> DBusBool:
        return self.notifying

    @dbus_property(PropertyAccess.READ)
    def MTU(self) -> DBusUInt16:
        # bluetoothd exchanges the MTU as the link comes up (BlueZ >= 5.62 has this property);
        # bleak's `mtu_size` does not read it, only AcquireWrite/AcquireNotify's answer.
        return self._model.mtu if self._model.device.connected else DEFAULT_MTU

    @dbus_method()
    def ReadValue(self, options: DBusDict) -> DBusBytes:
        self._check("ReadValue")
        return self.value

    @dbus_method()
    def WriteValue(self, value: DBusBytes, options: DBusDict) -> None:
        write_type = options["type"].value if "type" in options else "request"
        self._model.log("GattCharacteristic1", "WriteValue", self.path, value, write_type)
        if not self._model.device.connected:
            raise DBusError(f"{ERROR}.Failed", "Not connected")
        if write_type == "request":
            self._model.take_failure(f"WriteValue {self.uuid}")
            if not self._model.encrypted():
                # The firmware's control characteristic needs encryption: NimBLE answers 0x0F,
                # bluetoothd raises security once (src/shared/att.c change_security) and,
                # when that fails, replies with the error.
                raise att_error(ATT_INSUFFICIENT_ENCRYPTION)
        self.written.append((bytes(value), write_type))
        if self._model.on_write is not None and self.uuid == CONTROL_UUID:
            self._model.on_write(bytes(value))

    @dbus_method()
    def StartNotify(self) -> None:
        self._check("StartNotify")
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})

    @dbus_method()
    def StopNotify(self) -> None:
        self._model.log("GattCharacteristic1", "StopNotify", self.path)
        self.notifying = False
        self.emit_properties_changed({"Notifying": False})

    def _acquire(self, member: str, flag: str) -> list[Any]:
        self._check(member)
        if flag not in self.flags:
            raise DBusError(f"{ERROR}.NotSupported", "Operation is not supported")
        # A socket whose other end would carry the writes or notifications; the MTU is what
        # the caller wants. bleak closes its end at once.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._model.sockets += [ours, theirs]
        return [theirs.fileno(), self._model.mtu]

    @dbus_method()
    def AcquireWrite(self, options: DBusDict) -> DBusFdAndMtu:
        return self._acquire("AcquireWrite", "write-without-response")

    @dbus_method()
    def AcquireNotify(self, options: DBusDict) -> DBusFdAndMtu:
        return self._acquire("AcquireNotify", "notify")

    def notify(self, value: bytes) -> None:
        """A notification: bluetoothd reports it as a change of Value (StartNotify clients)."""
        self.value = value
        self.emit_properties_changed({"Value": value})


@dataclass
class BluezModel:
    """bluetoothd with one adapter and one insole that advertises as `name`.

    `fail(member, error)` queues the error for the next call of `member` ("Pair", "Connect",
    "WriteValue <char uuid>", "StartNotify <char uuid>", "AcquireWrite <char uuid>", ...).
    """

    address: str = "24:0A:1A:B0:B1:E0"
    name: str = "NGL-b1e0"
    mtu: int = 247
    calls: list[Call] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    failures: dict[str, list[DBusError]] = field(default_factory=dict)
    on_write: Callable[[bytes], None] | None = None
    # The insole's side of the bond: None, it asks for no encryption; False, it holds no
    # bond with this host (writes with response fail, as with the firmware); True, it does.
    insole_bond: bool | None = None

    def __post_init__(self) -> None:
        self.device_path = _device_path(self.address)
        self.service_path = f"{self.device_path}/service0010"
        self.adapter = Adapter1(self)
        self.device = Device1(self, self.address, self.name)
        self.service = GattService1(self.device_path)
        self.chars = {
            DATA_UUID: GattCharacteristic1(
                self, f"{self.service_path}/char0011", DATA_UUID, ["notify"]
            ),
            CONTROL_UUID: GattCharacteristic1(
                self, f"{self.service_path}/char0014", CONTROL_UUID,
                ["write-without-response", "write"],
            ),
            STATUS_UUID: GattCharacteristic1(
                self, f"{self.service_path}/char0016", STATUS_UUID, ["read", "notify"]
            ),
        }  # fmt: skip
        self.device_exported = False
        self.gatt_exported = False
        self.bus: MessageBus | None = None
        self._hearing: asyncio.Task[None] | None = None

    # -- for tests --------------------------------------------------------------------------

    def fail(self, member: str, error: DBusError) -> None:
        self.failures.setdefault(member, []).append(error)

    def encrypted(self) -> bool:
        """Whether the link can be encrypted: both sides hold the bond (or none is needed)."""
        return self.insole_bond is None or (self.insole_bond and self.device.paired)

    def called(self, member: str) -> list[Call]:
        return [call for call in self.calls if call.member == member]

    # -- bluetoothd's side ------------------------------------------------------------------

    def log(self, interface: str, member: str, path: str, *args: Any) -> None:
        self.calls.append(Call(interface, member, path, args))

    def take_failure(self, member: str) -> None:
        queued = self.failures.get(member)
        if queued:
            raise queued.pop(0)

    def start_hearing(self) -> None:
        """Discovery hears the insole's advertising events, every `ADVERTISING_INTERVAL_S`."""
        if self._hearing is None or self._hearing.done():
            self._hearing = asyncio.get_running_loop().create_task(self._hear())

    async def _hear(self) -> None:
        while self.adapter.discovering and self.bus is not None:
            await asyncio.sleep(0)  # after the StartDiscovery reply
            self.advertise()
            await asyncio.sleep(ADVERTISING_INTERVAL_S)

    def advertise(self) -> None:
        """An advertising event while discovering: the device object appears (first time,
        or after RemoveDevice) or its RSSI changes."""
        if not self.adapter.discovering or self.bus is None:
            return
        if not self.device_exported:
            self.bus.export(self.device_path, self.device)
            self.device_exported = True
        else:
            self.device.rssi -= 1  # a new reading, so the property changes
            self.device.emit_properties_changed({"RSSI": self.device.rssi})

    def connect_device(self) -> None:
        """bluetoothd: Connected, then the GATT objects, then ServicesResolved."""
        assert self.bus is not None
        self.device.connected = True
        self.device.emit_properties_changed({"Connected": True})
        if not self.gatt_exported:
            self.bus.export(self.service_path, self.service)
            for char in self.chars.values():
                self.bus.export(char.path, char)
            self.gatt_exported = True
        else:
            for char in self.chars.values():
                char.emit_properties_changed({"MTU": self.mtu})
        self.device.services_resolved = True
        self.device.emit_properties_changed({"ServicesResolved": True})

    def disconnect_device(self) -> None:
        for char in self.chars.values():
            char.notifying = False
        self.device.connected = False
        self.device.services_resolved = False
        self.device.emit_properties_changed({"ServicesResolved": False, "Connected": False})

    def remove_device(self) -> None:
        assert self.bus is not None
        if self.device.connected:
            self.disconnect_device()
        if self.gatt_exported:
            for char in self.chars.values():
                self.bus.unexport(char.path, char)
            self.bus.unexport(self.service_path, self.service)
            self.gatt_exported = False
        self.bus.unexport(self.device_path, self.device)
        self.device_exported = False
        self.device.paired = False
        self.device.trusted = False

    async def start(self, bus_address: str, *, known: bool = True) -> None:
        """Own org.bluez on the bus. `known`: the device is already in bluetoothd's cache
        (seen before); else it appears when discovery hears it."""
        # negotiate_unix_fd: AcquireWrite / AcquireNotify hand a file descriptor over.
        self.bus = await MessageBus(
            bus_address=bus_address, bus_type=BusType.SYSTEM, negotiate_unix_fd=True
        ).connect()
        self.bus.export(ADAPTER_PATH, self.adapter)
        if known:
            self.bus.export(self.device_path, self.device)
            self.device_exported = True
        reply = await self.bus.request_name("org.bluez")
        assert reply == RequestNameReply.PRIMARY_OWNER, reply

    async def stop(self) -> None:
        if self._hearing is not None:
            self._hearing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._hearing
        if self.bus is not None:
            self.bus.disconnect()
            await self.bus.wait_for_disconnect()
            self.bus = None
        for sock in self.sockets:
            sock.close()


@contextlib.asynccontextmanager
async def running_model(bus_address: str, **options: Any) -> AsyncIterator[BluezModel]:
    model = BluezModel(**options)
    await model.start(bus_address)
    try:
        yield model
    finally:
        await model.stop()


def variant_value(value: Any) -> Any:
    """A call argument without its D-Bus Variant wrapper."""
    return value.value if isinstance(value, Variant) else value


# -- an insole behind it -------------------------------------------------------------------------

EMULATOR_TICK_S = 0.01
ATT_NOTIFY_OVERHEAD_BYTES = 3  # opcode and handle in front of a notification's value


class InsoleBehind:
    """The lab's insole emulator as the peripheral bluetoothd talks to: control writes that
    went through reach it, and its frames come back as notifications (Value changes) on the
    DATA and STATUS characteristics while they are notifying and the device is connected."""

    def __init__(self, model: "BluezModel", emulator: InsoleEmulator) -> None:
        self.model = model
        self.emulator = emulator
        self._controls: asyncio.Queue[bytes] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        model.on_write = self._controls.put_nowait

    async def __aenter__(self) -> "InsoleBehind":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        model = self.model
        while True:
            connected = model.device.connected
            self.emulator.host_connected = connected
            max_frame_bytes = model.mtu - ATT_NOTIFY_OVERHEAD_BYTES
            outgoing = []
            while not self._controls.empty():
                raw = self._controls.get_nowait()
                outgoing += self.emulator.handle_control(raw, loop.time(), max_frame_bytes)
            outgoing += self.emulator.poll(loop.time(), max_frame_bytes)
            for item in outgoing:
                char = model.chars[DATA_UUID if item.channel == "data" else STATUS_UUID]
                if connected and char.notifying:
                    char.notify(item.frame)
            await asyncio.sleep(EMULATOR_TICK_S)
