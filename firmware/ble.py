# BLE peripheral on the low-level `bluetooth` module: the numbguard service (data notify,
# control write, status read/notify), Device Information and Battery services, advertising.
#
# The IRQ handler only records what happened (connection, MTU, control writes) for the
# tasks in main.py to act on; memoryviews it receives are copied before it returns.
import errno

from micropython import const

import protocol as p

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
# Control and session data need an encrypted (bonded) link; subscribing to data or status
# follows their read security.
_FLAG_READ_ENCRYPTED = const(0x0200)
_FLAG_WRITE_ENCRYPTED = const(0x1000)

_ADV_TYPE_FLAGS = const(0x01)
_ADV_TYPE_UUID128_COMPLETE = const(0x07)
_ADV_TYPE_NAME_COMPLETE = const(0x09)
_ADV_FLAGS_LE_ONLY = const(0x06)  # general discoverable, BR/EDR not supported
_ADV_MAX_BYTES = const(31)
ADV_INTERVAL_US = const(100000)

_DIS_UUID = const(0x180A)
_BAS_UUID = const(0x180F)
_MANUFACTURER_UUID = const(0x2A29)
_MODEL_UUID = const(0x2A24)
_SERIAL_UUID = const(0x2A25)
_FIRMWARE_REV_UUID = const(0x2A26)
_BATTERY_LEVEL_UUID = const(0x2A19)

_CONTROL_BUFFER_BYTES = const(64)
_INBOX_MAX = const(8)


def advert_name(foot, insole_id):
    """NGL-xxxx / NGR-xxxx: the foot, then the low 16 bits of the insole id in hex."""
    return "NG%s-%04x" % ("R" if foot else "L", insole_id & 0xFFFF)


def uuid128_le(text):
    """A 128-bit UUID string as the 16 little-endian bytes that go on air."""
    raw = bytes.fromhex(text.replace("-", ""))
    return bytes(raw[i] for i in range(15, -1, -1))


def advertising_payload(name):
    """Flags, the service UUID and the complete name; at most 31 bytes."""
    name_bytes = name.encode()
    payload = (bytes((2, _ADV_TYPE_FLAGS, _ADV_FLAGS_LE_ONLY))
               + bytes((17, _ADV_TYPE_UUID128_COMPLETE)) + uuid128_le(p.SERVICE_UUID)
               + bytes((len(name_bytes) + 1, _ADV_TYPE_NAME_COMPLETE)) + name_bytes)
    if len(payload) > _ADV_MAX_BYTES:
        raise ValueError("advertising payload over 31 bytes")
    return payload


def services(bluetooth):
    uuid = bluetooth.UUID
    numbguard = (uuid(p.SERVICE_UUID), (
        (uuid(p.DATA_UUID), _FLAG_NOTIFY | _FLAG_READ_ENCRYPTED),
        (uuid(p.CONTROL_UUID), _FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE | _FLAG_WRITE_ENCRYPTED),
        (uuid(p.STATUS_UUID), _FLAG_READ | _FLAG_NOTIFY | _FLAG_READ_ENCRYPTED),
    ))
    device_info = (uuid(_DIS_UUID), (
        (uuid(_MANUFACTURER_UUID), _FLAG_READ),
        (uuid(_MODEL_UUID), _FLAG_READ),
        (uuid(_SERIAL_UUID), _FLAG_READ),
        (uuid(_FIRMWARE_REV_UUID), _FLAG_READ),
    ))
    battery = (uuid(_BAS_UUID), ((uuid(_BATTERY_LEVEL_UUID), _FLAG_READ | _FLAG_NOTIFY),))
    return (numbguard, device_info, battery)


class Peripheral:
    def __init__(self, bluetooth, adv_name, gap_name, serial_text, firmware_text):
        ble = bluetooth.BLE()
        self._ble = ble
        ble.active(True)
        ble.config(gap_name=gap_name)
        ble.config(bond=True, le_secure=True, mitm=False)  # Just Works, bonded
        ble.irq(self._irq)
        handles = ble.gatts_register_services(services(bluetooth))
        self.data_handle, self.control_handle, self.status_handle = handles[0]
        dis = handles[1]
        self.battery_handle = handles[2][0]
        # No append: each write replaces the value, one control frame per write.
        ble.gatts_set_buffer(self.control_handle, _CONTROL_BUFFER_BYTES, False)
        ble.gatts_write(dis[0], b"numbguard")
        ble.gatts_write(dis[1], b"numbguard insole")
        ble.gatts_write(dis[2], serial_text.encode())
        ble.gatts_write(dis[3], firmware_text.encode())
        self._adv = advertising_payload(adv_name)
        self.conn = None
        self.mtu = p.DEFAULT_MTU
        self.link_changed = False
        self.inbox = []  # control frames written by the central, oldest first
        self.notify_retries = 0
        self.advertise()

    def advertise(self, interval_us=ADV_INTERVAL_US):
        self._ble.gap_advertise(interval_us, adv_data=self._adv)

    def set_gap_name(self, name):
        self._ble.config(gap_name=name)

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self.conn = data[0]
            self.mtu = p.DEFAULT_MTU
            self.link_changed = True
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] == self.conn:
                self.conn = None
                self.mtu = p.DEFAULT_MTU
                self.link_changed = True
                self.advertise()
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self.conn:
                self.mtu = data[1]
                self.link_changed = True
        elif event == _IRQ_GATTS_WRITE:
            if data[1] == self.control_handle:
                value = self._ble.gatts_read(self.control_handle)
                if len(self.inbox) < _INBOX_MAX:
                    self.inbox.append(value)

    def _notify(self, handle, data):
        """Notify the central; False (frame kept by the caller) on back-pressure or no link."""
        if self.conn is None:
            return False
        try:
            self._ble.gatts_notify(self.conn, handle, data)
        except OSError as e:
            if e.errno == errno.ENOMEM:
                self.notify_retries += 1
            return False
        return True

    def send_data(self, frame):
        return self._notify(self.data_handle, frame)

    def keep_status(self, frame):
        """The status characteristic's value for reads: the latest status page."""
        self._ble.gatts_write(self.status_handle, frame)

    def send_status(self, frame):
        """Notify a reply or status page; False if refused (kept by the caller)."""
        return self._notify(self.status_handle, frame)

    def set_battery(self, pct):
        self._ble.gatts_write(self.battery_handle, bytes((pct,)))
