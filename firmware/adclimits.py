# Generated from host/numbguard/calibration/esp32_adc.py by hardware/gen_adclimits.py:
# edit the curve there, then run `python hardware/gen_adclimits.py`.
# What an ESP32 (ADC1, 11 dB, eFuse calibration as MicroPython's read_uv applies it)
# reads, in counts of 3.3 V (sampler.uv_to_count), for every part of the spread
# (eFuse Vref 995-1205 mV):
# - a pad at 0 V (open) reads 142 mV = 176 counts; with noise, up to
#   OPEN_MAX_COUNT, below the usable range (150 mV = 186 counts);
# - a pad at the rail (shorted) reads the chip's top, 3056-3212 mV = 3792-3985 counts; with noise,
#   down to SHORT_MIN_COUNT, far above the usable range's top (2450 mV = 3040 counts).
from micropython import const

OPEN_MAX_COUNT = const(184)
SHORT_MIN_COUNT = const(3787)
