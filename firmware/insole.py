# The insole without its hardware: sampler, self-check, packer, ring, config, control and
# status wired together. board.py gives it pad reads and a battery; main.py gives it links.
import time

import control
import protocol as p
import status
from cadence import Cadence
from packer import Packer
from ring import RING_BYTES, Ring
from sampler import Sampler
from selfcheck import WINDOW_S, SelfCheck

FW_VERSION = (0, 1, 0)


class Insole:
    def __init__(self, pad_reads, config, insole_id, boot_id=0, battery_mv=None,
                 ticks_us=time.ticks_us, ring_bytes=RING_BYTES, selfcheck_window_s=WINDOW_S,
                 ring_buf=None):
        self.config = config
        self.insole_id = insole_id
        self.boot_id = boot_id & 0xFFFF
        self.fw_version = FW_VERSION
        self.foot = 1 if config.foot == "right" else 0
        self.tag = p.foot_tag(self.foot, insole_id)
        self._battery_mv = battery_mv
        self._ticks_us = ticks_us
        self._clock_last = ticks_us()
        self._clock_us = self._clock_last & 0xFFFFFFFF
        self.sampler = Sampler(pad_reads, config.rate_hz, config.oversample, config.pad_mask,
                               ticks_us)
        self.ring = Ring(ring_bytes, ring_buf)
        self.link_mtu = p.DEFAULT_MTU
        self.packer = Packer(self.ring, self.link_mtu)
        self._selfcheck_window_s = selfcheck_window_s
        self.selfcheck = SelfCheck(selfcheck_window_s * config.rate_hz)
        self.cadence = Cadence()
        self.streaming = True
        self.connected = False
        self.notify_retries = 0
        self.status_counter = 0
        self.renamed = False
        self.forget_bonds = False  # FORGET_BONDS asked: main.py forgets once the reply is out
        self.bond_flags = 0  # status.FLAG_PAIRING_OPEN / FLAG_BONDED, kept by main.py
        self.power_flags = 0  # status flag bits 3+ (status.FLAG_IDLE, ...), set by power.py
        # Why the previous boot ended (supervisor.REASON_*, exception code), set by main.py.
        self.reset_reason = 0
        self.reset_error = 0
        self._identify_until = None
        self._status_buf = bytearray(p.MAX_FRAME_BYTES)
        self.ring.set_live(False)
        self.apply_config()

    # -- sampling (the hot path: allocates nothing) ----------------------------------------

    def tick(self):
        """Take the sample that is due, if any; return True if one was taken."""
        if not self.streaming:
            return False
        sampler = self.sampler
        t_us = sampler.sample()
        if t_us < 0:
            return False
        self.selfcheck.add(sampler.values)
        self.cadence.add(sampler.values, sampler.n_pads, t_us)
        self.packer.add(sampler.values, t_us, sampler.last_gap)
        return True

    # -- state changes ---------------------------------------------------------------------

    def apply_config(self):
        c = self.config
        self.sampler.configure(c.pad_mask, c.rate_hz, c.oversample)
        self.packer.configure(c.pad_mask, c.rate_hz, self.link_mtu)
        self.selfcheck.window = self._selfcheck_window_s * c.rate_hz
        self.selfcheck.restart(c.pad_mask)

    def set_link(self, connected, mtu, live=None):
        """A link came up or went down, or its MTU changed: size frames for it from now on.

        live: whether frames are queued for sending (default: connected). A serial port is
        live while no host is known to listen.
        """
        self.connected = connected
        self.link_mtu = mtu
        self.ring.set_live(connected if live is None else live)
        self.packer.configure(self.sampler.pad_mask, self.sampler.rate_hz, mtu)

    def start(self):
        if not self.streaming:
            self.streaming = True
            self.sampler.restart()
            self.cadence.reset()  # the contacts before the stop are no stride

    def stop(self):
        self.streaming = False
        self.packer.flush()

    def cadence_spm(self):
        """Steps/min from this foot's contacts (cadence.py), 0 while stopped or not sampling."""
        return self.cadence.spm(self._ticks_us()) if self.streaming else 0

    def identify(self, seconds):
        self._identify_until = time.ticks_add(self._ticks_us(), seconds * 1000000)

    def identifying(self):
        if self._identify_until is None:
            return False
        if time.ticks_diff(self._identify_until, self._ticks_us()) > 0:
            return True
        self._identify_until = None
        return False

    # -- clock, battery, control, status ---------------------------------------------------

    def device_time_us(self):
        """The 32-bit device clock; its low 24 bits are the data frames' t_first_us clock."""
        now = self._ticks_us()
        self._clock_us = (self._clock_us + time.ticks_diff(now, self._clock_last)) & 0xFFFFFFFF
        self._clock_last = now
        return self._clock_us

    def battery_mv(self):
        return self._battery_mv() if self._battery_mv else 0

    def control(self, frame, length=-1):
        """Frames to send back for a control frame (see control.handle)."""
        return control.handle(self, frame, length)

    def status_frame(self, page):
        n = status.build(self, page, self._status_buf)
        return bytes(self._status_buf[:n])
