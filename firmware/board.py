# The insole board: pad ADCs, battery sense, LED, watchdog. Everything that touches `machine`.
from machine import ADC, WDT, Pin, unique_id

import pinout


class Board:
    def __init__(self):
        # The pads' supply switch: on, released from any hold a deep sleep left on the pin.
        self._sensor_power = Pin(pinout.SENSOR_POWER_PIN, Pin.OUT,
                                 value=pinout.SENSOR_POWER_ON, hold=False)
        # ADC1 pins only: ADC2 is unusable while the radio is on. 11 dB reads up to ~3.1 V.
        self.pad_adcs = [ADC(Pin(pin), atten=ADC.ATTN_11DB) for _, pin in pinout.PAD_PINS]
        self.pad_reads = [adc.read_uv for adc in self.pad_adcs]
        self._battery = ADC(Pin(pinout.BATTERY_PIN), atten=ADC.ATTN_11DB)
        self._led = Pin(pinout.LED_PIN, Pin.OUT, value=1 - pinout.LED_ON)
        self._wdt = None

    @staticmethod
    def stay_in_repl():
        """The wake button held at boot: do not start, leave the REPL usable."""
        return Pin(pinout.WAKE_PIN, Pin.IN, Pin.PULL_UP).value() == pinout.WAKE_LEVEL

    def insole_id(self):
        """32-bit id from the chip's unique id (the low four bytes of the MAC)."""
        uid = unique_id()
        value = 0
        for b in uid[-4:]:
            value = (value << 8) | b
        return value

    def battery_mv(self):
        return self._battery.read_uv() * pinout.BATTERY_DIVIDER // 1000

    def led(self, on):
        self._led.value(pinout.LED_ON if on else 1 - pinout.LED_ON)

    def start_watchdog(self, timeout_ms):
        """Once started the watchdog cannot be stopped: feed() at least every timeout_ms."""
        self._wdt = WDT(timeout=timeout_ms)

    def feed(self):
        if self._wdt is not None:
            self._wdt.feed()
