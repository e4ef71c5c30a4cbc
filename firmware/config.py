# Insole configuration: pads present, rate, oversampling, per-pad calibration, tare offsets,
# name and foot, kept as JSON on flash.
#
# Every setter validates and answers with a RESULT_* code; nothing changes on a rejected
# value. A missing or corrupt file, or a bad field in it, falls back to the default for what
# is unreadable and keeps what is valid, so a bad file can never brick the insole.
import json
import os

import protocol as p

CONFIG_PATH = "config.json"
GAIN_MIN = 1e-13  # a little wider than the host accepts (float32 rounding)
GAIN_MAX = 1e13
EXPONENT_MIN = 0.2
EXPONENT_MAX = 5.0
FEET = ("left", "right")
# Power (power.py): no host on any link for host_gone_s -> idle; idle for idle_sleep_s -> deep
# sleep. Set in config.json only (no control opcode); docs/hardware.md's budget assumes these.
HOST_GONE_S = 120
IDLE_SLEEP_S = 900
HOST_GONE_MAX_S = 3600
IDLE_SLEEP_MAX_S = 86400


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return (_is_int(value) or isinstance(value, float)) and value == value


def valid_rate(rate_hz):
    return _is_int(rate_hz) and p.RATE_MIN_HZ <= rate_hz <= p.RATE_MAX_HZ


def valid_oversample(oversample):
    return _is_int(oversample) and 1 <= oversample <= p.OVERSAMPLE_MAX


def valid_pad_mask(pad_mask):
    return _is_int(pad_mask) and 0 < pad_mask <= p.ALL_PADS_MASK


def valid_name(name):
    if not isinstance(name, str) or not 1 <= len(name) <= p.NAME_MAX_BYTES:
        return False
    for ch in name:
        if not " " <= ch <= "~":
            return False
    return True


def valid_cal(gain, exponent):
    return (_is_number(gain) and _is_number(exponent) and GAIN_MIN <= gain <= GAIN_MAX
            and EXPONENT_MIN <= exponent <= EXPONENT_MAX)


def valid_tare(offsets):
    if not isinstance(offsets, list) or len(offsets) != p.PAD_COUNT:
        return False
    for v in offsets:
        if not _is_int(v) or not 0 <= v <= p.MAX_VALUE:
            return False
    return True


def _valid_seconds(maximum):
    return lambda seconds: _is_int(seconds) and 1 <= seconds <= maximum


def _valid_cal_table(cal):
    if not isinstance(cal, list) or len(cal) != p.PAD_COUNT:
        return False
    for pair in cal:
        if not isinstance(pair, list) or len(pair) != 2 or not valid_cal(pair[0], pair[1]):
            return False
    return True


_FIELDS = (
    ("pad_mask", valid_pad_mask),
    ("rate_hz", valid_rate),
    ("oversample", valid_oversample),
    ("name", valid_name),
    ("foot", lambda foot: foot in FEET),
    ("cal", _valid_cal_table),
    ("tare", valid_tare),
    ("host_gone_s", _valid_seconds(HOST_GONE_MAX_S)),
    ("idle_sleep_s", _valid_seconds(IDLE_SLEEP_MAX_S)),
)


def defaults():
    return {
        "pad_mask": p.ALL_PADS_MASK,
        "rate_hz": p.RATE_DEFAULT_HZ,
        "oversample": 1,
        "name": "numbguard",
        "foot": "left",
        "cal": [[1.0, 1.0] for _ in range(p.PAD_COUNT)],
        "tare": [0] * p.PAD_COUNT,
        "host_gone_s": HOST_GONE_S,
        "idle_sleep_s": IDLE_SLEEP_S,
    }


class Config:
    def __init__(self, path=CONFIG_PATH):
        self.path = path
        self.values = defaults()
        self.loaded = False  # True when the file was read and every field in it was valid
        self.rejected = []  # fields of the file that were unreadable and fell back
        self.load()

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name)

    def load(self):
        try:
            with open(self.path) as f:
                stored = json.load(f)
        except (OSError, ValueError):
            return False
        if not isinstance(stored, dict):
            self.rejected = ["file"]
            return False
        rejected = []
        for name, check in _FIELDS:
            if name in stored:
                if check(stored[name]):
                    self.values[name] = stored[name]
                else:
                    rejected.append(name)
        if isinstance(self.values["cal"], list):
            self.values["cal"] = [[float(g), float(e)] for g, e in self.values["cal"]]
        self.rejected = rejected
        self.loaded = not rejected
        return self.loaded

    def save(self):
        """Write atomically (temp file, then rename); return RESULT_OK or RESULT_STORAGE_ERROR."""
        tmp = self.path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(self.values, f)
            try:
                os.rename(tmp, self.path)
            except OSError:  # FAT will not rename over an existing file
                os.remove(self.path)
                os.rename(tmp, self.path)
        except OSError:
            return p.RESULT_STORAGE_ERROR
        return p.RESULT_OK

    def _set(self, name, value, ok):
        if not ok:
            return p.RESULT_OUT_OF_RANGE
        self.values[name] = value
        return self.save()

    def set_rate(self, rate_hz):
        return self._set("rate_hz", rate_hz, valid_rate(rate_hz))

    def set_oversample(self, oversample):
        return self._set("oversample", oversample, valid_oversample(oversample))

    def set_pad_mask(self, pad_mask):
        return self._set("pad_mask", pad_mask, valid_pad_mask(pad_mask))

    def set_name(self, name):
        return self._set("name", name, valid_name(name))

    def set_cal(self, pad_bit, gain, exponent):
        if not (_is_int(pad_bit) and 0 <= pad_bit < p.PAD_COUNT and valid_cal(gain, exponent)):
            return p.RESULT_OUT_OF_RANGE
        cal = [list(pair) for pair in self.values["cal"]]
        cal[pad_bit] = [float(gain), float(exponent)]
        return self._set("cal", cal, True)

    def set_tare(self, offsets):
        return self._set("tare", list(offsets), valid_tare(list(offsets)))
