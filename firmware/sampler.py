# Sampler: reads the present pads against ticks_us deadlines on a fixed grid, so the rate does
# not drift however late a single sample is taken; measures how late (jitter).
#
# Every sample is stamped with its deadline, not with the time it was read: the host rebuilds
# sample times from t_first_us and the rate. A sample taken more than one period late skips
# the missed grid slots (counted in late_samples) and flags a gap, so the packer starts a new
# frame whose t_first_us is right.
from array import array
import time

from micropython import const

import protocol as p

_UV_FULL_SCALE = const(3300000)
_UV_STEP = const(660000)  # 3_300_000 / gcd(4095, 3_300_000); keeps products in a small int
_COUNT_STEP = const(819)  # 4095 / gcd(4095, 3_300_000)


def uv_to_count(uv):
    """min(4095, uv * 4095 // 3_300_000) without an intermediate beyond 30 bits."""
    if uv <= 0:
        return 0
    whole = uv // _UV_STEP
    count = whole * _COUNT_STEP + (uv - whole * _UV_STEP) * _COUNT_STEP // _UV_STEP
    return count if count < p.MAX_VALUE else p.MAX_VALUE


class Sampler:
    def __init__(self, pad_reads, rate_hz=p.RATE_DEFAULT_HZ, oversample=1, pad_mask=p.ALL_PADS_MASK,
                 ticks_us=time.ticks_us):
        """pad_reads: six callables returning microvolts (ADC.read_uv), in pad-bit order."""
        self._all_reads = pad_reads
        self._ticks_us = ticks_us
        self.values = array("H", bytes(2 * p.PAD_COUNT))
        self._reads = []
        self.n_pads = 0
        self.pad_mask = 0
        self.oversample = 1
        self.rate_hz = rate_hz
        self.period_us = 1000000 // rate_hz
        self.late_samples = 0
        self.samples_taken = 0
        self.gap = True
        self.last_gap = True
        self.reset_jitter()
        self.configure(pad_mask, rate_hz, oversample)

    def configure(self, pad_mask, rate_hz, oversample):
        """Pads, rate and oversampling; the grid restarts from now."""
        self._reads = [self._all_reads[i] for i in range(p.PAD_COUNT) if pad_mask >> i & 1]
        self.n_pads = len(self._reads)
        self.pad_mask = pad_mask
        self.rate_hz = rate_hz
        self.period_us = 1000000 // rate_hz
        self.oversample = oversample
        self.restart()

    def restart(self):
        self.deadline = self._ticks_us()
        self.gap = True

    def reset_jitter(self):
        self.jitter_sum_us = 0
        self.jitter_count = 0
        self.jitter_max_us = 0

    def jitter_mean_us(self):
        return self.jitter_sum_us // self.jitter_count if self.jitter_count else 0

    def due_in_us(self):
        """Microseconds until the next deadline (negative when overdue)."""
        return time.ticks_diff(self.deadline, self._ticks_us())

    def read_set(self, values):
        """Read every present pad (averaging `oversample` reads) into values[0:n_pads]."""
        reads = self._reads
        n = self.oversample
        for i in range(self.n_pads):
            read = reads[i]
            total = 0
            for _ in range(n):
                total += read()
            values[i] = uv_to_count(total // n)

    def sample(self):
        """Take the sample that is due: return its deadline (ticks_us), or -1 if none is due.

        self.values holds the set; self.gap is True when this sample does not follow the
        previous one on the grid (first sample, restart, or missed deadlines).
        """
        late_us = time.ticks_diff(self._ticks_us(), self.deadline)
        if late_us < 0:
            return -1
        period = self.period_us
        gap = False
        if late_us >= period:
            missed = late_us // period
            self.late_samples = (self.late_samples + missed) & 0xFFFF
            self.deadline = time.ticks_add(self.deadline, missed * period)
            late_us -= missed * period
            gap = True
        t_us = self.deadline
        self.read_set(self.values)
        if late_us > 0xFFFF:
            late_us = 0xFFFF
        self.jitter_sum_us += late_us
        self.jitter_count += 1
        if late_us > self.jitter_max_us:
            self.jitter_max_us = late_us
        self.deadline = time.ticks_add(t_us, period)
        self.samples_taken = (self.samples_taken + 1) & 0x3FFFFFFF  # stays a small int
        if self.gap:
            self.gap = False
            gap = True
        self.last_gap = gap
        return t_us
