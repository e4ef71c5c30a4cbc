# numbguard insole firmware: wires the board, the insole logic and the links, and runs the
# tasks (sample, send, status, control) under asyncio while feeding the watchdog.
#
# Data frames go to the BLE central when one is connected, else over USB serial. Control
# frames are taken from both; each reply goes back on the link its request came from. With no
# host on any link the insole goes idle and then to deep sleep (power.py).
import gc

from micropython import const

# The ring buffer is the one big allocation: take it before importing the rest, while the heap
# is still in one piece. 31 s of six-pad sets at 100 Hz (ring.RING_BYTES); twice that where the
# module has PSRAM (the SPIRAM build's heap grows there), so 200 Hz also keeps 31 s.
_RING_BYTES = const(29696)
_RING_BYTES_PSRAM = const(59392)
_PSRAM_MIN_BYTES = const(1048576)  # no internal DRAM region of the ESP32 comes near 1 MiB


def _has_psram():
    """Whether ESP-IDF's heap has a PSRAM region (esp32.idf_heap_info: one (total, free,
    largest free, min free) tuple per region with the capability)."""
    try:
        import esp32

        return any(r[0] >= _PSRAM_MIN_BYTES for r in esp32.idf_heap_info(esp32.HEAP_DATA))
    except (ImportError, AttributeError):
        return False


gc.collect()
_ring_buf = bytearray(_RING_BYTES_PSRAM if _has_psram() else _RING_BYTES)

import asyncio
import os
import sys
import time

import micropython

import button
import protocol as p
import status
from board import Board
from bonds import Bonds
from config import Config
from insole import Insole
from power import Power
from seriallink import SerialLink
from slices import Slices
from status import battery_pct
from supervisor import Supervisor

try:
    import bluetooth
except ImportError:  # a port without a radio still streams over serial
    bluetooth = None

WATCHDOG_MS = 8000
_SERIAL_MTU = p.MAX_FRAME_BYTES + p.ATT_OVERHEAD_BYTES
_SEND_IDLE_MS = 10
_BLE_BACKOFF_MS = 5
_CONTROL_POLL_MS = 20
_FORGET_AFTER_REPLY_MS = 200
# The supervised tasks, by index (supervisor.REASON_TASK + index names one in status page 3).
TASKS = ("sampler", "sender", "status", "control")
_SAMPLER, _SENDER, _STATUS, _CONTROL = 0, 1, 2, 3


def _boot_id():
    return int.from_bytes(os.urandom(2), "little")


class Firmware:
    def __init__(self):
        self.board = Board()
        self.config = Config()
        self.insole = Insole(self.board.pad_reads, self.config, self.board.insole_id(),
                             _boot_id(), self.board.battery_mv, ring_buf=_ring_buf)
        self.serial = SerialLink(sys.stdin.buffer, sys.stdout.buffer)
        self.ble = None
        self.bonds = None
        if bluetooth is not None:
            from ble import Peripheral, advert_name

            self.bonds = Bonds()
            fw = "%d.%d.%d" % self.insole.fw_version
            self.ble = Peripheral(bluetooth, advert_name(self.insole.foot, self.insole.insole_id),
                                  self.config.name, "%08x" % self.insole.insole_id, fw,
                                  self.bonds)
        self.button = button.Button(self.board.wake_pressed)
        self._forget_due_ms = None
        self.out = Slices(bytearray(p.MAX_FRAME_BYTES))
        self.status_page = 0
        self.serial_host_seen = False
        self._ble_outbox = []
        self._use_link()
        self.power = Power(self.board, self.insole, self.ble)
        self.supervisor = Supervisor(TASKS, self.board)
        self.insole.reset_reason = self.supervisor.reason
        self.insole.reset_error = self.supervisor.error

    def _ble_up(self):
        """A trusted (encrypted, bonded) central is connected: the only one data goes to."""
        return self.ble is not None and self.ble.trusted_conn is not None

    def _host_present(self):
        return self._ble_up() or self.serial_host_seen

    def _listener_present(self):
        """A host, or a cadence central (it needs the insole sampling, not idle)."""
        return self._host_present() or (self.ble is not None and self.ble.rsc_conn is not None)

    def _use_link(self):
        if self._ble_up():
            self.insole.set_link(True, min(self.ble.mtu, _SERIAL_MTU))
        else:
            # Serial cannot tell whether a host listens: it is always the fallback link, and
            # counts as connected once a control frame came over it.
            self.insole.set_link(self.serial_host_seen,
                                 _SERIAL_MTU if self.ble is None else p.DEFAULT_MTU, live=True)

    async def sample_task(self):
        insole = self.insole
        beat = self.supervisor.beat
        while True:
            beat(_SAMPLER)
            if not insole.streaming:
                await asyncio.sleep_ms(20)
                continue
            wait_us = insole.sampler.due_in_us()
            if wait_us > 2000:
                await asyncio.sleep_ms(wait_us // 1000 - 1)
                continue
            if wait_us > 0:
                time.sleep_us(wait_us)
            insole.tick()
            await asyncio.sleep_ms(0)

    async def send_task(self):
        insole = self.insole
        ring = insole.ring
        out = self.out
        beat = self.supervisor.beat
        while True:
            beat(_SENDER)
            if self.ble is not None and self.ble.link_changed:
                self.ble.link_changed = False
                self._use_link()
            sent_any = False
            while True:
                n = ring.next_frame(out.buf, insole.tag, insole.link_mtu - p.ATT_OVERHEAD_BYTES)
                if not n:
                    break
                if self._ble_up():
                    if not self.ble.send_data(out.view(n)):
                        insole.notify_retries = self.ble.notify_retries
                        await asyncio.sleep_ms(_BLE_BACKOFF_MS)
                        break
                else:
                    self.serial.send(out.buf, n)
                ring.sent()
                sent_any = True
            if not sent_any:
                await asyncio.sleep_ms(_SEND_IDLE_MS)
            else:
                await asyncio.sleep_ms(0)

    def _send_control_path(self, frame, via_ble, keep=False):
        if via_ble:
            if keep:
                self.ble.keep_status(frame)
            self._ble_outbox.append(frame)
            self._flush_ble_outbox()
        else:
            self.serial.send(frame, len(frame))

    def _flush_ble_outbox(self):
        """Replies and status pages in order; one refused (back-pressure) is retried later."""
        outbox = self._ble_outbox
        if not self._ble_up():
            outbox.clear()  # the central that asked is gone
        while outbox and self.ble.send_status(outbox[0]):
            outbox.pop(0)

    async def status_task(self):
        insole = self.insole
        while True:
            self.supervisor.beat(_STATUS)
            frame = insole.status_frame(self.status_page)
            self.status_page = (self.status_page + 1) % p.STATUS_PAGES
            self._send_control_path(frame, self._ble_up(), keep=True)
            if self.ble is not None:
                self.ble.set_battery(battery_pct(insole.battery_mv()))
                if self.ble.rsc_conn is not None:  # RSC Measurement, once a second
                    self.ble.send_rsc(insole.cadence_spm())
                self.ble.drop_idle_links()
            await asyncio.sleep_ms(p.STATUS_PERIOD_MS)

    async def control_task(self):
        insole = self.insole
        while not self.serial.closed:
            self.supervisor.beat(_CONTROL)
            n = self.serial.receive()
            if n:
                if not self.serial_host_seen and not self._ble_up():
                    self.serial_host_seen = True
                    insole.connected = True
                self.power.update(self._listener_present())  # out of idle before it is handled
                for frame in insole.control(self.serial.frame, n):
                    self._send_control_path(frame, False)
            while self.ble is not None and self.ble.inbox:
                for frame in insole.control(self.ble.inbox.pop(0)):
                    self._send_control_path(frame, True)
            if self._ble_outbox:
                self._flush_ble_outbox()
            if self.ble is not None:
                self.ble.poll()
            if insole.renamed and self.ble is not None:
                insole.renamed = False
                self.ble.set_gap_name(self.config.name)
            self._bond_controls()
            self.board.led(insole.identifying() and time.ticks_ms() // 250 % 2)
            self.power.update(self._listener_present())  # deep sleep does not return
            if not n:
                await asyncio.sleep_ms(_CONTROL_POLL_MS)

    def _bond_controls(self):
        """FORGET_BONDS (once its reply is out), the button, and the bond flags of page 0."""
        insole = self.insole
        action = self.button.poll()
        bonds = self.bonds
        if bonds is None:
            insole.forget_bonds = False
            return
        if action == button.OPEN_WINDOW:
            bonds.open_window()
        if insole.forget_bonds and not self._ble_outbox:
            # Forget a little after the reply left, so the link carries it before it drops.
            insole.forget_bonds = False
            self._forget_due_ms = time.ticks_add(time.ticks_ms(), _FORGET_AFTER_REPLY_MS)
        due = self._forget_due_ms
        if action == button.FORGET or (due is not None
                                       and time.ticks_diff(time.ticks_ms(), due) >= 0):
            self._forget_due_ms = None
            bonds.forget()
            self.ble.disconnect()  # its bond is gone: the link must not stay trusted
        flags = status.FLAG_PAIRING_OPEN if bonds.window_open() else 0
        if bonds.peer_count():
            flags |= status.FLAG_BONDED
        insole.bond_flags = flags

    async def run(self):
        """Every task supervised: one that raises resets the chip with its reason recorded,
        one that stops making progress stops the watchdog's feeding."""
        self.board.start_watchdog(WATCHDOG_MS)
        supervisor = self.supervisor
        run = supervisor.run
        tasks = [asyncio.create_task(run(i, t)) for i, t in (
            (_SAMPLER, self.sample_task()), (_SENDER, self.send_task()),
            (_STATUS, self.status_task()))]
        tasks.append(asyncio.create_task(supervisor.watch()))
        await run(_CONTROL, self.control_task())  # ends with serial input (unix port, tests)
        for task in tasks:
            task.cancel()


def main():
    if Board.stay_in_repl():
        print("numbguard: wake button held at boot, staying in the REPL")
        return
    # Serial frames are binary: a 0x03 byte must not raise KeyboardInterrupt (so Ctrl-C does
    # not stop the firmware either: hold the wake button while resetting to get the REPL).
    micropython.kbd_intr(-1)
    asyncio.run(Firmware().run())


if __name__ == "__main__":
    main()
