# A radio for the simulated `bluetooth` module that forwards everything to a bumble peripheral
# in a CPython process (numbguard.lab.firmware_ble_bridge) over a local TCP socket.
#
# Selected by NUMBGUARD_BLE_BRIDGE=host:port (see bluetooth.BLE()), so the unchanged
# firmware/main.py talks to a real ATT stack. The firmware's side of the wire:
#   register (GATT table), value (gatts_write), advertise, notify
# and the bridge's side, raised here as the IRQs of the ESP32 port:
#   connect, disconnect, mtu, write, and credit: notifications that left the bridge's send
#   queue. gatts_notify raises ENOMEM while the bridge's queue is full, as NimBLE does when
#   its buffers are.
#
# Each message: 2-byte little-endian length (type byte + body), type byte, body.
import _thread
import errno
import json
import socket
import struct

import micropython
from bluetooth import Radio

MSG_REGISTER = 1
MSG_VALUE = 2
MSG_ADVERTISE = 3
MSG_NOTIFY = 4
MSG_CONNECT = 16
MSG_DISCONNECT = 17
MSG_MTU = 18
MSG_WRITE = 19
MSG_CREDIT = 20
MSG_WINDOW = 21

_NO_ADVERTISING = 0xFFFFFFFF


class SocketRadio(Radio):
    def __init__(self, address):
        super().__init__()
        host, port = address.rsplit(":", 1)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.connect(socket.getaddrinfo(host, int(port))[0][-1])
        self._events = []
        self._scheduled = False
        # Notifications handed over minus those the bridge reported sent: each counter has one
        # writer (sent: the firmware's thread; completed: the scheduled drain), so no lock.
        self._sent = 0
        self._completed = 0
        self.window = 8  # the bridge's send queue, in notifications (MSG_WINDOW updates it)
        self.closed = False
        _thread.start_new_thread(self._reader, ())

    # -- to the bridge ----------------------------------------------------------------------

    def _send(self, kind, body):
        header = struct.pack("<HB", len(body) + 1, kind)
        self._sock.write(header + body)

    def register(self, services):
        table = []
        for service_uuid, chars in services:
            table.append([service_uuid.value, [[c[0].value, c[1], c[2]] for c in chars]])
        self._send(MSG_REGISTER, json.dumps(table).encode())

    def value_written(self, handle, data):
        self._send(MSG_VALUE, struct.pack("<H", handle) + bytes(data))

    def advertise(self, interval_us, adv_data):
        super().advertise(interval_us, adv_data)
        if interval_us is None:
            self._send(MSG_ADVERTISE, struct.pack("<I", _NO_ADVERTISING))
        else:
            self._send(MSG_ADVERTISE, struct.pack("<I", interval_us) + bytes(adv_data or b""))

    def notify(self, conn, handle, data):
        if self._sent - self._completed >= self.window:
            raise OSError(errno.ENOMEM)
        self._sent += 1
        self._send(MSG_NOTIFY, struct.pack("<HH", conn, handle) + bytes(data))

    # -- from the bridge --------------------------------------------------------------------

    def _read_exactly(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self._sock.read(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _reader(self):
        while True:
            header = self._read_exactly(3)
            if header is None:
                break
            length, kind = struct.unpack("<HB", header)
            body = self._read_exactly(length - 1) if length > 1 else b""
            if body is None:
                break
            self._events.append((kind, body))
            self._wake()
        self.closed = True

    def _wake(self):
        if self._scheduled:
            return
        self._scheduled = True
        while True:
            try:
                micropython.schedule(self._drain, None)
                return
            except RuntimeError:  # the schedule queue is full: try again shortly
                import time

                time.sleep_ms(1)

    def _drain(self, _):
        # Runs on the firmware's thread, between its bytecodes, like a BLE IRQ on the ESP32.
        self._scheduled = False
        events = self._events
        while events:
            kind, body = events.pop(0)
            self._dispatch(kind, body)

    def _dispatch(self, kind, body):
        ble = self.ble
        if kind == MSG_CREDIT:
            self._completed += struct.unpack("<H", body)[0]
        elif kind == MSG_WINDOW:
            self.window = struct.unpack("<H", body)[0]
        elif kind == MSG_CONNECT:
            conn = struct.unpack("<H", body[:2])[0]
            # A new link starts with nothing in flight.
            self._completed = self._sent
            ble.central_connect(conn, body[2:8])
        elif kind == MSG_DISCONNECT:
            conn = struct.unpack("<H", body[:2])[0]
            if conn in ble.connections:
                ble.central_disconnect(conn, body[2:8])
            self._completed = self._sent
        elif kind == MSG_MTU:
            conn, mtu = struct.unpack("<HH", body)
            if conn in ble.connections:
                ble.central_exchange_mtu(conn, mtu)
        elif kind == MSG_WRITE:
            conn, handle = struct.unpack("<HH", body[:4])
            if conn in ble.connections:
                ble.central_write(conn, handle, body[4:])
