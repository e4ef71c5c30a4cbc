# Simulated `machine` for running the insole firmware under the MicroPython unix port.
#
# ADC values come from a scripted pressure trace, per pin, in 12-bit ratiometric counts of the
# 3.3 V supply (what the firmware puts on the wire): a list (one entry per read, cycled) or a
# function of time (ticks_us -> counts). Script it with set_trace(pin, source), or name a JSON
# file {"<pin>": [counts, ...], ...} in the environment variable NUMBGUARD_ADC_TRACE.
# Long traces (minutes of a session) come as a binary file in NUMBGUARD_ADC_TRACE_BIN: a first
# line naming the pins ("36,39,34,35,32,33\n"), then one row per sample set of little-endian
# uint16 counts in that order; NUMBGUARD_ADC_TRACE_START skips that many rows (a restarted
# insole carries on where the foot is), and NUMBGUARD_ADC_READS_OUT names a file that gets the
# reads per pin as JSON when the firmware exits (how many samples it took).
# Pins without a trace read a walking pattern (pads) or a 3.9 V battery behind its divider.
# Pads are at 0 V while the pad supply switch (GPIO 25) is driven off, as the real dividers are.
#
# The counts of a trace are the pin's voltage; what read_uv() returns is what an ESP32 makes of
# it (host/numbguard/calibration/esp32_adc.py, imported from there): eFuse-calibrated whole
# millivolts, 142 mV at 0 V, the curve bent near the top, stuck at the chip's top (3056-3212 mV)
# above ~3.1 V, a few codes of noise. NUMBGUARD_ADC_PART picks the chip (default "typical";
# esp32_adc.SPREAD names the others; "ideal" is an exactly linear 0-3.3 V stand-in for tests
# that need a trace's counts back exactly), NUMBGUARD_ADC_SEED its noise; adc_part() switches it
# in a script. The noise of a read depends on the pin and on the read's row of a binary trace
# (or the pin's read count otherwise) only, so the host can compute every value the firmware read.
#
# Pins keep one level per GPIO, shared by every Pin object on it; a held pin (hold=True)
# ignores writes until released, as on the ESP32. deepsleep() records the pins, the wake source
# (set by the simulated `esp32.wake_on_ext0`) and ends the program with SystemExit; boot_as()
# or NUMBGUARD_RESET_CAUSE / NUMBGUARD_WAKE_REASON make the next boot a deep-sleep wake.
# A finger on the wake button of a running firmware process: the button reads pressed while the
# file named by NUMBGUARD_BUTTON_FILE exists (a lab creates it, waits, removes it).
import os
import sys
import time

try:
    import esp32_adc
except ImportError:  # its home is the host package: found from this file's place in the repo
    _here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
    sys.path.append(_here + "/../../../host/numbguard/calibration")
    import esp32_adc

_UV_FULL_SCALE = 3300000
_MAX_COUNT = 4095
_BATTERY_PIN = 37
_BATTERY_COUNTS = 2420  # 3.9 V through a 1:2 divider
_SENSOR_POWER_PIN = 25
_WAKE_PIN = 4  # the board pulls it up (100 kOhm); the button pulls it to ground
_SENSOR_POWER_ON = 0  # the supply's pull-down keeps the pads powered unless driven off

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
PIN_WAKE = 2  # ESP_SLEEP_WAKEUP_EXT0, as on the ESP32 port
EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4

_traces = {}
_positions = {}
_reads = {}  # reads of each traced pin
_read_counts = {}  # reads of every pin: the noise index of pins without a binary trace
_part = [esp32_adc.Part(os.getenv("NUMBGUARD_ADC_PART") or esp32_adc.DEFAULT_PART,
                        int(os.getenv("NUMBGUARD_ADC_SEED") or "0"))]
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
    path = os.getenv("NUMBGUARD_ADC_TRACE_BIN")
    if path:
        _load_binary_trace(path, int(os.getenv("NUMBGUARD_ADC_TRACE_START") or "0"))
    path = os.getenv("NUMBGUARD_ADC_READS_OUT")
    if path:
        sys.atexit(lambda: _write_reads(path))


class _Column:
    """One pin's counts in a binary trace: list-like, without a list's memory per value."""

    def __init__(self, rows, column, width):
        self._rows = rows
        self._column = column
        self._width = width

    def __len__(self):
        return len(self._rows) // (2 * self._width)

    def __getitem__(self, i):
        at = 2 * (i * self._width + self._column)
        return self._rows[at] | self._rows[at + 1] << 8


def _load_binary_trace(path, start_row):
    with open(path, "rb") as f:
        pins = [int(pin) for pin in f.readline().decode().strip().split(",")]
        rows = f.read()
    for column, pin in enumerate(pins):
        source = _Column(rows, column, len(pins))
        if not len(source):
            raise ValueError("empty ADC trace: " + path)
        _traces[pin] = source
        _positions[pin] = start_row % len(source)
        _reads[pin] = 0


def _write_reads(path):
    import json

    with open(path, "w") as f:
        json.dump({str(pin): n for pin, n in _reads.items()}, f)


def set_trace(pin, source):
    """Script pin `pin`: a list of counts (one per read, cycled) or a function of ticks_us."""
    if not callable(source):
        source = list(source)
    _traces[pin] = source
    _positions[pin] = 0
    _reads[pin] = 0  # now, so that counting a read never allocates (heap_lock tests)


def adc_part(name, seed=0):
    """Read every pad through chip `name` (esp32_adc.SPREAD, or "ideal") from now on."""
    _part[0] = esp32_adc.Part(name, seed)


def part():
    return _part[0]


def _walking(pin, t_us):
    # One step a second: heel strike, then the forefoot, laces loaded a little throughout.
    phase = (t_us // 1000) % 1000
    if pin == 36:
        return 2600 if phase < 300 else 30
    if pin in (39, 34, 35):
        return 3000 if 200 <= phase < 600 else 40
    return 900 + phase // 4


def counts_to_uv(counts):
    """The microvolts the ideal part's read_uv() returns for a 12-bit ratiometric count,
    rounded up so the firmware's conversion back (uv * 4095 // 3_300_000) gives the count."""
    return (counts * _UV_FULL_SCALE + _MAX_COUNT - 1) // _MAX_COUNT


_pressed = set()  # pins held low (buttons), see press()
_levels = {}  # GPIO -> level driven by the firmware
_held = set()  # GPIOs whose level is held (Pin hold=True)
_boot = [int(os.getenv("NUMBGUARD_RESET_CAUSE") or PWRON_RESET),
         int(os.getenv("NUMBGUARD_WAKE_REASON") or "0")]
wake_source = []  # (pin, level) from esp32.wake_on_ext0
slept = []  # one entry per deepsleep(): {"time_ms", "levels", "held", "wake"}


_BUTTON_FILE = os.getenv("NUMBGUARD_BUTTON_FILE")


def _button_file_held():
    if not _BUTTON_FILE:
        return False
    try:
        os.stat(_BUTTON_FILE)
    except OSError:
        return False
    return True


def press(pin):
    """Hold the button on `pin` pressed (reads 0) from now on, e.g. before main.main()."""
    _pressed.add(pin)


def release(pin):
    _pressed.discard(pin)


def level(pin):
    """The level the firmware last drove on `pin` (None if it never drove it)."""
    return _levels.get(pin)


def held(pin):
    return pin in _held


def boot_as(reset_cause, wake_reason=0):
    """Make this boot look like one after `reset_cause` (e.g. DEEPSLEEP_RESET, EXT0_WAKE)."""
    _boot[0] = reset_cause
    _boot[1] = wake_reason


def reset_cause():
    return _boot[0]


def wake_reason():
    return _boot[1]


def deepsleep(time_ms=0):
    """Record the state the chip sleeps in; the chip does not come back from here (the wake is
    a new boot), so end the program."""
    slept.append({"time_ms": time_ms, "levels": dict(_levels), "held": sorted(_held),
                  "wake": list(wake_source)})
    log.append(("deepsleep", time_ms))
    raise SystemExit(0)


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, id, mode=-1, pull=-1, value=None, hold=None):
        self.id = id
        self.mode = -1
        self.pull = -1
        self.init(mode, pull, value=value, hold=hold)

    def init(self, mode=-1, pull=-1, value=None, hold=None):
        if hold is False:
            _held.discard(self.id)
        if mode != -1:
            self.mode = mode
        if pull != -1:
            self.pull = pull
        if value is not None:
            self.value(value)
        if hold:
            _held.add(self.id)

    def value(self, v=None):
        if v is None:
            if self.id in _pressed or (self.id == _WAKE_PIN and _button_file_held()):
                return 0
            if self.mode == Pin.OUT or self.id in _levels:
                return _levels.get(self.id, 0)
            # An input with a pull-up (its own, or the board's on the wake button) reads high
            # until something pulls it down (press()).
            return 1 if self.pull == Pin.PULL_UP or self.id == _WAKE_PIN else 0
        if self.id not in _held:  # a held pad keeps its level
            _levels[self.id] = 1 if v else 0

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

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
        self.index = 0

    def atten(self, atten):
        self.attenuation = atten

    def _counts(self):
        """The pin's voltage as counts of the 3.3 V rail; self.index: the read's noise index.
        Allocates nothing once the pin was read (heap_lock tests)."""
        pin = self.pin
        n = _read_counts.get(pin, 0)
        _read_counts[pin] = n + 1 if n < 0x3FFFFFF else 0
        self.index = n
        source = _traces.get(pin)
        if pin == _BATTERY_PIN and source is None:
            return _BATTERY_COUNTS
        if pin != _BATTERY_PIN and _levels.get(_SENSOR_POWER_PIN,
                                               _SENSOR_POWER_ON) != _SENSOR_POWER_ON:
            return 0  # pad supply switched off: the dividers pull every pad to ground
        if source is None:
            return _walking(pin, time.ticks_us())
        if callable(source):
            return source(time.ticks_us())
        i = _positions[pin]
        _positions[pin] = i + 1 if i + 1 < len(source) else 0
        _reads[pin] += 1
        if isinstance(source, _Column):
            self.index = i  # the row: the same read of the same row whatever the boot
        return source[i]

    def read_uv(self):
        counts = self._counts()
        return _part[0].read_uv(counts, self.pin, self.index)

    def read(self):
        counts = self._counts()
        if _part[0].ideal:
            return counts
        return _part[0].raw(counts, self.pin, self.index)

    def read_u16(self):
        return self.read() * 65535 // _MAX_COUNT


WDT_EXIT_CODE = 3  # the process's exit code when the watchdog resets the chip
_watchdog = [None]  # the running WDT: once started it cannot be stopped


class WDT:
    """The ESP32's watchdog: not fed within `timeout` ms, it resets the chip (the next boot's
    reset cause is WDT_RESET). Here the process ends with WDT_EXIT_CODE; the check runs around
    every wait of asyncio's loop (select.py beside this file), so a loop that never comes back
    to asyncio is not caught as the chip would catch it."""

    def __init__(self, id=0, timeout=5000):
        if timeout < 1000:
            raise ValueError("watchdog timeout below 1 s")
        self.timeout = timeout
        self.fed = 0
        self._fed_ms = time.ticks_ms()
        log.append(("wdt", timeout))
        _watchdog[0] = self

    def feed(self):
        self.fed += 1
        self._fed_ms = time.ticks_ms()


def watchdog_check():
    wdt = _watchdog[0]
    if wdt is not None and time.ticks_diff(time.ticks_ms(), wdt._fed_ms) > wdt.timeout:
        log.append(("wdt_reset",))
        sys.stderr.write(f"machine: watchdog not fed for {wdt.timeout} ms: reset\n")
        sys.exit(WDT_EXIT_CODE)


def unique_id():
    """Six bytes like an ESP32's MAC; NUMBGUARD_UNIQUE_ID (12 hex digits) overrides."""
    text = os.getenv("NUMBGUARD_UNIQUE_ID") or "240ac4a1b2c3"
    return bytes.fromhex(text)


def freq(hz=None):
    return 240000000


def reset():
    log.append(("reset",))
    sys.exit(1)
