# The insole board: pad ADCs and their supply switch, battery sense, LED, wake button, watchdog
# and deep sleep. Everything that touches `machine`.
import time

import machine
from machine import ADC, WDT, Pin, unique_id

import pinout

try:
    import esp32
except ImportError:  # not an ESP32 (unix port without the simulated one): no deep sleep
    esp32 = None

# The pad pins' 10 nF capacitors charge through the divider (<= 100 kOhm): tau <= 1 ms.
SETTLE_MS = 5


class Board:
    def __init__(self):
        # The pads' supply switch: on, released from any hold a deep sleep left on the pin.
        self._sensor_power = Pin(pinout.SENSOR_POWER_PIN, Pin.OUT,
                                 value=pinout.SENSOR_POWER_ON, hold=False)
        self.sensor_powered = True
        # ADC1 pins only: ADC2 is unusable while the radio is on. 11 dB reads up to ~3.1 V.
        self.pad_adcs = [ADC(Pin(pin), atten=ADC.ATTN_11DB) for _, pin in pinout.PAD_PINS]
        self.pad_reads = [adc.read_uv for adc in self.pad_adcs]
        self._battery = ADC(Pin(pinout.BATTERY_PIN), atten=ADC.ATTN_11DB)
        self._led = Pin(pinout.LED_PIN, Pin.OUT, value=1 - pinout.LED_ON)
        # External 100 kOhm pull-up; no internal pull, so it costs nothing in deep sleep.
        self._wake = Pin(pinout.WAKE_PIN, Pin.IN)
        self._wdt = None

    @staticmethod
    def woke_from_sleep():
        """This boot is a wake from deep sleep (the wake button)."""
        return machine.reset_cause() == machine.DEEPSLEEP_RESET

    @staticmethod
    def stay_in_repl():
        """The wake button held at a reset: do not start, leave the REPL usable. Not after a
        deep-sleep wake, where the button is held because it woke the insole."""
        if Board.woke_from_sleep():
            return False
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

    def wake_pressed(self):
        return self._wake.value() == pinout.WAKE_LEVEL

    def sensor_power(self, on):
        """Switch the pads' supply; when switching on, wait until the pad pins have settled
        so the next read is a true one."""
        self._sensor_power.value(pinout.SENSOR_POWER_ON if on else 1 - pinout.SENSOR_POWER_ON)
        if on and not self.sensor_powered:
            time.sleep_ms(SETTLE_MS)
        self.sensor_powered = on

    def can_deep_sleep(self):
        return esp32 is not None and hasattr(machine, "deepsleep")

    def deep_sleep(self):
        """Pads off and held off through the sleep, LED off, wake on the button; the chip then
        resets on the wake (main runs again). Does not return."""
        self.led(False)
        self.sensor_power(False)
        self._sensor_power.init(Pin.OUT, value=1 - pinout.SENSOR_POWER_ON, hold=True)
        esp32.gpio_deep_sleep_hold(True)  # needed for a non-RTC pin; GPIO 25 is an RTC pin
        esp32.wake_on_ext0(self._wake, esp32.WAKEUP_ANY_HIGH if pinout.WAKE_LEVEL
                           else esp32.WAKEUP_ALL_LOW)
        machine.deepsleep()

    def start_watchdog(self, timeout_ms):
        """Once started the watchdog cannot be stopped: feed() at least every timeout_ms.
        Deep sleep resets the chip, watchdog included."""
        self._wdt = WDT(timeout=timeout_ms)

    def feed(self):
        if self._wdt is not None:
            self._wdt.feed()
