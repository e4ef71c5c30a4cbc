# BLE peripheral on the low-level `bluetooth` module: the numbguard service (data notify,
# control write, status read/notify), Device Information, Battery and Running Speed and
# Cadence services, advertising, and the links' security.
#
# The IRQ handler only records what happened (connection, MTU, encryption, control writes) for
# the tasks in main.py to act on; memoryviews it receives are copied before it returns. On the
# ESP32 it runs on the NimBLE task, between any two bytecodes of the tasks: readers take a
# field once (`trusted_conn`) instead of testing it and then using it.
#
# Security is the firmware's own: NimBLE's gatts_notify sends to any connection, subscribed or
# not, encrypted or not, so data, status and replies go only to `trusted_conn`: a link that is
# encrypted with LE Secure Connections from a bond this insole stored (bonds.py), or bonded
# just now inside the pairing window. A link that encrypts any other way is dropped; control
# writes and status reads from a link that is not trusted are refused.
#
# Two centrals at once (MAX_LINKS; NimBLE's BLE_MAX_CONNECTIONS is 4 in MicroPython's syscfg
# and CONFIG_BT_NIMBLE_MAX_CONNECTIONS=4 in its ESP32 sdkconfig.ble): the host, and a watch or
# training app that reads cadence (RSC, 0x1814). The insole advertises on while fewer than two
# are connected. The cadence central must be trusted just as the host (bonded in the pairing
# window, encrypted): cadence is the runner's data too, and a watch bonds with a footpod
# anyway. Each trusted link has one role. `trusted_conn` is the host's: data, status, control.
# `rsc_conn` gets RSC measurements only (its control writes and status reads are refused): a
# trusted link is the cadence link when a host's link is up already, when its bond is marked
# as a cadence collector (bonds.py), or once it reads RSC Feature (a host never does; a link
# that held the host's role then loses it and its bond is marked).
import errno
import time

from micropython import const

import protocol as p
from bonds import SEC_PEER

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_GATTS_READ_REQUEST = const(4)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

MAX_LINKS = const(2)  # the host and one cadence central
# A central that is neither trusted nor pairing after this long is dropped, so one that never
# pairs cannot hold a slot the host or the watch needs (a judgement: pairing takes seconds).
UNTRUSTED_LINK_MS = const(30000)

_GATTS_NO_ERROR = const(0)
_GATTS_ERROR_INSUFFICIENT_AUTHENTICATION = const(0x05)
_MIN_KEY_BYTES = const(16)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
# Control writes and status reads need an encrypted link, which NimBLE enforces itself.
# Subscribing does not (NimBLE lets any link write a CCCD): that is why notifications go only
# to `trusted_conn`.
_FLAG_READ_ENCRYPTED = const(0x0200)
_FLAG_WRITE_ENCRYPTED = const(0x1000)

_ADV_TYPE_FLAGS = const(0x01)
_ADV_TYPE_UUID16_COMPLETE = const(0x03)
_ADV_TYPE_UUID128_COMPLETE = const(0x07)
_ADV_TYPE_NAME_COMPLETE = const(0x09)
_ADV_FLAGS_LE_ONLY = const(0x06)  # general discoverable, BR/EDR not supported
_ADV_MAX_BYTES = const(31)
ADV_INTERVAL_US = const(100000)
# While one central is connected: slow, for a watch to find the insole within a few seconds at
# a tenth of the current (hardware/power_budget.csv).
ADV_CONNECTED_INTERVAL_US = const(1000000)

_DIS_UUID = const(0x180A)
_BAS_UUID = const(0x180F)
_MANUFACTURER_UUID = const(0x2A29)
_MODEL_UUID = const(0x2A24)
_SERIAL_UUID = const(0x2A25)
_FIRMWARE_REV_UUID = const(0x2A26)
_BATTERY_LEVEL_UUID = const(0x2A19)
_RSC_UUID = const(0x1814)
_RSC_MEASUREMENT_UUID = const(0x2A53)
_RSC_FEATURE_UUID = const(0x2A54)
# RSC Feature: no stride length, no total distance, no walking/running status, no calibration,
# one sensor location: none of the optional features.
RSC_FEATURES = b"\x00\x00"
# RSC Measurement flags: no stride length, no total distance (bits 0 and 1 clear); bit 2
# (walking/running) is meaningless while RSC Feature does not claim it. Instantaneous speed is
# mandatory in the format but the insole has no speed sensor: it is sent as 0.
RSC_FLAGS = const(0x00)

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


def scan_response():
    """The Running Speed and Cadence service's 16-bit UUID, for a watch looking for a
    footpod (the advertising data has no room left)."""
    return bytes((3, _ADV_TYPE_UUID16_COMPLETE, _RSC_UUID & 0xFF, _RSC_UUID >> 8))


def rsc_measurement(cadence_spm):
    """RSC Measurement: flags, instantaneous speed (0: no speed sensor), cadence (uint8)."""
    return bytes((RSC_FLAGS, 0, 0, min(cadence_spm, 255)))


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
    # Feature reads need an encrypted link: a watch pairs on the refusal, as with a footpod.
    rsc = (uuid(_RSC_UUID), (
        (uuid(_RSC_MEASUREMENT_UUID), _FLAG_NOTIFY),
        (uuid(_RSC_FEATURE_UUID), _FLAG_READ | _FLAG_READ_ENCRYPTED),
    ))
    return (numbguard, device_info, battery, rsc)


def peer_key(addr_type, addr):
    """The key NimBLE files a peer's secrets under: a ble_addr_t, the type then the address
    little-endian (the IRQs give it big-endian)."""
    return bytes((addr_type,)) + bytes(addr[i] for i in range(5, -1, -1))


class _Link:
    """One connected central: its key in the bond store, its MTU, whether it is a cadence
    collector (read RSC Feature)."""

    def __init__(self, peer_key):
        self.peer_key = peer_key
        self.mtu = p.DEFAULT_MTU
        self.rsc = False
        self.since_ms = time.ticks_ms()


class Peripheral:
    def __init__(self, bluetooth, adv_name, gap_name, serial_text, firmware_text, bonds):
        """bonds: bonds.Bonds, the key store and pairing window."""
        self.bonds = bonds
        self.links = {}  # conn handle -> _Link, trusted or not
        self.trusted_conn = None  # the host's link, once it is the owner's (see the top)
        self.rsc_conn = None  # the cadence central's, once trusted
        self._awaiting_keys = None  # the link whose new pairing waits for its keys
        self.mtu = p.DEFAULT_MTU  # the host's link's
        self.link_changed = False
        self.inbox = []  # control frames written by the trusted central, oldest first
        self.notify_retries = 0
        self.links_refused = 0  # encrypted links dropped: not a bond of this insole
        self.control_handle = self.status_handle = self.rsc_feature_handle = None
        self._adv_interval_us = ADV_INTERVAL_US
        # NimBLE stops advertising as it puts a new bond's IRK in the resolving list (GAP is
        # preempted, ble_hs_pvcy_add_entry), after SET_SECRET returns: poll() restarts it.
        self._advertise_due = False
        ble = bluetooth.BLE()
        self._ble = ble
        # The IRQ handler first: NimBLE asks for its identity key (GET_SECRET) as it starts.
        ble.irq(self._irq)
        ble.active(True)
        ble.config(gap_name=gap_name)
        ble.config(bond=True, le_secure=True, mitm=False)  # Just Works, bonded
        handles = ble.gatts_register_services(services(bluetooth))
        self.data_handle, self.control_handle, self.status_handle = handles[0]
        dis = handles[1]
        self.battery_handle = handles[2][0]
        self.rsc_measurement_handle, self.rsc_feature_handle = handles[3]
        # No append: each write replaces the value, one control frame per write.
        ble.gatts_set_buffer(self.control_handle, _CONTROL_BUFFER_BYTES, False)
        ble.gatts_write(dis[0], b"numbguard")
        ble.gatts_write(dis[1], b"numbguard insole")
        ble.gatts_write(dis[2], serial_text.encode())
        ble.gatts_write(dis[3], firmware_text.encode())
        ble.gatts_write(self.rsc_feature_handle, RSC_FEATURES)
        self._adv = advertising_payload(adv_name)
        self._resp = scan_response()
        self.advertise()

    def advertise(self, interval_us=None):
        """Advertise while a central may still connect: with none connected at `interval_us`
        (or the last interval asked: power.py's), with one every ADV_CONNECTED_INTERVAL_US;
        stop once MAX_LINKS are connected."""
        if interval_us is not None:
            self._adv_interval_us = interval_us
        n = len(self.links)
        if n >= MAX_LINKS:
            self._ble.gap_advertise(None)
        else:
            self._ble.gap_advertise(ADV_CONNECTED_INTERVAL_US if n else self._adv_interval_us,
                                    adv_data=self._adv, resp_data=self._resp)

    def poll(self):
        """From a task (not the IRQ): what must follow an IRQ once NimBLE is done with it."""
        if self._advertise_due:
            self._advertise_due = False
            self.advertise()

    def drop_idle_links(self):
        """Drop centrals that stayed untrusted for UNTRUSTED_LINK_MS (call about once a
        second). Returns how many."""
        now = time.ticks_ms()
        dropped = 0
        for conn, link in list(self.links.items()):
            if (conn != self.trusted_conn and conn != self.rsc_conn
                    and conn != self._awaiting_keys
                    and time.ticks_diff(now, link.since_ms) >= UNTRUSTED_LINK_MS):
                link.since_ms = now  # once: its disconnect IRQ follows
                self._disconnect(conn)
                dropped += 1
        return dropped

    def set_gap_name(self, name):
        self._ble.config(gap_name=name)

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            conn, addr_type, addr = data
            key = peer_key(addr_type, addr)
            self.links[conn] = _Link(key)
            self.bonds.begin_link(key)
            self.advertise()  # NimBLE stopped it on the connection: on for the next central
        elif event == _IRQ_CENTRAL_DISCONNECT:
            conn = data[0]
            if self.links.pop(conn, None) is None and conn != self.trusted_conn:
                return
            if conn == self.trusted_conn:
                self.trusted_conn = None
                self.mtu = p.DEFAULT_MTU
                self.link_changed = True
            if conn == self.rsc_conn:
                self.rsc_conn = None
            if conn == self._awaiting_keys:
                self._awaiting_keys = None
            # None left: the host may be back soon, fast as before (power.py slows it once
            # idle).
            self.advertise(None if self.links else ADV_INTERVAL_US)
        elif event == _IRQ_ENCRYPTION_UPDATE:
            conn, encrypted, _authenticated, _bonded, key_size = data
            link = self.links.get(conn)
            if link is None:
                return
            bonds = self.bonds
            if not encrypted or key_size < _MIN_KEY_BYTES:
                self._refuse(conn)
            elif bonds.reencrypted(link.peer_key):
                self._trust(conn)
            elif bonds.paired_now:
                self._trust(conn)  # keys stored before this update (another stack's order)
            elif bonds.window_open():
                self._awaiting_keys = conn  # a new pairing: trusted once its keys are stored
            else:
                self._refuse(conn)
        elif event == _IRQ_MTU_EXCHANGED:
            conn = data[0]
            link = self.links.get(conn)
            if link is not None:
                link.mtu = data[1]
            if conn == self.trusted_conn:
                self.mtu = data[1]
                self.link_changed = True
        elif event == _IRQ_GATTS_WRITE:
            conn, handle = data[0], data[1]
            if handle == self.control_handle and conn == self.trusted_conn:
                value = self._ble.gatts_read(self.control_handle)
                if len(self.inbox) < _INBOX_MAX:
                    self.inbox.append(value)
        elif event == _IRQ_GATTS_READ_REQUEST:
            conn, handle = data
            if handle == self.status_handle and conn != self.trusted_conn:
                return _GATTS_ERROR_INSUFFICIENT_AUTHENTICATION
            if handle == self.rsc_feature_handle:
                return self._rsc_feature_read(conn)
            return _GATTS_NO_ERROR
        elif event == _IRQ_GET_SECRET:
            sec_type, index, key = data
            return self.bonds.get_secret(sec_type, index, None if key is None else bytes(key))
        elif event == _IRQ_SET_SECRET:
            sec_type, key, value = data
            bonds = self.bonds
            stored = bonds.set_secret(sec_type, key, None if value is None else bytes(value))
            if stored and value is not None and sec_type == SEC_PEER:
                self._advertise_due = True
            if bonds.refused_now:
                bonds.refused_now = False
                self._refuse_pairing(bytes(key))
            elif (stored and value is not None and sec_type == SEC_PEER
                  and self._awaiting_keys is not None):
                bonds.close_window()  # the window served its one central
                self._trust(self._awaiting_keys)
            return stored

    def _rsc_feature_read(self, conn):
        """A central reads RSC Feature: a cadence collector. Only a trusted link, or one whose
        pairing waits for its keys, may read it; the host's link that does becomes the
        cadence link (and its bond is marked)."""
        link = self.links.get(conn)
        if link is None:
            return _GATTS_ERROR_INSUFFICIENT_AUTHENTICATION
        link.rsc = True
        if conn == self.trusted_conn:
            self.trusted_conn = None
            self.mtu = p.DEFAULT_MTU
            self.link_changed = True
            self._trust(conn)
        elif conn == self.rsc_conn:
            self.bonds.mark_rsc(link.peer_key)
        elif conn != self._awaiting_keys:
            return _GATTS_ERROR_INSUFFICIENT_AUTHENTICATION
        return _GATTS_NO_ERROR

    def _trust(self, conn):
        """An owner's link: the host's, or the cadence central's (see the top)."""
        if conn == self._awaiting_keys:
            self._awaiting_keys = None
        link = self.links.get(conn)
        if link is None:
            return
        host = self.trusted_conn
        if link.rsc or self.bonds.is_rsc(link.peer_key) or (host is not None and host != conn):
            if self.rsc_conn is not None and self.rsc_conn != conn:
                self._refuse(conn)  # a second cadence central: not served
                return
            self.rsc_conn = conn
            if link.rsc:
                self.bonds.mark_rsc(link.peer_key)
        else:
            self.trusted_conn = conn
            self.mtu = link.mtu
            self.link_changed = True

    def _refuse_pairing(self, key):
        """A pairing was refused (outside the window): drop its link, the one filed under
        `key`, or else every link not trusted yet."""
        for conn in list(self.links):
            if self.links[conn].peer_key == key:
                self._refuse(conn)
                return
        for conn in list(self.links):
            if conn != self.trusted_conn and conn != self.rsc_conn:
                self._refuse(conn)

    def _refuse(self, conn):
        """Not the owner's link: nothing more goes to it, and it is dropped."""
        if conn == self._awaiting_keys:
            self._awaiting_keys = None
        if conn == self.trusted_conn:
            self.trusted_conn = None
            self.link_changed = True
        if conn == self.rsc_conn:
            self.rsc_conn = None
        self.links_refused += 1
        self._disconnect(conn)

    def _disconnect(self, conn):
        try:
            self._ble.gap_disconnect(conn)
        except OSError:
            pass  # already gone

    def disconnect(self):
        """Drop every central (after FORGET_BONDS: their bonds are gone)."""
        self.trusted_conn = None
        self.rsc_conn = None
        for conn in list(self.links):
            self._disconnect(conn)

    def _notify(self, handle, data, conn):
        """Notify `conn` (None: no such link); False (frame kept by the caller) on
        back-pressure or no link. The caller reads the link once: a disconnect IRQ may clear
        it at any bytecode."""
        if conn is None:
            return False
        try:
            self._ble.gatts_notify(conn, handle, data)
        except OSError as e:
            if e.errno == errno.ENOMEM:
                self.notify_retries += 1
            return False
        except (TypeError, ValueError):
            return False  # the handle went stale between the read and the call
        return True

    def send_data(self, frame):
        return self._notify(self.data_handle, frame, self.trusted_conn)

    def keep_status(self, frame):
        """The status characteristic's value for reads: the latest status page."""
        self._ble.gatts_write(self.status_handle, frame)

    def send_status(self, frame):
        """Notify a reply or status page; False if refused (kept by the caller)."""
        return self._notify(self.status_handle, frame, self.trusted_conn)

    def send_rsc(self, cadence_spm):
        """Notify the cadence central of an RSC Measurement; False if none or refused."""
        return self._notify(self.rsc_measurement_handle, rsc_measurement(cadence_spm),
                            self.rsc_conn)

    def set_battery(self, pct):
        self._ble.gatts_write(self.battery_handle, bytes((pct,)))
