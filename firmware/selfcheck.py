# Pad self-check: over a window of samples, a pad that never rose above the ADC's floor is
# stuck open (broken wire, unplugged pad) and one that never fell below the ADC's top is
# shorted to the rail.
#
# The thresholds are what an ESP32 reads, not 0 and full scale (adclimits.py, generated from the
# chip's curve): a pin at 0 V reads ~142 mV (176 counts), a pin at the rail 3056-3212 mV
# (3792-3985 counts), whatever the part. An open pad and an unloaded one read the same floor:
# only time tells them apart, so a window is long (default 30 s) and a pad is open only if
# not one sample of the window rose above the floor's noise. A lace pad that rests unloaded
# for a whole window (laces loose, foot still) is flagged open until it is loaded again.
# A loaded pad at the top of the usable range (2450 mV, 3040 counts, ~3120 on a part reading
# 2.5 % high) stays far below SHORT_MIN_COUNT.
from array import array

from micropython import const

from adclimits import OPEN_MAX_COUNT, SHORT_MIN_COUNT
import protocol as p

WINDOW_S = const(30)


class SelfCheck:
    def __init__(self, window_samples):
        self.window = window_samples
        self._max = array("H", bytes(2 * p.PAD_COUNT))
        self._min = array("H", bytes(2 * p.PAD_COUNT))
        self._bits = bytearray(p.PAD_COUNT)
        self.open_mask = 0
        self.short_mask = 0
        self.restart(p.ALL_PADS_MASK)

    def restart(self, pad_mask):
        """Start a new window for the pads in pad_mask (values arrive in pad-bit order)."""
        n = 0
        for bit in range(p.PAD_COUNT):
            if pad_mask >> bit & 1:
                self._bits[n] = bit
                n += 1
        self.n_pads = n
        self.pad_mask = pad_mask
        self.open_mask &= pad_mask
        self.short_mask &= pad_mask
        self._start_window()

    def _start_window(self):
        for i in range(p.PAD_COUNT):
            self._max[i] = 0
            self._min[i] = p.MAX_VALUE
        self._seen = 0

    def add(self, values):
        mx = self._max
        mn = self._min
        for i in range(self.n_pads):
            v = values[i]
            if v > mx[i]:
                mx[i] = v
            if v < mn[i]:
                mn[i] = v
        self._seen += 1
        if self._seen >= self.window:
            self._judge()

    def _judge(self):
        open_mask = 0
        short_mask = 0
        for i in range(self.n_pads):
            if self._max[i] <= OPEN_MAX_COUNT:
                open_mask |= 1 << self._bits[i]
            if self._min[i] >= SHORT_MIN_COUNT:
                short_mask |= 1 << self._bits[i]
        self.open_mask = open_mask
        self.short_mask = short_mask
        self._start_window()
