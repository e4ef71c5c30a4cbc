# Simulated `machine` for running the insole firmware under the MicroPython unix port.
#
# ADC values come from a scripted pressure trace, per pin, in 12-bit ratiometric counts of the
# 3.3 V supply (what the firmware puts on the wire): a list (one entry per read, cycled) or a
# function of time (ticks_us -> counts). Script it with set_trace(pin, source), or name a JSON
# file {"<pin>": [counts, ...], ...} in the environment variable NUMBGUARD_ADC_TRACE.
# Pins without a trace read a walking pattern (pads) or a 3.9 V battery behind its divider.
import os
import sys
import time

_UV_FULL_SCALE = 3300000
_MAX_COUNT = 4095
_BATTERY_PIN = 37
_BATTERY_COUNTS = 2420  # 3.9 V through a 1:2 divider

_traces = {}
_positions = {}
_loaded = False
log = []  # notable calls the firmware made: ("wdt", timeout), ("reset",), ...


def _load_env_trace():
    global _loaded
    if _loaded:
        return
    _loaded = True
    path = os.getenv("NUMBGUARD_ADC_TRACE")
    if path:
        import json

        with open(path) as f:
            for pin, counts in json.load(f).items():
                set_trace(int(pin), counts)


def set_trace(pin, source):
    """Script pin `pin`: a list of counts (one per read, cycled) or a function of ticks_us."""
    if not callable(source):
        source = list(source)
    _traces[pin] = source
    _positions[pin] = 0


def _walking(pin, t_us):
    # One step a second: heel strike, then the forefoot, laces loaded a little throughout.
    phase = (t_us // 1000) % 1000
    if pin == 36:
        return 2600 if phase < 300 else 30
    if pin in (39, 34, 35):
        return 3000 if 200 <= phase < 600 else 40
    return 900 + phase // 4


def counts_to_uv(counts):
    """The microvolts a calibrated read_uv() returns for a 12-bit ratiometric count, rounded up
    so the firmware's conversion back (uv * 4095 // 3_300_000) gives the same count."""
    return (counts * _UV_FULL_SCALE + _MAX_COUNT - 1) // _MAX_COUNT


_pressed = set()  # pins held low from boot (buttons), see press()


def press(pin):
    """Hold the button on `pin` pressed (reads 0) from now on, e.g. before main.main()."""
    _pressed.add(pin)


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None, hold=None):
        self.id = id
        self.mode = mode
        self.hold = hold
        # An input with a pull-up reads high until something pulls it down (a test, via
        # press()).
        if value is not None:
            self._value = value
        else:
            self._value = 1 if pull == Pin.PULL_UP else 0
        if id in _pressed:
            self._value = 0

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = 1 if v else 0

    def on(self):
        self._value = 1

    def off(self):
        self._value = 0

    def __call__(self, v=None):
        return self.value(v)


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_12BIT = 3

    def __init__(self, pin, atten=ATTN_0DB):
        _load_env_trace()
        self.pin = pin.id if isinstance(pin, Pin) else pin
        self.attenuation = atten

    def atten(self, atten):
        self.attenuation = atten

    def _counts(self):
        source = _traces.get(self.pin)
        if source is None:
            if self.pin == _BATTERY_PIN:
                return _BATTERY_COUNTS
            return _walking(self.pin, time.ticks_us())
        if callable(source):
            return source(time.ticks_us())
        i = _positions[self.pin]
        _positions[self.pin] = i + 1 if i + 1 < len(source) else 0
        return source[i]

    def read_uv(self):
        return counts_to_uv(self._counts())

    def read_u16(self):
        return self._counts() * 65535 // _MAX_COUNT

    def read(self):
        return self._counts()


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1000:
            raise ValueError("watchdog timeout below 1 s")
        self.timeout = timeout
        self.fed = 0
        log.append(("wdt", timeout))

    def feed(self):
        self.fed += 1


def unique_id():
    """Six bytes like an ESP32's MAC; NUMBGUARD_UNIQUE_ID (12 hex digits) overrides."""
    text = os.getenv("NUMBGUARD_UNIQUE_ID") or "240ac4a1b2c3"
    return bytes.fromhex(text)


def freq(hz=None):
    return 240000000


def reset():
    log.append(("reset",))
    sys.exit(1)
