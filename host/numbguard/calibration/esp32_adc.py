"""The ESP32's ADC1 at 11 dB as MicroPython's ``ADC.read_uv()`` reports it: one description.

Everything that depends on what a pad pin reads on a real chip takes it from here: the host's
trusted range (`model.ADC_FLOOR_COUNTS`, `model.ADC_CEILING_COUNTS`), the firmware's self-check
thresholds (generated into ``firmware/adclimits.py`` by ``hardware/gen_adclimits.py``), and the
simulated chip of ``lab/numbguard_lab/micropython/machine.py``, which imports this file under
MicroPython.
So it is written in the subset both share: integers only, no import, every intermediate below
2**30 (a small int on a 32-bit port: the simulated read allocates nothing).

What ``read_uv()`` does on an ESP32 (MicroPython 1.28, ``ports/esp32/adc.c``): it reads the raw
12-bit code and converts it with ESP-IDF's line-fitting calibration
(``components/esp_adc/esp32/adc_cali_line_fitting.c``), which gives whole millivolts; read_uv is
that times 1000. The conversion, for ADC1 at 11 dB (``ADC_ATTEN_DB_11``, now ``_DB_12``):

- a line ``mV = coeff_a * raw / 65536 + 142``, ``coeff_a = vref_mv * 196602 / 4096``, where
  ``vref_mv`` is the chip's reference voltage burned into eFuse at the factory (1100 mV plus a
  signed 4-bit code of 7 mV steps: 995-1205 mV). Chips made since 2018 carry it; two-point
  eFuse values are rare (Espressif, esp-idf issue #2678), so Vref chips are what we model;
- from raw 2880 up, a lookup table of 20 points every 64 codes (for Vref 1000 and 1200 mV,
  interpolated in Vref) takes over, blended in over raw 2880-2944: the chip's own curve bends
  there (compression), so each code spans more millivolts near the top;
- raw 0 therefore reads 142 mV and raw 4095 reads 3060 mV (Vref 1000) to 3209 mV (Vref 1200):
  a pad at 0 V reads 142 mV, and a pad at the rail reads the chip's top, well below 3.3 V.
  (The table is IDF's ``CONFIG_ADC_CALI_LUT_ENABLE`` option; without it the line would read
  3441 mV at raw 4095. A published bench test of one ESP32-WROOM-32, github.com/kisel/
  esp32_adc_test, saw 135-3135 mV over the whole input range: the table's 3134 mV at Vref 1100.)

Espressif documents 11 dB as usable from 150 to 2450 mV (ESP-IDF v4.4 ADC guide, "ADC
Attenuation"), with a calibrated error up to +-60 mV there (ESP32 datasheet, "ADC calibration
results"). Below the floor the code sticks at 0; above ~3.1 V at 4095.

The simulated chip (`Part`, `read_uv`): the pin voltage becomes a raw code through the part's
*true* curve (the same shape, with a true Vref that may differ from the eFuse value, which is
how a calibrated part ends up reading up to ~2.5 % off: the datasheet's 60 mV at 2450 mV), plus
a few codes of noise, clipped to 0-4095; the code is then converted as IDF does with the eFuse
Vref. The noise is deterministic (a hash of the seed, the pin and the read), so the host can
compute exactly what the firmware read (`numbguard_lab.traces`).
"""

RAIL_MV = 3300  # the pads' supply: the counts on the wire are fractions of it
FULL_SCALE_COUNTS = 4095
RAW_MAX = 4095

# ESP-IDF adc_cali_line_fitting.c (ESP32), ADC1 at 11 dB: the Vref characterisation.
LINE_SCALE_11DB = 196602  # adc1_vref_atten_scale[3]
LINE_OFFSET_11DB_MV = 142  # adc1_vref_atten_offset[3]: what raw 0 reads
LINE_COEFF_SCALE = 65536  # LIN_COEFF_A_SCALE
VREF_NOMINAL_MV = 1100  # VREF_OFFSET
VREF_STEP_MV = 7  # VREF_STEP_SIZE
VREF_CODE_MAX = 15  # VREF_MASK 0x1F: sign and four bits
VREF_LOW_MV = VREF_NOMINAL_MV - VREF_CODE_MAX * VREF_STEP_MV  # 995
VREF_HIGH_MV = VREF_NOMINAL_MV + VREF_CODE_MAX * VREF_STEP_MV  # 1205
# The lookup table for the bent top of the 11 dB curve (lut_adc1_low / lut_adc1_high).
LUT_LOW_RAW = 2880  # LUT_LOW_THRESH
LUT_STEP_RAW = 64  # LUT_ADC_STEP_SIZE
LUT_VREF_LOW_MV = 1000
LUT_VREF_HIGH_MV = 1200
LUT_ADC1_VREF_LOW_MV = (2240, 2297, 2352, 2405, 2457, 2512, 2564, 2616, 2664, 2709,
                        2754, 2795, 2832, 2868, 2903, 2937, 2969, 3000, 3030, 3060)
LUT_ADC1_VREF_HIGH_MV = (2667, 2706, 2745, 2780, 2813, 2844, 2873, 2901, 2928, 2956,
                         2982, 3006, 3032, 3059, 3084, 3110, 3135, 3160, 3184, 3209)

# Espressif's documented range and error for 11 dB (ESP-IDF ADC guide; ESP32 datasheet).
USABLE_LOW_MV = 150
USABLE_HIGH_MV = 2450
CALIBRATED_ERROR_MV = 60
TRUE_VREF_SPREAD_PERMILLE = 25  # true Vref off its eFuse value by this much: ~60 mV at 2450

# Noise: the datasheet gives DNL +-7 and INL +-12 LSB at 11 dB; with the pads' 10 nF filter
# capacitor the code wanders a few LSB (ESP-IDF guide, "Minimizing Noise"). Modelled as the
# difference of two uniform draws from 0-NOISE_RAW: -4..+4 codes, sigma 2 (a judgement).
NOISE_RAW = 4


def _lut_mv(raw: int, vref_mv: int) -> int:
    """IDF's bilinear interpolation of the lookup table (raw >= 2880), whole mV."""
    i = (raw - LUT_LOW_RAW) // LUT_STEP_RAW
    if i > len(LUT_ADC1_VREF_LOW_MV) - 2:
        i = len(LUT_ADC1_VREF_LOW_MV) - 2
    x2 = LUT_VREF_HIGH_MV - vref_mv
    x1 = vref_mv - LUT_VREF_LOW_MV
    y1 = raw - (i * LUT_STEP_RAW + LUT_LOW_RAW)
    y2 = LUT_STEP_RAW - y1
    total = (LUT_ADC1_VREF_LOW_MV[i] * x2 * y2 + LUT_ADC1_VREF_HIGH_MV[i] * x1 * y2
             + LUT_ADC1_VREF_LOW_MV[i + 1] * x2 * y1 + LUT_ADC1_VREF_HIGH_MV[i + 1] * x1 * y1)
    span = (LUT_VREF_HIGH_MV - LUT_VREF_LOW_MV) * LUT_STEP_RAW
    return (total + span // 2) // span


def line_coeff(vref_mv: int) -> int:
    """coeff_a of the 11 dB line for a chip with this Vref (mV per code, times 65536)."""
    return vref_mv * LINE_SCALE_11DB // 4096


def calibrated_mv(raw: int, vref_mv: int) -> int:
    """What IDF's line fitting (so read_uv, in mV) makes of raw code `raw` on a chip whose
    eFuse Vref is `vref_mv`."""
    if raw > RAW_MAX:
        raw = RAW_MAX
    line = (line_coeff(vref_mv) * raw + LINE_COEFF_SCALE // 2) // LINE_COEFF_SCALE
    line += LINE_OFFSET_11DB_MV
    if raw < LUT_LOW_RAW:
        return line
    lut = _lut_mv(raw, vref_mv)
    if raw > LUT_LOW_RAW + LUT_STEP_RAW:
        return lut
    x = raw - LUT_LOW_RAW  # blend from the line into the table over one step
    return (line * (LUT_STEP_RAW - x) + lut * x + LUT_STEP_RAW // 2) // LUT_STEP_RAW


def floor_mv(vref_mv: int) -> int:
    """What a pin at 0 V (or anywhere below the chip's first code) reads."""
    return calibrated_mv(0, vref_mv)


def top_mv(vref_mv: int) -> int:
    """What a pin at or above the chip's last code (a pad shorted to the rail) reads."""
    return calibrated_mv(RAW_MAX, vref_mv)


def mv_to_counts(mv: int) -> int:
    """The firmware's conversion (sampler.uv_to_count) of a whole-mV reading to counts."""
    counts = mv * FULL_SCALE_COUNTS // RAIL_MV
    if counts < 0:
        return 0
    return counts if counts < FULL_SCALE_COUNTS else FULL_SCALE_COUNTS


# -- the simulated chip ----------------------------------------------------------------------

# Parts: name -> (eFuse Vref mV, true Vref mV). "typical" is the default simulated chip; the
# spread covers the eFuse Vref range at both ends with the true Vref off by the datasheet's
# error either way; "ideal" is no chip at all (read_uv exactly linear over 0-3.3 V), only for
# tests that need the counts of a trace exactly.
PARTS: "dict[str, tuple[int, int]]" = {
    "typical": (1100, 1100),
    "vref_low": (VREF_LOW_MV, VREF_LOW_MV),
    "vref_high": (VREF_HIGH_MV, VREF_HIGH_MV),
    "vref_low_reads_high": (VREF_LOW_MV, VREF_LOW_MV * (1000 - TRUE_VREF_SPREAD_PERMILLE) // 1000),
    "vref_low_reads_low": (VREF_LOW_MV, VREF_LOW_MV * (1000 + TRUE_VREF_SPREAD_PERMILLE) // 1000),
    "vref_high_reads_high": (VREF_HIGH_MV,
                             VREF_HIGH_MV * (1000 - TRUE_VREF_SPREAD_PERMILLE) // 1000),
    "vref_high_reads_low": (VREF_HIGH_MV,
                            VREF_HIGH_MV * (1000 + TRUE_VREF_SPREAD_PERMILLE) // 1000),
}
DEFAULT_PART = "typical"
IDEAL = "ideal"
SPREAD: "tuple[str, ...]" = tuple(PARTS)
"""Every part the self-check thresholds must hold for (tests sweep them)."""

_SIXTEENTHS = 16  # the true curve is kept in 1/16 mV and 1/16 code: integers, no floats


def _break_raws() -> "tuple[int, ...]":
    """Where the curve's pieces meet: code 0, the table's points, the last code."""
    raws = [0]
    raws.extend(LUT_LOW_RAW + k * LUT_STEP_RAW for k in range(len(LUT_ADC1_VREF_LOW_MV) - 1))
    raws.append(RAW_MAX)
    return tuple(raws)


_BREAK_RAWS = _break_raws()


class Part:
    """One simulated chip: its eFuse and true Vref, and a noise seed."""

    def __init__(self, name: str = DEFAULT_PART, seed: int = 0) -> None:
        if name != IDEAL and name not in PARTS:
            raise ValueError("unknown ADC part " + repr(name) + ": one of " + repr(SPREAD)
                             + " or " + repr(IDEAL))
        self.name: str = name
        self.seed = seed & 0xFFFF
        self.ideal = name == IDEAL
        self.efuse_vref_mv, self.true_vref_mv = PARTS.get(
            name, (VREF_NOMINAL_MV, VREF_NOMINAL_MV))
        # The true curve through IDF's breakpoints, at the true Vref, in 1/16 mV: the chip's
        # code for a voltage is found on it by linear interpolation between them.
        self._break_mv16 = tuple(self._true_mv16(raw) for raw in _BREAK_RAWS)

    def _true_mv16(self, raw: int) -> int:
        vref = self.true_vref_mv
        if raw < LUT_LOW_RAW:
            return line_coeff(vref) * raw // (LINE_COEFF_SCALE // _SIXTEENTHS) + (
                LINE_OFFSET_11DB_MV * _SIXTEENTHS)
        return calibrated_mv(raw, vref) * _SIXTEENTHS

    def raw16(self, mv16: int) -> int:
        """The chip's code, in 1/16 code and unclipped, for a pin at mv16 (1/16 mV)."""
        breaks = self._break_mv16
        if mv16 <= breaks[1]:  # the straight part, extended below code 0
            # (mV - offset) * 65536 / coeff_a, scaled to stay below 2**30
            return (mv16 - breaks[0]) * 8192 // (line_coeff(self.true_vref_mv) // 8)
        k = 2
        last = len(breaks) - 1
        while k < last and mv16 > breaks[k]:
            k += 1
        lo_mv, hi_mv = breaks[k - 1], breaks[k]
        lo_raw, hi_raw = _BREAK_RAWS[k - 1], _BREAK_RAWS[k]
        # the last step extends above code 4095 for a pin beyond the chip's top
        return lo_raw * _SIXTEENTHS + (mv16 - lo_mv) * (hi_raw - lo_raw) * _SIXTEENTHS // (
            hi_mv - lo_mv)

    def noise(self, pin: int, index: int) -> int:
        """-NOISE_RAW..NOISE_RAW codes for read `index` of `pin`, always the same."""
        x = (self.seed ^ (pin * 40503) ^ (index & 0xFFFF)) & 0xFFFF
        x = (x * 12829 + 47989) & 0xFFFF
        x = (x ^ ((index >> 16) * 9973) ^ (x >> 7)) & 0xFFFF
        x = (x * 12829 + 47989) & 0xFFFF
        x = (x * 10061 + 33377) & 0xFFFF
        step = NOISE_RAW + 1
        return (x >> 4) % step - (x >> 9) % step

    def raw(self, counts: int, pin: int, index: int) -> int:
        """The code read `index` of `pin` gives, for a pin at `counts` of the 3.3 V rail."""
        mv16 = counts * (RAIL_MV * _SIXTEENTHS) // FULL_SCALE_COUNTS
        code = (self.raw16(mv16) + _SIXTEENTHS // 2) // _SIXTEENTHS + self.noise(pin, index)
        if code < 0:
            return 0
        return code if code < RAW_MAX else RAW_MAX

    def read_mv(self, counts: int, pin: int, index: int) -> int:
        """What read_uv() returns, in mV, for a pin at `counts` of the rail (read `index`)."""
        if self.ideal:
            return -1  # see read_uv: the ideal chip is exact in microvolts
        return calibrated_mv(self.raw(counts, pin, index), self.efuse_vref_mv)

    def read_uv(self, counts: int, pin: int, index: int) -> int:
        """read_uv() of a pin at `counts` of the rail: the chip's whole mV, times 1000. The
        ideal part returns the microvolts whose firmware conversion gives `counts` back."""
        if self.ideal:
            return (counts * RAIL_MV * 1000 + FULL_SCALE_COUNTS - 1) // FULL_SCALE_COUNTS
        return calibrated_mv(self.raw(counts, pin, index), self.efuse_vref_mv) * 1000

    def read_counts(self, counts: int, pin: int, index: int) -> int:
        """The counts the firmware sends for that read (oversampling 1)."""
        if self.ideal:
            return counts
        return mv_to_counts(self.read_mv(counts, pin, index))


# -- what the self-check and the host's calibration take from the curve -----------------------


def open_max_counts() -> int:
    """A pad whose every reading in a window is at or below this is open: it is what a pin at
    0 V reads on any part (the floor, 142 mV), plus twice the noise, and below the host's
    trusted floor (150 mV)."""
    return mv_to_counts(max(calibrated_mv(2 * NOISE_RAW, PARTS[name][0]) for name in SPREAD))


def short_min_counts() -> int:
    """A pad whose every reading in a window is at or above this is shorted to the rail: the
    lowest top (raw 4095 on the lowest Vref of the spread, ~3056 mV) less twice the noise."""
    return mv_to_counts(min(calibrated_mv(RAW_MAX - 2 * NOISE_RAW, PARTS[name][0])
                            for name in SPREAD))


def floor_counts() -> int:
    """The host's trusted floor: the bottom of Espressif's usable range, 150 mV."""
    return USABLE_LOW_MV * FULL_SCALE_COUNTS // RAIL_MV


def ceiling_counts() -> int:
    """The host's trusted ceiling: the top of Espressif's usable range, 2450 mV."""
    return USABLE_HIGH_MV * FULL_SCALE_COUNTS // RAIL_MV
