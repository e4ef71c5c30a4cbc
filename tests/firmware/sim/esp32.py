# Simulated `esp32` module for the unix port: the deep-sleep wake source and pad holds, kept in
# the simulated `machine` so its deepsleep() can record what the chip would sleep with.
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
