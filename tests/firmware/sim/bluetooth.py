# Simulated `bluetooth` (the low-level MicroPython BLE API) for the unix port.
#
# The BLE object keeps the GATT table and records every call the firmware makes in `calls`;
# a test drives the central side through the `central_*` methods, which raise the same IRQs
# (with the same data tuples) as the ESP32 port. Everything the radio would do goes through
# one Radio object, so another radio (e.g. one that forwards to a bumble controller over a
# socket) can be put in its place with set_radio() without touching the firmware: it gets the
# GATT table (register), value updates (value_written), advertising and notifications, and
# reports the central's actions back through the BLE object's central_* methods (attach).
import errno

FLAG_BROADCAST = 0x0001
FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21

_DEFAULT_BUFFER = 20


class UUID:
    def __init__(self, value):
        if isinstance(value, UUID):
            value = value.value
        if isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("16-bit UUID out of range")
        elif isinstance(value, str):
            if len(value.replace("-", "")) != 32:
                raise ValueError("invalid UUID string")
            value = value.lower()
        else:
            raise TypeError("UUID from int or str")
        self.value = value

    def __eq__(self, other):
        return isinstance(other, UUID) and other.value == self.value

    def __hash__(self):
        return hash(self.value)

    def __str__(self):
        return f"0x{self.value:04x}" if isinstance(self.value, int) else self.value

    def __repr__(self):
        return f"UUID({self})"


class Radio:
    """Records what goes on air; refuses notifications while `enomem` > 0 (back-pressure),
    only those on `enomem_handle` when that is set."""

    def __init__(self):
        self.advertising = None  # (interval_us, adv_data) while advertising
        self.notifications = []  # (conn, value handle, bytes)
        self.enomem = 0
        self.enomem_handle = None
        self.ble = None

    def attach(self, ble):
        """The BLE object whose central_* methods report what the central does."""
        self.ble = ble

    def register(self, services):
        """The GATT table: [(service UUID, [(char UUID, flags, value handle), ...]), ...]."""

    def value_written(self, handle, data):
        """A characteristic's value changed (gatts_write)."""

    def advertise(self, interval_us, adv_data):
        self.advertising = None if interval_us is None else (interval_us, adv_data)

    def notify(self, conn, handle, data):
        if self.enomem > 0 and self.enomem_handle in (None, handle):
            self.enomem -= 1
            raise OSError(errno.ENOMEM)
        self.notifications.append((conn, handle, bytes(data)))


_instance = None


def BLE():
    """Like the real module, BLE() is one object for the whole program."""
    global _instance
    if _instance is None:
        _instance = SimBLE()
        _radio_from_env()
    return _instance


def _radio_from_env():
    # NUMBGUARD_BLE_BRIDGE=host:port puts the firmware on a bumble peripheral over a socket
    # (tests/firmware/sim/socket_radio.py), with main.py unchanged.
    import os

    address = os.getenv("NUMBGUARD_BLE_BRIDGE")
    if address:
        import socket_radio

        set_radio(socket_radio.SocketRadio(address))


class SimBLE:
    def __init__(self):
        self.radio = Radio()
        self.radio.attach(self)
        self.calls = []
        self._active = False
        self._config = {"gap_name": "MPY", "mtu": 23, "mac": (0, b"\x24\x0a\xc4\xa1\xb2\xc3")}
        self._handler = None
        self.services = []  # [(service UUID, [(char UUID, flags, value handle), ...]), ...]
        self.values = {}
        self._buffer = {}
        self._append = {}
        self.connections = {}  # conn handle -> mtu
        self._next_handle = 1

    def active(self, state=None):
        if state is not None:
            self._active = bool(state)
            self.calls.append(("active", self._active))
        return self._active

    def config(self, *names, **settings):
        if names:
            return self._config[names[0]]
        for key, value in settings.items():
            self._config[key] = value
        self.calls.append(("config", settings))

    def irq(self, handler):
        self._handler = handler
        self.calls.append(("irq",))

    def gatts_register_services(self, services):
        if not self._active:
            raise OSError(errno.EPERM)
        result = []
        for service_uuid, chars in services:
            self._next_handle += 1  # the service declaration
            handles = []
            table = []
            for char in chars:
                uuid, flags = char[0], char[1]
                self._next_handle += 1  # characteristic declaration
                handle = self._next_handle
                self._next_handle += 1
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    self._next_handle += 1  # CCCD
                self.values[handle] = b""
                self._buffer[handle] = _DEFAULT_BUFFER
                handles.append(handle)
                table.append((uuid, flags, handle))
            self.services.append((service_uuid, table))
            result.append(tuple(handles))
        self.radio.register(self.services)
        self.calls.append(("gatts_register_services", len(services)))
        return tuple(result)

    def handle_of(self, uuid):
        """The value handle of a characteristic, by UUID (int or str)."""
        uuid = UUID(uuid)
        for _, table in self.services:
            for char_uuid, _, handle in table:
                if char_uuid == uuid:
                    return handle
        raise KeyError(str(uuid))

    def gatts_set_buffer(self, handle, length, append=False):
        self._buffer[handle] = length
        self._append[handle] = append

    def gatts_write(self, handle, data, send_update=False):
        self.values[handle] = bytes(data)
        self.radio.value_written(handle, self.values[handle])
        if send_update:
            for conn in self.connections:
                self.radio.notify(conn, handle, data)

    def gatts_read(self, handle):
        value = self.values[handle]
        if self._append.get(handle):
            self.values[handle] = b""
        return value

    def gatts_notify(self, conn, handle, data=None):
        if conn not in self.connections:
            raise OSError(errno.ENOTCONN)
        if data is None:
            data = self.values[handle]
        mtu = self.connections[conn]
        if len(data) > mtu - 3:
            # The real stack truncates silently; a frame cut there is lost, so fail loudly.
            raise ValueError(f"notification of {len(data)} bytes over MTU {mtu}")
        self.radio.notify(conn, handle, data)

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        if adv_data is not None and len(adv_data) > 31:
            raise ValueError("advertising data over 31 bytes")
        self.radio.advertise(interval_us, None if adv_data is None else bytes(adv_data))
        self.calls.append(("gap_advertise", interval_us))

    # -- the central's side, for tests ----------------------------------------------------

    def _irq(self, event, data):
        if self._handler is not None:
            self._handler(event, data)

    def central_connect(self, conn=64, addr=b"\x11\x22\x33\x44\x55\x66"):
        self.connections[conn] = 23
        self.radio.advertising = None  # a connection stops advertising
        self._irq(_IRQ_CENTRAL_CONNECT, (conn, 0, memoryview(addr)))

    def central_disconnect(self, conn=64, addr=b"\x11\x22\x33\x44\x55\x66"):
        del self.connections[conn]
        self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, 0, memoryview(addr)))

    def central_exchange_mtu(self, conn=64, mtu=247):
        self.connections[conn] = mtu
        self._irq(_IRQ_MTU_EXCHANGED, (conn, mtu))

    def central_write(self, conn, handle, data):
        if len(data) > self._buffer.get(handle, _DEFAULT_BUFFER):
            data = data[: self._buffer[handle]]  # the stack keeps what fits the buffer
        self.values[handle] = bytes(data)
        self._irq(_IRQ_GATTS_WRITE, (conn, handle))


def set_radio(radio):
    """Put another radio (same methods as Radio) behind the BLE object."""
    ble = BLE()
    ble.radio = radio
    radio.attach(ble)
    if ble.services:
        radio.register(ble.services)
