# Simulated clock for the firmware under the unix port: the built-in `time` (importable as
# `utime`), unchanged unless the environment asks for another clock:
#
#   NUMBGUARD_CLOCK_SCALE      integer >= 1: the clock runs this many times faster than the
#                              wall clock (ticks and sleeps), so a 5-minute session streams in
#                              a fraction of the time. `select.py` beside this file scales poll
#                              timeouts to match, so asyncio sleeps keep the same device time.
#   NUMBGUARD_CLOCK_OFFSET_US  integer >= 0: what the clock reads at boot (each insole its
#                              own clock).
#   NUMBGUARD_CLOCK_PPM        integer: crystal error in parts per million (a skewed clock).
#
# With any of them set, the low 32 bits of the ticks (the firmware's device clock) start at the
# offset when the program starts, as a chip's clock starts from 0 when it boots or resets.
#
# The firmware's ticks never fall behind the built-in ticks: asyncio's C task queue stamps
# run-soon tasks with the built-in ticks_ms, and a clock behind it would postpone them.
import os

from utime import *  # noqa: F403 - everything the built-in offers, then the overrides

_SETTINGS = ("NUMBGUARD_CLOCK_SCALE", "NUMBGUARD_CLOCK_OFFSET_US", "NUMBGUARD_CLOCK_PPM")
CLOCK_SCALE = int(os.getenv("NUMBGUARD_CLOCK_SCALE") or "1")
CLOCK_OFFSET_US = int(os.getenv("NUMBGUARD_CLOCK_OFFSET_US") or "0")
CLOCK_PPM = int(os.getenv("NUMBGUARD_CLOCK_PPM") or "0")

if CLOCK_SCALE < 1 or CLOCK_OFFSET_US < 0 or not -100000 < CLOCK_PPM < 100000:
    raise ValueError("NUMBGUARD_CLOCK_SCALE >= 1, NUMBGUARD_CLOCK_OFFSET_US >= 0, |PPM| < 1e5")

if any(os.getenv(name) for name in _SETTINGS):
    import utime as _utime

    _MASK = _utime.ticks_add(0, -1)  # the ticks period minus one
    _NUM = CLOCK_SCALE * (1000000 + CLOCK_PPM)  # device us per wall us, as _NUM / _DEN
    _DEN = 1000000
    _start_us = _utime.ticks_us()
    # The firmware's 32-bit device clock starts at the offset, as a chip's ticks start from 0
    # at boot; whole steps of 2^32 keep the ticks ahead of the built-in ones, also when a slow
    # crystal loses time (for a day).
    _lag_us = 86400000000 * -CLOCK_PPM // _DEN if CLOCK_PPM < 0 else 0
    if _MASK >= 1 << 32:
        _HEAD_US = (-_start_us) % (1 << 32) + CLOCK_OFFSET_US + ((_lag_us >> 32) + 1 << 32)
    else:
        # A 32-bit port (as the ESP32): the ticks period is 2^30, so the device clock is the
        # whole tick value. Of the values that read the offset (offset + j * period, in us),
        # take one whose ms lie ahead of the built-in ticks_ms by more than the day's lag and
        # less than a quarter period: ticks_diff then calls the built-in stamps past.
        _period = _MASK + 1
        _builtin_ms = _utime.ticks_ms()
        _lead_ms = 0
        for _j in range(1000):  # (offset + j * period) // 1000 repeats with j mod 1000
            _lead_ms = _utime.ticks_diff(
                ((CLOCK_OFFSET_US + _j * _period) // 1000) & _MASK, _builtin_ms)
            if _lag_us // 1000 + 1000 < _lead_ms < _period // 4:
                break
        else:
            raise ValueError("no device clock ahead of the built-in ticks")
        _HEAD_US = CLOCK_OFFSET_US + _j * _period - _start_us

    def _device_us():
        wall_us = _utime.ticks_diff(_utime.ticks_us(), _start_us)
        return _start_us + _HEAD_US + wall_us * _NUM // _DEN

    def ticks_us():
        return _device_us() & _MASK

    def ticks_ms():
        return (_device_us() // 1000) & _MASK

    def ticks_cpu():
        return _device_us() & _MASK

    def wall_us(device_us):
        """Wall-clock microseconds that `device_us` of this clock take."""
        return device_us * _DEN // _NUM

    def sleep_us(us):
        if us > 0:
            _utime.sleep_us(wall_us(us))

    def sleep_ms(ms):
        sleep_us(ms * 1000)

    def sleep(seconds):
        sleep_us(int(seconds * 1000000))
