"""Generate firmware/adclimits.py, the self-check's thresholds, from the ESP32 ADC curve.

    python hardware/gen_adclimits.py          # write firmware/adclimits.py
    python hardware/gen_adclimits.py --check  # exit 1 if firmware/adclimits.py is out of date

The curve is described once, in host/numbguard/calibration/esp32_adc.py (ESP-IDF's line-fitting
calibration for ADC1 at 11 dB, Espressif's usable range, the part-to-part spread): the host's
calibration takes its trusted floor and ceiling from there, the simulated chip its readings,
and the firmware these two numbers. tests/hardware checks the file is up to date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from numbguard.calibration import esp32_adc

HARDWARE_DIR = Path(__file__).resolve().parent
FIRMWARE_LIMITS = HARDWARE_DIR.parent / "firmware" / "adclimits.py"


def render() -> str:
    low_vref = min(esp32_adc.PARTS[name][0] for name in esp32_adc.SPREAD)
    high_vref = max(esp32_adc.PARTS[name][0] for name in esp32_adc.SPREAD)
    return (
        "# Generated from host/numbguard/calibration/esp32_adc.py by hardware/gen_adclimits.py:\n"
        "# edit the curve there, then run `python hardware/gen_adclimits.py`.\n"
        "# What an ESP32 (ADC1, 11 dB, eFuse calibration as MicroPython's read_uv applies it)\n"
        "# reads, in counts of 3.3 V (sampler.uv_to_count), for every part of the spread\n"
        f"# (eFuse Vref {low_vref}-{high_vref} mV):\n"
        f"# - a pad at 0 V (open) reads {esp32_adc.LINE_OFFSET_11DB_MV} mV = "
        f"{esp32_adc.mv_to_counts(esp32_adc.LINE_OFFSET_11DB_MV)} counts; with noise, up to\n"
        f"#   OPEN_MAX_COUNT, below the usable range ({esp32_adc.USABLE_LOW_MV} mV = "
        f"{esp32_adc.floor_counts()} counts);\n"
        f"# - a pad at the rail (shorted) reads the chip's top, "
        f"{esp32_adc.top_mv(low_vref)}-{esp32_adc.top_mv(high_vref)} mV = "
        f"{esp32_adc.mv_to_counts(esp32_adc.top_mv(low_vref))}-"
        f"{esp32_adc.mv_to_counts(esp32_adc.top_mv(high_vref))} counts; with noise,\n"
        f"#   down to SHORT_MIN_COUNT, far above the usable range's top "
        f"({esp32_adc.USABLE_HIGH_MV} mV = {esp32_adc.ceiling_counts()} counts).\n"
        "from micropython import const\n"
        "\n"
        f"OPEN_MAX_COUNT = const({esp32_adc.open_max_counts()})\n"
        f"SHORT_MIN_COUNT = const({esp32_adc.short_min_counts()})\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check it is up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = FIRMWARE_LIMITS.read_text(encoding="utf-8") if FIRMWARE_LIMITS.exists() else ""
        if current != text:
            print(
                f"{FIRMWARE_LIMITS} is out of date: run python hardware/gen_adclimits.py",
                file=sys.stderr,
            )
            return 1
        return 0
    FIRMWARE_LIMITS.write_text(text, encoding="utf-8")
    print(f"wrote {FIRMWARE_LIMITS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
