# Bonds: the keys NimBLE asks the application to keep, and who may bond.
#
# MicroPython's NimBLE keeps no keys of its own: it asks through _IRQ_GET_SECRET (29) and
# _IRQ_SET_SECRET (30) (extmod/nimble/modbluetooth_nimble.c, ble_secret_store_*). This store
# keeps them in RAM and in one bounded file on flash, written atomically (a temporary file,
# then a rename), so a reset or a deep-sleep wake re-encrypts from the bond.
#
# New bonds are taken only inside the pairing window: while the insole holds no bond (a fresh
# insole), or for PAIRING_WINDOW_MS after the owner's long press of the wake button. Outside it
# a pairing's keys are refused (SET_SECRET returns False) and ble.py drops the link. A window
# is used up by the first bond made in it: one central per press.
#
# How ble.py tells the two kinds of encrypted link apart (NimBLE reports the encryption before
# a pairing's keys are distributed, so the store cannot be asked at that moment): a link
# re-encrypted from a bond had its long-term key served from here (GET_SECRET of our key for
# that peer, on the controller's LTK request) before the encryption came up; a fresh pairing
# had none served, and is trusted only once its keys were stored inside the window. Two
# centrals may be connected at once (the host and a watch), so what was served is kept per peer.
#
# A bonded central that showed itself a Running Speed and Cadence collector (it read RSC
# Feature) is marked so in the file (an entry of type SEC_RSC, no value): on its next
# connections it gets cadence only, never the host's data, whichever central comes first.
import os
import time

from micropython import const

BONDS_FILE = "bonds.bin"
_MAGIC = b"NGB1"

# Secret types (NimBLE's BLE_STORE_OBJ_TYPE_*; 10 is MicroPython's own IRK slot).
SEC_OUR = const(1)
SEC_PEER = const(2)
SEC_OUR_IRK = const(10)
SEC_RSC = const(0x80)  # this file's own: the peer is a cadence collector (NimBLE never asks)

MAX_PEERS = const(4)  # centrals remembered; a fifth bond drops the oldest
_MAX_KEY_BYTES = const(16)  # a ble_addr_t is 7 bytes; the IRK slot's key 3
_MAX_VALUE_BYTES = const(128)  # struct ble_store_value_sec is about 80 bytes
PAIRING_WINDOW_MS = const(120000)


class Bonds:
    def __init__(self, path=BONDS_FILE, ticks_ms=time.ticks_ms):
        self.path = path
        self._ticks_ms = ticks_ms
        self._entries = []  # [type, key, value], oldest first
        self._window_until = None  # ticks_ms deadline of a button window
        self.paired_now = False  # a bond was stored during the current link
        self.refused_now = False  # a pairing was refused during the current link
        self._served = []  # peers whose long-term key was served since they connected
        self.storage_errors = 0
        self.load_errors = 0
        self._load()

    # -- the window ------------------------------------------------------------------------

    def peer_count(self):
        n = 0
        for entry in self._entries:
            if entry[0] == SEC_PEER:
                n += 1
        return n

    def window_open(self):
        if self.peer_count() == 0:
            return True
        until = self._window_until
        if until is None:
            return False
        if time.ticks_diff(until, self._ticks_ms()) <= 0:
            self._window_until = None
            return False
        return True

    def open_window(self, ms=PAIRING_WINDOW_MS):
        self._window_until = time.ticks_add(self._ticks_ms(), ms)

    def close_window(self):
        self._window_until = None

    def begin_link(self, peer_key=None):
        """A central connected: nothing paired, refused or served on this link yet."""
        self.paired_now = False
        self.refused_now = False
        if peer_key in self._served:
            self._served.remove(peer_key)

    def reencrypted(self, peer_key):
        """The link to `peer_key` encrypted from the key this store holds for it."""
        return peer_key in self._served and self._find(SEC_PEER, peer_key) is not None

    def is_rsc(self, peer_key):
        """A bonded central known as a cadence collector."""
        return self._find(SEC_RSC, peer_key) is not None

    def mark_rsc(self, peer_key):
        """Remember a bonded central as a cadence collector (once; only while it is bonded)."""
        if self._find(SEC_RSC, peer_key) is not None or self._find(SEC_PEER, peer_key) is None:
            return False
        self._entries.append([SEC_RSC, bytes(peer_key), b""])
        return self._save()

    def forget(self):
        """Forget every central (the owner's control or button); the IRK stays, so the
        insole keeps its identity. Opens the window, as on a fresh insole."""
        self._entries = [e for e in self._entries if e[0] == SEC_OUR_IRK]
        self._window_until = None
        return self._save()

    # -- NimBLE's key store ------------------------------------------------------------------

    def get_secret(self, sec_type, index, key):
        """_IRQ_GET_SECRET: the value for (type, key), or the index-th of that type when key is
        None (NimBLE iterating its peers); None when there is none."""
        if key is not None:
            entry = self._find(sec_type, key)
            if entry is None:
                return None
            if sec_type == SEC_OUR and key not in self._served:
                self._served.append(key)
            return entry[2]
        i = 0
        for entry in self._entries:
            if entry[0] == sec_type:
                if i == index:
                    return entry[2]
                i += 1
        return None

    def set_secret(self, sec_type, key, value):
        """_IRQ_SET_SECRET: store (value) or delete (value None); True if done."""
        key = bytes(key)
        if len(key) > _MAX_KEY_BYTES or (value is not None and len(value) > _MAX_VALUE_BYTES):
            return False
        entry = self._find(sec_type, key)
        if sec_type == SEC_OUR_IRK:
            # Written once, at the first boot; never replaced (the identity would change).
            if value is None or entry is not None:
                return False
            self._entries.insert(0, [sec_type, key, bytes(value)])
            return self._save()
        if sec_type not in (SEC_OUR, SEC_PEER):
            return False
        if not self.window_open():
            # A deletion too: NimBLE deletes before a repeat pairing, which must not erase
            # the owner's bond from outside the window.
            self.refused_now = True
            return False
        if value is None:
            if entry is not None:
                self._entries.remove(entry)
            return self._save()
        if entry is not None:
            entry[2] = bytes(value)
        else:
            if sec_type == SEC_PEER and self.peer_count() >= MAX_PEERS:
                self._drop_oldest_peer()
            self._entries.append([sec_type, key, bytes(value)])
        self.paired_now = True
        return self._save()

    def _find(self, sec_type, key):
        for entry in self._entries:
            if entry[0] == sec_type and entry[1] == key:
                return entry
        return None

    def _drop_oldest_peer(self):
        for entry in self._entries:
            if entry[0] == SEC_PEER:
                key = entry[1]
                self._entries = [e for e in self._entries
                                 if e[0] == SEC_OUR_IRK or e[1] != key]
                return

    # -- flash -------------------------------------------------------------------------------

    def _load(self):
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except OSError:
            return  # no file: a fresh insole
        entries = []
        if raw[:4] != _MAGIC:
            self.load_errors += 1
            return
        i = 4
        while i < len(raw):
            if i + 3 > len(raw):
                self.load_errors += 1
                return
            sec_type, key_n, value_n = raw[i], raw[i + 1], raw[i + 2]
            end = i + 3 + key_n + value_n
            if key_n > _MAX_KEY_BYTES or value_n > _MAX_VALUE_BYTES or end > len(raw):
                self.load_errors += 1
                return  # a damaged file keeps none of it: keys are all or nothing
            entries.append([sec_type, raw[i + 3:i + 3 + key_n], raw[i + 3 + key_n:end]])
            i = end
        self._entries = entries

    def _save(self):
        parts = [_MAGIC]
        for sec_type, key, value in self._entries:
            parts.append(bytes((sec_type, len(key), len(value))))
            parts.append(key)
            parts.append(value)
        try:
            with open(self.path + ".tmp", "wb") as f:
                for part in parts:
                    f.write(part)
            try:
                os.rename(self.path + ".tmp", self.path)
            except OSError:  # FAT will not rename over an existing file
                os.remove(self.path)
                os.rename(self.path + ".tmp", self.path)
        except OSError:
            self.storage_errors += 1
            return False
        return True
