# Simulated `esp32` module for the unix port: the deep-sleep wake source and pad holds, kept in
# the simulated `machine` so its deepsleep() can record what the chip would sleep with.
import os

import machine

WAKEUP_ALL_LOW = False
WAKEUP_ANY_HIGH = True

_deep_sleep_hold = [False]


def wake_on_ext0(pin, level):
    """Wake from deep sleep when `pin` (an RTC GPIO) reads `level`."""
    if pin is None:
        machine.wake_source.clear()
        return
    pin_id = pin.id if isinstance(pin, machine.Pin) else pin
    if pin_id not in (0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39):
        raise ValueError("invalid pin for wake")  # ext0 needs an RTC GPIO
    machine.wake_source.clear()
    machine.wake_source.append((pin_id, 1 if level else 0))


def gpio_deep_sleep_hold(enable):
    _deep_sleep_hold[0] = bool(enable)


HEAP_DATA = 4  # MALLOC_CAP_8BIT, as MicroPython's esp32 module defines it
HEAP_EXEC = 1
# ESP-IDF's data heap regions on an ESP32 without PSRAM, as (total, free, largest free block,
# min free) in bytes, the tuples of MicroPython's esp32.idf_heap_info. Each is a part of the
# chip's 520 KB of SRAM (ESP32 datasheet), far below a PSRAM region; the figures are illustrative.
_INTERNAL_REGIONS = [(7280, 3024, 2992, 2976), (16648, 4, 4, 4), (94608, 61340, 30720, 59552),
                     (15072, 15024, 14848, 15024), (113840, 39164, 28672, 36112)]
# NUMBGUARD_PSRAM_KIB: a module with PSRAM; the SPIRAM build adds its region to the data heap.
_PSRAM_KIB = int(os.getenv("NUMBGUARD_PSRAM_KIB") or "0")


def idf_heap_info(capabilities):
    regions = list(_INTERNAL_REGIONS)
    if _PSRAM_KIB and capabilities & HEAP_DATA:
        total = _PSRAM_KIB * 1024
        regions.append((total, total - 65536, total - 65536, total - 65536))
    return regions
