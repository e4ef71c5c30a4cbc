# Cadence from this insole's own contact detection, for the Running Speed and Cadence service.
#
# The summed pad load (ADC counts of the sampled pads) rises at each foot contact. Its floor
# and top are tracked by envelopes that follow a new extreme at once and creep back towards
# each other otherwise (about 5 s to lose most of an old extreme at 100 Hz), so the thresholds
# follow the runner's weight, the shoe and the calibration without any setting. A contact
# starts when the sum rises above 5/8 of the way from floor to top, and may start again only
# once it fell below 3/8 (hysteresis) and MIN_STRIDE_US passed. One foot contacts once per
# stride, so cadence (steps/min, both feet) = 2 x 60 / stride: the median of the last
# STRIDES strides, as the host's analysis takes the median (host analysis/cadence.py).
#
# The thresholds, MIN_SPAN_COUNTS and the stride limits are configurable judgements, not from
# a source: MIN_STRIDE_US allows up to 300 steps/min, MAX_STRIDE_US down to 48 (slow walking);
# a longer gap is a stop, and cadence is 0 until two strides were seen again.
#
# add() runs in the sampler's hot path and allocates nothing; spm() is called once a second.
import time

from micropython import const

STRIDES = const(5)  # strides the cadence is the median of: "the last few steps"
MIN_STRIDES = const(2)  # fewer since a stop (or the boot): no cadence yet
MIN_STRIDE_US = const(400000)
MAX_STRIDE_US = const(2500000)
MIN_SPAN_COUNTS = const(300)  # floor-to-top below this (standing, off the foot): no contacts
_DECAY_SHIFT = const(9)  # envelopes creep by span / 512 per sample


class Cadence:
    def __init__(self):
        self._strides = [0] * STRIDES  # us, a ring; small ints, so storing allocates nothing
        self.reset()

    def reset(self):
        """Forget the contacts (the sampler restarted after a stop or an idle time)."""
        self._floor = -1
        self._top = -1
        self._on = False
        self._last_on = None  # ticks_us of the latest contact start
        self._n = 0  # strides held
        self._next = 0
        self.contacts = 0

    def add(self, values, n_pads, t_us):
        """One sample set: `values[:n_pads]` in counts, taken at ticks_us `t_us`."""
        total = 0
        for i in range(n_pads):
            total += values[i]
        floor = self._floor
        top = self._top
        if floor < 0:
            self._floor = self._top = total
            return
        span = top - floor
        if total > top:
            top = total
        else:
            top -= span >> _DECAY_SHIFT
        if total < floor:
            floor = total
        else:
            floor += span >> _DECAY_SHIFT
        self._floor = floor
        self._top = top
        span = top - floor
        if span < MIN_SPAN_COUNTS:
            self._on = False
            return
        if self._on:
            if total < floor + (span * 3 >> 3):
                self._on = False
            return
        if total <= floor + (span * 5 >> 3):
            return
        last = self._last_on
        if last is not None:
            stride = time.ticks_diff(t_us, last)
            if stride < MIN_STRIDE_US:
                return  # a bounce inside the same contact
            if stride > MAX_STRIDE_US:
                self._n = 0  # after a stop: strides start again
            else:
                self._strides[self._next] = stride
                self._next = (self._next + 1) % STRIDES
                if self._n < STRIDES:
                    self._n += 1
        self._on = True
        self._last_on = t_us
        self.contacts += 1

    def spm(self, now_us):
        """Cadence in steps/min (both feet, from this foot's strides), 0 when stopped."""
        last = self._last_on
        if self._n < MIN_STRIDES or last is None or time.ticks_diff(now_us, last) > MAX_STRIDE_US:
            return 0
        held = sorted(self._strides[i] for i in range(self._n))
        mid = self._n // 2
        stride = held[mid] if self._n % 2 else (held[mid - 1] + held[mid]) // 2
        return (120000000 + stride // 2) // stride
