"""Generate firmware/pinout.py from hardware/pinout.csv, the one source of truth for pins.

    python hardware/gen_pinout.py          # write firmware/pinout.py
    python hardware/gen_pinout.py --check  # exit 1 if firmware/pinout.py is out of date

The CSV is checked first: every pad of the wire protocol once, in wire order; pads and the
battery on ADC1 (GPIO 32-39, the only ADC usable while the radio is on) with the right
channel; each GPIO used once.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from numbguard.pads import PAD_IDS

HARDWARE_DIR = Path(__file__).resolve().parent
PINOUT_CSV = HARDWARE_DIR / "pinout.csv"
FIRMWARE_PINOUT = HARDWARE_DIR.parent / "firmware" / "pinout.py"

ADC1_CHANNELS = {36: 0, 37: 1, 38: 2, 39: 3, 32: 4, 33: 5, 34: 6, 35: 7}
"""ESP32 ADC1: GPIO -> channel (ADC2 stops working while Wi-Fi/BLE radio is on)."""
KINDS = ("pad", "battery", "led", "wake", "sensor_power")
SINGLE_KINDS = ("battery", "led", "wake", "sensor_power")
BATTERY_DIVIDER = 2  # battery voltage = pin voltage * 2 (two equal resistors)


@dataclass(frozen=True)
class Pin:
    signal: str
    kind: str
    gpio: int
    adc_channel: str
    active_level: str
    notes: str


class PinoutError(ValueError):
    pass


def read_pinout(path: Path = PINOUT_CSV) -> list[Pin]:
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    pins = [
        Pin(
            row["signal"],
            row["kind"],
            int(row["gpio"]),
            row["adc_channel"],
            row["active_level"],
            row["notes"],
        )
        for row in rows
    ]
    check_pinout(pins)
    return pins


def check_pinout(pins: list[Pin]) -> None:
    """Raise `PinoutError` naming the first rule a pinout breaks."""
    gpios = [pin.gpio for pin in pins]
    repeated = sorted({gpio for gpio in gpios if gpios.count(gpio) > 1})
    if repeated:
        raise PinoutError(f"GPIO used more than once: {repeated}")
    for pin in pins:
        if pin.kind not in KINDS:
            raise PinoutError(f"{pin.signal}: unknown kind {pin.kind!r}, expected one of {KINDS}")
        if pin.kind in ("pad", "battery"):
            if pin.gpio not in ADC1_CHANNELS:
                raise PinoutError(f"{pin.signal}: GPIO{pin.gpio} is not on ADC1 (GPIO 32-39)")
            if pin.adc_channel != f"ADC1_CH{ADC1_CHANNELS[pin.gpio]}":
                raise PinoutError(
                    f"{pin.signal}: GPIO{pin.gpio} is ADC1_CH"
                    f"{ADC1_CHANNELS[pin.gpio]}, not {pin.adc_channel}"
                )
        elif pin.active_level not in ("0", "1"):
            raise PinoutError(f"{pin.signal}: active_level must be 0 or 1")
    pads = tuple(pin.signal for pin in pins if pin.kind == "pad")
    if pads != PAD_IDS:
        raise PinoutError(f"pads must be {PAD_IDS} in wire order, got {pads}")
    for kind in SINGLE_KINDS:
        if [pin.kind for pin in pins].count(kind) != 1:
            raise PinoutError(f"exactly one {kind} pin expected")


def render(pins: list[Pin]) -> str:
    single = {pin.kind: pin for pin in pins if pin.kind in SINGLE_KINDS}
    pad_lines = "".join(f'    ("{pin.signal}", {pin.gpio}),\n' for pin in pins if pin.kind == "pad")
    return (
        "# Generated from hardware/pinout.csv by hardware/gen_pinout.py: edit the CSV, then\n"
        "# run `python hardware/gen_pinout.py`. Board: ESP32-PICO-MINI-02 (exposes GPIO37).\n"
        "# ADC1 pins only for pads and battery: ADC2 is unusable while the radio is on.\n"
        "# Each pad: sensor from the switched 3.3 V rail to the pin, divider resistor to GND.\n"
        "PAD_PINS = (\n" + pad_lines + ")\n"
        f"BATTERY_PIN = {single['battery'].gpio}  # behind a 1:{BATTERY_DIVIDER} divider\n"
        f"BATTERY_DIVIDER = {BATTERY_DIVIDER}  # battery mV = pin mV * {BATTERY_DIVIDER}\n"
        f"LED_PIN = {single['led'].gpio}\n"
        f"LED_ON = {single['led'].active_level}  # pin level that lights the LED\n"
        f"WAKE_PIN = {single['wake'].gpio}  # button to GND, pulled up: wakes deep sleep\n"
        f"WAKE_LEVEL = {single['wake'].active_level}  # pin level while the button is pressed\n"
        f"SENSOR_POWER_PIN = {single['sensor_power'].gpio}\n"
        f"SENSOR_POWER_ON = {single['sensor_power'].active_level}"
        "  # level that powers the pads; pulled there, so pads are on unless driven off\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check it is up to date")
    args = parser.parse_args(argv)
    text = render(read_pinout())
    if args.check:
        current = FIRMWARE_PINOUT.read_text(encoding="utf-8") if FIRMWARE_PINOUT.exists() else ""
        if current != text:
            print(
                f"{FIRMWARE_PINOUT} is out of date: run python hardware/gen_pinout.py",
                file=sys.stderr,
            )
            return 1
        return 0
    FIRMWARE_PINOUT.write_text(text, encoding="utf-8")
    print(f"wrote {FIRMWARE_PINOUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
