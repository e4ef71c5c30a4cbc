# Pin assignment of the insole board (ESP32, ADC1 only while the radio is on).
PAD_PINS = (("heel", 36), ("ball_medial", 39), ("ball_center", 34), ("ball_lateral", 35),
            ("lace_lower", 32), ("lace_upper", 33))
BATTERY_PIN = 37  # behind a 1:2 divider
LED_PIN = 2
WAKE_PIN = 4
