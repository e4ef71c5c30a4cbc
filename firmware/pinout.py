# Generated from hardware/pinout.csv by hardware/gen_pinout.py: edit the CSV, then
# run `python hardware/gen_pinout.py`. Board: ESP32-PICO-MINI-02 (exposes GPIO37).
# ADC1 pins only for pads and battery: ADC2 is unusable while the radio is on.
# Each pad: sensor from the switched 3.3 V rail to the pin, divider resistor to GND.
PAD_PINS = (
    ("heel", 36),
    ("ball_medial", 39),
    ("ball_center", 34),
    ("ball_lateral", 35),
    ("lace_lower", 32),
    ("lace_upper", 33),
)
BATTERY_PIN = 37  # behind a 1:2 divider
BATTERY_DIVIDER = 2  # battery mV = pin mV * 2
LED_PIN = 2
LED_ON = 1  # pin level that lights the LED
WAKE_PIN = 4  # button to GND, pulled up: wakes deep sleep
WAKE_LEVEL = 0  # pin level while the button is pressed
SENSOR_POWER_PIN = 25
SENSOR_POWER_ON = 0  # level that powers the pads; pulled there, so pads are on unless driven off
